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

#if defined(__AVX512F__)
#  include <immintrin.h>
#endif

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
      // Lane by lane, not 0 + x: that is one addition more (0 + -0 = +0).
      vdouble v;
      for (unsigned int l = 0; l < lanes; ++l)
        v[l] = x;
      return v;
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
     * exp(x) for x <= 0, lane by lane, of the @p n vectors @p x in place:
     * x = k log 2 + r with |r| <= log(2)/2 (Cody-Waite, log 2 in two parts),
     * exp(r) by a polynomial of degree 11 (the Chebyshev interpolant of exp
     * on [-log(2)/2, log(2)/2], computed in 60-digit arithmetic; relative
     * error 1.7e-17 with the coefficients rounded to double, against 2.3e-16
     * for the Taylor polynomial of degree 12), times 2^k: one vscalefpd with
     * AVX-512, the exponent bits otherwise (the same result). Arguments
     * below -708 (results below the smallest normal double) give 0; -inf
     * gives 0 and NaN stays NaN.
     *
     * Each step is taken for all @p n vectors before the next, so that the
     * n Horner chains are independent in program order: a fused
     * multiply-add has a latency of 4 cycles on each of 2 ports, and 8
     * chains in flight keep both busy (doc/theory.md section 4.1). The
     * operations of each lane are those of n = 1.
     */
    template <unsigned int n>
    inline void
    exp_nonpositive(vdouble (&x)[n])
    {
      constexpr double log2e    = 1.4426950408889634074;
      constexpr double ln2_high = 6.93147180369123816490e-01;
      constexpr double ln2_low  = 1.90821492927058770002e-10;
      constexpr double shifter  = 6755399441055744.; // 1.5 * 2^52
      constexpr double lowest   = -708.;
      // Highest degree first.
      constexpr double       coefficients[] = {2.5110037605963777e-08,
                                               2.763263963904103e-07,
                                               2.755724091857897e-06,
                                               2.4801485482328494e-05,
                                               0.00019841269890047113,
                                               0.0013888888952314775,
                                               0.008333333333319601,
                                               0.0416666666664881,
                                               0.1666666666666668,
                                               0.5000000000000019,
                                               1.,
                                               1.};
      constexpr unsigned int degree = sizeof(coefficients) / sizeof(double) - 1;
#if defined(__AVX512F__)
      // The result p 2^k is zeroed where x < -708 (not where x is NaN: "not
      // less than" is true for NaN, which then propagates through p).
      __mmask8 in_range[n];
      for (unsigned int i = 0; i < n; ++i)
        in_range[i] =
          _mm512_cmp_pd_mask(x[i], _mm512_set1_pd(lowest), _CMP_NLT_UQ);
#else
      // The bits of 2^k need k >= -1022: clamp, and zero the result below.
      vint64 underflow[n];
      for (unsigned int i = 0; i < n; ++i)
        {
          underflow[i] = x[i] < lowest;
          x[i]         = underflow[i] ? broadcast(lowest) : x[i];
        }
#endif
      vdouble t[n], k[n], p[n];
      for (unsigned int i = 0; i < n; ++i)
        t[i] = x[i] * log2e + shifter;
      for (unsigned int i = 0; i < n; ++i)
        k[i] = t[i] - shifter;
      for (unsigned int i = 0; i < n; ++i)
        x[i] = x[i] - k[i] * ln2_high;
      for (unsigned int i = 0; i < n; ++i)
        x[i] = x[i] - k[i] * ln2_low;
      for (unsigned int i = 0; i < n; ++i)
        p[i] = x[i] * coefficients[0] + coefficients[1];
      for (unsigned int m = 2; m <= degree; ++m)
        for (unsigned int i = 0; i < n; ++i)
          p[i] = p[i] * x[i] + coefficients[m];
#if defined(__AVX512F__)
      for (unsigned int i = 0; i < n; ++i)
        x[i] = _mm512_maskz_scalef_pd(in_range[i], p[i], k[i]);
#else
      constexpr long long shifter_bits = 0x4338000000000000LL;
      for (unsigned int i = 0; i < n; ++i)
        {
          const vint64 bits = (((vint64)t[i] - shifter_bits) + 1023) << 52;
          x[i] = underflow[i] ? broadcast(0.) : p[i] * (vdouble)bits;
        }
#endif
    }

    /** exp_nonpositive() of the one vector @p x. */
    inline vdouble
    exp_nonpositive(const vdouble x)
    {
      vdouble v[1] = {x};
      exp_nonpositive(v);
      return v[0];
    }
    /**
     * The vector of the lane sums of @p v[0..7]: lane r is the sum of the
     * lanes of v[r] (three rounds of pairwise shuffles and adds).
     */
    inline vdouble
    transpose_sum(const vdouble (&v)[lanes])
    {
      static_assert(lanes == 8, "transpose_sum is written for 8 lanes");
      const vint64 even = {0, 8, 2, 10, 4, 12, 6, 14};
      const vint64 odd  = {1, 9, 3, 11, 5, 13, 7, 15};
      const vint64 low2 = {0, 1, 8, 9, 4, 5, 12, 13};
      const vint64 hi2  = {2, 3, 10, 11, 6, 7, 14, 15};
      const vint64 low4 = {0, 1, 2, 3, 8, 9, 10, 11};
      const vint64 hi4  = {4, 5, 6, 7, 12, 13, 14, 15};
      vdouble      pairs[4], quads[2];
      for (unsigned int i = 0; i < 4; ++i)
        pairs[i] = __builtin_shuffle(v[2 * i], v[2 * i + 1], even) +
                   __builtin_shuffle(v[2 * i], v[2 * i + 1], odd);
      for (unsigned int i = 0; i < 2; ++i)
        quads[i] = __builtin_shuffle(pairs[2 * i], pairs[2 * i + 1], low2) +
                   __builtin_shuffle(pairs[2 * i], pairs[2 * i + 1], hi2);
      return __builtin_shuffle(quads[0], quads[1], low4) +
             __builtin_shuffle(quads[0], quads[1], hi4);
    }

  } // namespace simd
} // namespace attnflow

#endif
