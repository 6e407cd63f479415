/**
 * @file
 * Exact kernel sums when the sources form a tensor grid (doc/theory.md
 * section 6.3): with the targets' transformed coordinates z = A^T x the
 * kernel factorises per source coordinate and the sums become a chain of
 * matrix products.
 */
#ifndef attnflow_tensor_product_method_h
#define attnflow_tensor_product_method_h

#include <attnflow/field_method.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace attnflow
{
  /** The contraction plan of the last points (defined in the .cc file). */
  struct TensorProductPlanCache;

  /**
   * The kernel sums S_i = sum_j w_j exp(<x_i, A y_j>) (1, v_j) for any A,
   * through the targets' transformed coordinates z_i = A^T x_i:
   *
   *   exp(<x, A y>) = prod_k exp(z_k y_k)
   *
   * (doc/theory.md section 6.3). For a diagonal A, z_k = a_k x_k. The sources
   * must form a tensor grid X_1 x ... x X_d (every combination of the distinct
   * coordinates present exactly once; weights may be zero), as the cell
   * quadrature points of a uniform Cartesian mesh do. The targets may be any
   * points; the method gains when their z take few distinct values per
   * coordinate (cell and face quadrature points of a uniform mesh take about
   * N^(1/d) each for a diagonal or triangular A; a rotation mixes them and is
   * refused for its memory).
   *
   * The axes are contracted one at a time, the last first: with the distinct
   * transformed target coordinates Z_k and E_k(t, a) = exp(Z_k[t] X_k[a] -
   * s_k(t)), s_k(t) = max_a Z_k[t] X_k[a] (the per-axis log-sum-exp shift),
   *
   *   U_d = W,   U_k(a_1..a_{k-1}; t_k..t_d)
   *            = sum_{a_k} E_k(t_k, a_k) U_{k+1}(a_1..a_k; t_{k+1}..t_d),
   *
   * each only for the suffixes (t_k..t_d) some target has, so that
   * S_i = exp(sum_k s_k(t_k(i))) U_1(t(i)): in 2-D on a uniform mesh
   * O(N^1.5) operations, in 3-D O(N^(4/3)), against N_s N_t for the direct
   * sum. Every term is positive for the normaliser, so the result is exact
   * up to round-off; the a-posteriori bound per target (round-off, the
   * merging of coordinates that differ by round-off, underflow) rejects the
   * targets where it exceeds the tolerance. The values are the same
   * contractions with w_j v_j, accurate relative to S_i^0 max_j |v_j|.
   */
  class TensorProductMethod : public FieldMethod
  {
  public:
    /** The method using @p n_threads threads; 0 lets TBB use every core. */
    explicit TensorProductMethod(const unsigned int n_threads = 0);

    /** "tensor product". */
    std::string
    name() const override;

    /**
     * Refuses sources that are not a tensor grid, problems whose largest
     * contraction step would hold more than 64 numbers per point and
     * component (an A that mixes the coordinates), and problems where the
     * contractions would cost more than the direct sum (doc/theory.md
     * section 6.3: the estimated multiply-adds against N_s N_t times the
     * measured cost ratio of a kernel pair). Sources whose sample already
     * has too many distinct coordinates for a grid (points on a sphere,
     * scattered tokens) are refused without the plan, in O(N d); the plan
     * is built only for sources that may be a grid, and kept
     * (doc/theory.md section 6.5).
     */
    std::string
    refusal(const KernelSumProblem &problem) const override;

    /** The sums by the contractions; rejected targets as FieldMethod says. */
    void
    evaluate(const KernelSumProblem   &problem,
             KernelSums               &sums,
             std::vector<std::size_t> &rejected) const override;

    ~TensorProductMethod() override;

  private:
    unsigned int thread_limit;
    /**
     * The plan of the last (sources, targets, A), compared by value: a
     * density's quadrature points are the same at every stage of every
     * step on a fixed mesh, so refusal() and evaluate() build the plan once
     * per mesh, not twice per evaluation (doc/theory.md sections 6.3 and
     * 6.5). Each AttentionField has its own methods, so its own plan.
     */
    std::unique_ptr<TensorProductPlanCache> cache;
  };
} // namespace attnflow

#endif
