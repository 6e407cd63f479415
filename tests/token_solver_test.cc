/**
 * @file
 * The token solver against the exact cases of doc/theory.md section 3: E1
 * (beta = 0, a translation by exp(tV) m0), E2 (a Gaussian stays Gaussian with
 * the (m, S) ODE), the sphere invariant |x_i| = 1, the USA energy ascent, the
 * accuracy of the default settings, layers switching weights; the token
 * clusters and the shared point-set types (union-find, moments).
 */
#include <attnflow/initial_measure.h>
#include <attnflow/token_metrics.h>
#include <attnflow/token_solver.h>

#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "gaussian_moments.h"
#include "test_helpers.h"

namespace attnflow
{
  using testing::GaussianMoments;
  using testing::integrate_moments;
  using testing::matrix;
  using testing::Matrix2;

  namespace
  {
    /** Tokens of @p model after time @p T from the initial measure. */
    PointSet
    run(const Parameters &p, const double T)
    {
      const Model        model(p.model);
      const KernelEngine engine;
      TokenSolver        solver(
        model,
        p.time,
        engine,
        InitialMeasure(p.initial_condition, model).sample(p.tokens.n_tokens));
      solver.advance_to(T);
      return solver.tokens();
    }
  } // namespace

  TEST(TokenSolver, BetaZeroTranslatesByTheExponentialOfV)
  {
    // E1 with V = [[a, -b, 0], [b, a, 0], [0, 0, c]]:
    // exp(tV) = diag(e^{at} R(bt), e^{ct}); x_i(t) = x_i(0) + (exp(tV) - I) m0.
    const double a = -0.3, b = 2., c = 0.5, T = 2.;
    for (const char *normalization : {"softmax", "uniform"})
      {
        const Parameters p = testing::parameters_from(
          std::string("subsection Model\n set geometry = euclidean\n"
                      " set dimension = 3\n set beta = 0\n"
                      " set normalization = ") +
          normalization +
          "\n set V = -0.3, -2, 0; 2, -0.3, 0; 0, 0, 0.5\nend\n"
          "subsection Initial condition\n set type = gaussian\n"
          " set means = 1, -1, 0.5\nend\n"
          "subsection Tokens\n set number of tokens = 100\nend\n"
          "subsection Time\n set relative tolerance = 1e-12\n"
          " set absolute tolerance = 1e-14\nend\n");
        const Model    model(p.model);
        const PointSet x0 =
          InitialMeasure(p.initial_condition, model).sample(100);
        const PointSet        x = run(p, T);
        std::array<double, 3> m0{};
        for (std::size_t i = 0; i < 100; ++i)
          for (unsigned int k = 0; k < 3; ++k)
            m0[k] += x0[i][k] / 100;
        const double                e = std::exp(a * T);
        const std::array<double, 3> m = {
          {e * (std::cos(b * T) * m0[0] - std::sin(b * T) * m0[1]),
           e * (std::sin(b * T) * m0[0] + std::cos(b * T) * m0[1]),
           std::exp(c * T) * m0[2]}};
        std::array<double, 3> mean{};
        for (std::size_t i = 0; i < 100; ++i)
          for (unsigned int k = 0; k < 3; ++k)
            {
              mean[k] += x[i][k] / 100;
              EXPECT_NEAR(x[i][k], x0[i][k] + m[k] - m0[k], 1e-10);
            }
        for (unsigned int k = 0; k < 3; ++k)
          EXPECT_NEAR(mean[k], m[k], 1e-10) << normalization;
      }
  }

  TEST(TokenSolver, GaussianFollowsTheMomentEquations)
  {
    // E2 with non-trivial Q and V. n = 20000 tokens; the tolerance is five
    // standard errors of the mean and covariance of n i.i.d. samples of the
    // exact N(m(T), S(T)).
    const std::size_t n    = 20000;
    const double      beta = 1., T = 1.;
    const Matrix2     Q = matrix(1., 0.5, 0., 1.), K = matrix(1., 0., 0., 1.),
                  V    = matrix(-1., 0.3, 0., -0.5);
    const Parameters p = testing::parameters_from(
      "subsection Model\n set geometry = euclidean\n set dimension = 2\n"
      " set beta = 1\n set Q = 1, 0.5; 0, 1\n set V = -1, 0.3; 0, -0.5\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 0.5, -0.2\n set covariances = 0.5, 0.1; 0.1, 0.3\nend\n"
      "subsection Tokens\n set number of tokens = 20000\nend\n"
      "subsection Time\n set integrator = rk4\n set time step = 0.1\nend\n");
    const GaussianMoments exact =
      integrate_moments({{{0.5, -0.2}}, matrix(0.5, 0.1, 0.1, 0.3)},
                        T,
                        beta,
                        Q,
                        K,
                        V);
    const PointSet x = run(p, T);

    std::array<double, 2> mean{};
    Matrix2               cov{};
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int k = 0; k < 2; ++k)
        mean[k] += x[i][k] / n;
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int k = 0; k < 2; ++k)
        for (unsigned int l = 0; l < 2; ++l)
          cov[k][l] += (x[i][k] - mean[k]) * (x[i][l] - mean[l]) / n;
    const Matrix2 &S = exact.S;
    for (unsigned int k = 0; k < 2; ++k)
      {
        EXPECT_NEAR(mean[k], exact.m[k], 5. * std::sqrt(S[k][k] / n));
        for (unsigned int l = 0; l < 2; ++l)
          EXPECT_NEAR(cov[k][l],
                      S[k][l],
                      5. *
                        std::sqrt((S[k][k] * S[l][l] + S[k][l] * S[k][l]) / n));
      }
    // The moments moved much more than the tolerance: the test can fail.
    EXPECT_GT(std::abs(exact.S[0][0] - 0.5), 50. * std::sqrt(2. * 0.25 / n));
  }

  TEST(TokenSolver, TokensStayOnTheSphere)
  {
    const Parameters p = testing::parameters_from(
      "subsection Model\n set dimension = 3\n set beta = 9\n"
      " set Q = random\nend\n"
      "subsection Tokens\n set number of tokens = 300\nend\n");
    const Model        model(p.model);
    const KernelEngine engine;
    TokenSolver        solver(model,
                       p.time,
                       engine,
                       InitialMeasure(p.initial_condition, model).sample(300));
    solver.advance_to(3.);
    for (std::size_t i = 0; i < 300; ++i)
      {
        const double *x = solver.tokens()[i];
        EXPECT_NEAR(std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]),
                    1.,
                    1e-12);
      }
    EXPECT_LT(solver.statistics().max_projection_change, 1e-6);
  }

  TEST(TokenSolver, UniformAttentionEnergyNeverDecreases)
  {
    for (const unsigned int d : {2u, 3u})
      {
        const Parameters p = testing::parameters_from(
          "subsection Model\n set dimension = " + std::to_string(d) +
          "\n set beta = 1\n set normalization = uniform\nend\n"
          "subsection Tokens\n set number of tokens = 200\nend\n");
        const Model          model(p.model);
        const KernelEngine   engine;
        const AttentionField field(model, engine);
        TokenSolver          solver(
          model,
          p.time,
          engine,
          InitialMeasure(p.initial_condition, model).sample(200));
        double previous =
          field.energy(model.layers[0], solver.tokens(), solver.weights());
        const double initial = previous;
        for (unsigned int k = 1; k <= 40; ++k)
          {
            solver.advance_to(0.25 * k);
            const double energy =
              field.energy(model.layers[0], solver.tokens(), solver.weights());
            EXPECT_GE(energy, previous * (1. - 1e-13)) << "t = " << 0.25 * k;
            previous = energy;
          }
        EXPECT_GT(previous, initial * 1.01);
      }
  }

  TEST(TokenSolver, DefaultSettingsAgreeWithAConvergedReference)
  {
    // The defaults (dopri5, rtol 1e-8, atol 1e-10) against RK4 with dt = 1e-3
    // (error ~1e-13) after t = 1.
    for (const char *model :
         {"subsection Model\nend\n",
          "subsection Model\n set dimension = 3\n set beta = 9\nend\n",
          "subsection Model\n set geometry = euclidean\n set Q = 1, 0.5; 0, 1\n"
          " set V = -1, 0.3; 0, -0.5\nend\n"})
      {
        const std::string base = std::string(model) +
                                 "subsection Tokens\n set number of tokens = "
                                 "200\nend\n";
        const PointSet x = run(testing::parameters_from(base), 1.);
        const PointSet reference =
          run(testing::parameters_from(base,
                                       "run",
                                       {"Time/integrator=rk4",
                                        "Time/time step=1e-3"}),
              1.);
        double max_error = 0.;
        for (std::size_t k = 0; k < x.coordinates.size(); ++k)
          max_error =
            std::max(max_error,
                     std::abs(x.coordinates[k] - reference.coordinates[k]));
        EXPECT_LT(max_error, 1e-6) << model;
      }
  }

  TEST(TokenSolver, LayersSwitchWeightsAtTheirBoundaries)
  {
    // Layer 1 moves the tokens; layer 2 has V = 0 and freezes them.
    const std::string base =
      "subsection Model\n set dimension = 3\n set layer durations = 0.5, 1\n"
      " set V = identity / zero\nend\n"
      "subsection Tokens\n set number of tokens = 50\nend\n";
    const PointSet at_half = run(testing::parameters_from(base), 0.5);
    const PointSet at_end  = run(testing::parameters_from(base), 1.3);
    // Frozen up to the renormalisation onto the sphere after each step.
    for (std::size_t k = 0; k < at_half.coordinates.size(); ++k)
      EXPECT_NEAR(at_half.coordinates[k], at_end.coordinates[k], 1e-15);
    const PointSet one_layer =
      run(testing::parameters_from("subsection Model\n set dimension = 3\nend\n"
                                   "subsection Tokens\n set number of tokens = "
                                   "50\nend\n"),
          0.5);
    EXPECT_EQ(at_half.coordinates, one_layer.coordinates);
    const PointSet moved =
      run(testing::parameters_from("subsection Model\n set dimension = 3\nend\n"
                                   "subsection Tokens\n set number of tokens = "
                                   "50\nend\n"),
          1.3);
    EXPECT_NE(at_end.coordinates, moved.coordinates);
  }

  TEST(TokenMetrics, ClustersAreSingleLinkageComponents)
  {
    PointSet x(1, 6);
    x.coordinates                          = {0., 0.05, 0.12, 1., 1.3, 1.35};
    unsigned int                    n      = 0;
    const std::vector<unsigned int> labels = cluster_labels(x, 0.1, n);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(labels, (std::vector<unsigned int>{0, 0, 0, 1, 2, 2}));
    // Groups of fewer than 2 points are stragglers (label n_clusters).
    const std::vector<unsigned int> large = cluster_labels(x, 0.1, n, 2);
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(large, (std::vector<unsigned int>{0, 0, 0, 2, 1, 1}));
  }


  TEST(PointSets, UnionFindCountsAndJoinsComponents)
  {
    // Edges 0-1, 2-3, 1-3 and a repeated 0-3 join {0, 1, 2, 3}; 4 and 5
    // stay alone.
    UnionFind                                        sets(6);
    const std::vector<std::pair<unsigned, unsigned>> edges = {{0, 1},
                                                              {2, 3},
                                                              {1, 3},
                                                              {0, 3}};
    EXPECT_EQ(sets.n_sets(), 6u);
    for (const auto &[a, b] : edges)
      sets.unite(a, b);
    EXPECT_EQ(sets.n_sets(), 3u);
    for (std::size_t i = 0; i < 6; ++i)
      for (std::size_t j = 0; j < 6; ++j)
        {
          const bool joined = (i < 4 && j < 4) || i == j;
          EXPECT_EQ(sets.find(i) == sets.find(j), joined) << i << ", " << j;
        }
  }



  TEST(PointSets, MomentsOfWeightedPoints)
  {
    // Atoms (1, 0) and (0, 2) with weights 1/4, 3/4: m = (1/4, 3/2),
    // S = (1/4)(3/4) (1, -2)(1, -2)^T = (3/16) [[1, -2], [-2, 4]].
    PointSet x(2, 2);
    x.coordinates         = {1., 0., 0., 2.};
    const Moments moments = weighted_moments(x, {0.25, 0.75});
    EXPECT_DOUBLE_EQ(moments.mean[0], 0.25);
    EXPECT_DOUBLE_EQ(moments.mean[1], 1.5);
    EXPECT_DOUBLE_EQ(moments.covariance(0, 0), 3. / 16.);
    EXPECT_DOUBLE_EQ(moments.covariance(0, 1), -6. / 16.);
    EXPECT_DOUBLE_EQ(moments.covariance(1, 0), -6. / 16.);
    EXPECT_DOUBLE_EQ(moments.covariance(1, 1), 12. / 16.);
    EXPECT_DOUBLE_EQ(moments.covariance_trace(), 15. / 16.);
    EXPECT_DOUBLE_EQ(moments.order(), std::sqrt(0.0625 + 2.25));
  }
} // namespace attnflow
