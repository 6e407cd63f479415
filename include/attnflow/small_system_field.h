/**
 * @file
 * The attention field of a small token system (n of a few dozen, far below
 * one tile of the KernelEngine), evaluated without threads, tiles or
 * allocation per call, so that an ensemble can advance thousands of such
 * systems side by side, one per task (doc/theory.md section 9).
 */
#ifndef attnflow_small_system_field_h
#define attnflow_small_system_field_h

#include <attnflow/model.h>

#include <vector>

namespace attnflow
{
  /**
   * One head of one layer prepared for SmallSystemField: the key matrix
   * B = beta Q^T K, so that the exponent is <Q x_i, K x_j> beta =
   * <x_i, B x_j>, and the value matrix V, both d x d row-major.
   */
  struct SmallHead
  {
    std::vector<double> B, V;
  };

  /**
   * The field X[mu_n](x_i) = P_i sum_h sum_j k_h(x_i, x_j) V_h x_j / Z_h(x_i)
   * of n tokens with weights 1/n, the same sums as AttentionField with the
   * direct engine (doc/theory.md section 1.1): Z_h = sum_j k_h(x_i, x_j) for
   * softmax (SA), Z_h = n for uniform attention (USA); P_i the projection on
   * the tangent space at x_i on the sphere, the identity in R^d. The
   * exponents of each target are shifted by their maximum (log-sum-exp,
   * section 4.1) and exponentiated eight sources at a time.
   *
   * On the sphere the field is evaluated at y_i / |y_i| (as TokenSolver
   * does), so that the stages of a Runge–Kutta step see the field of the
   * sphere. Safe to share between threads: evaluate() writes only into its
   * Workspace and the output.
   */
  class SmallSystemField
  {
  public:
    /** The field of tokens in the geometry and normalisation of @p model. */
    explicit SmallSystemField(const Model &model);

    /** The heads of @p layer with beta of the model folded into B. */
    std::vector<SmallHead>
    prepare(const Layer &layer) const;

    /** Scratch arrays of one evaluation, reused between calls. */
    struct Workspace
    {
      std::vector<double> x, keys, values, exponents;
    };

    /**
     * The field of the @p n_tokens tokens @p y (row-major, n x d) under
     * @p heads into @p velocity (resized). NumericalError if it is not
     * finite (uniform attention overflowing the double range).
     */
    void
    evaluate(const std::vector<SmallHead> &heads,
             const std::vector<double>    &y,
             std::vector<double>          &velocity,
             Workspace                    &workspace) const;

  private:
    Geometry      geometry;
    Normalization normalization;
    unsigned int  dimension;
    double        beta;
  };
} // namespace attnflow

#endif
