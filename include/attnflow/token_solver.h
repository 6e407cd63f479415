/**
 * @file
 * The Lagrangian solver: n tokens moving with the attention field of their
 * own empirical measure, dx_i/dt = X[mu_n](x_i).
 */
#ifndef attnflow_token_solver_h
#define attnflow_token_solver_h

#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/time_integrator.h>

namespace attnflow
{
  /**
   * Renormalises every token x_i (@p dimension coordinates each, one after
   * another in @p y) to |x_i| = 1, the projection after every step on the
   * sphere (doc/theory.md section 4.2); returns max | |x_i| - 1 | before.
   */
  double
  project_to_sphere(const unsigned int dimension, TimeIntegrator::State &y);



  /**
   * n tokens x_i in R^d or on S^{d-1} with the empirical measure
   * mu_n = (1/n) sum_i delta_{x_i}, advanced by dx_i/dt = X[mu_n](x_i).
   *
   * Time is split at every layer switch, so that each step sees one set of
   * weights and the integrators keep their order across the discontinuity.
   * On the sphere the integrator works in R^d with the tangential field and
   * every token is renormalised to |x_i| = 1 after each accepted step (a
   * projection method: the change it makes is of the order of the local
   * error and is reported as the drift, max | |x_i| - 1 | before the
   * renormalisation). The right-hand side is evaluated at y_i/|y_i|
   * (extended to R^d as a function homogeneous of degree 0), so that the
   * stages of a step, which leave the sphere by the local error, see the
   * field of the sphere.
   */
  class TokenSolver
  {
  public:
    /**
     * The solver for @p model starting from @p tokens at t = 0, integrated
     * as @p time_parameters say, fields computed with @p engine and the
     * fast methods @p field allows. Under MPI every rank of
     * @p communicator holds all tokens and integrates them alike; the field
     * of each stage is computed at a block of the tokens per rank and
     * all-gathered (AttentionField), so every rank takes the same steps.
     */
    TokenSolver(const Model           &model,
                const TimeParameters  &time_parameters,
                const KernelEngine    &engine,
                const PointSet        &tokens,
                const FieldParameters &field        = FieldParameters(),
                const MPI_Comm         communicator = MPI_COMM_SELF);

    /** The field's methods, one line per head (AttentionField). */
    std::vector<std::string>
    field_method_report() const
    {
      return field.method_report();
    }

    /**
     * Advances the tokens from the current time to @p t_end, calling
     * @p after_step after every accepted step.
     */
    void
    advance_to(const double        t_end,
               const StepObserver &after_step = StepObserver());

    /** The current tokens. */
    const PointSet &
    tokens() const
    {
      return points;
    }

    /** The current time. */
    double
    time() const
    {
      return current_time;
    }

    /**
     * The velocity X[mu_n](x_i) of every token at the current time
     * (collective).
     */
    PointSet
    velocity() const;

    /** The uniform weights 1/n of the empirical measure. */
    const std::vector<double> &
    weights() const
    {
      return token_weights;
    }

    /** The work done by the integrator, and the sphere drift. */
    const IntegrationStatistics &
    statistics() const
    {
      return integrator.statistics();
    }

    /**
     * Writes or reads the state between two calls of advance_to(): the
     * tokens, the time and the integrator (boost archive; checkpoints).
     */
    template <class Archive>
    void
    serialize(Archive &archive, const unsigned int)
    {
      archive &points.coordinates &current_time &integrator;
    }

  private:
    /** X[mu_n] of the state @p y under layer @p layer into @p dydt. */
    void
    right_hand_side(const Layer                 &layer,
                    const TimeIntegrator::State &y,
                    TimeIntegrator::State       &dydt) const;

    const Model        &model;
    AttentionField      field;
    TimeIntegrator      integrator;
    PointSet            points;
    std::vector<double> token_weights;
    double              current_time;
  };
} // namespace attnflow

#endif
