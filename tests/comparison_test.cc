/**
 * @file
 * The distances between measures against closed forms and brute force:
 * W1/W2 on R (sorted pairs, shifted uniforms), W1 on the circle (cyclic
 * shifts), sliced W2 of a translation, MMD against a long double double
 * sum and against the closed form between two Gaussians; the distances each
 * geometry measures.
 */
#include <attnflow/comparison.h>

#include <gtest/gtest.h>

#include <cmath>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    std::vector<double>
    uniform_numbers(const std::size_t n, const std::uint64_t seed)
    {
      RandomGenerator     random(seed);
      std::vector<double> x(n);
      for (double &v : x)
        v = random.uniform();
      return x;
    }
  } // namespace

  TEST(Comparison, WassersteinOnTheLineMatchesSortedPairs)
  {
    // Equal weights and sizes: W_p^p = (1/n) sum |x_(i) - y_(i)|^p.
    std::vector<double> x = uniform_numbers(50, 1), y = uniform_numbers(50, 2);
    for (double &v : y)
      v = 3. * v * v - 0.5;
    const std::vector<double> w(50, 0.02);
    std::vector<double>       xs = x, ys = y;
    std::sort(xs.begin(), xs.end());
    std::sort(ys.begin(), ys.end());
    for (const double p : {1., 2.})
      {
        double sum = 0.;
        for (std::size_t i = 0; i < 50; ++i)
          sum += std::pow(std::abs(xs[i] - ys[i]), p) / 50.;
        EXPECT_NEAR(wasserstein_1d(x, w, y, w, p),
                    std::pow(sum, 1. / p),
                    1e-14);
      }
  }

  TEST(Comparison, WassersteinOnTheLineWithUnequalWeights)
  {
    // Against the quantile functions integrated on a fine grid of u.
    const std::vector<double> x = {0., 1., 3.}, a = {0.2, 0.5, 0.3};
    const std::vector<double> y = {-1., 2.}, b = {0.7, 0.3};
    const auto                quantile = [](const std::vector<double> &z,
                             const std::vector<double> &w,
                             const double               u) {
      double c = 0.;
      for (std::size_t i = 0; i < z.size(); ++i)
        if (u < (c += w[i]))
          return z[i];
      return z.back();
    };
    const unsigned int n  = 1000000;
    double             w1 = 0., w2 = 0.;
    for (unsigned int k = 0; k < n; ++k)
      {
        const double u = (k + 0.5) / n;
        const double d = quantile(x, a, u) - quantile(y, b, u);
        w1 += std::abs(d) / n;
        w2 += d * d / n;
      }
    EXPECT_NEAR(wasserstein_1d(x, a, y, b, 1.), w1, 1e-9);
    EXPECT_NEAR(wasserstein_1d(x, a, y, b, 2.), std::sqrt(w2), 1e-9);
    // Two shifted uniform densities (midpoint atoms): W1 = W2 = the shift.
    std::vector<double> u(1000), v(1000), w(1000, 1e-3);
    for (unsigned int i = 0; i < 1000; ++i)
      {
        u[i] = (i + 0.5) / 1000;
        v[i] = u[i] + 0.3;
      }
    EXPECT_NEAR(wasserstein_1d(u, w, v, w, 1.), 0.3, 1e-12);
    EXPECT_NEAR(wasserstein_1d(u, w, v, w, 2.), 0.3, 1e-12);
  }

  TEST(Comparison, WassersteinOnTheCircle)
  {
    const std::vector<double> one = {1.};
    EXPECT_NEAR(wasserstein1_circle({0.1}, one, {2. * M_PI - 0.1}, one),
                0.2,
                1e-12);
    EXPECT_NEAR(wasserstein1_circle({0.}, one, {M_PI / 2}, one),
                M_PI / 2,
                1e-12);
    // Equal weights: the optimal plan is a cyclic shift of the sorted atoms.
    std::vector<double> x = uniform_numbers(40, 3), y = uniform_numbers(40, 4);
    for (double &v : x)
      v *= 2. * M_PI;
    for (double &v : y)
      v = 2. * M_PI * v * v;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    double best = 1e300;
    for (unsigned int shift = 0; shift < 40; ++shift)
      {
        double cost = 0.;
        for (unsigned int i = 0; i < 40; ++i)
          {
            const double d = std::abs(x[i] - y[(i + shift) % 40]);
            cost += std::min(d, 2. * M_PI - d) / 40.;
          }
        best = std::min(best, cost);
      }
    const std::vector<double> w(40, 1. / 40);
    EXPECT_NEAR(wasserstein1_circle(x, w, y, w), best, 1e-12);
  }

  TEST(Comparison, SlicedWassersteinOfATranslation)
  {
    // Translating by v shifts every projection by <theta, v>.
    WeightedPoints mu{testing::random_points(3, 200, 5),
                      std::vector<double>(200, 0.005)};
    WeightedPoints nu   = mu;
    const double   v[3] = {0.3, -0.2, 0.5};
    for (std::size_t i = 0; i < 200; ++i)
      for (unsigned int k = 0; k < 3; ++k)
        nu.points[i][k] += v[k];
    const PointSet directions = sliced_directions(3, 64, 7);
    double         sum        = 0.;
    for (std::size_t l = 0; l < 64; ++l)
      {
        const double s = directions[l][0] * v[0] + directions[l][1] * v[1] +
                         directions[l][2] * v[2];
        sum += s * s / 64.;
      }
    EXPECT_NEAR(sliced_wasserstein2(mu, nu, directions), std::sqrt(sum), 1e-12);
  }

  TEST(Comparison, MaximumMeanDiscrepancyMatchesTheDoubleSum)
  {
    WeightedPoints mu{testing::random_points(2, 300, 8), {}},
      nu{testing::random_points(2, 200, 9), {}};
    RandomGenerator random(10);
    for (std::size_t i = 0; i < 300; ++i)
      mu.weights.push_back(random.uniform());
    for (std::size_t j = 0; j < 200; ++j)
      {
        nu.weights.push_back(j % 7 == 0 ? 0. : random.uniform());
        nu.points[j][0] += 8.; // far away: e^(-|x-y|^2/(2 sigma^2)) underflows
      }
    const double sigma = 0.3;
    const auto   sum   = [&](const WeightedPoints &p, const WeightedPoints &q) {
      long double s = 0., wp = 0., wq = 0.;
      for (std::size_t i = 0; i < p.points.size(); ++i)
        wp += p.weights[i];
      for (std::size_t j = 0; j < q.points.size(); ++j)
        wq += q.weights[j];
      for (std::size_t i = 0; i < p.points.size(); ++i)
        for (std::size_t j = 0; j < q.points.size(); ++j)
          {
            const long double dx = p.points[i][0] - q.points[j][0],
                              dy = p.points[i][1] - q.points[j][1];
            s += p.weights[i] * q.weights[j] *
                 std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
          }
      return s / (wp * wq);
    };
    const long double mmd2 = sum(mu, mu) + sum(nu, nu) - 2 * sum(mu, nu);
    EXPECT_NEAR(maximum_mean_discrepancy(mu, nu, sigma, KernelEngine()),
                std::sqrt((double)mmd2),
                1e-12);
  }

  TEST(Comparison, MaximumMeanDiscrepancyBetweenTwoGaussians)
  {
    // Densities of N(m_a, s^2 I) and N(m_b, s^2 I) on a fine grid; with
    // E k(X, Y) = (sigma^2 / (sigma^2 + 2 s^2)) exp(-|m_a - m_b|^2 /
    // (2 (sigma^2 + 2 s^2))) in 2-D, MMD^2 = 2 E k(X, X') - 2 E k(X, Y).
    const double   s = 0.3, sigma = 0.5, shift = 0.4;
    const unsigned n = 120;
    const double   h = 5. / n;
    WeightedPoints a{PointSet(2, n * n), {}}, b{PointSet(2, n * n), {}};
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int j = 0; j < n; ++j)
        {
          const double x = -2.5 + (i + 0.5) * h, y = -2.5 + (j + 0.5) * h;
          a.points[i * n + j][0] = b.points[i * n + j][0] = x;
          a.points[i * n + j][1] = b.points[i * n + j][1] = y;
          a.weights.push_back(std::exp(-(x * x + y * y) / (2 * s * s)));
          b.weights.push_back(
            std::exp(-((x - shift) * (x - shift) + y * y) / (2 * s * s)));
        }
    const double c     = sigma * sigma + 2 * s * s;
    const double exact = std::sqrt(2. * sigma * sigma / c *
                                   (1. - std::exp(-shift * shift / (2 * c))));
    EXPECT_NEAR(maximum_mean_discrepancy(a, b, sigma, KernelEngine()),
                exact,
                1e-6);
  }

  namespace
  {
    /**
     * The density @p rho (a polynomial of degree @p k) on @p n_cells equal
     * cells of [@p a, @p b], sampled at k + 1 equispaced nodes per cell.
     */
    template <typename Function>
    PiecewisePolynomialDensity
    interpolated(const Function    &rho,
                 const double       a,
                 const double       b,
                 const unsigned int n_cells,
                 const unsigned int k)
    {
      std::vector<double>              vertices, nodes;
      std::vector<std::vector<double>> values(n_cells);
      for (unsigned int i = 0; i <= k; ++i)
        nodes.push_back((i + 0.5) / (k + 1));
      for (unsigned int c = 0; c <= n_cells; ++c)
        vertices.push_back(a + (b - a) * c / n_cells);
      for (unsigned int c = 0; c < n_cells; ++c)
        for (const double xi : nodes)
          values[c].push_back(
            rho(vertices[c] + xi * (vertices[c + 1] - vertices[c])));
      return PiecewisePolynomialDensity(vertices, nodes, values);
    }
  } // namespace

  TEST(Comparison, WassersteinOfAPolynomialDensityInClosedForm)
  {
    // rho = 2x on [0, 1] against one atom at 0: W1 = int x 2x = 2/3,
    // W2^2 = int x^2 2x = 1/2; the quantile of mass m is sqrt(m).
    const auto ramp =
      interpolated([](const double x) { return 2. * x; }, 0., 1., 3, 1);
    EXPECT_NEAR(ramp.mass(), 1., 1e-15);
    EXPECT_NEAR(ramp.quantile(0.3), std::sqrt(0.3), 1e-14);
    EXPECT_NEAR(wasserstein_1d(ramp, {0.}, {1.}, 1.), 2. / 3., 1e-14);
    EXPECT_NEAR(wasserstein_1d(ramp, {0.}, {1.}, 2.), std::sqrt(0.5), 1e-14);
    // The uniform density on [0, 2] (mass 2, normalised) against an atom at
    // its middle: W1 = 1/2, W2^2 = 1/3; against two atoms at 0.5 and 1.5
    // of weights 1 and 1: W1 = 1/4.
    const auto flat =
      interpolated([](const double) { return 1.; }, 0., 2., 5, 2);
    EXPECT_NEAR(wasserstein_1d(flat, {1.}, {1.}, 1.), 0.5, 1e-14);
    EXPECT_NEAR(wasserstein_1d(flat, {1.}, {1.}, 2.),
                std::sqrt(1. / 3.),
                1e-14);
    EXPECT_NEAR(wasserstein_1d(flat, {1.5, 0.5}, {1., 1.}, 1.), 0.25, 1e-14);
  }

  TEST(Comparison, WassersteinOfACircleDensityInClosedForm)
  {
    // The uniform density of the angle on [s, s + 2 pi) against one atom:
    // the mean arc distance, pi / 2; against n equally spaced atoms:
    // pi / (2 n); in any position of the atoms relative to the cut at s.
    const double s = -2.5;
    const auto   flat =
      interpolated([](const double) { return 1.; }, s, s + 2. * M_PI, 9, 2);
    for (const double y : {0., 1., -2.5, 3.7, 10.})
      EXPECT_NEAR(wasserstein1_circle(flat, {y}, {1.}), M_PI / 2, 1e-13) << y;
    for (const unsigned int n : {2u, 5u, 16u})
      {
        std::vector<double> y, b(n, 1.);
        for (unsigned int j = 0; j < n; ++j)
          y.push_back(0.3 + 2. * M_PI * j / n);
        EXPECT_NEAR(wasserstein1_circle(flat, y, b), M_PI / (2. * n), 1e-13)
          << n;
      }
  }

  TEST(Comparison, WassersteinOfACircleDensityMatchesFineAtoms)
  {
    // A non-uniform density of the angle against 300 random atoms: the
    // exact distance against the one of 2e5 midpoint atoms of the density
    // (atoms against atoms, exact; their own error is ~ 1/(2e5)).
    const double s   = 0.7;
    const auto   rho = [](const double t) {
      return 1. + 0.5 * std::cos(t) + 0.3 * std::sin(3. * t);
    };
    const auto          density = interpolated(rho, s, s + 2. * M_PI, 64, 3);
    std::vector<double> y       = uniform_numbers(300, 8), b(300, 1.);
    for (double &v : y)
      v = 2. * M_PI * v * v - 1.;
    std::vector<double> x(200000), a(200000);
    for (std::size_t i = 0; i < x.size(); ++i)
      {
        x[i] = s + 2. * M_PI * (i + 0.5) / x.size();
        a[i] = rho(x[i]);
      }
    EXPECT_NEAR(wasserstein1_circle(density, y, b),
                wasserstein1_circle(x, a, y, b),
                1e-5);
  }

  TEST(Comparison, WassersteinOfAPolynomialDensityMatchesFineAtoms)
  {
    // A cubic density on 7 cells against 300 random tokens: the exact
    // distances agree with those of 2e5 midpoint atoms of the density
    // (whose own error is ~ 1/(2e5)).
    const auto rho = [](const double x) { return 1. + x - 0.3 * x * x * x; };
    const auto polynomial            = interpolated(rho, -1., 2., 7, 3);
    const PointSet            tokens = testing::random_points(1, 300, 11);
    const std::vector<double> weights(300, 1.);
    const unsigned int        m = 200000;
    std::vector<double>       x(m), w(m);
    for (unsigned int i = 0; i < m; ++i)
      {
        x[i] = -1. + 3. * (i + 0.5) / m;
        w[i] = rho(x[i]);
      }
    for (const double p : {1., 2.})
      EXPECT_NEAR(wasserstein_1d(polynomial, tokens.coordinates, weights, p),
                  wasserstein_1d(x, w, tokens.coordinates, weights, p),
                  2e-5);
  }


  TEST(Comparison, MeasuredDistancesPerGeometry)
  {
    using D          = Distance;
    const auto names = [](const std::vector<Distance> &distances) {
      std::string joined;
      for (const Distance distance : distances)
        joined += column_name(distance) + " ";
      return joined;
    };
    EXPECT_EQ(names(measured_distances(Geometry::euclidean, 1)), "w1 w2 mmd ");
    EXPECT_EQ(names(measured_distances(Geometry::sphere, 2)), "w1 mmd ");
    for (const unsigned int d : {2u, 3u})
      EXPECT_EQ(measured_distances(Geometry::euclidean, d),
                (std::vector<D>{D::sliced_w2, D::mmd}));
    EXPECT_EQ(measured_distances(Geometry::sphere, 3),
              (std::vector<D>{D::sliced_w2, D::mmd}));
  }
} // namespace attnflow
