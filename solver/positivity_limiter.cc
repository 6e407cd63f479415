#include <attnflow/exceptions.h>
#include <attnflow/positivity_limiter.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_values.h>

#include <algorithm>
#include <limits>
#include <sstream>

namespace attnflow
{
  using namespace dealii;

  namespace
  {
    /**
     * The positivity points of PositivityLimiter: the points of
     * @p cell_quadrature and, for @p degree >= 1, the tensor products of
     * the Gauss–Lobatto rule of cfl_weight() in one direction with the
     * Gauss rule of k + 2 points in the others.
     */
    template <int dim>
    Quadrature<dim>
    make_positivity_points(const unsigned int     degree,
                           const Quadrature<dim> &cell_quadrature)
    {
      std::vector<Point<dim>> points = cell_quadrature.get_points();
      if (degree > 0)
        {
          const QGaussLobatto<1> lobatto(std::max(2u, (degree + 4) / 2));
          const QGauss<1>        gauss(degree + 2);
          for (unsigned int direction = 0; direction < dim; ++direction)
            {
              std::vector<Quadrature<1>> factors(dim, gauss);
              factors[direction] = lobatto;
              std::vector<Point<dim>> tensor(1);
              for (unsigned int k = 0; k < dim; ++k)
                {
                  std::vector<Point<dim>> next;
                  for (const Point<dim> &p : tensor)
                    for (const Point<1> &q : factors[k].get_points())
                      {
                        Point<dim> r = p;
                        r[k]         = q[0];
                        next.push_back(r);
                      }
                  tensor.swap(next);
                }
              points.insert(points.end(), tensor.begin(), tensor.end());
            }
        }
      return Quadrature<dim>(points, std::vector<double>(points.size(), 0.));
    }
  } // namespace



  template <int dim, int spacedim>
  PositivityLimiter<dim, spacedim>::PositivityLimiter(
    const DGSpace<dim, spacedim> &space)
      : space(space)
      , points(make_positivity_points(space.get_fe().degree,
                                      space.get_cell_quadrature()))
  {}



  template <int dim, int spacedim>
  double
  PositivityLimiter<dim, spacedim>::cfl_weight(const unsigned int degree)
  {
    if (degree == 0)
      return 0.5; // a cell may lose mass through both of its faces
    const unsigned int n = std::max(2u, (degree + 4) / 2);
    return 2. / (n * (n - 1.)) / 2.;
  }



  template <int dim, int spacedim>
  void
  PositivityLimiter<dim, spacedim>::limit(DensityVector      &rho,
                                          const NegativeMeans negative,
                                          const double        time) const
  {
    const std::vector<double> mass =
      space.cell_integrals(space.cell_point_weights(rho));
    FEValues<dim, spacedim>              fe_points(space.get_mapping(),
                                      space.get_fe(),
                                      points,
                                      update_values);
    std::vector<double>                  point_values(points.size());
    std::vector<types::global_dof_index> dofs(space.get_fe().n_dofs_per_cell());
    // A negative mean on any rank stops every rank.
    const auto smallest_mean = [&]() {
      double smallest = std::numeric_limits<double>::max();
      for (std::size_t c = 0; c < mass.size(); ++c)
        smallest = std::min(smallest, mass[c] / space.cell_measures()[c]);
      return Utilities::MPI::min(smallest, space.get_communicator());
    };
    if (negative == NegativeMeans::raise)
      if (const double mean = smallest_mean();
          mean < -1e-10 / space.domain_measure())
        {
          std::ostringstream message;
          message << "the density has a negative cell mean (" << mean
                  << ") at t = " << time
                  << ": the positivity of the explicit scheme is lost (CFL "
                     "condition violated?); reduce Density/cfl number";
          throw NumericalError(message.str());
        }
    for (const auto &cell : space.owned_cells())
      {
        const unsigned int c    = space.cell_index(cell);
        const double       mean = mass[c] / space.cell_measures()[c];
        fe_points.reinit(cell);
        fe_points.get_function_values(rho, point_values);
        // Scale towards the mean (a constant: every DGQ nodal value equal)
        // until the minimum is epsilon = 1e-12 mean >= 0, a margin for the
        // round-off of evaluating rho at the points.
        const double target  = std::max(0., mean);
        const double epsilon = 1e-12 * target;
        const double minimum =
          *std::min_element(point_values.begin(), point_values.end());
        if (minimum >= epsilon)
          continue;
        const double theta = (target - epsilon) / (target - minimum);
        cell->get_dof_indices(dofs);
        for (const types::global_dof_index i : dofs)
          rho(i) = target + theta * (rho(i) - mean);
      }
    rho.update_ghost_values();
  }



  template <int dim, int spacedim>
  double
  PositivityLimiter<dim, spacedim>::minimum(const DensityVector &rho) const
  {
    rho.update_ghost_values();
    FEValues<dim, spacedim> fe_points(space.get_mapping(),
                                      space.get_fe(),
                                      points,
                                      update_values);
    std::vector<double>     point_values(points.size());
    double                  smallest = std::numeric_limits<double>::max();
    for (const auto &cell : space.owned_cells())
      {
        fe_points.reinit(cell);
        fe_points.get_function_values(rho, point_values);
        for (const double v : point_values)
          smallest = std::min(smallest, v);
      }
    return Utilities::MPI::min(smallest, space.get_communicator());
  }



  template class PositivityLimiter<1, 1>;
  template class PositivityLimiter<2, 2>;
  template class PositivityLimiter<3, 3>;
  template class PositivityLimiter<1, 2>;
  template class PositivityLimiter<2, 3>;
} // namespace attnflow
