/**
 * @file
 * The time steppers of the density: explicit SSP-RK3 with a stage hook
 * (the positivity limiter) and the implicit theta schemes, beside the DG
 * operator they step (doc/theory.md sections 4.4 and 4.5).
 */
#ifndef attnflow_density_steppers_h
#define attnflow_density_steppers_h

#include <attnflow/density_field.h>
#include <attnflow/dg_space.h>
#include <attnflow/dg_transport_operator.h>
#include <attnflow/model.h>
#include <attnflow/parameters.h>

#include <deal.II/base/timer.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>

#include <functional>

namespace attnflow
{
  /** What one step of a density stepper did. */
  struct DensityStep
  {
    /** The step size. */
    double size = 0.;
    /** The mass that left a box through its boundary during the step. */
    double outflow = 0.;
    /** The iterations of the linear solver (implicit schemes). */
    unsigned long n_linear_iterations = 0;
  };

  /** A function applied to the density after a stage (the limiter). */
  using StageHook = std::function<void(DensityVector &)>;

  /**
   * The explicit three-stage SSP Runge–Kutta scheme in Shu–Osher form,
   *
   *   rho1 = rho + dt L(rho),
   *   rho2 = 3/4 rho + 1/4 (rho1 + dt L(rho1)),
   *   rho' = 1/3 rho + 2/3 (rho2 + dt L(rho2)),
   *
   * L(rho) = M^{-1} A[X[rho]] rho, the field evaluated anew at every
   * stage, a hook (the positivity limiter) after each, and the step
   * dt = cfl * w * h_min / (dim max|X|) of the positivity-preserving CFL
   * bound (PositivityLimiter::cfl_weight()).
   */
  template <int dim, int spacedim>
  class SSPRK3Stepper
  {
  public:
    /**
     * The stepper of @p parameters (Density/cfl number, Density/time step)
     * for @p transport with the field @p field on @p space, timed in
     * @p timer ("density transport"); all must outlive it.
     */
    SSPRK3Stepper(const DensityParameters                  &parameters,
                  const DGSpace<dim, spacedim>             &space,
                  const DGTransportOperator<dim, spacedim> &transport,
                  DensityField<dim, spacedim>              &field,
                  dealii::TimerOutput                      &timer);

    /**
     * One step of @p rho under @p layer, of at most @p max_step (the whole
     * of it when less than 1e-10 of it would be left), with @p after_stage
     * (if set) applied after each stage.
     */
    DensityStep
    step(DensityVector   &rho,
         const Layer     &layer,
         const double     max_step,
         const StageHook &after_stage);

  private:
    /** The CFL-bounded step for the field of the last evaluation. */
    double
    stable_step(const double max_step) const;

    const DensityParameters                  &parameters;
    const DGSpace<dim, spacedim>             &space;
    const DGTransportOperator<dim, spacedim> &transport;
    DensityField<dim, spacedim>              &field;
    dealii::TimerOutput                      &timer;
  };

  /**
   * The theta scheme (theta = 1: backward Euler, 1/2: Crank–Nicolson)
   *
   *   (M - theta dt A) rho' = (M + (1 - theta) dt A) rho,
   *
   * A = A[X[theta rho' + (1 - theta) rho]] the upwind matrix with the field
   * frozen, Picard-iterated (Density/picard iterations) from rho' = rho,
   * solved by Trilinos GMRES with ILU or AMG (Density/preconditioner) to
   * Density/linear solver tolerance. The mass that leaves a box in the
   * step, dt (theta R(rho') + (1 - theta) R(rho)) with R the outflow rate,
   * is what the exact solution of the system loses; rho' is rescaled to
   * it, so that the Krylov tolerance does not change the mass, and again
   * after the stage hook.
   */
  template <int dim, int spacedim>
  class ThetaStepper
  {
  public:
    /** As SSPRK3Stepper; Density/time integrator gives theta. */
    ThetaStepper(const DensityParameters                  &parameters,
                 const DGSpace<dim, spacedim>             &space,
                 const DGTransportOperator<dim, spacedim> &transport,
                 DensityField<dim, spacedim>              &field,
                 dealii::TimerOutput                      &timer);

    /**
     * Builds the flux sparsity pattern of the current mesh (the rows this
     * rank owns).
     */
    void
    reinit();

    /**
     * One step of size @p dt of @p rho under @p layer at time @p time (for
     * error messages), with @p after_step (if set) applied at the end.
     */
    DensityStep
    step(DensityVector   &rho,
         const Layer     &layer,
         const double     dt,
         const double     time,
         const StageHook &after_step);

  private:
    /**
     * Solves @p system x = @p rhs by GMRES from @p x; returns the
     * iterations. NumericalError (at @p time) if the solver fails.
     */
    unsigned int
    solve(const dealii::TrilinosWrappers::SparseMatrix &system,
          DensityVector                                &x,
          const DensityVector                          &rhs,
          const double                                  time) const;

    const DensityParameters                  &parameters;
    const DGSpace<dim, spacedim>             &space;
    const DGTransportOperator<dim, spacedim> &transport;
    DensityField<dim, spacedim>              &field;
    dealii::TimerOutput                      &timer;
    dealii::DynamicSparsityPattern            sparsity;
  };
} // namespace attnflow

#endif
