/**
 * @file
 * The kernel engine against a plain loop in long double: shift, normaliser
 * and values to 1e-12 relative, for beta up to 500 (no overflow, no NaN),
 * any dimension, sizes that are not multiples of the tiles, zero weights.
 */
#include <attnflow/kernel_engine.h>
#include <attnflow/vector_exp.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** The sums of KernelEngine::evaluate in long double, one target. */
    struct ReferenceSums
    {
      long double              log_sum; // log sum_j w_j exp(<a, b_j>)
      std::vector<long double> average; // sum w e v / sum w e
    };

    ReferenceSums
    reference(const double              *a,
              const PointSet            &keys,
              const std::vector<double> &weights,
              const PointSet            &values)
    {
      const unsigned int       d = keys.dimension, dv = values.dimension;
      std::vector<long double> exponent(keys.size());
      long double max = -std::numeric_limits<long double>::infinity();
      for (std::size_t j = 0; j < keys.size(); ++j)
        {
          long double e = std::log((long double)weights[j]);
          for (unsigned int k = 0; k < d; ++k)
            e += (long double)a[k] * keys[j][k];
          exponent[j] = e;
          max         = std::max(max, e);
        }
      ReferenceSums r{0., std::vector<long double>(dv, 0.)};
      long double   z = 0.;
      for (std::size_t j = 0; j < keys.size(); ++j)
        {
          const long double p = std::exp(exponent[j] - max);
          z += p;
          for (unsigned int c = 0; c < dv; ++c)
            r.average[c] += p * values[j][c];
        }
      for (long double &v : r.average)
        v /= z;
      r.log_sum = max + std::log(z);
      return r;
    }

    /** Checks the engine on one configuration against the reference. */
    void
    check(const unsigned int d,
          const unsigned int dv,
          const std::size_t  n_targets,
          const std::size_t  n_sources,
          const double       beta,
          const bool         zero_weights)
    {
      const PointSet queries_unit =
        testing::random_points(d, n_targets, 11, true);
      PointSet queries = queries_unit;
      for (double &x : queries.coordinates)
        x *= beta;
      const PointSet      keys = testing::random_points(d, n_sources, 12, true);
      const PointSet      values = testing::random_points(dv, n_sources, 13);
      RandomGenerator     random(14);
      std::vector<double> weights(n_sources);
      for (std::size_t j = 0; j < n_sources; ++j)
        weights[j] = (zero_weights && j % 3 == 1) ? 0. : random.uniform() + 0.1;

      KernelSums sums;
      KernelEngine(2).evaluate(queries, keys, weights, values, sums);
      ASSERT_EQ(sums.shift.size(), n_targets);
      for (std::size_t i = 0; i < n_targets; ++i)
        {
          const ReferenceSums r = reference(queries[i], keys, weights, values);
          const double log_sum  = sums.shift[i] + std::log(sums.normaliser[i]);
          ASSERT_TRUE(std::isfinite(log_sum));
          EXPECT_LE(std::abs(log_sum - (double)r.log_sum),
                    1e-12 * std::max(1.0, std::abs((double)r.log_sum)))
            << "target " << i << " beta " << beta << " d " << d;
          // The averages relative to their size (a vector norm).
          long double norm = 0.;
          for (const long double v : r.average)
            norm += v * v;
          for (unsigned int c = 0; c < dv; ++c)
            EXPECT_LE(std::abs(sums.values[i][c] / sums.normaliser[i] -
                               (double)r.average[c]),
                      1e-12 * std::sqrt((double)norm))
              << "target " << i << " component " << c;
        }
    }
  } // namespace

  TEST(KernelEngine, MatchesLongDoubleInLowDimensions)
  {
    for (const double beta : {0., 1., 25.})
      for (const unsigned int d : {1u, 2u, 3u})
        check(d, d, 37, 301, beta, false);
  }

  TEST(KernelEngine, MatchesLongDoubleAtLargeBetaWithoutOverflow)
  {
    for (const double beta : {100., 500.})
      for (const unsigned int d : {2u, 3u, 16u})
        check(d, d, 41, 777, beta, false);
  }

  /**
   * Exponents around the smallest argument of the engine's exponential,
   * exp_lowest = -708: with |a| = beta and unit keys they spread over
   * [-2 beta - 2.4, 0] after the shift, so that the tiles whose bound
   * certifies them (exp_in_range(), without the test of the range) hold
   * exponents down to about -706, and from beta = 353 on the bound refuses
   * them (the test of the range is taken). A tile let through wrongly gives
   * garbage without AVX-512 (attnflow_avx2_tests) and denormals with it.
   */
  TEST(KernelEngine, MatchesLongDoubleAroundTheLowestExponent)
  {
    for (const double beta : {348., 352., 352.5, 353., 354., 356.})
      for (const unsigned int d : {2u, 3u})
        check(d, d, 41, 777, beta, false);
  }

  /**
   * The rounding allowance of the certified range (doc/theory.md 4.1): log
   * weights near -1e16, where doubles lie 2 apart. Against a = (1, ..., 1),
   * the exponent lw + <a, b> of the key b = (-1.01, ..., -1.01) with
   * lw = -1e16 is accumulated one multiply-add at a time, each adding -1.01
   * and rounding to a step of -2: -1e16 - 2d against the true
   * -1e16 - 1.01 d. A zero key with lw = -1e16 + 710 - 2d sets the shift,
   * so that the computed argument of the other sources is -710, below
   * the -709.44 where the exponential without the test of the range gives
   * garbage (without AVX-512: attnflow_avx2_tests), while the
   * Cauchy-Schwarz bound without the allowance, -710 + 0.99 d, would
   * certify the tile. The error, about 0.45 d u M, grows with d as the
   * allowance does. The true terms sum to less than 2.2e-280, far below
   * half an ulp of the normaliser, 1.
   */
  TEST(KernelEngine, RoundingOfTheExponentsKeepsATileOutOfTheCertifiedRange)
  {
    for (const unsigned int d : {4u, 16u, 64u})
      {
        // Two vectors of sources: the engine pads to these, and a padded
        // source (log weight -inf) would keep the tile out by itself.
        const unsigned int n = 2 * simd::lanes;
        PointSet           queries(d, 1), keys(d, n), values(1, n);
        std::fill(queries.coordinates.begin(), queries.coordinates.end(), 1.);
        std::fill(keys.coordinates.begin() + d, keys.coordinates.end(), -1.01);
        values.coordinates[0] = 1.;
        std::vector<double> log_w(n, -1e16);
        log_w[0] = -1e16 + 710. - 2. * d;

        KernelSums sums;
        KernelEngine(1).evaluate_log_weights(queries,
                                             keys,
                                             log_w,
                                             values,
                                             sums);
        EXPECT_EQ(sums.shift[0], log_w[0]) << "d " << d;
        EXPECT_EQ(sums.normaliser[0], 1.) << "d " << d;
        EXPECT_EQ(sums.values[0][0], 1.) << "d " << d;
      }
  }

  TEST(KernelEngine, MatchesLongDoubleInHighDimensionWithZeroWeights)
  {
    check(128, 128, 19, 530, 4., true);
    check(33, 5, 70, 1000, 50., true);
  }

  TEST(KernelEngine, SkipsTilesOfZeroWeights)
  {
    // The first tiles (256 sources each) carry no weight at all: the
    // density of a finite-element solution that vanishes somewhere.
    const PointSet      x = testing::random_points(3, 900, 21, true);
    std::vector<double> w(900, 1e-3);
    std::fill(w.begin(), w.begin() + 600, 0.);
    KernelSums sums;
    KernelEngine(2).evaluate(x, x, w, x, sums);
    for (std::size_t i = 0; i < 900; ++i)
      {
        const ReferenceSums r = reference(x[i], x, w, x);
        EXPECT_NEAR(sums.shift[i] + std::log(sums.normaliser[i]),
                    (double)r.log_sum,
                    1e-12 * std::abs((double)r.log_sum));
        for (unsigned int c = 0; c < 3; ++c)
          EXPECT_NEAR(sums.values[i][c] / sums.normaliser[i],
                      (double)r.average[c],
                      1e-12);
      }
  }

  TEST(KernelEngine, MatchesLongDoubleForEveryGroupOfValueComponents)
  {
    // The value sums take up to three components per pass over the kernel
    // values: 1, 2, 3, 3 + 1, 3 + 2, 3 + 3, 3 + 3 + 1.
    for (unsigned int dv = 1; dv <= 7; ++dv)
      check(3, dv, 13, 300, 4., false);
  }

  namespace
  {
    /**
     * Fills @p x and the vectors @p v with the same lanes: random signs and
     * magnitudes from 1 to 1e16, each -inf with probability @p p_infinite.
     */
    void
    random_lanes(RandomGenerator &random,
                 double (&x)[simd::lanes][simd::lanes],
                 simd::vdouble (&v)[simd::lanes],
                 const double p_infinite = 0.)
    {
      for (unsigned int r = 0; r < simd::lanes; ++r)
        {
          for (double &y : x[r])
            y = p_infinite > 0. && random.uniform() < p_infinite ?
                  -std::numeric_limits<double>::infinity() :
                  (2. * random.uniform() - 1.) *
                    std::pow(10., 16. * random.uniform());
          v[r] = simd::load(x[r]);
        }
    }
  } // namespace

  /**
   * Lane r of transpose_sum(v) is ((v_r0 + v_r1) + (v_r2 + v_r3)) + ((v_r4
   * + v_r5) + (v_r6 + v_r7)), bit for bit, on the instruction set the tests
   * are compiled for: the order that makes the engine's sums the same on
   * every machine (doc/theory.md section 4.1). Lanes of very different
   * magnitudes make another order round differently.
   */
  TEST(VectorExp, TransposeSumAddsTheLanesInPairs)
  {
    RandomGenerator random(4);
    for (unsigned int round = 0; round < 1000; ++round)
      {
        double        lanes[simd::lanes][simd::lanes];
        simd::vdouble v[simd::lanes];
        random_lanes(random, lanes, v);
        const simd::vdouble sums = simd::transpose_sum(v);
        for (unsigned int r = 0; r < simd::lanes; ++r)
          {
            const double *x = lanes[r];
            EXPECT_EQ(sums[r],
                      ((x[0] + x[1]) + (x[2] + x[3])) +
                        ((x[4] + x[5]) + (x[6] + x[7])));
          }
      }
  }

  /** Lane r of transpose_max(v) is the largest lane of v[r]. */
  TEST(VectorExp, TransposeMaxTakesTheLargestLane)
  {
    RandomGenerator random(5);
    for (unsigned int round = 0; round < 1000; ++round)
      {
        double        lanes[simd::lanes][simd::lanes];
        simd::vdouble v[simd::lanes];
        random_lanes(random, lanes, v, 0.1);
        const simd::vdouble maxima = simd::transpose_max(v);
        for (unsigned int r = 0; r < simd::lanes; ++r)
          EXPECT_EQ(maxima[r],
                    *std::max_element(lanes[r], lanes[r] + simd::lanes));
      }
  }

  namespace
  {
    /** The bits of @p x, so that -0 differs from 0 and NaNs compare. */
    std::uint64_t
    bits(const double x)
    {
      std::uint64_t b;
      std::memcpy(&b, &x, sizeof(b));
      return b;
    }
  } // namespace

  /** zero_where clears exactly the lanes of its mask, bits and all. */
  TEST(VectorExp, ZeroWhereClearsExactlyTheMaskedLanes)
  {
    const double nan                 = std::numeric_limits<double>::quiet_NaN();
    const double values[simd::lanes] = {
      -1.,
      nan,
      -0.,
      3.5,
      -std::numeric_limits<double>::infinity(),
      1e-310,
      -708.,
      7.};
    for (unsigned int pattern = 0; pattern < 256; ++pattern)
      {
        double key[simd::lanes];
        for (unsigned int l = 0; l < simd::lanes; ++l)
          key[l] = (pattern >> l) & 1 ? 1. : 0.;
        const simd::vdouble v = simd::load(values);
        const simd::vdouble z = simd::zero_where(simd::load(key) > 0.5, v);
        for (unsigned int l = 0; l < simd::lanes; ++l)
          EXPECT_EQ(bits(z[l]), (pattern >> l) & 1 ? bits(0.) : bits(values[l]))
            << "pattern " << pattern << " lane " << l;
      }
  }

  TEST(VectorExp, ManyVectorsAtOnceMatchOneAtATimeAndLongDouble)
  {
    // Arguments from -1/750 to -750, the underflow threshold -708 and the
    // special values, 4 vectors of 8 lanes at once: the same bits as one
    // vector at a time, relative error below 2e-16 (doc/theory.md section
    // 4.1), 0 below -708 (in the instruction set the tests are compiled
    // for; the engine itself is tested with its own flags above), and from
    // -708 on and for NaN the bits of exp_in_range(), which leaves out the
    // test of the range.
    constexpr unsigned int n         = 4;
    const double           special[] = {0.,
                                        -0.,
                                        -1e-300,
                                        -0.34657359027997264,
                                        -0.34657359027997270,
                                        -707.9999999,
                                        -708.,
                                        -708.0000001,
                                        -745.,
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN()};
    RandomGenerator        random(3);
    simd::vdouble          x[n], y[n], z[n];
    double                 arguments[simd::lanes];
    for (unsigned int round = 0; round < 200; ++round)
      {
        for (unsigned int i = 0; i < n; ++i)
          {
            for (unsigned int l = 0; l < simd::lanes; ++l)
              {
                const unsigned int m =
                  round * n * simd::lanes + i * simd::lanes + l;
                arguments[l] = m < sizeof(special) / sizeof(double) ?
                                 special[m] :
                                 -std::pow(750., 2. * random.uniform() - 1.);
              }
            x[i] = y[i] = z[i] = simd::load(arguments);
          }
        simd::exp_nonpositive(y);
        simd::exp_in_range(z);
        for (unsigned int i = 0; i < n; ++i)
          {
            const simd::vdouble one = simd::exp_nonpositive(x[i]);
            for (unsigned int l = 0; l < simd::lanes; ++l)
              {
                const long double e = std::exp((long double)x[i][l]);
                if (std::isnan(x[i][l]))
                  {
                    EXPECT_TRUE(std::isnan(y[i][l]) && std::isnan(one[l]));
                    EXPECT_EQ(bits(y[i][l]), bits(z[i][l]));
                    continue;
                  }
                EXPECT_EQ(y[i][l], one[l]) << "x = " << x[i][l];
                if (!(x[i][l] < simd::exp_lowest))
                  {
                    EXPECT_EQ(bits(y[i][l]), bits(z[i][l]))
                      << "x = " << x[i][l];
                  }
                if (x[i][l] < -708.)
                  EXPECT_EQ(y[i][l], 0.) << "x = " << x[i][l];
                else
                  EXPECT_LE(std::abs(y[i][l] - e), 2e-16 * e)
                    << "x = " << x[i][l];
              }
          }
      }
  }

  /**
   * The shift is the largest exponent <a_i, b_j> + log w_j over the sources
   * the target sees (the tile maxima are taken in the exponent pass, or
   * after the causal mask on the diagonal tiles), so the normaliser is >= 1
   * (its largest term is exactly 1). A shift that counted masked sources
   * would exceed the maximum by O(beta).
   */
  TEST(KernelEngine, ShiftIsTheLargestExponentSeen)
  {
    for (const unsigned int d : {2u, 3u, 5u})
      for (const bool causal : {false, true})
        {
          const std::size_t n       = 700;
          PointSet          queries = testing::random_points(d, n, 21, true);
          for (double &x : queries.coordinates)
            x *= 50.;
          const PointSet      keys   = testing::random_points(d, n, 22, true);
          const PointSet      values = testing::random_points(2, n, 23);
          RandomGenerator     random(24);
          std::vector<double> weights(n);
          for (double &w : weights)
            w = random.uniform() + 0.1;
          AttentionMask mask;
          if (causal)
            mask.kind = AttentionMask::Kind::causal;
          KernelSums sums;
          KernelEngine(1).evaluate(queries, keys, weights, values, sums, mask);
          for (std::size_t i = 0; i < n; ++i)
            {
              long double max = -std::numeric_limits<long double>::infinity();
              for (std::size_t j = 0; j < (causal ? i + 1 : n); ++j)
                {
                  long double e = std::log((long double)weights[j]);
                  for (unsigned int k = 0; k < d; ++k)
                    e += (long double)queries[i][k] * keys[j][k];
                  max = std::max(max, e);
                }
              EXPECT_NEAR(sums.shift[i], (double)max, 1e-12 * 50.)
                << "target " << i << " d " << d << " causal " << causal;
              EXPECT_GE(sums.normaliser[i], 1.) << "target " << i;
            }
        }
  }

  TEST(KernelEngine, ComputesNormaliserWithoutValues)
  {
    check(3, 0, 9, 17, 500., false);
  }

  TEST(KernelEngine, ThreadCountDoesNotChangeResults)
  {
    const PointSet      x = testing::random_points(3, 1000, 5, true);
    PointSet            q = x;
    std::vector<double> w(x.size(), 1e-3);
    for (double &c : q.coordinates)
      c *= 9.;
    KernelSums one, two;
    KernelEngine(1).evaluate(q, x, w, x, one);
    KernelEngine(2).evaluate(q, x, w, x, two);
    EXPECT_EQ(one.normaliser, two.normaliser);
    EXPECT_EQ(one.values.coordinates, two.values.coordinates);
  }

  TEST(KernelEngine, RejectsInconsistentInput)
  {
    const PointSet      x = testing::random_points(3, 10, 5);
    const PointSet      y = testing::random_points(2, 10, 5);
    KernelSums          sums;
    const KernelEngine  engine;
    std::vector<double> w(10, 0.1);
    EXPECT_THROW(engine.evaluate(x, y, w, x, sums), std::invalid_argument);
    w[3] = -1.;
    EXPECT_THROW(engine.evaluate(x, x, w, x, sums), std::invalid_argument);
    std::fill(w.begin(), w.end(), 0.);
    EXPECT_THROW(engine.evaluate(x, x, w, x, sums), std::invalid_argument);
  }
} // namespace attnflow
