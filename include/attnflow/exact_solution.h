/**
 * @file
 * The exact solutions E1 and E2 of doc/theory.md sections 3.1 and 3.2,
 * against which convergence studies measure both solvers.
 */
#ifndef attnflow_exact_solution_h
#define attnflow_exact_solution_h

#include <attnflow/initial_measure.h>
#include <attnflow/matrix_spec.h>
#include <attnflow/model.h>
#include <attnflow/point_sets.h>

#include <functional>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * The exact solution of a run in R^d where one is known. Both cases have an
   * affine field X(x) = A x + b, under which mean and covariance obey
   *
   *   m' = A m + b,  S' = A S + S A^T,
   *
   * with, summed over the heads of the layer acting,
   * A = beta sum_h V_h S K_h^T Q_h and b = sum_h V_h m:
   * - E1, beta = 0 (softmax or uniform, any mu0): A = 0, every point moves
   *   by m(t) - m(0) and rho(t, x) = rho0(x - m(t) + m(0));
   * - E2, softmax from one Gaussian N(m0, S0): mu(t) = N(m(t), S(t)).
   * A linear feed-forward flow W x + b_ff (doc/theory.md section 1.3) adds
   * W to A and b_ff to b: from a Gaussian, mu(t) stays Gaussian (also for
   * beta = 0, where the flow is affine but no translation).
   * The moment equations are integrated by RK4 with steps of at most 1e-3
   * on each interval of constant weights (error ~1e-13).
   */
  class ExactSolution
  {
  public:
    /**
     * The exact solution of @p model from @p initial_measure; InputError
     * naming @p parameter (the setting that asked for it) when neither E1
     * nor E2 applies.
     */
    ExactSolution(const Model          &model,
                  const InitialMeasure &initial_measure,
                  const std::string    &parameter);

    /** The mean and covariance of mu(@p t). */
    Moments
    moments(const double t) const;

    /**
     * x -> rho(@p t, x), the moments integrated once (the function refers
     * to this object).
     */
    std::function<double(const double *)>
    density(const double t) const;

    /**
     * How much of the measures the field averages the box [@p lower,
     * @p upper] cuts off at time @p t (doc/theory.md 3.2, "On a box"). The
     * field at x averages mu(t) tilted by exp(beta <Q_h x, K_h y>); for E2
     * that is the Gaussian N(m + beta S K_h^T Q_h x, S). This returns the
     * integral over the box of rho(t, x) times the largest, over the heads,
     * of that Gaussian's mass outside the box, the mass bounded by the sum
     * of its marginals' tails (exact in R^1). The integral is a tensor
     * Gauss rule of 64 points per coordinate. 0 for E1, whose field is the
     * same at every x: there the mass the box misses is all it misses.
     */
    double
    tilted_mass_outside(const double               t,
                        const std::vector<double> &lower,
                        const std::vector<double> &upper) const;

    /** Whether this is E1 (a translation). */
    bool
    is_translation() const
    {
      return model.beta == 0. && !model.feed_forward;
    }

    /**
     * E1 for n tokens: every token moves by m_n(t) - m_n(0), the mean of
     * @p initial_tokens carried by the same moment equations; the tokens at
     * time @p t. InputError naming the parameter of the constructor unless
     * this is E1.
     */
    PointSet
    translated_tokens(const PointSet &initial_tokens, const double t) const;

  private:
    /** (m, S) carried from time 0 to @p t by the moment equations. */
    Moments
    integrate(Moments initial, const double t) const;

    const Model          &model;
    const InitialMeasure &initial_measure;
    const std::string     parameter;
    Moments               initial_moments;
  };
} // namespace attnflow

#endif
