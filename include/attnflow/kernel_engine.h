/**
 * @file
 * The one weighted kernel sum behind every nonlocal quantity of attnflow.
 */
#ifndef attnflow_kernel_engine_h
#define attnflow_kernel_engine_h

#include <attnflow/point_sets.h>

#include <vector>

namespace attnflow
{
  /**
   * The result of KernelEngine::evaluate() for targets i = 0..n_t-1, kept in
   * shifted (log-sum-exp) form so that nothing overflows:
   *
   *   shift_i      = max_j ( <a_i, b_j> + log w_j )
   *   normaliser_i = sum_j w_j exp(<a_i, b_j> - shift_i)         (>= 1)
   *   values_i     = sum_j w_j exp(<a_i, b_j> - shift_i) v_j
   *
   * The unshifted sums are exp(shift_i) times these; the softmax average is
   * values_i / normaliser_i, in which the shift cancels exactly.
   */
  struct KernelSums
  {
    /** shift_i, the largest weighted log-kernel over the sources. */
    std::vector<double> shift;
    /** normaliser_i, the shifted sum of the weighted kernel. */
    std::vector<double> normaliser;
    /** values_i (n_t rows of d_v entries), the shifted weighted sum of v_j. */
    PointSet values;
  };

  /**
   * log(sum_i exp(a_i)) without overflow (shifted by the largest a_i);
   * -inf entries contribute nothing.
   */
  double
  log_sum_exp(const std::vector<double> &a);

  /**
   * Which sources each target of KernelEngine::evaluate() sees, and a bias
   * on the exponent. With Kind::causal the targets and the sources are the
   * same n tokens in order (decoder-only attention): target i sums over the
   * sources j <= i only, and the exponent gains the ALiBi bias
   *
   *   <a_i, b_j> + log w_j - alibi_slope (i - j) / n,    j <= i,
   *
   * which damps distant tokens (alibi_slope = 0: the plain causal mask).
   * The first token attends to itself alone. See doc/theory.md section 1.4.
   */
  struct AttentionMask
  {
    /** No mask (every target sees every source) or the causal mask. */
    enum class Kind
    {
      none,
      causal
    };

    /** The mask; the default, none, is the plain all-pairs sum. */
    Kind kind = Kind::none;

    /** The ALiBi slope lambda >= 0 (causal masks only). */
    double alibi_slope = 0.;
  };

  /**
   * The tiled, vectorised and multi-threaded all-pairs engine for
   *
   *   sum_j w_j exp(<a_i, b_j>) (1, v_j),
   *
   * with queries a_i (targets), keys b_j and values v_j (sources) and
   * non-negative weights w_j. Every nonlocal quantity of attnflow is one call:
   * the attention field of the tokens (a = beta Q x_i, b = K x_j, v = V x_j,
   * w = 1/n), the field of a finite-element density (w = rho(y_q) JxW_q), the
   * interaction energy and the MMD.
   *
   * Each target keeps a running maximum of the exponent <a_i, b_j> + log w_j
   * over source tiles (the online log-sum-exp of flash attention), so no
   * exponential is ever taken of a positive number: beta |Q||K| may be as
   * large as the user likes without overflow, and the normaliser is at least
   * one. The exponential is an inline polynomial vectorised across sources
   * (relative error below 2e-16); threads share the targets (TBB).
   */
  class KernelEngine
  {
  public:
    /**
     * An engine using @p n_threads threads; 0 lets TBB use every core.
     */
    explicit KernelEngine(const unsigned int n_threads = 0);

    /**
     * Computes @p sums for the targets @p queries over the sources
     * (@p keys, @p weights, @p values). @p values may have any dimension
     * d_v, including 0 (then only shift and normaliser are computed);
     * queries and keys share one dimension d_k, which need not be the
     * dimension of the values (a transformer head: d_k < d_v = d). Weights
     * must be >= 0 and not all zero.
     *
     * With a causal @p mask (queries and keys then number the same n
     * tokens, and w_0 > 0) the sums run over j <= i: source tiles that lie
     * wholly after a block of targets are skipped, so the cost is about
     * half of the unmasked sum, and only the tiles on the diagonal are
     * masked entry by entry. The ALiBi bias costs nothing per pair: it is
     * folded into the log-weights (+ slope j / n) and the shifts
     * (- slope i / n).
     */
    void
    evaluate(const PointSet            &queries,
             const PointSet            &keys,
             const std::vector<double> &weights,
             const PointSet            &values,
             KernelSums                &sums,
             const AttentionMask       &mask = AttentionMask()) const;

    /**
     * The same sums with the weights given by their logarithms, log w_j
     * (-inf for w_j = 0): for weights such as exp(-|y|^2/(2 sigma^2)) of a
     * Gaussian kernel, which would underflow as numbers.
     */
    void
    evaluate_log_weights(const PointSet            &queries,
                         const PointSet            &keys,
                         const std::vector<double> &log_weights,
                         const PointSet            &values,
                         KernelSums                &sums,
                         const AttentionMask &mask = AttentionMask()) const;

    /** The number of threads this engine uses (0: all cores). */
    unsigned int
    n_threads() const
    {
      return thread_limit;
    }

  private:
    /**
     * std::invalid_argument unless @p mask suits @p queries and the sources
     * of @p log_weights: a slope >= 0, only with the causal mask, which
     * needs one target per source and w_0 > 0.
     */
    static void
    check_mask(const AttentionMask       &mask,
               const PointSet            &queries,
               const std::vector<double> &log_weights);

    /** The number of threads this engine uses (0: all cores). */
    unsigned int thread_limit;
  };
} // namespace attnflow

#endif
