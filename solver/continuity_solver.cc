#include <attnflow/continuity_solver.h>
#include <attnflow/density_diagnostics.h>
#include <attnflow/density_output.h>
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/refinement.h>

#include <deal.II/base/mpi.h>
#include <deal.II/distributed/solution_transfer.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/numerics/solution_transfer.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace attnflow
{
  using namespace dealii;

  template <int dim, int spacedim>
  ContinuitySolver<dim, spacedim>::ContinuitySolver(
    const Model             &model,
    const DensityParameters &parameters,
    const KernelEngine      &engine,
    const InitialMeasure    &initial_measure,
    TimerOutput             &timer,
    const FieldParameters   &field_parameters,
    const MPI_Comm           communicator)
      : model(model)
      , parameters(parameters)
      , space(this->parameters, communicator)
      , field(model, engine, space, timer, field_parameters)
      , transport(space)
      , limiter(space)
      , explicit_stepper(this->parameters, space, transport, field, timer)
      , implicit_stepper(this->parameters, space, transport, field, timer)
      , communicator(communicator)
  {
    reinit();
    project_initial_density(initial_measure);
    // An adaptive mesh starts adapted to rho0: flag, refine, project anew.
    if (parameters.adaptive_refinement)
      for (unsigned int cycle = parameters.refinements;
           cycle < parameters.max_refinement_level;
           ++cycle)
        {
          mark_cells();
          space.get_triangulation().execute_coarsening_and_refinement();
          space.reinit();
          reinit();
          project_initial_density(initial_measure);
        }
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::reinit()
  {
    field.reinit();
    if (parameters.scheme != DensityScheme::ssp_rk3)
      implicit_stepper.reinit();
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::project_initial_density(
    const InitialMeasure &initial_measure)
  {
    const PointSet     &points = space.cell_points();
    std::vector<double> rho0(points.size());
    for (std::size_t q = 0; q < points.size(); ++q)
      rho0[q] = initial_measure.density(points[q]);
    density = space.project(rho0);
    limiter.limit(density,
                  PositivityLimiter<dim, spacedim>::NegativeMeans::raise,
                  current_time);
    const double mass = space.integral(density);
    if (!(mass > 0.))
      throw InputError("Initial condition/type",
                       "the initial density has no mass on the mesh of the "
                       "density (is the box, Density/lower corner .. upper "
                       "corner, where mu0 lives?)");
    initial_mass = mass;
    density /= mass;
  }



  template <int dim, int spacedim>
  StageHook
  ContinuitySolver<dim, spacedim>::limiter_hook(
    const typename PositivityLimiter<dim, spacedim>::NegativeMeans negative)
  {
    if (!parameters.positivity_limiter)
      return {};
    return [this, negative](DensityVector &rho) {
      limiter.limit(rho, negative, current_time);
    };
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::record(const DensityStep &step)
  {
    outflow += step.outflow;
    n_linear_iterations += step.n_linear_iterations;
    // The same verdict on every rank.
    double finite = 1.;
    for (const double v : density)
      if (!std::isfinite(v))
        finite = 0.;
    if (Utilities::MPI::min(finite, communicator) == 0.)
      throw NumericalError("the density is not finite at t = " +
                           std::to_string(current_time));
    ++n_steps;
    last_step = step.size;
  }



  template <int dim, int spacedim>
  const Layer &
  ContinuitySolver<dim, spacedim>::current_layer() const
  {
    return model.layers[model.layer_index(current_time)];
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::advance_to(const double        t_end,
                                              const StepObserver &after_step)
  {
    using NegativeMeans =
      typename PositivityLimiter<dim, spacedim>::NegativeMeans;
    for (const Model::Interval &interval : model.intervals(current_time, t_end))
      {
        const Layer &layer = *interval.layer;
        const double stop  = interval.end;
        if (parameters.scheme == DensityScheme::ssp_rk3)
          while (current_time < stop)
            {
              const double      remaining = stop - current_time;
              const DensityStep step =
                explicit_stepper.step(density,
                                      layer,
                                      remaining,
                                      limiter_hook(NegativeMeans::raise));
              record(step);
              current_time =
                step.size >= remaining ? stop : current_time + step.size;
              adapt_if_due();
              if (after_step)
                after_step(current_time);
            }
        else
          {
            // Equal implicit steps no longer than Density/time step; the
            // limiter sets the negative cell means they leave to zero.
            const double        start = current_time;
            const unsigned long n =
              std::ceil((stop - start) / parameters.time_step * (1. - 1e-12));
            for (unsigned long k = 1; k <= n; ++k)
              {
                record(
                  implicit_stepper.step(density,
                                        layer,
                                        (stop - start) / n,
                                        current_time,
                                        limiter_hook(NegativeMeans::clip)));
                current_time = k == n ? stop : start + k * (stop - start) / n;
                adapt_if_due();
                if (after_step)
                  after_step(current_time);
              }
          }
      }
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::adapt_if_due()
  {
    if (parameters.adaptive_refinement &&
        n_steps % parameters.adaptation_interval == 0)
      adapt_mesh();
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::mark_cells()
  {
    mark_cells_by_density(space.get_triangulation(),
                          relative_cell_density(space,
                                                field.source_weights(density)),
                          parameters);
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::adapt_mesh()
  {
    mark_cells();
    const double mass = space.integral(density);
    transfer_to_adapted_mesh();
    // Curved cells: children and parents differ in shape, so the transfer
    // changes the mass by the geometry error; restore it exactly.
    density *= mass / space.integral(density);
    if (parameters.positivity_limiter)
      limiter.limit(density,
                    PositivityLimiter<dim, spacedim>::NegativeMeans::raise,
                    current_time);
    ++adaptations;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::transfer_to_adapted_mesh()
  {
    density.update_ghost_values();
    if constexpr (dim > 1)
      {
        parallel::distributed::SolutionTransfer<dim, DensityVector, spacedim>
          transfer(space.get_dof_handler());
        transfer.prepare_for_coarsening_and_refinement(density);
        space.get_triangulation().execute_coarsening_and_refinement();
        space.reinit();
        reinit();
        DensityVector transferred = space.create_owned_vector();
        transfer.interpolate(transferred);
        density = space.create_vector();
        density = transferred;
      }
    else
      {
        // The mesh is on every rank whole (parallel::shared): the serial
        // transfer of rho whole.
        const Vector<double> old = replicated(density);
        SolutionTransfer<dim, Vector<double>, spacedim> transfer(
          space.get_dof_handler());
        transfer.prepare_for_coarsening_and_refinement(old);
        space.get_triangulation().execute_coarsening_and_refinement();
        space.reinit();
        reinit();
        Vector<double> transferred(space.get_dof_handler().n_dofs());
        transfer.interpolate(old, transferred);
        density = space.create_vector();
        for (const types::global_dof_index i : space.locally_owned_dofs())
          density(i) = transferred(i);
        density.update_ghost_values();
      }
  }



  template <int dim, int spacedim>
  Vector<double>
  ContinuitySolver<dim, spacedim>::replicated(const DensityVector &rho) const
  {
    const types::global_dof_index n = space.get_dof_handler().n_dofs();
    DensityVector                 all(space.locally_owned_dofs(),
                      complete_index_set(n),
                      communicator);
    all = rho;
    all.update_ghost_values();
    Vector<double> whole(n);
    for (types::global_dof_index i = 0; i < n; ++i)
      whole(i) = all(i);
    return whole;
  }



  template <int dim, int spacedim>
  DensityStatistics
  ContinuitySolver<dim, spacedim>::statistics() const
  {
    DensityStatistics s;
    s.mass                       = space.integral(density);
    const WeightedPoints measure = field.measure(density);
    static_cast<Moments &>(s) =
      weighted_moments(measure.points, measure.weights);
    s.min_density         = limiter.minimum(density);
    s.energy              = field.energy(measure, current_layer());
    s.n_clusters          = count_clusters(space, density);
    s.mass_outflow        = outflow;
    s.n_linear_iterations = n_linear_iterations;
    s.n_steps             = n_steps;
    s.last_step           = last_step;
    return s;
  }



  template <int dim, int spacedim>
  WeightedPoints
  ContinuitySolver<dim, spacedim>::quadrature_measure() const
  {
    return field.measure(density);
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::integrate(
    const std::function<double(const Point<spacedim> &)> &f) const
  {
    return attnflow::integrate(space, density, f);
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_distance(const DensityVector &other) const
  {
    return attnflow::l1_distance(space, density, other);
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_distance(
    const std::function<double(const Point<spacedim> &)> &exact) const
  {
    return attnflow::l1_distance(space, density, exact);
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_error(
    const std::function<double(const double *)> &exact) const
  {
    return l1_distance(
      [&exact](const Point<spacedim> &x) { return exact(&x[0]); });
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_distance_to(
    const DensitySolver &other_solver) const
  {
    const auto *other =
      dynamic_cast<const ContinuitySolver<dim, spacedim> *>(&other_solver);
    if (other == nullptr || other->space.get_triangulation().n_cells(0) !=
                              space.get_triangulation().n_cells(0))
      throw InputError("Convergence/reference",
                       "the runs compared do not share one coarse mesh");
    return attnflow::l1_distance(space.get_fe(),
                                 by_cell_id(cell_coefficients(true)),
                                 other->space,
                                 other->density);
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::mesh_size() const
  {
    return Utilities::MPI::max(
      GridTools::maximal_cell_diameter(space.get_triangulation(),
                                       space.get_mapping()),
      communicator);
  }



  template <int dim, int spacedim>
  std::unique_ptr<PiecewisePolynomialDensity>
  ContinuitySolver<dim, spacedim>::interval_density() const
  {
    return attnflow::interval_density(space, density);
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::write_output(
    const std::filesystem::path &directory,
    const unsigned int           index)
  {
    field.evaluate(density, current_layer());
    const std::vector<std::string> names = output_files(index);
    collective(communicator, [&]() {
      write_density_vtu(space,
                        density,
                        field.velocity(),
                        parameters,
                        current_time,
                        index,
                        directory,
                        names);
    });
    on_root(communicator, [&]() {
      if (!pvd)
        pvd = std::make_unique<PvdRecord>(directory / "density.pvd");
      pvd->add(current_time, names[0]);
    });
  }



  template <int dim, int spacedim>
  std::vector<std::string>
  ContinuitySolver<dim, spacedim>::output_files(const unsigned int index) const
  {
    return density_file_names(index, n_ranks(communicator));
  }



  std::unique_ptr<DensitySolver>
  create_density_solver(const Model             &model,
                        const DensityParameters &parameters,
                        const KernelEngine      &engine,
                        const InitialMeasure    &initial_measure,
                        TimerOutput             &timer,
                        const FieldParameters   &field,
                        const MPI_Comm           communicator)
  {
    const unsigned int d = model.dimension;
    if (model.geometry == Geometry::euclidean)
      switch (d)
        {
          case 1:
            return std::make_unique<ContinuitySolver<1, 1>>(model,
                                                            parameters,
                                                            engine,
                                                            initial_measure,
                                                            timer,
                                                            field,
                                                            communicator);
          case 2:
            return std::make_unique<ContinuitySolver<2, 2>>(model,
                                                            parameters,
                                                            engine,
                                                            initial_measure,
                                                            timer,
                                                            field,
                                                            communicator);
          case 3:
            return std::make_unique<ContinuitySolver<3, 3>>(model,
                                                            parameters,
                                                            engine,
                                                            initial_measure,
                                                            timer,
                                                            field,
                                                            communicator);
        }
    else if (d == 2)
      return std::make_unique<ContinuitySolver<1, 2>>(model,
                                                      parameters,
                                                      engine,
                                                      initial_measure,
                                                      timer,
                                                      field,
                                                      communicator);
    else if (d == 3)
      return std::make_unique<ContinuitySolver<2, 3>>(model,
                                                      parameters,
                                                      engine,
                                                      initial_measure,
                                                      timer,
                                                      field,
                                                      communicator);
    throw InputError("Density/enabled",
                     "the finite-element density needs Model/dimension <= 3 "
                     "(boxes in R^1..R^3, S^1, S^2), got " +
                       std::to_string(d));
  }



  template class ContinuitySolver<1, 1>;
  template class ContinuitySolver<2, 2>;
  template class ContinuitySolver<3, 3>;
  template class ContinuitySolver<1, 2>;
  template class ContinuitySolver<2, 3>;
} // namespace attnflow
