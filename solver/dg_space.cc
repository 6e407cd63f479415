#include <attnflow/dg_space.h>
#include <attnflow/domain.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/lac/vector.h>

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

namespace attnflow
{
  using namespace dealii;

  namespace
  {
    /** @p faces in the order of the id of their cell, then face number. */
    template <int dim, int spacedim>
    std::vector<MeshFace<dim, spacedim>>
    sorted_by_cell_id(const std::vector<MeshFace<dim, spacedim>> &faces)
    {
      std::vector<std::tuple<CellId, unsigned int, std::size_t>> keys;
      keys.reserve(faces.size());
      for (std::size_t r = 0; r < faces.size(); ++r)
        keys.emplace_back(faces[r].cell->id(), faces[r].face, r);
      std::sort(keys.begin(), keys.end());
      std::vector<MeshFace<dim, spacedim>> sorted;
      sorted.reserve(faces.size());
      for (const auto &key : keys)
        sorted.push_back(faces[std::get<2>(key)]);
      return sorted;
    }
  } // namespace



  template <int dim, int spacedim>
  DGSpace<dim, spacedim>::DGSpace(const DensityParameters &parameters,
                                  const MPI_Comm           communicator)
      : parameters(parameters)
      , triangulation(communicator)
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
    // The owned cells, their DoFs and the faces in the order of the cells'
    // ids: what a rank computes then depends on its cells, not on the
    // history of the mesh (a resumed run repeats the uninterrupted one).
    std::vector<std::pair<CellId, CellIterator>> by_id;
    for (const auto &cell : dof_handler.active_cell_iterators())
      if (cell->is_locally_owned())
        by_id.emplace_back(cell->id(), cell);
    std::sort(by_id.begin(), by_id.end(), [](const auto &a, const auto &b) {
      return a.first < b.first;
    });
    owned.clear();
    owned_index.assign(triangulation.n_active_cells(),
                       numbers::invalid_unsigned_int);
    for (const auto &[id, cell] : by_id)
      {
        owned_index[cell->active_cell_index()] = owned.size();
        owned.push_back(cell);
      }
    number_dofs_by_cell();
    owned_dofs = dof_handler.locally_owned_dofs();
    DoFTools::extract_locally_relevant_dofs(dof_handler, relevant_dofs);
    with_ghosts =
      std::make_shared<Utilities::MPI::Partitioner>(owned_dofs,
                                                    relevant_dofs,
                                                    get_communicator());
    owned_only =
      std::make_shared<Utilities::MPI::Partitioner>(owned_dofs,
                                                    get_communicator());


    const unsigned int n_q     = cell_quadrature.size();
    const unsigned int n_cells = owned.size();
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
    for (unsigned int c = 0; c < n_cells; ++c)
      {
        const CellIterator &cell = owned[c];
        fe_values.reinit(cell);
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
    smallest_cell_size =
      Utilities::MPI::min(smallest_cell_size, get_communicator());
    measure_of_domain = sum_over_ranks(measure_of_domain);
    face_list         = sorted_by_cell_id(list_faces(dof_handler));
  }



  template <int dim, int spacedim>
  void
  DGSpace<dim, spacedim>::number_dofs_by_cell()
  {
    // DG: the DoFs of a cell are its own; number them cell after cell in
    // the order of owned (DoFRenumbering::cell_wise, which deal.II 9.4 has
    // for dim == spacedim only).
    const IndexSet               &old_owned = dof_handler.locally_owned_dofs();
    const types::global_dof_index first =
      old_owned.n_elements() > 0 ? old_owned.nth_index_in_set(0) : 0;
    std::vector<types::global_dof_index> new_numbers(old_owned.n_elements());
    std::vector<types::global_dof_index> dofs(fe.n_dofs_per_cell());
    types::global_dof_index              next = first;
    for (const CellIterator &cell : owned)
      {
        cell->get_dof_indices(dofs);
        for (const types::global_dof_index i : dofs)
          new_numbers[old_owned.index_within_set(i)] = next++;
      }
    dof_handler.renumber_dofs(new_numbers);
  }



  template <int dim, int spacedim>
  DensityVector
  DGSpace<dim, spacedim>::create_vector() const
  {
    return DensityVector(with_ghosts);
  }



  template <int dim, int spacedim>
  DensityVector
  DGSpace<dim, spacedim>::create_owned_vector() const
  {
    return DensityVector(owned_only);
  }



  template <int dim, int spacedim>
  double
  DGSpace<dim, spacedim>::sum_over_ranks(const double value) const
  {
    return Utilities::MPI::sum(value, get_communicator());
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
  DGSpace<dim, spacedim>::values_at_cell_points(const DensityVector &rho) const
  {
    rho.update_ghost_values();
    const unsigned int      n_q = cell_quadrature.size();
    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values);
    std::vector<double>     values(points.size()), cell_values(n_q);
    for (unsigned int c = 0; c < owned.size(); ++c)
      {
        fe_values.reinit(owned[c]);
        fe_values.get_function_values(rho, cell_values);
        std::copy(cell_values.begin(),
                  cell_values.end(),
                  values.begin() + c * n_q);
      }
    return values;
  }



  template <int dim, int spacedim>
  std::vector<double>
  DGSpace<dim, spacedim>::cell_point_weights(const DensityVector &rho) const
  {
    std::vector<double> weights = values_at_cell_points(rho);
    for (std::size_t q = 0; q < weights.size(); ++q)
      weights[q] *= JxW[q];
    return weights;
  }



  template <int dim, int spacedim>
  double
  DGSpace<dim, spacedim>::integral(const DensityVector &rho) const
  {
    double sum = 0.;
    for (const double w : cell_point_weights(rho))
      sum += w;
    return sum_over_ranks(sum);
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
  DensityVector
  DGSpace<dim, spacedim>::project(const std::vector<double> &values) const
  {
    const unsigned int                   n_q    = cell_quadrature.size();
    const unsigned int                   n_dofs = fe.n_dofs_per_cell();
    FEValues<dim, spacedim>              fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values);
    std::vector<types::global_dof_index> dofs(n_dofs);
    DensityVector                        projection = create_vector();
    Vector<double>                       rhs(n_dofs), local(n_dofs);
    for (unsigned int c = 0; c < owned.size(); ++c)
      {
        const CellIterator &cell = owned[c];
        fe_values.reinit(cell);
        rhs = 0.;
        for (unsigned int q = 0; q < n_q; ++q)
          for (unsigned int i = 0; i < n_dofs; ++i)
            rhs(i) += values[c * n_q + q] * fe_values.shape_value(i, q) *
                      fe_values.JxW(q);
        inverse_mass[c].vmult(local, rhs);
        cell->get_dof_indices(dofs);
        for (unsigned int i = 0; i < n_dofs; ++i)
          projection(dofs[i]) = local(i);
      }
    projection.update_ghost_values();
    return projection;
  }



  template class DGSpace<1, 1>;
  template class DGSpace<2, 2>;
  template class DGSpace<3, 3>;
  template class DGSpace<1, 2>;
  template class DGSpace<2, 3>;
} // namespace attnflow
