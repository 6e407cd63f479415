/**
 * @file
 * The vector type and the vectorised exponential of the hot kernels (the
 * all-pairs KernelEngine, the small-system kernel of ensembles), written
 * with GCC/Clang vector extensions: they lower to AVX-512, AVX2 or SSE as
 * the target allows (doc/theory.md section 4.1).
 */
#ifndef attnflow_vector_exp_h
#define attnflow_vector_exp_h

#include <cstring>

namespace attnflow
{
  namespace simd
  {
    /** The doubles of one vector. */
    constexpr unsigned int lanes = 8;
    /** lanes doubles. */
    using vdouble = double __attribute__((vector_size(lanes * sizeof(double))));
    /** lanes 64-bit integers (comparison masks, exponent bits). */
    using vint64 =
      long long __attribute__((vector_size(lanes * sizeof(long long))));

    /** Every lane @p x. */
    inline vdouble
    broadcast(const double x)
    {
      return vdouble{} + x;
    }

    /** lanes consecutive doubles from @p p (any alignment). */
    inline vdouble
    load(const double *p)
    {
      vdouble v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    }

    /** Writes @p v to lanes consecutive doubles at @p p. */
    inline void
    store(double *p, const vdouble v)
    {
      std::memcpy(p, &v, sizeof(v));
    }

    /**
     * exp(x) for x <= 0, lane by lane: x = n log 2 + r with |r| <= log(2)/2,
     * exp(r) by its Taylor polynomial of degree 12 (truncation error
     * 2e-16 relative), times 2^n assembled in the exponent bits. Arguments
     * below -708 (results below the smallest normal double) give 0; -inf
     * gives 0 and NaN stays NaN.
     */
    inline vdouble
    exp_nonpositive(vdouble x)
    {
      const vdouble       lowest       = broadcast(-708.);
      const vint64        underflow    = x < lowest;
      constexpr double    log2e        = 1.4426950408889634074;
      constexpr double    ln2_high     = 6.93147180369123816490e-01;
      constexpr double    ln2_low      = 1.90821492927058770002e-10;
      constexpr double    shifter      = 6755399441055744.; // 1.5 * 2^52
      constexpr long long shifter_bits = 0x4338000000000000LL;

      x                    = underflow ? lowest : x;
      const vdouble t      = x * log2e + shifter;
      const vdouble n      = t - shifter;
      const vdouble r      = (x - n * ln2_high) - n * ln2_low;
      vdouble       p      = broadcast(1. / 479001600.);
      p                    = p * r + 1. / 39916800.;
      p                    = p * r + 1. / 3628800.;
      p                    = p * r + 1. / 362880.;
      p                    = p * r + 1. / 40320.;
      p                    = p * r + 1. / 5040.;
      p                    = p * r + 1. / 720.;
      p                    = p * r + 1. / 120.;
      p                    = p * r + 1. / 24.;
      p                    = p * r + 1. / 6.;
      p                    = p * r + 0.5;
      p                    = p * r + 1.;
      p                    = p * r + 1.;
      const vint64  bits   = (((vint64)t - shifter_bits) + 1023) << 52;
      const vdouble result = p * (vdouble)bits;
      return underflow ? broadcast(0.) : result;
    }
  } // namespace simd
} // namespace attnflow

#endif
