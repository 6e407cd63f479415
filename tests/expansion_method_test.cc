/**
 * @file
 * The circle Fourier series and the sphere harmonic expansion against the
 * direct kernel engine (doc/theory.md sections 6.1, 6.2, 6.5): uniform,
 * clustered (von Mises–Fisher, concentration 100) and antipodal measures,
 * beta from 0.1 to 100, several matrices A = beta Q^T K (several heads),
 * values v = V y. Every target the guard keeps must be within the tolerance
 * of the direct sum (relative to S^0, and to S^0 max |v| for the values);
 * the rejected counts are printed. Each refusal reason is provoked once.
 */
#include <attnflow/fast_expansions.h>
#include <attnflow/field_method.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/random.h>

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace
{
  using namespace attnflow;

  constexpr double pi        = 3.14159265358979323846;
  constexpr double tolerance = 1e-10;

  /** A fixed rotation of R^3 (axis (1, 2, 2) / 3, angle 0.9), row-major. */
  std::vector<double>
  rotation3()
  {
    const double        n[3] = {1. / 3., 2. / 3., 2. / 3.};
    const double        c = std::cos(0.9), s = std::sin(0.9);
    std::vector<double> R(9);
    for (unsigned int r = 0; r < 3; ++r)
      for (unsigned int k = 0; k < 3; ++k)
        R[r * 3 + k] = c * (r == k) + (1. - c) * n[r] * n[k];
    R[0 * 3 + 1] -= s * n[2];
    R[0 * 3 + 2] += s * n[1];
    R[1 * 3 + 0] += s * n[2];
    R[1 * 3 + 2] -= s * n[0];
    R[2 * 3 + 0] -= s * n[1];
    R[2 * 3 + 1] += s * n[0];
    return R;
  }

  /** @p n points on S^{d-1} (d = 2, 3) of the measure named @p measure. */
  PointSet
  sample(const std::string  &measure,
         const unsigned int  d,
         const std::size_t   n,
         const std::uint64_t seed)
  {
    constexpr double          kappa = 100.;
    RandomGenerator           random(seed);
    PointSet                  points(d, n);
    const std::vector<double> R = rotation3();
    for (std::size_t i = 0; i < n; ++i)
      {
        const double sign = (measure == "antipodal" && i % 2 == 1) ? -1. : 1.;
        if (d == 2)
          {
            double t = 0.;
            if (measure == "uniform")
              t = 2. * pi * random.uniform();
            else // von Mises by rejection from the uniform angle
              do
                t = pi * (2. * random.uniform() - 1.);
              while (random.uniform() > std::exp(kappa * (std::cos(t) - 1.)));
            t += 0.4;
            points[i][0] = sign * std::cos(t);
            points[i][1] = sign * std::sin(t);
          }
        else
          {
            // w = <y, mu>: uniform in [-1, 1], or Wood's inverse CDF.
            const double u = random.uniform();
            const double w =
              measure == "uniform" ?
                2. * u - 1. :
                1. + std::log(u + (1. - u) * std::exp(-2. * kappa)) / kappa;
            const double phi  = 2. * pi * random.uniform();
            const double s    = std::sqrt(std::max(0., 1. - w * w));
            const double y[3] = {s * std::cos(phi), s * std::sin(phi), w};
            for (unsigned int r = 0; r < 3; ++r)
              {
                double sum = 0.;
                for (unsigned int k = 0; k < 3; ++k)
                  sum += R[r * 3 + k] * y[k];
                points[i][r] = sign * sum;
              }
          }
      }
    return points;
  }

  /** Positive weights that sum to one. */
  std::vector<double>
  random_weights(const std::size_t n, const std::uint64_t seed)
  {
    RandomGenerator     random(seed);
    std::vector<double> weights(n);
    for (double &w : weights)
      w = (0.5 + random.uniform()) / n;
    return weights;
  }

  /** v_j = V y_j for a fixed non-symmetric V. */
  PointSet
  values_of(const PointSet &sources)
  {
    const unsigned int d = sources.dimension;
    PointSet           values(d, sources.size());
    for (std::size_t j = 0; j < sources.size(); ++j)
      for (unsigned int r = 0; r < d; ++r)
        for (unsigned int k = 0; k < d; ++k)
          values[j][r] +=
            (r == k ? 1. : 0.3 * (r + 1.) - 0.2 * k) * sources[j][k];
    return values;
  }

  /** The matrices Q^T K of the heads (A = beta Q^T K) in R^d. */
  std::vector<std::pair<std::string, std::vector<double>>>
  head_matrices(const unsigned int d)
  {
    if (d == 2)
      return {{"I", {1., 0., 0., 1.}},
              {"0.5 I", {0.5, 0., 0., 0.5}},
              {"rotation",
               {std::cos(0.7), -std::sin(0.7), std::sin(0.7), std::cos(0.7)}},
              {"reflection",
               {std::cos(0.7), std::sin(0.7), std::sin(0.7), -std::cos(0.7)}},
              {"general", {0.3, -1.2, 0.8, 0.5}}};
    std::vector<double> R         = rotation3();
    std::vector<double> reflected = R;
    for (unsigned int k = 0; k < 3; ++k)
      reflected[2 * 3 + k] = -R[2 * 3 + k];
    return {{"I", {1., 0., 0., 0., 1., 0., 0., 0., 1.}},
            {"0.5 I", {0.5, 0., 0., 0., 0.5, 0., 0., 0., 0.5}},
            {"rotation", R},
            {"reflection", reflected}};
  }

  /** max_j |v_j|. */
  double
  max_norm(const PointSet &values)
  {
    double m = 0.;
    for (std::size_t j = 0; j < values.size(); ++j)
      {
        double n2 = 0.;
        for (unsigned int c = 0; c < values.dimension; ++c)
          n2 += values[j][c] * values[j][c];
        m = std::max(m, std::sqrt(n2));
      }
    return m;
  }

  /**
   * The largest error of @p fast against @p direct over the targets not in
   * @p rejected: |S^0 - S^0_direct| / S^0_direct and
   * |S^v - S^v_direct| / (S^0_direct max |v|).
   */
  double
  max_kept_error(const KernelSums               &fast,
                 const KernelSums               &direct,
                 const std::vector<std::size_t> &rejected,
                 const double                    v_max)
  {
    double      error = 0.;
    std::size_t r     = 0;
    for (std::size_t i = 0; i < direct.normaliser.size(); ++i)
      {
        if (r < rejected.size() && rejected[r] == i)
          {
            ++r;
            continue;
          }
        const double scale = std::exp(fast.shift[i] - direct.shift[i]);
        error =
          std::max(error,
                   std::abs(scale * fast.normaliser[i] - direct.normaliser[i]) /
                     direct.normaliser[i]);
        for (unsigned int c = 0; c < direct.values.dimension; ++c)
          error =
            std::max(error,
                     std::abs(scale * fast.values[i][c] - direct.values[i][c]) /
                       (direct.normaliser[i] * v_max));
      }
    return error;
  }

  /**
   * Runs @p method against the direct engine on every measure, beta and
   * head matrix in R^@p d, checks the kept targets and the guarded result,
   * and prints the largest kept error and the rejected count per beta.
   */
  void
  check_against_direct(const FieldMethod &method, const unsigned int d)
  {
    const KernelEngine engine(1);
    const std::size_t  n_sources = 400, n_random_targets = 150;
    const double       betas[] = {0.1, 1., 4., 9., 25., 100.};
    std::printf("%s, d = %u, tolerance %.0e, %zu sources, %zu targets\n",
                method.name().c_str(),
                d,
                tolerance,
                n_sources,
                n_sources / 2 + n_random_targets);
    std::printf("  %-9s %6s  %-12s %-12s %s\n",
                "measure",
                "beta",
                "max error",
                "guarded",
                "rejected per head");
    for (const std::string measure : {"uniform", "clustered", "antipodal"})
      {
        const PointSet sources = sample(measure, d, n_sources, 11);
        // The targets: the first half of the sources (SA: targets are the
        // tokens), and uniform points far from a cluster.
        const PointSet uniform = sample("uniform", d, n_random_targets, 12);
        PointSet       targets(d, n_sources / 2 + n_random_targets);
        for (std::size_t i = 0; i < targets.size(); ++i)
          for (unsigned int k = 0; k < d; ++k)
            targets[i][k] =
              i < n_sources / 2 ? sources[i][k] : uniform[i - n_sources / 2][k];
        const std::vector<double> weights = random_weights(n_sources, 13);
        const PointSet            values  = values_of(sources);
        const double              v_max   = max_norm(values);
        for (const double beta : betas)
          {
            double      worst = 0., worst_guarded = 0.;
            std::string counts;
            for (const auto &[head, QK] : head_matrices(d))
              {
                std::vector<double> A = QK;
                for (double &a : A)
                  a *= beta;
                const KernelSumProblem problem{targets,
                                               sources,
                                               weights,
                                               values,
                                               A,
                                               tolerance};
                const std::string      refusal = method.refusal(problem);
                EXPECT_TRUE(refusal.empty() || refusal.rfind("no gain", 0) == 0)
                  << head << ": " << refusal;

                KernelSums               fast, direct, guarded;
                std::vector<std::size_t> rejected;
                method.evaluate(problem, fast, rejected);
                evaluate_direct(problem, engine, direct);
                EXPECT_TRUE(std::is_sorted(rejected.begin(), rejected.end()));
                const double error =
                  max_kept_error(fast, direct, rejected, v_max);
                EXPECT_LE(error, tolerance)
                  << measure << ", beta = " << beta << ", " << head;
                worst = std::max(worst, error);

                const std::size_t n_rejected =
                  evaluate_guarded(method, problem, engine, guarded);
                EXPECT_EQ(n_rejected, rejected.size());
                // The guard keeps everything where the kernel is flat, and
                // rejects the far targets of a cluster at large beta.
                if (beta <= 1.)
                  {
                    EXPECT_EQ(n_rejected, 0u) << measure << ", " << head;
                  }
                if (beta == 100. && measure == "clustered")
                  {
                    EXPECT_GT(n_rejected, targets.size() / 4) << head;
                  }
                worst_guarded =
                  std::max(worst_guarded,
                           max_kept_error(guarded, direct, {}, v_max));
                counts += " " + std::to_string(rejected.size());
              }
            EXPECT_LE(worst_guarded, tolerance);
            std::printf("  %-9s %6.1f  %-12.2e %-12.2e%s\n",
                        measure.c_str(),
                        beta,
                        worst,
                        worst_guarded,
                        counts.c_str());
          }
      }
  }
} // namespace



TEST(ScaledBessel, MatchesTheStandardLibrary)
{
  for (const double r : {0.1, 1., 4., 25., 100.})
    {
      const std::vector<double> I = scaled_bessel_i(r, 40);
      const std::vector<double> i = scaled_spherical_bessel_i(r, 40);
      for (unsigned int k = 0; k <= 40; ++k)
        {
          const double expected =
            std::cyl_bessel_i(double(k), r) * std::exp(-r);
          if (expected > 1e-280)
            {
              EXPECT_NEAR(I[k] / expected, 1., 1e-12)
                << "r = " << r << ", k = " << k;
            }
          const double expected_spherical = std::sqrt(pi / (2. * r)) *
                                            std::cyl_bessel_i(k + 0.5, r) *
                                            std::exp(-r);
          if (expected_spherical > 1e-280)
            {
              EXPECT_NEAR(i[k] / expected_spherical, 1., 1e-12)
                << "c = " << r << ", l = " << k;
            }
        }
    }
}



TEST(ScaledBessel, NoOverflowAtLargeArguments)
{
  // Large-argument expansions: e^{-r} I_0(r) ~ (1 + 1/(8r)) / sqrt(2 pi r),
  // e^{-c} i_0(c) = (1 - e^{-2c}) / (2c).
  const double r = 700.;
  EXPECT_NEAR(scaled_bessel_i(r, 10)[0] * std::sqrt(2. * pi * r),
              1. + 1. / (8. * r) + 9. / (128. * r * r),
              1e-8);
  EXPECT_NEAR(scaled_spherical_bessel_i(r, 10)[0] * 2. * r, 1., 1e-13);
  EXPECT_EQ(scaled_bessel_i(0., 3), (std::vector<double>{1., 0., 0., 0.}));
}



TEST(CircleFourierMethod, MatchesDirectSums)
{
  check_against_direct(CircleFourierMethod(), 2);
}



TEST(SphereHarmonicMethod, MatchesDirectSums)
{
  check_against_direct(SphereHarmonicMethod(), 3);
}



TEST(CircleFourierMethod, ModesGrowLikeTheSquareRootOfBeta)
{
  // K ~ sqrt(2 r log(1/tau)) for k < r (doc/theory.md section 6.1).
  const PointSet            points = sample("uniform", 2, 10, 1);
  const std::vector<double> weights(10, 0.1);
  const PointSet            values(0, 10);
  unsigned int              previous = 0;
  for (const double beta : {1., 4., 25., 100.})
    {
      const std::vector<double> A = {beta, 0., 0., beta};
      const KernelSumProblem problem{points, points, weights, values, A, 1e-10};
      const auto             modes = CircleFourierMethod().modes(problem);
      EXPECT_EQ(modes.K2, 0u);
      EXPECT_GT(modes.K1, previous);
      EXPECT_LT(modes.K1, 2. * std::sqrt(2. * beta * std::log(1e15)) + 20.);
      previous = modes.K1;
    }
}



TEST(CircleFourierMethod, Refusals)
{
  const CircleFourierMethod method;
  const std::vector<double> A = {4., 0., 0., 4.};
  // Large enough to gain.
  const PointSet            points = sample("uniform", 2, 3000, 1);
  const std::vector<double> weights(3000, 1. / 3000);
  const PointSet            values(0, 3000);
  EXPECT_EQ(method.refusal({points, points, weights, values, A, tolerance}),
            "");

  const PointSet            in_3d = sample("uniform", 3, 3000, 1);
  const std::vector<double> A3    = {4., 0., 0., 0., 4., 0., 0., 0., 4.};
  EXPECT_NE(method.refusal({in_3d, in_3d, weights, values, A3, tolerance})
              .find("needs points in R^2"),
            std::string::npos);

  PointSet off = points;
  for (double &x : off.coordinates)
    x *= 1. + 1e-9;
  EXPECT_NE(method.refusal({off, points, weights, values, A, tolerance})
              .find("not on the unit circle"),
            std::string::npos);

  const PointSet            few = sample("uniform", 2, 5, 1);
  const std::vector<double> few_weights(5, 0.2);
  const PointSet            few_values(0, 5);
  EXPECT_EQ(method.refusal({few, few, few_weights, few_values, A, tolerance})
              .rfind("no gain", 0),
            0u);
  const std::vector<double> zero_weights(3000, 0.);
  EXPECT_EQ(method.refusal({points, points, zero_weights, values, A, tolerance})
              .rfind("no gain", 0),
            0u);
}



TEST(SphereHarmonicMethod, Refusals)
{
  const SphereHarmonicMethod method;
  std::vector<double>        A = rotation3();
  for (double &a : A)
    a *= 4.;
  const PointSet            points = sample("uniform", 3, 3000, 1);
  const std::vector<double> weights(3000, 1. / 3000);
  const PointSet            values(0, 3000);
  EXPECT_EQ(method.refusal({points, points, weights, values, A, tolerance}),
            "");

  const PointSet            in_2d = sample("uniform", 2, 3000, 1);
  const std::vector<double> A2    = {4., 0., 0., 4.};
  EXPECT_NE(method.refusal({in_2d, in_2d, weights, values, A2, tolerance})
              .find("needs points in R^3"),
            std::string::npos);

  const std::vector<double> diagonal = {1., 0., 0., 0., 2., 0., 0., 0., 3.};
  EXPECT_NE(method
              .refusal({points, points, weights, values, diagonal, tolerance})
              .find("not c R with R orthogonal"),
            std::string::npos);

  PointSet off = points;
  for (double &x : off.coordinates)
    x *= 1. + 1e-9;
  EXPECT_NE(method.refusal({points, off, weights, values, A, tolerance})
              .find("not on the unit sphere"),
            std::string::npos);

  const PointSet            few = sample("uniform", 3, 20, 1);
  const std::vector<double> few_weights(20, 0.05);
  const PointSet            few_values(0, 20);
  EXPECT_EQ(method.refusal({few, few, few_weights, few_values, A, tolerance})
              .rfind("no gain", 0),
            0u);
}



TEST(SphereHarmonicMethod, SameBitsOnAnyNumberOfThreads)
{
  // The moments are summed in a fixed tree (doc/theory.md section 6.1), so
  // the result does not depend on the threads.
  const PointSet            points = sample("clustered", 3, 5000, 3);
  const std::vector<double> weights(5000, 1. / 5000);
  const PointSet            values = values_of(points);
  const std::vector<double> A      = {4., 0., 0., 0., 4., 0., 0., 0., 4.};
  const KernelSumProblem problem{points, points, weights, values, A, tolerance};
  KernelSums             one, two;
  std::vector<std::size_t> rejected_one, rejected_two;
  tbb::task_arena(1).execute(
    [&]() { SphereHarmonicMethod().evaluate(problem, one, rejected_one); });
  tbb::task_arena(2).execute(
    [&]() { SphereHarmonicMethod().evaluate(problem, two, rejected_two); });
  EXPECT_EQ(one.normaliser, two.normaliser);
  EXPECT_EQ(one.values.coordinates, two.values.coordinates);
  EXPECT_EQ(rejected_one, rejected_two);
}
