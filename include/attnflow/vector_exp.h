/**
 * @file
 * The vector type and the vectorised exponential of the hot kernels (the
 * all-pairs KernelEngine, the small-system kernel of ensembles, the
 * harmonic expansions), written with GCC/Clang vector extensions.
 *
 * A vector is always 8 doubles (lanes), whatever the instruction set, so
 * that every loop and every sum runs in the same order and gives the same
 * bits on every machine with FMA (without it, as with SSE2 alone, each
 * multiply-add rounds twice). With AVX-512 it is one register. Without it, it
 * is a Wide of 2 AVX or 4 SSE2 registers (parts), each operation applied part
 * by part: GCC keeps a 64-byte vector extension type in memory when the
 * target has no such register, and the engine then ran at 6 % of its
 * roofline (doc/theory.md section 4.1). The inline namespace named after
 * the instruction set keeps the definitions of translation units built
 * with different flags apart.
 */
#ifndef attnflow_vector_exp_h
#define attnflow_vector_exp_h

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#  include <immintrin.h>
#endif

namespace attnflow
{
  namespace simd
  {
    /** The doubles of one vector. */
    constexpr unsigned int lanes = 8;

    /**
     * The smallest argument of the exponentials below: exp_nonpositive()
     * gives 0 under it, exp_in_range() takes no argument under it.
     */
    constexpr double exp_lowest = -708.;

#if defined(__AVX512F__)
    inline namespace avx512
    {
      /** The doubles of the widest register of the target. */
      constexpr unsigned int native_lanes = 8;
#elif defined(__AVX__)
    inline namespace avx
    {
      constexpr unsigned int native_lanes = 4;
#else
    inline namespace sse2
    {
      constexpr unsigned int native_lanes = 2;
#endif
      /** The registers of one vector. */
      constexpr unsigned int parts = lanes / native_lanes;
      /** native_lanes doubles: one register. */
      using double_register =
        double __attribute__((vector_size(native_lanes * sizeof(double))));
      /** native_lanes 64-bit integers (masks, exponent bits). */
      using int64_register = std::int64_t
        __attribute__((vector_size(native_lanes * sizeof(std::int64_t))));
      /** double_register at any address (an 8-byte aligned load). */
      using unaligned_register =
        double __attribute__((vector_size(native_lanes * sizeof(double)),
                              aligned(alignof(double)),
                              may_alias));

#if defined(__AVX512F__)
      /** lanes doubles. */
      using vdouble = double_register;
      /** lanes 64-bit integers (comparison masks, exponent bits). */
      using vint64 = int64_register;

      /** The bits of @p x as integers. */
      inline vint64
      as_int64(const vdouble x)
      {
        return (vint64)x;
      }

      /** The bits of @p x as doubles. */
      inline vdouble
      as_double(const vint64 x)
      {
        return (vdouble)x;
      }

      /** Lane by lane @p a where @p mask is set, else @p b. */
      inline vdouble
      select(const vint64 mask, const vdouble a, const vdouble b)
      {
        return mask ? a : b;
      }

      /** Lane by lane 0 where @p mask is set, else @p v. */
      inline vdouble
      zero_where(const vint64 mask, const vdouble v)
      {
        return (vdouble)(~mask & (vint64)v);
      }

      /** Every lane @p x. */
      inline vdouble
      broadcast(const double x)
      {
        // One vbroadcastsd. Not 0 + x, one addition more (0 + -0 = +0), nor
        // a loop over the lanes, which GCC builds from a 64-byte load and a
        // broadcast of its first lane, or from 8 masked broadcasts.
        return _mm512_set1_pd(x);
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
#else
      /**
       * lanes values held in parts registers, with the operators of a
       * vector extension type, applied part by part.
       */
      template <typename Register>
      struct Wide
      {
        /** Lane @p l (for the reductions, not for the hot loops). */
        auto
        operator[](const unsigned int l) const
        {
          return part[l / native_lanes][l % native_lanes];
        }

        Register part[parts];
      };

      using vdouble = Wide<double_register>;
      using vint64  = Wide<int64_register>;

      /** Part @p p of @p x. */
      template <typename Register>
      [[gnu::always_inline]] inline Register
      part_of(const Wide<Register> &x, const unsigned int p)
      {
        return x.part[p];
      }

      /** A scalar operand, the same for every part. */
      template <typename Scalar,
                typename = std::enable_if_t<std::is_arithmetic_v<Scalar>>>
      [[gnu::always_inline]] inline Scalar
      part_of(const Scalar x, const unsigned int)
      {
        return x;
      }

      /** Whether @p T is a Wide (an operand of the operators below). */
      template <typename T>
      constexpr bool is_wide = false;
      template <typename Register>
      constexpr bool is_wide<Wide<Register>> = true;

      /** @p operation(a.part[p], b.part[p]) for each part p. */
      template <typename A, typename B, typename Operation>
      [[gnu::always_inline]] inline auto
      part_by_part(const A &a, const B &b, const Operation operation)
      {
        Wide<decltype(operation(part_of(a, 0), part_of(b, 0)))> result;
        for (unsigned int p = 0; p < parts; ++p)
          result.part[p] = operation(part_of(a, p), part_of(b, p));
        return result;
      }

#  define ATTNFLOW_PART_BY_PART(op)                                        \
    template <typename A,                                                  \
              typename B,                                                  \
              typename = std::enable_if_t<is_wide<A> || is_wide<B>>>       \
    [[gnu::always_inline]] inline auto operator op(const A &a, const B &b) \
    {                                                                      \
      return part_by_part(a, b, [](const auto x, const auto y) {           \
        return x op y;                                                     \
      });                                                                  \
    }
      ATTNFLOW_PART_BY_PART(+)
      ATTNFLOW_PART_BY_PART(-)
      ATTNFLOW_PART_BY_PART(*)
      ATTNFLOW_PART_BY_PART(<)
      ATTNFLOW_PART_BY_PART(>)
      ATTNFLOW_PART_BY_PART(<<)
#  undef ATTNFLOW_PART_BY_PART

      /** a = a + b. */
      template <typename Register, typename B>
      [[gnu::always_inline]] inline Wide<Register> &
      operator+=(Wide<Register> &a, const B &b)
      {
        return a = a + b;
      }

      /** a = a - b. */
      template <typename Register, typename B>
      [[gnu::always_inline]] inline Wide<Register> &
      operator-=(Wide<Register> &a, const B &b)
      {
        return a = a - b;
      }

      /** a = a * b. */
      template <typename Register, typename B>
      [[gnu::always_inline]] inline Wide<Register> &
      operator*=(Wide<Register> &a, const B &b)
      {
        return a = a * b;
      }

      /** The bits of @p x, register by register, as a Wide of @p To. */
      template <typename To, typename From>
      [[gnu::always_inline]] inline Wide<To>
      reinterpret(const Wide<From> &x)
      {
        Wide<To> result;
        for (unsigned int p = 0; p < parts; ++p)
          result.part[p] = (To)x.part[p];
        return result;
      }

      /** The bits of @p x as integers. */
      [[gnu::always_inline]] inline vint64
      as_int64(const vdouble &x)
      {
        return reinterpret<int64_register>(x);
      }

      /** The bits of @p x as doubles. */
      [[gnu::always_inline]] inline vdouble
      as_double(const vint64 &x)
      {
        return reinterpret<double_register>(x);
      }

      /** Lane by lane @p a where @p mask is set, else @p b. */
      [[gnu::always_inline]] inline vdouble
      select(const vint64 &mask, const vdouble &a, const vdouble &b)
      {
        vdouble result;
        for (unsigned int p = 0; p < parts; ++p)
          result.part[p] = mask.part[p] ? a.part[p] : b.part[p];
        return result;
      }

      /**
       * Lane by lane 0 where @p mask is set, else @p v: one AND-NOT of the
       * bits, by intrinsic on x86: GCC turns the same in vector extensions,
       * or a select, into a blend, which takes a multiply-add port (measured
       * on a Zen 4).
       */
      [[gnu::always_inline]] inline vdouble
      zero_where(const vint64 &mask, const vdouble &v)
      {
        vdouble result;
        for (unsigned int p = 0; p < parts; ++p)
#  if defined(__AVX__)
          result.part[p] =
            _mm256_andnot_pd((double_register)mask.part[p], v.part[p]);
#  elif defined(__SSE2__)
          result.part[p] =
            _mm_andnot_pd((double_register)mask.part[p], v.part[p]);
#  else
          result.part[p] =
            (double_register)(~mask.part[p] & (int64_register)v.part[p]);
#  endif
        return result;
      }

      /** A register of native_lanes copies of @p x. */
      template <std::size_t... lane>
      [[gnu::always_inline]] inline double_register
      splat(const double x, std::index_sequence<lane...>)
      {
        // An initializer, not a loop over the lanes: GCC builds the latter
        // from shuffles, the former with one vbroadcastsd.
        return double_register{((void)lane, x)...};
      }

      /** Every lane @p x. */
      [[gnu::always_inline]] inline vdouble
      broadcast(const double x)
      {
        const double_register r =
          splat(x, std::make_index_sequence<native_lanes>());
        vdouble v;
        for (unsigned int p = 0; p < parts; ++p)
          v.part[p] = r;
        return v;
      }

      /**
       * lanes consecutive doubles from @p x (any alignment), one register
       * at a time (a copy of the whole Wide is assembled 8 bytes at a time).
       */
      [[gnu::always_inline]] inline vdouble
      load(const double *x)
      {
        vdouble v;
        for (unsigned int p = 0; p < parts; ++p)
          v.part[p] =
            *reinterpret_cast<const unaligned_register *>(x + p * native_lanes);
        return v;
      }

      /** Writes @p v to lanes consecutive doubles at @p x. */
      [[gnu::always_inline]] inline void
      store(double *x, const vdouble &v)
      {
        for (unsigned int p = 0; p < parts; ++p)
          *reinterpret_cast<unaligned_register *>(x + p * native_lanes) =
            v.part[p];
      }
#endif

      /**
       * exp(x) for x <= 0, lane by lane, of the @p n vectors @p x in place:
       * x = k log 2 + r with |r| <= log(2)/2 (Cody-Waite, log 2 in two
       * parts), exp(r) by a polynomial of degree 11 (the Chebyshev
       * interpolant of exp on [-log(2)/2, log(2)/2], computed in 60-digit
       * arithmetic; relative error 1.7e-17 with the coefficients rounded to
       * double, against 2.3e-16 for the Taylor polynomial of degree 12),
       * times 2^k: one vscalefpd with AVX-512, the exponent bits otherwise
       * (the same result). With @p zero_below_range, arguments below
       * exp_lowest (results below the smallest normal double) give 0, -inf
       * gives 0 and NaN stays NaN; without it, which saves the test, they
       * give garbage (the exponent bits wrap around without AVX-512).
       *
       * Each step is taken for all @p n vectors before the next, so that the
       * n Horner chains are independent in program order: a fused
       * multiply-add has a latency of 4 cycles on each of 2 ports, and 8
       * chains in flight keep both busy (doc/theory.md section 4.1). The
       * operations of each lane are those of n = 1. Always inlined: the
       * parts of a Wide then stay in registers.
       */
      template <bool zero_below_range, unsigned int n>
      [[gnu::always_inline]] inline void
      exponentiate(vdouble (&x)[n])
      {
        constexpr double log2e    = 1.4426950408889634074;
        constexpr double ln2_high = 6.93147180369123816490e-01;
        constexpr double ln2_low  = 1.90821492927058770002e-10;
        constexpr double shifter  = 6755399441055744.; // 1.5 * 2^52
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
        constexpr unsigned int degree =
          sizeof(coefficients) / sizeof(double) - 1;
#if defined(__AVX512F__)
        // The result p 2^k is zeroed where x < -708 (not where x is NaN: "not
        // less than" is true for NaN, which then propagates through p).
        __mmask8 in_range[n];
        if constexpr (zero_below_range)
          for (unsigned int i = 0; i < n; ++i)
            in_range[i] =
              _mm512_cmp_pd_mask(x[i], _mm512_set1_pd(exp_lowest), _CMP_NLT_UQ);
#else
        vint64 underflow[n];
        if constexpr (zero_below_range)
          for (unsigned int i = 0; i < n; ++i)
            underflow[i] = x[i] < exp_lowest;
#endif
        vdouble t[n], k[n], p[n];
        for (unsigned int i = 0; i < n; ++i)
          t[i] = x[i] * log2e + shifter;
#if !defined(__AVX512F__)
        // 2^k from the bits of t, (bits(t) - bits(shifter) + 1023) << 52
        // (the two constants folded into one), here, so that t is not kept
        // through the polynomial. Below the range these bits, r and p are
        // garbage (not clamped: a clamp of x would lengthen every chain);
        // the result is zeroed there at the end.
        constexpr std::int64_t biased_shifter_bits =
          0x4338000000000000LL - 1023;
        vdouble scale[n];
        for (unsigned int i = 0; i < n; ++i)
          scale[i] = as_double((as_int64(t[i]) - biased_shifter_bits) << 52);
#endif
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
          if constexpr (zero_below_range)
            x[i] = _mm512_maskz_scalef_pd(in_range[i], p[i], k[i]);
          else
            // All lanes: GCC 12 warns of _mm512_scalef_pd's undefined
            // pass-through operand.
            x[i] = _mm512_maskz_scalef_pd(0xff, p[i], k[i]);
#else
        // p 2^k, its bits cleared below the range (whatever p was there).
        for (unsigned int i = 0; i < n; ++i)
          if constexpr (zero_below_range)
            x[i] = zero_where(underflow[i], p[i] * scale[i]);
          else
            x[i] = p[i] * scale[i];
#endif
      }

      /**
       * exp(x) of the @p n vectors @p x in place, x <= 0: exponentiate()
       * above, arguments below exp_lowest giving 0.
       */
      template <unsigned int n>
      [[gnu::always_inline]] inline void
      exp_nonpositive(vdouble (&x)[n])
      {
        exponentiate<true>(x);
      }

      /**
       * exp_nonpositive() of arguments known to lie in [exp_lowest, 0] (or
       * to be NaN), with the same bits: the test of the range is left out,
       * one comparison per vector (and without AVX-512 one AND-NOT), 1 of
       * the 18 operations of exp_nonpositive() with AVX-512. The engine
       * certifies the range per tile (doc/theory.md section 4.1).
       */
      template <unsigned int n>
      [[gnu::always_inline]] inline void
      exp_in_range(vdouble (&x)[n])
      {
        exponentiate<false>(x);
      }

      /** exp_nonpositive() of the one vector @p x. */
      [[gnu::always_inline]] inline vdouble
      exp_nonpositive(const vdouble x)
      {
        vdouble v[1] = {x};
        exp_nonpositive(v);
        return v[0];
      }

      /**
       * The vector whose lane r reduces the lanes of v[r] with the binary
       * operation @p reduce (applied to vdouble, double_register and double
       * alike), ((v0 o v1) o (v2 o v3)) o ((v4 o v5) o (v6 o v7)) on every
       * instruction set: three rounds of pairwise shuffles with AVX-512;
       * with AVX, the same in each half, then the halves; lane by lane
       * otherwise.
       */
      template <typename Reduce>
      inline vdouble
      transpose_reduce(const vdouble (&v)[lanes], const Reduce reduce)
      {
        static_assert(lanes == 8, "transpose_reduce is written for 8 lanes");
#if defined(__AVX512F__)
        const vint64 even = {0, 8, 2, 10, 4, 12, 6, 14};
        const vint64 odd  = {1, 9, 3, 11, 5, 13, 7, 15};
        const vint64 low2 = {0, 1, 8, 9, 4, 5, 12, 13};
        const vint64 hi2  = {2, 3, 10, 11, 6, 7, 14, 15};
        const vint64 low4 = {0, 1, 2, 3, 8, 9, 10, 11};
        const vint64 hi4  = {4, 5, 6, 7, 12, 13, 14, 15};
        vdouble      pairs[4], quads[2];
        for (unsigned int i = 0; i < 4; ++i)
          pairs[i] = reduce(__builtin_shuffle(v[2 * i], v[2 * i + 1], even),
                            __builtin_shuffle(v[2 * i], v[2 * i + 1], odd));
        for (unsigned int i = 0; i < 2; ++i)
          quads[i] =
            reduce(__builtin_shuffle(pairs[2 * i], pairs[2 * i + 1], low2),
                   __builtin_shuffle(pairs[2 * i], pairs[2 * i + 1], hi2));
        return reduce(__builtin_shuffle(quads[0], quads[1], low4),
                      __builtin_shuffle(quads[0], quads[1], hi4));
#elif defined(__AVX__)
        // Part h of v[r] holds lanes 4h..4h+3. For rows r0..r0+3 and each
        // half h: (a0 o a1, b0 o b1, a2 o a3, b2 o b3) per pair of rows,
        // then (a0123, b0123, c0123, d0123); the two halves reduced last.
        const int64_register even = {0, 4, 2, 6}, odd = {1, 5, 3, 7};
        const int64_register low = {0, 1, 4, 5}, high = {2, 3, 6, 7};
        vdouble              result;
        for (unsigned int r0 = 0; r0 < lanes; r0 += native_lanes)
          {
            double_register halves[parts];
            for (unsigned int h = 0; h < parts; ++h)
              {
                double_register pairs[2];
                for (unsigned int i = 0; i < 2; ++i)
                  {
                    const double_register a = v[r0 + 2 * i].part[h];
                    const double_register b = v[r0 + 2 * i + 1].part[h];
                    pairs[i] = reduce(__builtin_shuffle(a, b, even),
                                      __builtin_shuffle(a, b, odd));
                  }
                halves[h] = reduce(__builtin_shuffle(pairs[0], pairs[1], low),
                                   __builtin_shuffle(pairs[0], pairs[1], high));
              }
            result.part[r0 / native_lanes] = reduce(halves[0], halves[1]);
          }
        return result;
#else
        double results[lanes];
        for (unsigned int r = 0; r < lanes; ++r)
          results[r] =
            reduce(reduce(reduce(v[r][0], v[r][1]), reduce(v[r][2], v[r][3])),
                   reduce(reduce(v[r][4], v[r][5]), reduce(v[r][6], v[r][7])));
        return load(results);
#endif
      }

      /**
       * The vector of the lane sums of @p v[0..7]: lane r is the sum of the
       * lanes of v[r], ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)) on
       * every instruction set (transpose_reduce()).
       */
      inline vdouble
      transpose_sum(const vdouble (&v)[lanes])
      {
        return transpose_reduce(v, [](const auto a, const auto b) {
          return a + b;
        });
      }

      /**
       * The vector of the lane maxima of @p v[0..7] (NaN-free): lane r is
       * the largest lane of v[r].
       */
      inline vdouble
      transpose_max(const vdouble (&v)[lanes])
      {
        return transpose_reduce(v, [](const auto a, const auto b) {
          return a > b ? a : b;
        });
      }
    } // namespace avx512, avx or sse2
  }   // namespace simd
} // namespace attnflow

#endif
