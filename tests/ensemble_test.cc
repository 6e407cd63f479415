/**
 * @file
 * Ensembles (doc/theory.md section 9): whole ensembles of equiangular
 * starts against the scalar ODE of their common inner product, each system
 * against a TokenSolver run with the same tokens and weights, the
 * statistics against brute force on hand-made configurations, the random
 * weights' symmetries, the files, independence of the threads, and the
 * errors of bad ensembles.
 */
#include <attnflow/ensemble.h>
#include <attnflow/exceptions.h>
#include <attnflow/initial_measure.h>
#include <attnflow/small_system_field.h>
#include <attnflow/token_solver.h>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** The ensemble file @p text in a scratch folder @p name, and its path. */
    std::string
    ensemble_file(const std::string &text, const std::string &name)
    {
      const std::filesystem::path directory = testing::scratch_directory(name);
      testing::write_text(directory / "ensemble.prm",
                          text + "subsection Output\n set directory = " +
                            (directory / "output").string() + "\nend\n");
      return (directory / "ensemble.prm").string();
    }

    /**
     * r(t) of the equiangular reduction r' = 2 a(r) (1 - r) (1 + (n - 1) r)
     * with a = 1 / (exp(beta (1 - r)) + n - 1) (softmax) or
     * a = exp(beta r) / n (uniform), r(0) = 0, by RK4 with 1e5 steps per
     * unit time (error ~1e-15), at the times @p times.
     */
    std::vector<double>
    equiangular_inner_product(const double               beta,
                              const unsigned int         n,
                              const bool                 softmax,
                              const std::vector<double> &times)
    {
      const auto f = [&](const double r) {
        const double a = softmax ? 1. / (std::exp(beta * (1. - r)) + n - 1.) :
                                   std::exp(beta * r) / n;
        return 2. * a * (1. - r) * (1. + (n - 1.) * r);
      };
      std::vector<double> r_of_t;
      double              r = 0., t = 0.;
      for (const double t_out : times)
        {
          const unsigned long steps = std::lround((t_out - t) * 1e5);
          const double        h     = steps ? (t_out - t) / steps : 0.;
          for (unsigned long s = 0; s < steps; ++s)
            {
              const double k1 = f(r), k2 = f(r + 0.5 * h * k1),
                           k3 = f(r + 0.5 * h * k2), k4 = f(r + h * k3);
              r += h / 6. * (k1 + 2. * k2 + 2. * k3 + k4);
            }
          t = t_out;
          r_of_t.push_back(r);
        }
      return r_of_t;
    }

    /** Tokens on S^2 at the angles @p angles (radians) of the equator. */
    PointSet
    on_circle(const std::vector<double> &angles)
    {
      PointSet points(2, angles.size());
      for (std::size_t i = 0; i < angles.size(); ++i)
        {
          points[i][0] = std::cos(angles[i]);
          points[i][1] = std::sin(angles[i]);
        }
      return points;
    }

    /** The rank of the integer matrix @p a (n x n) by Bareiss' exact steps. */
    unsigned int
    exact_rank(std::vector<long long> a, const std::size_t n)
    {
      unsigned int rank           = 0;
      long long    previous_pivot = 1;
      for (std::size_t column = 0; column < n && rank < n; ++column)
        {
          std::size_t pivot = rank;
          while (pivot < n && a[pivot * n + column] == 0)
            ++pivot;
          if (pivot == n)
            continue;
          for (std::size_t j = 0; j < n; ++j)
            std::swap(a[pivot * n + j], a[rank * n + j]);
          for (std::size_t r = rank + 1; r < n; ++r)
            {
              for (std::size_t j = column + 1; j < n; ++j)
                a[r * n + j] = (a[rank * n + column] * a[r * n + j] -
                                a[r * n + column] * a[rank * n + j]) /
                               previous_pivot;
              a[r * n + column] = 0;
            }
          previous_pivot = a[rank * n + column];
          ++rank;
        }
      return rank;
    }

    /** The Gram matrix of @p points, n x n row-major. */
    std::vector<double>
    gram_of(const PointSet &points)
    {
      const std::size_t   n = points.size();
      std::vector<double> gram(n * n, 0.);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
          for (unsigned int k = 0; k < points.dimension; ++k)
            gram[i * n + j] += points[i][k] * points[j][k];
      return gram;
    }

    const std::string small_ensemble =
      "subsection Model\n set dimension = 3\nend\n"
      "subsection Tokens\n set number of tokens = 8\nend\n"
      "subsection Time\n set end time = 2\n set output interval = 0.5\nend\n"
      "subsection Ensemble\n set number of systems = 5\n"
      " set values = 1, 3\n set plot = false\nend\n";
  } // namespace

  TEST(Ensemble, EquiangularStartsFollowTheScalarOde)
  {
    // n = 4 orthonormal tokens in R^5 (a rotated frame, not the axes):
    // all inner products stay equal to r(t) (doc/theory.md section 9).
    const unsigned int n = 4, d = 5;
    PointSet           frame = testing::random_points(d, n, 17);
    for (unsigned int i = 0; i < n; ++i)
      {
        for (unsigned int j = 0; j < i; ++j)
          {
            double dot = 0.;
            for (unsigned int k = 0; k < d; ++k)
              dot += frame[i][k] * frame[j][k];
            for (unsigned int k = 0; k < d; ++k)
              frame[i][k] -= dot * frame[j][k];
          }
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          norm2 += frame[i][k] * frame[i][k];
        for (unsigned int k = 0; k < d; ++k)
          frame[i][k] /= std::sqrt(norm2);
      }
    const std::filesystem::path folder =
      testing::scratch_directory("ensemble_frame");
    std::ofstream tokens(folder / "frame.csv");
    tokens.precision(17);
    for (unsigned int i = 0; i < n; ++i)
      for (unsigned int k = 0; k < d; ++k)
        tokens << frame[i][k] << (k + 1 < d ? ", " : "\n");
    tokens.close();

    for (const std::string normalization : {"softmax", "uniform"})
      {
        const std::string file = ensemble_file(
          "subsection Model\n set dimension = 5\n set normalization = " +
            normalization +
            "\nend\n"
            "subsection Initial condition\n set type = tokens file\n"
            " set tokens file = " +
            (folder / "frame.csv").string() +
            "\nend\n"
            "subsection Time\n set end time = 6\n set output interval = 0.5\n"
            " set relative tolerance = 1e-12\n"
            " set absolute tolerance = 1e-14\nend\n"
            "subsection Ensemble\n set number of systems = 2\n"
            " set values = 0.5, 2\n set plot = false\n"
            " set write final tokens = true\nend\n",
          "ensemble_equiangular_" + normalization);
        Ensemble           ensemble(file, {});
        std::ostringstream log;
        ensemble.run(log);
        const EnsemblePlan         plan(file, {});
        const std::vector<double> &times = plan.output_times();
        for (unsigned int v = 0; v < 2; ++v)
          {
            const double              beta = v == 0 ? 0.5 : 2.;
            const std::vector<double> r =
              equiangular_inner_product(beta,
                                        n,
                                        normalization == "softmax",
                                        times);
            for (unsigned int t = 0; t < times.size(); ++t)
              {
                const double order = std::sqrt(n + n * (n - 1.) * r[t]) / n;
                EXPECT_NEAR(
                  ensemble.results().mean(v, t, int(EnsembleStatistic::order)),
                  order,
                  1e-10)
                  << normalization << ", beta = " << beta
                  << ", t = " << times[t];
                // Together exactly when r >= 1 - delta (away from the edge).
                if (std::abs(r[t] - (1. - 1e-3)) > 1e-6)
                  {
                    for (const EnsembleStatistic s :
                         {EnsembleStatistic::pair_fraction,
                          EnsembleStatistic::first_pair})
                      EXPECT_EQ(ensemble.results().mean(v, t, int(s)),
                                r[t] >= 1. - 1e-3 ? 1. : 0.);
                  }
              }
            const PointSet &x = ensemble.results().final_tokens(v)[1];
            for (unsigned int i = 0; i < n; ++i)
              for (unsigned int j = 0; j < i; ++j)
                {
                  double dot = 0.;
                  for (unsigned int k = 0; k < d; ++k)
                    dot += x[i][k] * x[j][k];
                  EXPECT_NEAR(dot, r.back(), 1e-10);
                }
          }
        // The softmax ensemble at beta = 0.5 has merged by t = 6.
        if (normalization == "softmax")
          {
            EXPECT_EQ(ensemble.results().mean(0,
                                              times.size() - 1,
                                              int(EnsembleStatistic::clusters)),
                      1.);
          }
      }
  }

  TEST(Ensemble, EverySystemIsTheTokenSolverRun)
  {
    // Random GOE weights redrawn every 0.3 with V = -K^T Q, and the
    // model's own two random heads: each system against a TokenSolver
    // with the direct engine, the same tokens and the same layers.
    for (const std::string weights : {"goe", "model"})
      {
        const std::string file = ensemble_file(
          "subsection Model\n set dimension = 3\n set beta = 2\n" +
            std::string(weights == "model" ?
                          " set number of heads = 2\n set Q = random\n"
                          " set K = random\n set V = random\n" :
                          "") +
            "end\n"
            "subsection Tokens\n set number of tokens = 11\nend\n"
            "subsection Time\n set end time = 1\n set output interval = 0.5\n"
            " set integrator = rk4\n set time step = 0.01\nend\n"
            "subsection Ensemble\n set number of systems = 3\n"
            " set values = 2\n set weights = " +
            weights + "\n set value sign = -1\n set regeneration interval = " +
            (weights == "model" ? "0" : "0.3") +
            "\n set plot = false\n set write final tokens = true\nend\n",
          "ensemble_token_solver_" + weights);
        Ensemble           ensemble(file, {});
        std::ostringstream log;
        ensemble.run(log);
        const Parameters p = read_parameters(file, {});
        for (unsigned int m = 0; m < 3; ++m)
          {
            Model model(p.model);
            if (weights != "model")
              model.layers =
                random_layers(EnsembleWeights::goe,
                              3,
                              -1,
                              0.3,
                              1.,
                              system_seed(p.model.weights_seed, m));
            InitialConditionParameters initial = p.initial_condition;
            initial.seed = system_seed(p.initial_condition.seed, m);
            const InitialMeasure mu0(initial, model);
            const KernelEngine   engine(1);
            FieldParameters      direct;
            direct.method = FieldMethodKind::direct;
            TokenSolver solver(model, p.time, engine, mu0.sample(11), direct);
            solver.advance_to(1.);
            const PointSet &x = ensemble.results().final_tokens(0)[m];
            ASSERT_EQ(x.coordinates.size(), solver.tokens().coordinates.size());
            for (std::size_t i = 0; i < x.coordinates.size(); ++i)
              EXPECT_NEAR(x.coordinates[i],
                          solver.tokens().coordinates[i],
                          1e-12)
                << weights << ", system " << m;
          }
      }
  }

  TEST(Ensemble, RandomWeightsHaveTheirSymmetries)
  {
    for (const EnsembleWeights kind : {EnsembleWeights::gaussian,
                                       EnsembleWeights::goe,
                                       EnsembleWeights::wigner})
      {
        const std::vector<Layer> layers =
          random_layers(kind, 4, -1, 0.25, 1., 7);
        ASSERT_EQ(layers.size(), 4u);
        EXPECT_DOUBLE_EQ(layers[0].duration, 0.25);
        EXPECT_TRUE(std::isinf(layers[3].duration));
        for (const Layer &layer : layers)
          {
            const AttentionHead &head = layer.heads.at(0);
            EXPECT_TRUE(head.K.is_scaled_identity &&
                        head.K.identity_scale == 1.);
            for (unsigned int r = 0; r < 4; ++r)
              for (unsigned int c = 0; c < 4; ++c)
                {
                  EXPECT_EQ(head.V(r, c), -head.Q(r, c));
                  if (kind != EnsembleWeights::gaussian)
                    {
                      EXPECT_EQ(head.Q(r, c), head.Q(c, r));
                    }
                  if (kind == EnsembleWeights::wigner)
                    {
                      EXPECT_EQ(std::abs(head.Q(r, c)), 0.5);
                    }
                }
          }
        // Each redraw is new.
        EXPECT_NE(layers[0].heads[0].Q.entries, layers[1].heads[0].Q.entries);
      }
  }

  TEST(EnsembleStatistics, MatchBruteForceOnHandMadeConfigurations)
  {
    EnsembleParameters ensemble;
    TokenParameters    tokens;
    tokens.cluster_radius = 0.1;
    // Three tight clusters of 3, 2 and 2 tokens on S^1 (within 1e-3 rad).
    const PointSet clusters =
      on_circle({0., 5e-4, -5e-4, 2., 2.0002, -2., -2.0003});
    const StatisticValues s =
      EnsembleStatistics(ensemble, tokens).measure(clusters);
    // Pairs within a cluster: 3 + 1 + 1 of 21; <x_1, x_2> = cos(5e-4).
    EXPECT_DOUBLE_EQ(s[int(EnsembleStatistic::pair_fraction)], 5. / 21.);
    EXPECT_EQ(s[int(EnsembleStatistic::first_pair)], 1.);
    EXPECT_EQ(s[int(EnsembleStatistic::clusters)], 3.);
    double mx = 0., my = 0.;
    for (std::size_t i = 0; i < 7; ++i)
      mx += clusters[i][0] / 7., my += clusters[i][1] / 7.;
    EXPECT_NEAR(s[int(EnsembleStatistic::order)], std::hypot(mx, my), 1e-15);

    // A chain 0 ~ 1 ~ 2 with 0 !~ 2: single linkage joins it (one
    // cluster); the thresholded Gram matrix [[1,1,0],[1,1,1],[0,1,1]] has
    // rank 3. x_1 and x_2 are 0.01 apart: not together at delta = 1e-5.
    const PointSet chain    = on_circle({0., 0.01, 0.02});
    ensemble.delta          = 1e-5;
    ensemble.gram_threshold = std::cos(0.015);
    StatisticValues c = EnsembleStatistics(ensemble, tokens).measure(chain);
    EXPECT_EQ(c[int(EnsembleStatistic::clusters)], 3.);
    EXPECT_EQ(c[int(EnsembleStatistic::first_pair)], 0.);
    EXPECT_EQ(c[int(EnsembleStatistic::pair_fraction)], 0.);
    ensemble.cluster_count = ClusterCount::single_linkage;
    c = EnsembleStatistics(ensemble, tokens).measure(chain);
    EXPECT_EQ(c[int(EnsembleStatistic::clusters)], 1.);
  }

  TEST(EnsembleStatistics, GramRankIsTheExactRank)
  {
    // Random points on S^2 at several thresholds: the rank of the 0/1
    // matrix against exact integer elimination; 70 points need two words
    // per row.
    for (const std::size_t n : {5, 12, 70})
      for (const double threshold : {-0.5, 0., 0.5, 0.9})
        {
          const PointSet points = testing::random_points(3, n, n, true);
          const std::vector<double> gram = gram_of(points);
          std::vector<long long>    a(n * n);
          for (std::size_t i = 0; i < n * n; ++i)
            a[i] = gram[i] >= threshold;
          if (n <= 12)
            EXPECT_EQ(thresholded_gram_rank(gram, n, threshold),
                      exact_rank(a, n))
              << "n = " << n << ", threshold " << threshold;
          else
            {
              // Duplicated points give duplicated rows: the same rank.
              PointSet doubled(3, 2 * n);
              for (std::size_t i = 0; i < 2 * n; ++i)
                for (unsigned int k = 0; k < 3; ++k)
                  doubled[i][k] = points[i % n][k];
              EXPECT_EQ(thresholded_gram_rank(gram_of(doubled),
                                              2 * n,
                                              threshold),
                        thresholded_gram_rank(gram, n, threshold));
            }
        }
  }

  TEST(Ensemble, WritesItsTableIndependentlyOfTheThreads)
  {
    std::string csv[2];
    for (const unsigned int threads : {1u, 2u})
      {
        const std::string file =
          ensemble_file(small_ensemble,
                        "ensemble_threads_" + std::to_string(threads));
        Ensemble           ensemble(file,
                          {"Parallel/number of threads=" +
                                     std::to_string(threads)});
        std::ostringstream log;
        ensemble.run(log);
        const std::filesystem::path output =
          std::filesystem::path(file).parent_path() / "output";
        std::ifstream     in(output / "ensemble.csv");
        std::stringstream text;
        text << in.rdbuf();
        csv[threads - 1] = text.str();
        EXPECT_TRUE(std::filesystem::exists(output / "parameters.prm"));
        EXPECT_TRUE(std::filesystem::exists(output / "ensemble.gp"));
        EXPECT_FALSE(std::filesystem::exists(output / "final_tokens.csv"));
      }
    EXPECT_EQ(csv[0], csv[1]);
    std::istringstream       lines(csv[0]);
    std::string              line;
    std::vector<std::string> rows;
    while (std::getline(lines, line))
      rows.push_back(line);
    ASSERT_EQ(rows.size(), 1 + 2 * 5 * 4u);
    EXPECT_EQ(rows[0], "value,t,statistic,mean,std");
    EXPECT_EQ(rows[1].rfind("1,0,pair_fraction,", 0), 0u) << rows[1];
    EXPECT_EQ(rows.back().rfind("3,2,order,", 0), 0u) << rows.back();
  }

  TEST(Ensemble, BadEnsemblesAreRefusedBeforeAnythingRuns)
  {
    const std::vector<std::pair<std::string, std::string>> cases = {
      {"Ensemble/sweep=beta", "Ensemble/sweep"},
      {"Ensemble/sweep=Model/betta", "Ensemble/sweep"},
      {"Ensemble/sweep=Model/geometry", "Ensemble/sweep"},
      {"Ensemble/sweep=Ensemble/delta", "Ensemble/sweep"},
      {"Ensemble/values=", "Ensemble/values"},
      {"Ensemble/values=1, x", "Ensemble/values"},
      {"Ensemble/value sign=0", "Ensemble/value sign"},
      {"Ensemble/regeneration interval=1", "Ensemble/regeneration interval"},
      {"Model/geometry=euclidean", "Model/geometry"},
      {"Density/enabled=true", "Density/enabled"},
      {"Tokens/number of tokens=1", "Tokens/number of tokens"},
      {"Model/mask=causal", "Model/mask"},
      {"Model/feed forward=true", "Model/feed forward"}};
    for (const auto &[assignment, parameter] : cases)
      {
        const std::string file =
          ensemble_file(small_ensemble, "ensemble_refused");
        try
          {
            Ensemble ensemble(file, {assignment});
            ADD_FAILURE() << assignment << " was accepted";
          }
        catch (const InputError &error)
          {
            EXPECT_EQ(std::string(error.what()).rfind(parameter + ":", 0), 0u)
              << assignment << ": " << error.what();
          }
        EXPECT_FALSE(std::filesystem::exists(
          std::filesystem::path(file).parent_path() / "output"));
      }
    // Random weights make one head of one layer.
    for (const std::string &assignment :
         {std::string("Model/number of heads=2"),
          std::string("Model/layer durations=1, 1")})
      {
        const std::string file =
          ensemble_file(small_ensemble, "ensemble_refused_heads");
        EXPECT_THROW(Ensemble(file, {"Ensemble/weights=wigner", assignment}),
                     InputError)
          << assignment;
      }
  }
} // namespace attnflow
