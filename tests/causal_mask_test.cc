/**
 * @file
 * The causal mask and ALiBi bias of the kernel engine against a plain loop
 * in long double over the sources j <= i, with the bias -slope (i - j) / n:
 * token counts that are not multiples of the tiles (256), the blocks (8) or
 * the vectors (16), several dimensions, softmax averages and unnormalised
 * sums, zero and non-uniform weights. Also the transformer-shaped heads,
 * queries and keys of dimension d_k below that of the values.
 */
#include <attnflow/kernel_engine.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** log sum_j w_j exp(e_ij) and the average of v_j, in long double. */
    struct MaskedReference
    {
      long double              log_sum;
      std::vector<long double> average;
    };

    /**
     * The masked sums of target @p i: sources 0..@p last with exponent
     * <a_i, b_j> + log w_j - slope (i - j) / n.
     */
    MaskedReference
    reference(const std::size_t          i,
              const std::size_t          last,
              const double               slope,
              const PointSet            &queries,
              const PointSet            &keys,
              const std::vector<double> &weights,
              const PointSet            &values)
    {
      const unsigned int       d = keys.dimension, dv = values.dimension;
      const long double        n = keys.size();
      std::vector<long double> exponent(last + 1);
      long double max = -std::numeric_limits<long double>::infinity();
      for (std::size_t j = 0; j <= last; ++j)
        {
          long double e = std::log((long double)weights[j]) -
                          slope * ((long double)i - (long double)j) / n;
          for (unsigned int k = 0; k < d; ++k)
            e += (long double)queries[i][k] * keys[j][k];
          exponent[j] = e;
          max         = std::max(max, e);
        }
      MaskedReference r{0., std::vector<long double>(dv, 0.)};
      long double     z = 0.;
      for (std::size_t j = 0; j <= last; ++j)
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

    /**
     * The engine's sums for target @p i against @p r: log of the unshifted
     * normaliser to 1e-12 relative (the USA sum), the softmax average to
     * 1e-12 of its norm (SA).
     */
    void
    expect_matches(const KernelSums      &sums,
                   const std::size_t      i,
                   const MaskedReference &r,
                   const std::string     &label)
    {
      const double log_sum = sums.shift[i] + std::log(sums.normaliser[i]);
      ASSERT_TRUE(std::isfinite(log_sum)) << label << " target " << i;
      EXPECT_LE(std::abs(log_sum - (double)r.log_sum),
                1e-12 * std::max(1.0, std::abs((double)r.log_sum)))
        << label << " target " << i;
      long double norm = 0.;
      for (const long double v : r.average)
        norm += v * v;
      for (unsigned int c = 0; c < r.average.size(); ++c)
        EXPECT_LE(std::abs(sums.values[i][c] / sums.normaliser[i] -
                           (double)r.average[c]),
                  1e-12 * std::max(1e-300, (double)std::sqrt(norm)))
          << label << " target " << i << " component " << c;
    }

    /** n tokens on S^{d-1}, queries beta x_i, random weights (some zero). */
    struct Tokens
    {
      Tokens(const unsigned int d,
             const unsigned int dv,
             const std::size_t  n,
             const double       beta,
             const bool         zero_weights)
          : keys(testing::random_points(d, n, 31, true))
          , queries(keys)
          , values(testing::random_points(dv, n, 32))
          , weights(n)
      {
        for (double &x : queries.coordinates)
          x *= beta;
        RandomGenerator random(33);
        for (std::size_t j = 0; j < n; ++j)
          weights[j] =
            (zero_weights && j % 5 == 3) ? 0. : random.uniform() + 0.1;
      }

      PointSet            keys, queries, values;
      std::vector<double> weights;
    };

    /** Every target of a causal sum against the reference. */
    void
    check_causal(const unsigned int d,
                 const unsigned int dv,
                 const std::size_t  n,
                 const double       beta,
                 const double       slope,
                 const bool         zero_weights)
    {
      const Tokens        tokens(d, dv, n, beta, zero_weights);
      const AttentionMask mask{AttentionMask::Kind::causal, slope};
      KernelSums          sums;
      KernelEngine(2).evaluate(tokens.queries,
                               tokens.keys,
                               tokens.weights,
                               tokens.values,
                               sums,
                               mask);
      ASSERT_EQ(sums.shift.size(), n);
      const std::string label =
        "n " + std::to_string(n) + " d " + std::to_string(d) + " beta " +
        std::to_string(beta) + " slope " + std::to_string(slope);
      for (std::size_t i = 0; i < n; ++i)
        expect_matches(sums,
                       i,
                       reference(i,
                                 i,
                                 slope,
                                 tokens.queries,
                                 tokens.keys,
                                 tokens.weights,
                                 tokens.values),
                       label);
    }
  } // namespace

  TEST(CausalMask, MatchesLongDoubleWithoutAlibi)
  {
    for (const std::size_t n : {1u, 2u, 7u, 17u, 300u, 777u})
      for (const unsigned int d : {1u, 2u, 3u, 16u})
        check_causal(d, d, n, 4., 0., false);
  }

  TEST(CausalMask, MatchesLongDoubleWithAlibiAndWeights)
  {
    for (const double slope : {1., 8., 200.})
      {
        check_causal(2, 2, 1000, 2., slope, true);
        for (const unsigned int d : {3u, 33u})
          for (const std::size_t n : {5u, 263u})
            check_causal(d, d, n, 2., slope, true);
      }
  }

  TEST(CausalMask, MatchesLongDoubleAtLargeBetaOverManyTasks)
  {
    // 2100 targets: several parallel tasks, whose ranges start anywhere.
    check_causal(3, 3, 2100, 300., 1., true);
    check_causal(5, 0, 1300, 50., 0., false);
  }

  TEST(CausalMask, FirstTokenAttendsOnlyToItself)
  {
    const Tokens tokens(3, 3, 600, 10., false);
    for (const double slope : {0., 5.})
      {
        KernelSums sums;
        KernelEngine(2).evaluate(tokens.queries,
                                 tokens.keys,
                                 tokens.weights,
                                 tokens.values,
                                 sums,
                                 {AttentionMask::Kind::causal, slope});
        // One source: the shift is its exponent, the normaliser exactly 1,
        // the value exactly v_0.
        double exponent = std::log(tokens.weights[0]);
        for (unsigned int k = 0; k < 3; ++k)
          exponent += tokens.queries[0][k] * tokens.keys[0][k];
        EXPECT_NEAR(sums.shift[0], exponent, 1e-14 * std::abs(exponent));
        EXPECT_EQ(sums.normaliser[0], 1.);
        for (unsigned int c = 0; c < 3; ++c)
          EXPECT_EQ(sums.values[0][c], tokens.values[0][c]);
      }
  }

  TEST(CausalMask, LastTokenSeesEverySourceLikeTheUnmaskedSum)
  {
    // Target n-1 sees all sources; without ALiBi its sums are the
    // unmasked ones, computed by the other path of the engine.
    const Tokens       tokens(4, 4, 531, 6., true);
    KernelSums         masked, unmasked;
    const KernelEngine engine(2);
    engine.evaluate(tokens.queries,
                    tokens.keys,
                    tokens.weights,
                    tokens.values,
                    masked,
                    {AttentionMask::Kind::causal, 0.});
    engine.evaluate(tokens.queries,
                    tokens.keys,
                    tokens.weights,
                    tokens.values,
                    unmasked);
    const std::size_t last = 530;
    EXPECT_NEAR(masked.shift[last] + std::log(masked.normaliser[last]),
                unmasked.shift[last] + std::log(unmasked.normaliser[last]),
                1e-13);
    for (unsigned int c = 0; c < 4; ++c)
      EXPECT_NEAR(masked.values[last][c] / masked.normaliser[last],
                  unmasked.values[last][c] / unmasked.normaliser[last],
                  1e-14);
  }

  TEST(CausalMask, ThreadCountDoesNotChangeResults)
  {
    const Tokens        tokens(3, 3, 1100, 9., false);
    KernelSums          one, two;
    const AttentionMask mask{AttentionMask::Kind::causal, 2.};
    KernelEngine(1).evaluate(tokens.queries,
                             tokens.keys,
                             tokens.weights,
                             tokens.values,
                             one,
                             mask);
    KernelEngine(2).evaluate(tokens.queries,
                             tokens.keys,
                             tokens.weights,
                             tokens.values,
                             two,
                             mask);
    EXPECT_EQ(one.shift, two.shift);
    EXPECT_EQ(one.normaliser, two.normaliser);
    EXPECT_EQ(one.values.coordinates, two.values.coordinates);
  }

  TEST(CausalMask, RejectsMasksThatDoNotFit)
  {
    const PointSet      x = testing::random_points(3, 10, 5);
    const PointSet      y = testing::random_points(3, 11, 6);
    std::vector<double> w(10, 0.1);
    KernelSums          sums;
    const KernelEngine  engine(1);
    using Kind = AttentionMask::Kind;
    // ALiBi without the causal mask, a negative or infinite slope.
    EXPECT_THROW(engine.evaluate(x, x, w, x, sums, {Kind::none, 1.}),
                 std::invalid_argument);
    EXPECT_THROW(engine.evaluate(x, x, w, x, sums, {Kind::causal, -1.}),
                 std::invalid_argument);
    EXPECT_THROW(engine.evaluate(x, x, w, x, sums, {Kind::causal, HUGE_VAL}),
                 std::invalid_argument);
    // Targets and sources must be the same tokens.
    EXPECT_THROW(engine.evaluate(y, x, w, x, sums, {Kind::causal, 0.}),
                 std::invalid_argument);
    // The first token must carry weight: it sees only itself.
    w[0] = 0.;
    EXPECT_THROW(engine.evaluate(x, x, w, x, sums, {Kind::causal, 0.}),
                 std::invalid_argument);
    EXPECT_NO_THROW(engine.evaluate(x, x, w, x, sums));
  }

  TEST(TransformerHead, KeysOfLowerDimensionThanValuesMatchLongDouble)
  {
    // d_k = 8 queries and keys, d = 48 values; with and without the mask.
    const std::size_t         n = 333;
    const PointSet            q = testing::random_points(8, n, 41, true);
    const PointSet            k = testing::random_points(8, n, 42, true);
    const PointSet            v = testing::random_points(48, n, 43);
    const std::vector<double> w(n, 1. / n);
    PointSet                  queries = q;
    for (double &x : queries.coordinates)
      x *= 7.;
    for (const double slope : {-1., 3.})
      {
        const AttentionMask mask =
          slope < 0. ? AttentionMask() :
                       AttentionMask{AttentionMask::Kind::causal, slope};
        KernelSums sums;
        KernelEngine(2).evaluate(queries, k, w, v, sums, mask);
        ASSERT_EQ(sums.values.dimension, 48u);
        for (std::size_t i = 0; i < n; ++i)
          expect_matches(sums,
                         i,
                         reference(i,
                                   slope < 0. ? n - 1 : i,
                                   std::max(slope, 0.),
                                   queries,
                                   k,
                                   w,
                                   v),
                         "d_k 8, d 48");
      }
  }

  TEST(TransformerHead, LowRankExponentEqualsTheFullBilinearForm)
  {
    // <Q x, K y> with Q, K of size d_k x d equals <K^T Q x, y>: the same
    // sums from d_k = 4 queries and keys as from d = 20 ones.
    const unsigned int        d = 20, dk = 4;
    const std::size_t         n = 290;
    const PointSet            x = testing::random_points(d, n, 51, true);
    const PointSet            Q = testing::random_points(d, dk, 52); // rows
    const PointSet            K = testing::random_points(d, dk, 53);
    const std::vector<double> w(n, 1. / n);
    PointSet                  q(dk, n), k(dk, n), full(d, n);
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int r = 0; r < dk; ++r)
        for (unsigned int c = 0; c < d; ++c)
          {
            q[i][r] += 3. * Q[r][c] * x[i][c];
            k[i][r] += K[r][c] * x[i][c];
          }
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int r = 0; r < dk; ++r)
        for (unsigned int c = 0; c < d; ++c)
          full[i][c] += K[r][c] * q[i][r]; // K^T (3 Q x)
    KernelSums low, high;
    KernelEngine(2).evaluate(q, k, w, x, low);
    KernelEngine(2).evaluate(full, x, w, x, high);
    for (std::size_t i = 0; i < n; ++i)
      {
        EXPECT_NEAR(low.shift[i] + std::log(low.normaliser[i]),
                    high.shift[i] + std::log(high.normaliser[i]),
                    1e-12);
        for (unsigned int c = 0; c < d; ++c)
          EXPECT_NEAR(low.values[i][c] / low.normaliser[i],
                      high.values[i][c] / high.normaliser[i],
                      1e-12);
      }
  }
} // namespace attnflow
