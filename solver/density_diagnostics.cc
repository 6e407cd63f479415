#include <attnflow/density_diagnostics.h>
#include <attnflow/exceptions.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/numerics/vector_tools_interpolate.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace attnflow
{
  using namespace dealii;

  template <int dim, int spacedim>
  double
  integrate(const DGSpace<dim, spacedim>                         &space,
            const Vector<double>                                 &rho,
            const std::function<double(const Point<spacedim> &)> &f)
  {
    const std::vector<double> weights = space.cell_point_weights(rho);
    const PointSet           &points  = space.cell_points();
    double                    sum     = 0.;
    for (std::size_t q = 0; q < weights.size(); ++q)
      {
        Point<spacedim> x;
        for (unsigned int k = 0; k < spacedim; ++k)
          x[k] = points[q][k];
        sum += weights[q] * f(x);
      }
    return sum;
  }



  template <int dim, int spacedim>
  unsigned int
  count_clusters(const DGSpace<dim, spacedim> &space, const Vector<double> &rho)
  {
    const std::vector<double> mass =
      space.cell_integrals(space.cell_point_weights(rho));
    const std::vector<double> &volume = space.cell_measures();
    const double average = std::accumulate(mass.begin(), mass.end(), 0.) /
                           std::accumulate(volume.begin(), volume.end(), 0.);
    std::vector<bool> dense(mass.size());
    for (std::size_t c = 0; c < mass.size(); ++c)
      dense[c] = mass[c] > 2. * average * volume[c];
    return count_connected_components(space.faces(), dense);
  }



  template <int dim, int spacedim>
  Vector<double>
  relative_cell_density(const DGSpace<dim, spacedim> &space,
                        const std::vector<double>    &source_weights)
  {
    const std::vector<double> mass = space.cell_integrals(source_weights);
    const Vector<double>      cell_mass(mass.begin(), mass.end()),
      volume(space.cell_measures().begin(), space.cell_measures().end());
    const double   average = cell_mass.l1_norm() / volume.l1_norm();
    Vector<double> ratio(cell_mass.size());
    for (unsigned int c = 0; c < ratio.size(); ++c)
      ratio(c) = cell_mass(c) / volume(c) / average;
    return ratio;
  }



  template <int dim, int spacedim>
  double
  l1_distance(const DGSpace<dim, spacedim>                         &space,
              const Vector<double>                                 &rho,
              const std::function<double(const Point<spacedim> &)> &exact)
  {
    const QGauss<dim>       quadrature(space.get_fe().degree + 4);
    FEValues<dim, spacedim> fe_values(space.get_mapping(),
                                      space.get_fe(),
                                      quadrature,
                                      update_values | update_JxW_values |
                                        update_quadrature_points);
    std::vector<double>     values(quadrature.size());
    double                  distance = 0.;
    for (const auto &cell : space.get_dof_handler().active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, values);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          distance +=
            std::abs(values[q] -
                     exact(space.on_domain(fe_values.quadrature_point(q)))) *
            fe_values.JxW(q);
      }
    return distance;
  }



  template <int dim, int spacedim>
  double
  l1_distance(const DGSpace<dim, spacedim> &space,
              const Vector<double>         &rho,
              const Vector<double>         &other)
  {
    Vector<double> difference = rho;
    difference -= other;
    double distance = 0.;
    for (const double w : space.cell_point_weights(difference))
      distance += std::abs(w);
    return distance;
  }



  template <int dim, int spacedim>
  double
  l1_distance(const DGSpace<dim, spacedim> &space,
              const Vector<double>         &rho,
              const DGSpace<dim, spacedim> &other_space,
              const Vector<double>         &other_rho)
  {
    if (other_space.get_triangulation().n_cells(0) !=
        space.get_triangulation().n_cells(0))
      throw InputError("Convergence/reference",
                       "the runs compared do not share one coarse mesh");
    const FE_DGQ<dim, spacedim> &fe       = space.get_fe();
    const FE_DGQ<dim, spacedim> &other_fe = other_space.get_fe();
    DoFHandler<dim, spacedim>    on_other_mesh(other_space.get_triangulation());
    on_other_mesh.distribute_dofs(fe);
    Vector<double> interpolated(on_other_mesh.n_dofs());
    VectorTools::interpolate_to_different_mesh(space.get_dof_handler(),
                                               rho,
                                               on_other_mesh,
                                               interpolated);

    const QGauss<dim> quadrature(std::max(fe.degree, other_fe.degree) + 4);
    FEValues<dim, spacedim> mine(other_space.get_mapping(),
                                 fe,
                                 quadrature,
                                 update_values);
    FEValues<dim, spacedim> theirs(other_space.get_mapping(),
                                   other_fe,
                                   quadrature,
                                   update_values | update_JxW_values);
    std::vector<double>     a(quadrature.size()), b(quadrature.size());
    double                  distance = 0.;
    auto                    cell     = on_other_mesh.begin_active();
    for (const auto &other_cell :
         other_space.get_dof_handler().active_cell_iterators())
      {
        mine.reinit(cell);
        theirs.reinit(other_cell);
        mine.get_function_values(interpolated, a);
        theirs.get_function_values(other_rho, b);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          distance += std::abs(a[q] - b[q]) * theirs.JxW(q);
        ++cell;
      }
    return distance;
  }



  namespace
  {
    /**
     * The PiecewisePolynomialDensity of the contiguous @p cells (left end,
     * values at the @p nodes) in increasing order, up to @p right, or once
     * around the circle from the first cell if @p right is NaN.
     */
    std::unique_ptr<PiecewisePolynomialDensity>
    piecewise_density(std::vector<std::pair<double, std::vector<double>>> cells,
                      const double                                        right,
                      const QGauss<1>                                    &nodes)
    {
      std::sort(cells.begin(), cells.end());
      std::vector<double>              vertices;
      std::vector<std::vector<double>> values;
      for (auto &[left, cell_values] : cells)
        {
          vertices.push_back(left);
          values.push_back(std::move(cell_values));
        }
      vertices.push_back(std::isnan(right) ? vertices.front() + 2. * M_PI :
                                             right);
      std::vector<double> unit_nodes;
      for (const Point<1> &node : nodes.get_points())
        unit_nodes.push_back(node[0]);
      return std::make_unique<PiecewisePolynomialDensity>(vertices,
                                                          unit_nodes,
                                                          values);
    }

    /**
     * On the circle S^1: rho as a density of the angle theta, cells in
     * increasing theta from the first one, by its values at the k + 1 Gauss
     * points times |dx/dxi| / |dtheta/dxi| (arc length per angle, 1 up to
     * the mapping's error on the unit circle; doc/theory.md section 5.1).
     */
    std::unique_ptr<PiecewisePolynomialDensity>
    circle_density(const DGSpace<1, 2> &space, const Vector<double> &rho)
    {
      const QGauss<1>     nodes(space.get_fe().degree + 1);
      FEValues<1, 2>      fe_values(space.get_mapping(),
                               space.get_fe(),
                               nodes,
                               update_values | update_JxW_values);
      std::vector<double> cell_values(nodes.size());
      std::vector<std::pair<double, std::vector<double>>> cells;
      for (const auto &cell : space.get_dof_handler().active_cell_iterators())
        {
          fe_values.reinit(cell);
          fe_values.get_function_values(rho, cell_values);
          const double from =
            std::atan2(cell->vertex(0)[1], cell->vertex(0)[0]);
          const double to = std::atan2(cell->vertex(1)[1], cell->vertex(1)[0]);
          // The signed angle of the cell, in (-pi, pi].
          const double span = std::remainder(to - from, 2. * M_PI);
          for (unsigned int q = 0; q < nodes.size(); ++q)
            cell_values[q] *=
              fe_values.JxW(q) / (nodes.weight(q) * std::abs(span));
          if (span < 0.)
            std::reverse(cell_values.begin(), cell_values.end());
          cells.emplace_back(span < 0. ? to : from, cell_values);
        }
      return piecewise_density(std::move(cells),
                               std::numeric_limits<double>::quiet_NaN(),
                               nodes);
    }
  } // namespace



  template <int dim, int spacedim>
  std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<dim, spacedim> &space,
                   const Vector<double>         &rho)
  {
    if constexpr (dim == 1 && spacedim == 2)
      return circle_density(space, rho);
    else if constexpr (dim != 1 || spacedim != 1)
      return nullptr;
    else
      {
        // rho at the Gauss points of every cell, cells left to right.
        const QGauss<1>     nodes(space.get_fe().degree + 1);
        FEValues<1>         fe_values(space.get_fe(), nodes, update_values);
        std::vector<double> cell_values(nodes.size());
        std::vector<std::pair<double, std::vector<double>>> cells;
        double right = -std::numeric_limits<double>::max();
        for (const auto &cell : space.get_dof_handler().active_cell_iterators())
          {
            fe_values.reinit(cell);
            fe_values.get_function_values(rho, cell_values);
            cells.emplace_back(cell->vertex(0)[0], cell_values);
            right = std::max(right, cell->vertex(1)[0]);
          }
        return piecewise_density(std::move(cells), right, nodes);
      }
  }



  template double
  integrate(const DGSpace<1, 1> &,
            const Vector<double> &,
            const std::function<double(const Point<1> &)> &);
  template unsigned int
  count_clusters(const DGSpace<1, 1> &, const Vector<double> &);
  template Vector<double>
  relative_cell_density(const DGSpace<1, 1> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<1, 1> &,
              const Vector<double> &,
              const std::function<double(const Point<1> &)> &);
  template double
  l1_distance(const DGSpace<1, 1> &,
              const Vector<double> &,
              const Vector<double> &);
  template double
  l1_distance(const DGSpace<1, 1> &,
              const Vector<double> &,
              const DGSpace<1, 1> &,
              const Vector<double> &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<1, 1> &, const Vector<double> &);
  template double
  integrate(const DGSpace<2, 2> &,
            const Vector<double> &,
            const std::function<double(const Point<2> &)> &);
  template unsigned int
  count_clusters(const DGSpace<2, 2> &, const Vector<double> &);
  template Vector<double>
  relative_cell_density(const DGSpace<2, 2> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<2, 2> &,
              const Vector<double> &,
              const std::function<double(const Point<2> &)> &);
  template double
  l1_distance(const DGSpace<2, 2> &,
              const Vector<double> &,
              const Vector<double> &);
  template double
  l1_distance(const DGSpace<2, 2> &,
              const Vector<double> &,
              const DGSpace<2, 2> &,
              const Vector<double> &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<2, 2> &, const Vector<double> &);
  template double
  integrate(const DGSpace<3, 3> &,
            const Vector<double> &,
            const std::function<double(const Point<3> &)> &);
  template unsigned int
  count_clusters(const DGSpace<3, 3> &, const Vector<double> &);
  template Vector<double>
  relative_cell_density(const DGSpace<3, 3> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<3, 3> &,
              const Vector<double> &,
              const std::function<double(const Point<3> &)> &);
  template double
  l1_distance(const DGSpace<3, 3> &,
              const Vector<double> &,
              const Vector<double> &);
  template double
  l1_distance(const DGSpace<3, 3> &,
              const Vector<double> &,
              const DGSpace<3, 3> &,
              const Vector<double> &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<3, 3> &, const Vector<double> &);
  template double
  integrate(const DGSpace<1, 2> &,
            const Vector<double> &,
            const std::function<double(const Point<2> &)> &);
  template unsigned int
  count_clusters(const DGSpace<1, 2> &, const Vector<double> &);
  template Vector<double>
  relative_cell_density(const DGSpace<1, 2> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<1, 2> &,
              const Vector<double> &,
              const std::function<double(const Point<2> &)> &);
  template double
  l1_distance(const DGSpace<1, 2> &,
              const Vector<double> &,
              const Vector<double> &);
  template double
  l1_distance(const DGSpace<1, 2> &,
              const Vector<double> &,
              const DGSpace<1, 2> &,
              const Vector<double> &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<1, 2> &, const Vector<double> &);
  template double
  integrate(const DGSpace<2, 3> &,
            const Vector<double> &,
            const std::function<double(const Point<3> &)> &);
  template unsigned int
  count_clusters(const DGSpace<2, 3> &, const Vector<double> &);
  template Vector<double>
  relative_cell_density(const DGSpace<2, 3> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<2, 3> &,
              const Vector<double> &,
              const std::function<double(const Point<3> &)> &);
  template double
  l1_distance(const DGSpace<2, 3> &,
              const Vector<double> &,
              const Vector<double> &);
  template double
  l1_distance(const DGSpace<2, 3> &,
              const Vector<double> &,
              const DGSpace<2, 3> &,
              const Vector<double> &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<2, 3> &, const Vector<double> &);
} // namespace attnflow
