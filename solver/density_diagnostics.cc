#include <attnflow/density_diagnostics.h>
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>

#include <deal.II/base/geometry_info.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>

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
            const DensityVector                                  &rho,
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
    return space.sum_over_ranks(sum);
  }



  template <int dim, int spacedim>
  unsigned int
  count_clusters(const DGSpace<dim, spacedim> &space, const DensityVector &rho)
  {
    // The cells of mean density above twice the average: the owned cells
    // and the ghosts beside them, which connect clusters across ranks.
    rho.update_ghost_values();
    const double average = space.integral(rho) / space.domain_measure();
    FEValues<dim, spacedim> fe_values(space.get_mapping(),
                                      space.get_fe(),
                                      space.get_cell_quadrature(),
                                      update_values | update_JxW_values);
    std::vector<double>     values(space.get_cell_quadrature().size());
    std::vector<bool> dense(space.get_triangulation().n_active_cells(), false);
    for (const auto &cell : space.get_dof_handler().active_cell_iterators())
      if (!cell->is_artificial())
        {
          fe_values.reinit(cell);
          fe_values.get_function_values(rho, values);
          double mass = 0., volume = 0.;
          for (const unsigned int q : fe_values.quadrature_point_indices())
            {
              mass += values[q] * fe_values.JxW(q);
              volume += fe_values.JxW(q);
            }
          dense[cell->active_cell_index()] = mass > 2. * average * volume;
        }
    return count_connected_components(space.faces(),
                                      dense,
                                      space.get_communicator());
  }



  template <int dim, int spacedim>
  Vector<double>
  relative_cell_density(const DGSpace<dim, spacedim> &space,
                        const std::vector<double>    &source_weights)
  {
    const std::vector<double>  mass   = space.cell_integrals(source_weights);
    const std::vector<double> &volume = space.cell_measures();
    const double               average =
      space.sum_over_ranks(std::accumulate(mass.begin(), mass.end(), 0.)) /
      space.domain_measure();
    Vector<double> ratio(space.get_triangulation().n_active_cells());
    for (const auto &cell : space.owned_cells())
      {
        const unsigned int c             = space.cell_index(cell);
        ratio(cell->active_cell_index()) = mass[c] / volume[c] / average;
      }
    // A mesh whole on every rank (parallel::shared, dim = 1) is flagged
    // alike on every rank: each cell's ratio from its owner.
    if constexpr (dim == 1)
      Utilities::MPI::sum(ArrayView<const double>(ratio.begin(), ratio.size()),
                          space.get_communicator(),
                          ArrayView<double>(ratio.begin(), ratio.size()));
    return ratio;
  }



  template <int dim, int spacedim>
  double
  l1_distance(const DGSpace<dim, spacedim>                         &space,
              const DensityVector                                  &rho,
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
    rho.update_ghost_values();
    for (const auto &cell : space.owned_cells())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, values);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          distance +=
            std::abs(values[q] -
                     exact(space.on_domain(fe_values.quadrature_point(q)))) *
            fe_values.JxW(q);
      }
    return space.sum_over_ranks(distance);
  }



  template <int dim, int spacedim>
  double
  l1_distance(const DGSpace<dim, spacedim> &space,
              const DensityVector          &rho,
              const DensityVector          &other)
  {
    DensityVector difference = rho;
    difference -= other;
    double distance = 0.;
    for (const double w : space.cell_point_weights(difference))
      distance += std::abs(w);
    return space.sum_over_ranks(distance);
  }



  template <int dim, int spacedim>
  double
  l1_distance(const FE_DGQ<dim, spacedim>                 &fe,
              const std::map<CellId, std::vector<double>> &cells,
              const DGSpace<dim, spacedim>                &other_space,
              const DensityVector                         &other_rho)
  {
    const FE_DGQ<dim, spacedim> &other_fe = other_space.get_fe();
    const QGauss<dim> quadrature(std::max(fe.degree, other_fe.degree) + 4);
    FEValues<dim, spacedim> theirs(other_space.get_mapping(),
                                   other_fe,
                                   quadrature,
                                   update_values | update_JxW_values);
    std::vector<double>     b(quadrature.size());
    other_rho.update_ghost_values();
    double distance = 0.;
    for (const auto &other_cell : other_space.owned_cells())
      {
        // The cell of rho that holds this one, and the points of the
        // quadrature in its unit cell (rho embeds in the children).
        std::vector<Point<dim>> points = quadrature.get_points();
        auto                    cell =
          typename Triangulation<dim, spacedim>::cell_iterator(other_cell);
        auto found = cells.find(cell->id());
        while (found == cells.end() && cell->level() > 0)
          {
            const unsigned int child =
              cell->parent()->child_iterator_to_index(cell);
            for (Point<dim> &x : points)
              x = GeometryInfo<dim>::child_to_cell_coordinates(x, child);
            cell  = cell->parent();
            found = cells.find(cell->id());
          }
        if (found == cells.end())
          throw InputError("Convergence/reference",
                           "the runs compared do not share one coarse mesh, "
                           "or the reference's mesh is coarser");
        theirs.reinit(other_cell);
        theirs.get_function_values(other_rho, b);
        const std::vector<double> &coefficients = found->second;
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          {
            double a = 0.;
            for (unsigned int i = 0; i < fe.n_dofs_per_cell(); ++i)
              a += coefficients[i] * fe.shape_value(i, points[q]);
            distance += std::abs(a - b[q]) * theirs.JxW(q);
          }
      }
    return other_space.sum_over_ranks(distance);
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
                      const QGauss<1>                                    &nodes,
                      const MPI_Comm communicator)
    {
      if (Utilities::MPI::n_mpi_processes(communicator) > 1)
        cells = concatenated(Utilities::MPI::all_gather(communicator, cells));
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
    circle_density(const DGSpace<1, 2> &space, const DensityVector &rho)
    {
      const QGauss<1>     nodes(space.get_fe().degree + 1);
      FEValues<1, 2>      fe_values(space.get_mapping(),
                               space.get_fe(),
                               nodes,
                               update_values | update_JxW_values);
      std::vector<double> cell_values(nodes.size());
      std::vector<std::pair<double, std::vector<double>>> cells;
      rho.update_ghost_values();
      for (const auto &cell : space.owned_cells())
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
                               nodes,
                               space.get_communicator());
    }
  } // namespace



  template <int dim, int spacedim>
  std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<dim, spacedim> &space,
                   const DensityVector          &rho)
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
        rho.update_ghost_values();
        for (const auto &cell : space.owned_cells())
          {
            fe_values.reinit(cell);
            fe_values.get_function_values(rho, cell_values);
            cells.emplace_back(cell->vertex(0)[0], cell_values);
            right = std::max(right, cell->vertex(1)[0]);
          }
        return piecewise_density(std::move(cells),
                                 Utilities::MPI::max(right,
                                                     space.get_communicator()),
                                 nodes,
                                 space.get_communicator());
      }
  }



  template double
  integrate(const DGSpace<1, 1> &,
            const DensityVector &,
            const std::function<double(const Point<1> &)> &);
  template unsigned int
  count_clusters(const DGSpace<1, 1> &, const DensityVector &);
  template Vector<double>
  relative_cell_density(const DGSpace<1, 1> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<1, 1> &,
              const DensityVector &,
              const std::function<double(const Point<1> &)> &);
  template double
  l1_distance(const DGSpace<1, 1> &,
              const DensityVector &,
              const DensityVector &);
  template double
  l1_distance(const FE_DGQ<1, 1> &,
              const std::map<CellId, std::vector<double>> &,
              const DGSpace<1, 1> &,
              const DensityVector &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<1, 1> &, const DensityVector &);
  template double
  integrate(const DGSpace<2, 2> &,
            const DensityVector &,
            const std::function<double(const Point<2> &)> &);
  template unsigned int
  count_clusters(const DGSpace<2, 2> &, const DensityVector &);
  template Vector<double>
  relative_cell_density(const DGSpace<2, 2> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<2, 2> &,
              const DensityVector &,
              const std::function<double(const Point<2> &)> &);
  template double
  l1_distance(const DGSpace<2, 2> &,
              const DensityVector &,
              const DensityVector &);
  template double
  l1_distance(const FE_DGQ<2, 2> &,
              const std::map<CellId, std::vector<double>> &,
              const DGSpace<2, 2> &,
              const DensityVector &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<2, 2> &, const DensityVector &);
  template double
  integrate(const DGSpace<3, 3> &,
            const DensityVector &,
            const std::function<double(const Point<3> &)> &);
  template unsigned int
  count_clusters(const DGSpace<3, 3> &, const DensityVector &);
  template Vector<double>
  relative_cell_density(const DGSpace<3, 3> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<3, 3> &,
              const DensityVector &,
              const std::function<double(const Point<3> &)> &);
  template double
  l1_distance(const DGSpace<3, 3> &,
              const DensityVector &,
              const DensityVector &);
  template double
  l1_distance(const FE_DGQ<3, 3> &,
              const std::map<CellId, std::vector<double>> &,
              const DGSpace<3, 3> &,
              const DensityVector &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<3, 3> &, const DensityVector &);
  template double
  integrate(const DGSpace<1, 2> &,
            const DensityVector &,
            const std::function<double(const Point<2> &)> &);
  template unsigned int
  count_clusters(const DGSpace<1, 2> &, const DensityVector &);
  template Vector<double>
  relative_cell_density(const DGSpace<1, 2> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<1, 2> &,
              const DensityVector &,
              const std::function<double(const Point<2> &)> &);
  template double
  l1_distance(const DGSpace<1, 2> &,
              const DensityVector &,
              const DensityVector &);
  template double
  l1_distance(const FE_DGQ<1, 2> &,
              const std::map<CellId, std::vector<double>> &,
              const DGSpace<1, 2> &,
              const DensityVector &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<1, 2> &, const DensityVector &);
  template double
  integrate(const DGSpace<2, 3> &,
            const DensityVector &,
            const std::function<double(const Point<3> &)> &);
  template unsigned int
  count_clusters(const DGSpace<2, 3> &, const DensityVector &);
  template Vector<double>
  relative_cell_density(const DGSpace<2, 3> &, const std::vector<double> &);
  template double
  l1_distance(const DGSpace<2, 3> &,
              const DensityVector &,
              const std::function<double(const Point<3> &)> &);
  template double
  l1_distance(const DGSpace<2, 3> &,
              const DensityVector &,
              const DensityVector &);
  template double
  l1_distance(const FE_DGQ<2, 3> &,
              const std::map<CellId, std::vector<double>> &,
              const DGSpace<2, 3> &,
              const DensityVector &);
  template std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<2, 3> &, const DensityVector &);
} // namespace attnflow
