#include <attnflow/dg_space.h>
#include <attnflow/domain.h>

#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <limits>

namespace attnflow
{
  using namespace dealii;

  template <int dim, int spacedim>
  DGSpace<dim, spacedim>::DGSpace(const DensityParameters &parameters)
      : parameters(parameters)
      , fe(parameters.degree)
      , dof_handler(triangulation)
      , cell_quadrature(QGauss<dim>(parameters.degree + 2))
      , face_quadrature(QGauss<dim - 1>(parameters.degree + 2))
  {
    create_domain(triangulation, parameters);
    reinit();
  }



  template <int dim, int spacedim>
  DGSpace<dim, spacedim>::~DGSpace()
  {
    dof_handler.clear();
  }



  template <int dim, int spacedim>
  void
  DGSpace<dim, spacedim>::reinit()
  {
    mapping = create_mapping(parameters, triangulation);
    dof_handler.distribute_dofs(fe);

    const unsigned int n_q     = cell_quadrature.size();
    const unsigned int n_cells = triangulation.n_active_cells();
    points                     = PointSet(spacedim, n_cells * n_q);
    JxW.resize(points.size());
    measures.assign(n_cells, 0.);
    inverse_mass.resize(n_cells);
    smallest_cell_size = std::numeric_limits<double>::max();
    measure_of_domain  = 0.;

    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values |
                                        update_quadrature_points);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        const unsigned int c = cell->active_cell_index();
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Point<spacedim> x = on_domain(fe_values.quadrature_point(q));
            for (unsigned int k = 0; k < spacedim; ++k)
              points[c * n_q + q][k] = x[k];
            JxW[c * n_q + q] = fe_values.JxW(q);
            measures[c] += fe_values.JxW(q);
            measure_of_domain += fe_values.JxW(q);
          }
        inverse_mass[c].reinit(fe.n_dofs_per_cell(), fe.n_dofs_per_cell());
        inverse_mass[c].invert(cell_mass_matrix(fe_values));
        smallest_cell_size =
          std::min(smallest_cell_size, cell->minimum_vertex_distance());
      }
    face_list = list_faces(dof_handler);
  }



  template <int dim, int spacedim>
  FullMatrix<double>
  DGSpace<dim, spacedim>::cell_mass_matrix(
    const FEValues<dim, spacedim> &fe_values)
  {
    const unsigned int n_dofs = fe_values.dofs_per_cell;
    FullMatrix<double> mass(n_dofs, n_dofs);
    for (const unsigned int q : fe_values.quadrature_point_indices())
      for (unsigned int i = 0; i < n_dofs; ++i)
        for (unsigned int j = 0; j < n_dofs; ++j)
          mass(i, j) += fe_values.shape_value(i, q) *
                        fe_values.shape_value(j, q) * fe_values.JxW(q);
    return mass;
  }



  template <int dim, int spacedim>
  std::vector<double>
  DGSpace<dim, spacedim>::values_at_cell_points(const Vector<double> &rho) const
  {
    const unsigned int      n_q = cell_quadrature.size();
    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values);
    std::vector<double>     values(points.size()), cell_values(n_q);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, cell_values);
        std::copy(cell_values.begin(),
                  cell_values.end(),
                  values.begin() + cell->active_cell_index() * n_q);
      }
    return values;
  }



  template <int dim, int spacedim>
  std::vector<double>
  DGSpace<dim, spacedim>::cell_point_weights(const Vector<double> &rho) const
  {
    std::vector<double> weights = values_at_cell_points(rho);
    for (std::size_t q = 0; q < weights.size(); ++q)
      weights[q] *= JxW[q];
    return weights;
  }



  template <int dim, int spacedim>
  double
  DGSpace<dim, spacedim>::integral(const Vector<double> &rho) const
  {
    double sum = 0.;
    for (const double w : cell_point_weights(rho))
      sum += w;
    return sum;
  }



  template <int dim, int spacedim>
  std::vector<double>
  DGSpace<dim, spacedim>::cell_integrals(
    const std::vector<double> &point_weights) const
  {
    const unsigned int  n_q = cell_quadrature.size();
    std::vector<double> sums(measures.size(), 0.);
    for (std::size_t q = 0; q < point_weights.size(); ++q)
      sums[q / n_q] += point_weights[q];
    return sums;
  }



  template <int dim, int spacedim>
  Vector<double>
  DGSpace<dim, spacedim>::project(const std::vector<double> &values) const
  {
    const unsigned int                   n_q    = cell_quadrature.size();
    const unsigned int                   n_dofs = fe.n_dofs_per_cell();
    FEValues<dim, spacedim>              fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values);
    std::vector<types::global_dof_index> dofs(n_dofs);
    Vector<double> projection(dof_handler.n_dofs()), rhs(n_dofs), local(n_dofs);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        const unsigned int c = cell->active_cell_index();
        rhs                  = 0.;
        for (unsigned int q = 0; q < n_q; ++q)
          for (unsigned int i = 0; i < n_dofs; ++i)
            rhs(i) += values[c * n_q + q] * fe_values.shape_value(i, q) *
                      fe_values.JxW(q);
        inverse_mass[c].vmult(local, rhs);
        cell->get_dof_indices(dofs);
        for (unsigned int i = 0; i < n_dofs; ++i)
          projection(dofs[i]) = local(i);
      }
    return projection;
  }



  template class DGSpace<1, 1>;
  template class DGSpace<2, 2>;
  template class DGSpace<3, 3>;
  template class DGSpace<1, 2>;
  template class DGSpace<2, 3>;
} // namespace attnflow
