/**
 * @file
 * Explicit Runge–Kutta integration of the token ODE dx/dt = f(t, x) between
 * given times: explicit Euler and classical RK4 with a fixed step, and the
 * adaptive Dormand–Prince 5(4) pair with relative and absolute tolerances.
 */
#ifndef attnflow_time_integrator_h
#define attnflow_time_integrator_h

#include <attnflow/parameters.h>
#include <attnflow/step_observer.h>

#include <functional>
#include <vector>

namespace attnflow
{
  /** Counters of the work done by a TimeIntegrator. */
  struct IntegrationStatistics
  {
    unsigned long n_steps          = 0;
    unsigned long n_rejected_steps = 0;
    unsigned long n_evaluations    = 0;
    /** The size of the last accepted step. */
    double last_step = 0.;
    /**
     * The largest change a projection made to the state after a step (on
     * the sphere: the largest | |x_i| - 1 | before renormalisation).
     */
    double max_projection_change = 0.;

    /** Writes or reads the counters (boost archive; checkpoints). */
    template <class Archive>
    void
    serialize(Archive &archive, const unsigned int)
    {
      archive &n_steps &n_rejected_steps &n_evaluations &last_step
        &max_projection_change;
    }
  };

  /**
   * Advances y' = f(t, y) from t0 to t1 exactly (t1 is an output time or a
   * layer switch: the caller splits time there). After every accepted step
   * an optional projection maps the state back to the manifold (the sphere)
   * and reports how far it was off.
   *
   * Fixed-step schemes cut [t0, t1] into ceil((t1 - t0)/dt) equal steps.
   * dopri5 accepts a step when the error estimate, scaled component-wise by
   * atol + rtol max(|y|, |y_new|), has root-mean-square <= 1, and chooses
   * the next step by the standard controller 0.9 err^(-1/5) (factor within
   * [0.2, 5]); it keeps the step size between calls, and reuses the last
   * stage of a step as the first of the next (FSAL) within one call.
   */
  class TimeIntegrator
  {
  public:
    /** The state: all token coordinates, one after another. */
    using State = std::vector<double>;
    /** f(t, y) into dydt. */
    using RightHandSide =
      std::function<void(const double t, const State &y, State &dydt)>;
    /**
     * Maps y back to the manifold; returns the largest change made. f must
     * not change under it (f(P y) = f(y)): the last stage of a step is
     * reused as the first of the next.
     */
    using Projection = std::function<double(State &y)>;

    /** An integrator with the scheme, step and tolerances of @p parameters. */
    explicit TimeIntegrator(const TimeParameters &parameters);

    /**
     * Advances @p y from @p t0 to @p t1, calling @p after_step with the time
     * reached after every accepted step. NumericalError if the state becomes
     * non-finite or the adaptive step falls below round-off.
     */
    void
    advance(const double         t0,
            const double         t1,
            State               &y,
            const RightHandSide &f,
            const Projection    &projection = Projection(),
            const StepObserver  &after_step = StepObserver());

    /** The work done so far. */
    const IntegrationStatistics &
    statistics() const
    {
      return stats;
    }

    /**
     * Writes or reads what the integrator carries from one advance() to the
     * next: the next adaptive step and the counters (boost archive;
     * checkpoints). The first-stage cache is not: each advance() starts
     * without it.
     */
    template <class Archive>
    void
    serialize(Archive &archive, const unsigned int)
    {
      archive &next_step &stats;
    }

  private:
    /** One explicit Euler or RK4 step of size h from t. */
    void
    fixed_step(const double         t,
               const double         h,
               State               &y,
               const RightHandSide &f);

    /**
     * One Dormand–Prince trial step of size h from t into y_new; returns the
     * scaled error norm (NaN if anything is not finite).
     */
    double
    dopri_step(const double         t,
               const double         h,
               const State         &y,
               State               &y_new,
               const RightHandSide &f);

    /** The adaptive loop from t0 to t1. */
    void
    advance_adaptive(const double         t0,
                     const double         t1,
                     State               &y,
                     const RightHandSide &f,
                     const Projection    &projection,
                     const StepObserver  &after_step);

    /** Projects after a step and checks that y is finite. */
    void
    finish_step(const double t, State &y, const Projection &projection);

    TimeParameters parameters;
    double         next_step;
    /** Whether stages[0] holds f at the current (t, y) (FSAL). */
    bool                  first_stage_known = false;
    std::vector<State>    stages;
    State                 work;
    IntegrationStatistics stats;
  };
} // namespace attnflow

#endif
