#include <attnflow/density_steppers.h>
#include <attnflow/exceptions.h>
#include <attnflow/positivity_limiter.h>

#include <deal.II/dofs/dof_tools.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/sparsity_tools.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_solver.h>

#include <algorithm>
#include <sstream>

namespace attnflow
{
  using namespace dealii;

  template <int dim, int spacedim>
  SSPRK3Stepper<dim, spacedim>::SSPRK3Stepper(
    const DensityParameters                  &parameters,
    const DGSpace<dim, spacedim>             &space,
    const DGTransportOperator<dim, spacedim> &transport,
    DensityField<dim, spacedim>              &field,
    TimerOutput                              &timer)
      : parameters(parameters)
      , space(space)
      , transport(transport)
      , field(field)
      , timer(timer)
  {}



  template <int dim, int spacedim>
  double
  SSPRK3Stepper<dim, spacedim>::stable_step(const double max_step) const
  {
    const double max_speed = field.max_speed();
    const double stable =
      parameters.cfl_number *
      PositivityLimiter<dim, spacedim>::cfl_weight(parameters.degree) *
      space.min_cell_size() / (dim * max_speed);
    double dt = std::min(
      {max_speed > 0. ? stable : max_step, max_step, parameters.time_step});
    // No sliver of a step left before the stop.
    if (max_step - dt < 1e-10 * max_step)
      dt = max_step;
    return dt;
  }



  template <int dim, int spacedim>
  DensityStep
  SSPRK3Stepper<dim, spacedim>::step(DensityVector   &rho,
                                     const Layer     &layer,
                                     const double     max_step,
                                     const StageHook &after_stage)
  {
    const auto stage_end = [&](DensityVector &v) {
      if (after_stage)
        after_stage(v);
    };
    DensityVector rho_dot, stage = space.create_vector(),
                           stage2 = space.create_vector();

    field.evaluate(rho, layer);
    const double dt = stable_step(max_step);
    double       o1, o2, o3;
    {
      TimerOutput::Scope scope(timer, "density transport");
      o1    = transport.apply(field.velocity(), rho, rho_dot);
      stage = rho;
      stage.add(dt, rho_dot);
      stage_end(stage);
    }

    field.evaluate(stage, layer);
    {
      TimerOutput::Scope scope(timer, "density transport");
      o2 = transport.apply(field.velocity(), stage, rho_dot);
      stage2.equ(0.75, rho);
      stage2.add(0.25, stage);
      stage2.add(0.25 * dt, rho_dot);
      stage_end(stage2);
    }

    field.evaluate(stage2, layer);
    {
      TimerOutput::Scope scope(timer, "density transport");
      o3 = transport.apply(field.velocity(), stage2, rho_dot);
      rho.sadd(1. / 3., 2. / 3., stage2);
      rho.add(2. / 3. * dt, rho_dot);
      stage_end(rho);
    }
    DensityStep step;
    step.size    = dt;
    step.outflow = dt * (o1 / 6. + o2 / 6. + 2. * o3 / 3.);
    return step;
  }



  template <int dim, int spacedim>
  ThetaStepper<dim, spacedim>::ThetaStepper(
    const DensityParameters                  &parameters,
    const DGSpace<dim, spacedim>             &space,
    const DGTransportOperator<dim, spacedim> &transport,
    DensityField<dim, spacedim>              &field,
    TimerOutput                              &timer)
      : parameters(parameters)
      , space(space)
      , transport(transport)
      , field(field)
      , timer(timer)
  {}



  template <int dim, int spacedim>
  void
  ThetaStepper<dim, spacedim>::reinit()
  {
    const types::global_dof_index n = space.get_dof_handler().n_dofs();
    sparsity.reinit(n, n, space.locally_relevant_dofs());
    DoFTools::make_flux_sparsity_pattern(space.get_dof_handler(), sparsity);
    SparsityTools::distribute_sparsity_pattern(sparsity,
                                               space.locally_owned_dofs(),
                                               space.get_communicator(),
                                               space.locally_relevant_dofs());
  }



  template <int dim, int spacedim>
  unsigned int
  ThetaStepper<dim, spacedim>::solve(
    const TrilinosWrappers::SparseMatrix &system,
    DensityVector                        &x,
    const DensityVector                  &rhs,
    const double                          time) const
  {
    SolverControl control(1000, parameters.solver_tolerance * rhs.l2_norm());
    TrilinosWrappers::SolverGMRES solver(control);
    try
      {
        if (parameters.preconditioner == Preconditioner::amg)
          {
            TrilinosWrappers::PreconditionAMG::AdditionalData data;
            data.elliptic              = false;
            data.higher_order_elements = parameters.degree > 0;
            TrilinosWrappers::PreconditionAMG amg;
            amg.initialize(system, data);
            solver.solve(system, x, rhs, amg);
          }
        else
          {
            TrilinosWrappers::PreconditionILU ilu;
            ilu.initialize(system);
            solver.solve(system, x, rhs, ilu);
          }
      }
    catch (const ExceptionBase &e)
      {
        std::ostringstream message;
        message << "the linear solver (GMRES with "
                << selection_name(preconditioner_names,
                                  parameters.preconditioner)
                << ") failed at t = " << time
                << ": try Density/preconditioner = "
                << (parameters.preconditioner == Preconditioner::amg ? "ilu" :
                                                                       "amg")
                << ", a smaller Density/time step or a larger "
                   "Density/linear solver tolerance";
        throw NumericalError(message.str());
      }
    return control.last_step();
  }



  template <int dim, int spacedim>
  DensityStep
  ThetaStepper<dim, spacedim>::step(DensityVector   &rho,
                                    const Layer     &layer,
                                    const double     dt,
                                    const double     time,
                                    const StageHook &after_step)
  {
    const double theta =
      parameters.scheme == DensityScheme::backward_euler ? 1. : 0.5;
    DensityStep step;
    // The linear algebra on the owned DoFs; the field and the outflow read
    // the ghost DoFs too.
    DensityVector old = space.create_owned_vector(), next = old, rhs = old,
                  product = old, mixed = space.create_vector();
    old  = rho;
    next = rho;
    TrilinosWrappers::SparseMatrix mass, system;
    for (unsigned int k = 0; k < parameters.picard_iterations; ++k)
      {
        // The field of theta rho' + (1 - theta) rho (frozen when k = 0).
        product.equ(theta, next);
        product.add(1. - theta, old);
        mixed = product;
        field.evaluate(mixed, layer);
        TimerOutput::Scope scope(timer, "density transport");
        transport.assemble_matrices(field.velocity(), sparsity, mass, system);
        mass.vmult(rhs, old);
        system.vmult(product, old);
        rhs.add((1. - theta) * dt, product);
        system *= -theta * dt;
        system.add(1., mass);
        step.n_linear_iterations += solve(system, next, rhs, time);
      }

    TimerOutput::Scope scope(timer, "density transport");
    mixed     = next;
    step.size = dt;
    step.outflow =
      dt * (theta * transport.outflow_rate(field.velocity(), mixed) +
            (1. - theta) * transport.outflow_rate(field.velocity(), rho));
    const double kept = space.integral(rho) - step.outflow;
    mixed *= kept / space.integral(mixed);
    rho = mixed;
    if (after_step)
      {
        after_step(rho);
        rho *= kept / space.integral(rho);
      }
    return step;
  }



  template class SSPRK3Stepper<1, 1>;
  template class SSPRK3Stepper<2, 2>;
  template class SSPRK3Stepper<3, 3>;
  template class SSPRK3Stepper<1, 2>;
  template class SSPRK3Stepper<2, 3>;
  template class ThetaStepper<1, 1>;
  template class ThetaStepper<2, 2>;
  template class ThetaStepper<3, 3>;
  template class ThetaStepper<1, 2>;
  template class ThetaStepper<2, 3>;
} // namespace attnflow
