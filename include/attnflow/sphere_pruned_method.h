/**
 * @file
 * Kernel sums on the sphere at large beta by a tree sum that skips source
 * groups only under a certified bound (doc/theory.md section 6.4).
 */
#ifndef attnflow_sphere_pruned_method_h
#define attnflow_sphere_pruned_method_h

#include <attnflow/field_method.h>

#include <cstddef>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * The kernel sums S_i = sum_j w_j exp(<x_i, A y_j>) (1, v_j) for points
   * on the unit sphere S^{d-1} (any d >= 2) and A = c R, c > 0, R
   * orthogonal (the identity included). With y'_j = R y_j,
   *
   *   exp(c <x, y'>) = e^c exp(-c |x - y'|^2 / 2),
   *
   * is local for large c (doc/theory.md section 6.4). The rotated sources
   * are grouped by a ball tree (centre m, radius r, total weight W per
   * node); a group contributes at most W exp(c (<x, m> + r |x|)) to the
   * normaliser at x, so for each leaf of a tree over the targets the groups
   * are visited largest bound first and summed exactly (by the direct
   * engine) until the bounds of the rest fall below the tolerance times the
   * exact part. Each target then checks its own certificate: the sum of the
   * bounds of the groups it skipped is at most tolerance/2 times its exact
   * part (weights >= 0, so the normaliser is a positive sum and the bound is
   * relative; the values are bounded by max_j |v_j| times it). Targets whose
   * certificate fails are rejected.
   */
  class SpherePrunedMethod : public FieldMethod
  {
  public:
    /** The method using @p n_threads threads; 0 lets TBB use every core. */
    explicit SpherePrunedMethod(const unsigned int n_threads = 0);

    /** "sphere pruned". */
    std::string
    name() const override;

    /**
     * Refuses points off the unit sphere, an A that is not c R with c > 0
     * and R orthogonal, and a c so small that a uniform measure could not
     * be pruned (doc/theory.md section 6.4: the cap that must be summed
     * covers more than the fraction max_summed_fraction of the sphere).
     */
    std::string
    refusal(const KernelSumProblem &problem) const override;

    /** The pruned sums; rejected targets as FieldMethod says. */
    void
    evaluate(const KernelSumProblem   &problem,
             KernelSums               &sums,
             std::vector<std::size_t> &rejected) const override;

    /**
     * The fraction of S^{d-1} around a target that the sum must visit for
     * a uniform measure at @p c and @p tolerance (doc/theory.md section
     * 6.4): the cap <x, y> >= 1 - L/c with L = log(2/tolerance) +
     * ((d - 1)/2) log c.
     */
    static double
    summed_fraction(const unsigned int d,
                    const double       c,
                    const double       tolerance);

    /** The largest summed_fraction() at which the method still gains. */
    static constexpr double max_summed_fraction = 0.6;

  private:
    unsigned int thread_limit;
  };
} // namespace attnflow

#endif
