/**
 * @file
 * Two exact fast methods for the kernel sums of one head on the sphere
 * (doc/theory.md sections 6.1, 6.2 and 6.5): the double Fourier series of
 * exp(<x, A y>) on the circle S^1, and the spherical harmonic (Funk–Hecke)
 * expansion of exp(c <x, R y>) on S^2. Both cost O((N_s + N_t) modes) instead
 * of O(N_s N_t), and both reject (hand to the direct sum) every target whose
 * a-posteriori error bound exceeds the tolerance.
 */
#ifndef attnflow_fast_expansions_h
#define attnflow_fast_expansions_h

#include <attnflow/field_method.h>

#include <string>
#include <vector>

namespace attnflow
{
  /**
   * The exponentially scaled modified Bessel functions e^{-r} I_k(r),
   * k = 0..@p n_max, for r >= 0 (Miller's backward recurrence
   * I_{k-1} = (2k/r) I_k + I_{k+1}, normalised by the identity
   * I_0(r) + 2 sum_{k>=1} I_k(r) = e^r; doc/theory.md section 6.1). No
   * overflow for any r; relative accuracy a few ulps times the start index.
   */
  std::vector<double>
  scaled_bessel_i(const double r, const unsigned int n_max);

  /**
   * The exponentially scaled modified spherical Bessel functions
   * e^{-c} i_l(c), i_l(c) = sqrt(pi / (2c)) I_{l+1/2}(c), l = 0..@p n_max, for
   * c >= 0 (backward recurrence i_{l-1} = (2l+1)/c i_l + i_{l+1}, normalised
   * by sum_l (2l+1) i_l(c) = e^c; doc/theory.md section 6.2).
   */
  std::vector<double>
  scaled_spherical_bessel_i(const double c, const unsigned int n_max);

  /**
   * The kernel sums on the circle S^1 for any 2x2 matrix A by the double
   * Fourier series (doc/theory.md section 6.1): with x = (cos t, sin t),
   * y = (cos s, sin s),
   *
   *   <x, A y> = r1 cos(t - s - phi1) + r2 cos(t + s - phi2),
   *   exp(<x, A y>) = sum_{k,l} I_k(r1) I_l(r2) e^{-i (k phi1 + l phi2)}
   *                   e^{i (k + l) t} e^{i (l - k) s},
   *
   * truncated to |k| <= K1, |l| <= K2. The source moments
   * M_m = sum_j w_j e^{i m s_j} (1, v_j), |m| <= K1 + K2, are combined once
   * into target coefficients F_n, and each target costs O(K1 + K2).
   */
  class CircleFourierMethod : public FieldMethod
  {
  public:
    /** The number of modes (K1, K2) of the truncated series. */
    struct Modes
    {
      unsigned int K1, K2;
    };

    /** "circle fourier". */
    std::string
    name() const override;

    /**
     * Why the series cannot serve @p problem: points not in R^2, points off
     * the unit circle (for the tolerance), or no gain over the direct sum
     * (estimated cost of the series against the direct sum).
     */
    std::string
    refusal(const KernelSumProblem &problem) const override;

    /** The sums at every target; see FieldMethod::evaluate(). */
    void
    evaluate(const KernelSumProblem   &problem,
             KernelSums               &sums,
             std::vector<std::size_t> &rejected) const override;

    /**
     * The modes the series uses for @p problem: the smallest K1, K2 whose
     * tail bound is below 1e-5 of the tolerance (doc/theory.md section 6.1).
     */
    Modes
    modes(const KernelSumProblem &problem) const;
  };

  /**
   * The kernel sums on the sphere S^2 for A = c R, R orthogonal and c >= 0,
   * by the Funk–Hecke expansion (doc/theory.md section 6.2):
   *
   *   exp(c <x, y'>) = sum_l (2l + 1) i_l(c) P_l(<x, y'>)
   *                  = 4 pi sum_l i_l(c) sum_{m=-l..l} Y_lm(x) Y_lm(y'),
   *
   * with y' = R y and real orthonormal spherical harmonics Y_lm, truncated
   * to l <= L. The moments M_lm = sum_j w_j Y_lm(R y_j) (1, v_j) cost
   * O(N_s L^2) and each target O(L^2).
   */
  class SphereHarmonicMethod : public FieldMethod
  {
  public:
    /** "sphere harmonics". */
    std::string
    name() const override;

    /**
     * Why the expansion cannot serve @p problem: points not in R^3, A not a
     * multiple of an orthogonal matrix, points off the unit sphere (for the
     * tolerance), or no gain over the direct sum.
     */
    std::string
    refusal(const KernelSumProblem &problem) const override;

    /** The sums at every target; see FieldMethod::evaluate(). */
    void
    evaluate(const KernelSumProblem   &problem,
             KernelSums               &sums,
             std::vector<std::size_t> &rejected) const override;

    /**
     * The degree L the expansion uses for @p problem: the smallest whose
     * tail bound is below 1e-5 of the tolerance (doc/theory.md section 6.2).
     */
    unsigned int
    degree(const KernelSumProblem &problem) const;
  };
} // namespace attnflow

#endif
