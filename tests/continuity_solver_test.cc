/**
 * @file
 * The finite-element solver against the exact cases of doc/theory.md
 * section 3: E1 (translation, L1 convergence rates in 1-D and 2-D), E3
 * (growth rates of the modes of the uniform density on S^1), E4 (on S^2),
 * and the invariants of a clustering run (mass, positivity, the USA
 * energy).
 */
#include <attnflow/continuity_solver.h>

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "gaussian_moments.h"
#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** The solver of the parameter file @p text. */
    template <int dim, int spacedim>
    struct DensityRun
    {
      explicit DensityRun(const std::string              &text,
                          const std::vector<std::string> &overrides = {})
          : parameters(testing::parameters_from(text, "density", overrides))
          , model(parameters.model)
          , measure(parameters.initial_condition,
                    model,
                    parameters.density.kde_bandwidth)
          , timer(std::cout,
                  dealii::TimerOutput::never,
                  dealii::TimerOutput::wall_times)
          , solver(model, parameters.density, engine, measure, timer)
      {}

      Parameters                      parameters;
      Model                           model;
      KernelEngine                    engine;
      InitialMeasure                  measure;
      dealii::TimerOutput             timer;
      ContinuitySolver<dim, spacedim> solver;
    };

    /** The growth rate of the mode @p mode between t = 0 and @p T. */
    template <int dim, int spacedim, typename Mode>
    double
    growth_rate(DensityRun<dim, spacedim> &run,
                const Mode                &mode,
                const double               T)
    {
      const double a0 = run.solver.integrate(mode);
      run.solver.advance_to(T);
      return std::log(run.solver.integrate(mode) / a0) / T;
    }

    std::string
    model_section(const std::string &geometry,
                  const unsigned int d,
                  const double       beta,
                  const std::string &normalization)
    {
      return "subsection Model\n set geometry = " + geometry +
             "\n set dimension = " + std::to_string(d) +
             "\n set beta = " + std::to_string(beta) +
             "\n set normalization = " + normalization + "\nend\n";
    }
  } // namespace

  TEST(ContinuitySolver, CircleModesGrowAtTheBesselRate)
  {
    // E3: rho = 1/(2 pi) + eps cos(k theta) grows like exp(lambda_k t),
    // USA: lambda_k = k^2 I_k(beta)/beta, SA: divided by I_0(beta).
    for (const std::string normalization : {"uniform", "softmax"})
      for (const double beta : {1., 4., 9.})
        for (const unsigned int k : {1u, 2u, 3u, 4u})
          {
            double lambda = k * k * std::cyl_bessel_i(double(k), beta) / beta;
            if (normalization == "softmax")
              lambda /= std::cyl_bessel_i(0., beta);
            const double     T = 1. / lambda;
            DensityRun<1, 2> run(
              model_section("sphere", 2, beta, normalization) +
              "subsection Initial condition\n set type = "
              "function\n set density function = 1 + "
              "0.001*cos(" +
              std::to_string(k) +
              "*theta)\nend\n"
              "subsection Density\n set refinements = 4\n"
              " set time step = " +
              std::to_string(T / 50) + "\nend\n");
            const double measured = growth_rate(
              run,
              [k](const dealii::Point<2> &x) {
                return std::cos(k * std::atan2(x[1], x[0]));
              },
              T);
            EXPECT_NEAR(measured, lambda, 0.01 * lambda)
              << normalization << " beta " << beta << " k " << k;
          }
  }

  TEST(ContinuitySolver, SphereModesGrowAtTheSphericalBesselRate)
  {
    // E4: rho = 1/(4 pi) + eps P_l(z) grows like exp(lambda_l t),
    // USA: lambda_l = l (l+1) i_l(beta)/beta, SA: divided by i_0(beta).
    const auto i = [](const unsigned int l, const double beta) {
      return std::sqrt(M_PI / (2. * beta)) * std::cyl_bessel_i(l + 0.5, beta);
    };
    const std::function<double(double)> legendre[] = {
      [](const double z) { return 3. * z * z - 1.; },
      [](const double z) { return 5. * z * z * z - 3. * z; }};
    const char *expressions[] = {"3*z^2 - 1", "5*z^3 - 3*z"};
    for (const std::string normalization : {"uniform", "softmax"})
      for (const double beta : {1., 4.})
        for (const unsigned int l : {2u, 3u})
          {
            double lambda = l * (l + 1) * i(l, beta) / beta;
            if (normalization == "softmax")
              lambda /= i(0, beta);
            const double     T = 1. / lambda;
            DensityRun<2, 3> run(
              model_section("sphere", 3, beta, normalization) +
              "subsection Initial condition\n set type = "
              "function\n set density function = 1 + 0.001*(" +
              expressions[l - 2] +
              ")\nend\n"
              "subsection Density\n set refinements = 3\n"
              " set time step = " +
              std::to_string(T / 20) + "\nend\n");
            const auto  &P        = legendre[l - 2];
            const double measured = growth_rate(
              run,
              [&P](const dealii::Point<3> &x) { return P(x[2]); },
              T);
            EXPECT_NEAR(measured, lambda, 0.02 * lambda)
              << normalization << " beta " << beta << " l " << l;
          }
  }

  TEST(ContinuitySolver, TranslationConvergesAtOrderKPlusOneIn1D)
  {
    // E1 with beta = 0, V = -1: X = -m(t), m(t) = m0 e^{-t}; the Gaussian
    // N(-0.3, 0.15^2) is translated by m(T) - m0.
    const double T = 1., m0 = -0.3, s = 0.15;
    const auto   exact = [&](const dealii::Point<1> &x) {
      const double m = m0 * std::exp(-T);
      return std::exp(-0.5 * (x[0] - m) * (x[0] - m) / (s * s)) /
             std::sqrt(2. * M_PI * s * s);
    };
    for (const unsigned int degree : {0u, 1u, 2u, 3u})
      {
        std::vector<double> errors;
        for (const unsigned int refinements : {1u, 2u, 3u})
          {
            DensityRun<1, 1> run(
              model_section("euclidean", 1, 0., "softmax") +
                "subsection Initial condition\n set type = gaussian\n"
                " set means = -0.3\n set covariances = 0.0225\nend\n"
                "subsection Density\n set lower corner = -2\n"
                " set upper corner = 2\n set subdivisions = 10\nend\n",
              {"Model/V=-identity",
               "Density/degree=" + std::to_string(degree),
               "Density/refinements=" + std::to_string(refinements)});
            run.solver.advance_to(T);
            errors.push_back(run.solver.l1_distance(exact));
            // Mass is kept, up to what the flow carries out of the box.
            const DensityStatistics s = run.solver.statistics();
            EXPECT_NEAR(s.mass + s.mass_outflow, 1., 1e-12);
          }
        EXPECT_GE(std::log2(errors[1] / errors[2]), degree + 0.5)
          << "k = " << degree << " errors " << errors[0] << " " << errors[1]
          << " " << errors[2];
      }
  }

  TEST(ContinuitySolver, TranslationConvergesAtOrderKPlusOneIn2D)
  {
    // E1 with beta = 0, V a rotation: m(t) = R(t) m0, the Gaussian
    // N(m0, 0.3^2 I) is translated by m(T) - m0.
    const double T = 1., s = 0.3;
    const auto   exact = [&](const dealii::Point<2> &x) {
      const double mx = 0.5 * std::cos(T), my = 0.5 * std::sin(T);
      const double r2 = (x[0] - mx) * (x[0] - mx) + (x[1] - my) * (x[1] - my);
      return std::exp(-0.5 * r2 / (s * s)) / (2. * M_PI * s * s);
    };
    for (const unsigned int degree : {1u, 2u})
      {
        std::vector<double> errors;
        for (const unsigned int refinements : {1u, 2u, 3u})
          {
            DensityRun<2, 2> run(
              model_section("euclidean", 2, 0., "softmax") +
                "subsection Initial condition\n set type = gaussian\n"
                " set means = 0.5, 0\n set covariances = 0.09*identity\nend\n"
                "subsection Density\n set lower corner = -2\n"
                " set upper corner = 2\n set subdivisions = 5\nend\n",
              {"Model/V=0, -1; 1, 0",
               "Density/degree=" + std::to_string(degree),
               "Density/refinements=" + std::to_string(refinements)});
            run.solver.advance_to(T);
            errors.push_back(run.solver.l1_distance(exact));
          }
        EXPECT_GE(std::log2(errors[1] / errors[2]), degree + 0.5)
          << "k = " << degree << " errors " << errors[0] << " " << errors[1]
          << " " << errors[2];
      }
  }

  TEST(ContinuitySolver, ClusteringKeepsMassPositivityAndEnergyAscent)
  {
    // USA with Q = K = V = I sharpens a perturbed density into clusters.
    const auto check = [](DensitySolver &solver, const double T) {
      double previous = solver.statistics().energy;
      for (unsigned int k = 1; k <= 20; ++k)
        {
          solver.advance_to(k * T / 20);
          const DensityStatistics s = solver.statistics();
          EXPECT_NEAR(s.mass, 1., 1e-12);
          EXPECT_GE(s.min_density, 0.);
          EXPECT_GE(s.energy, previous * (1. - 1e-12));
          previous = s.energy;
        }
    };
    DensityRun<1, 2> circle(
      model_section("sphere", 2, 4., "uniform") +
      "subsection Initial condition\n set type = function\n"
      " set density function = 1 + 0.5*cos(3*theta) + "
      "0.3*sin(5*theta)\nend\n"
      "subsection Density\n set degree = 1\n"
      " set refinements = 5\nend\n");
    check(circle.solver, 3.);
    DensityRun<2, 3> sphere(
      model_section("sphere", 3, 4., "uniform") +
      "subsection Initial condition\n set type = function\n"
      " set density function = 1 + 0.5*x*y + 0.4*z\nend\n"
      "subsection Density\n set degree = 1\n"
      " set refinements = 3\nend\n");
    check(sphere.solver, 1.);
  }

  TEST(ContinuitySolver, GaussianMomentsConvergeUnderRefinement)
  {
    // E2 with non-trivial Q and V: the mean and covariance of rho(T)
    // against the (m, S) ODE; their errors shrink at least like h^(k+1).
    const double           beta = 1., T = 0.5;
    const testing::Matrix2 Q = testing::matrix(1., 0.5, 0., 1.),
                           K = testing::matrix(1., 0., 0., 1.),
                           V = testing::matrix(-1., 0.3, 0., -0.5);
    const testing::GaussianMoments exact =
      testing::integrate_moments({{{0.5, -0.2}},
                                  testing::matrix(0.5, 0.1, 0.1, 0.3)},
                                 T,
                                 beta,
                                 Q,
                                 K,
                                 V);
    const unsigned int  degree = 1;
    std::vector<double> errors;
    for (const unsigned int refinements : {2u, 3u})
      {
        DensityRun<2, 2> run(
          model_section("euclidean", 2, beta, "softmax") +
            "subsection Initial condition\n set type = gaussian\n"
            " set means = 0.5, -0.2\n set covariances = 0.5, 0.1; 0.1, "
            "0.3\nend\n"
            "subsection Density\n set lower corner = -4\n"
            " set upper corner = 4\n set subdivisions = 4\nend\n",
          {"Model/Q=1, 0.5; 0, 1",
           "Model/V=-1, 0.3; 0, -0.5",
           "Density/degree=" + std::to_string(degree),
           "Density/refinements=" + std::to_string(refinements)});
        run.solver.advance_to(T);
        const DensityStatistics s     = run.solver.statistics();
        double                  error = 0.;
        for (unsigned int k = 0; k < 2; ++k)
          {
            error = std::max(error, std::abs(s.mean[k] - exact.m[k]));
            for (unsigned int l = 0; l < 2; ++l)
              error = std::max(
                error,
                std::abs(run.solver.integrate([&](const dealii::Point<2> &x) {
                  return (x[k] - s.mean[k]) * (x[l] - s.mean[l]);
                }) - exact.S[k][l]));
          }
        errors.push_back(error);
      }
    EXPECT_LT(errors[1], 0.5 * errors[0]) << errors[0] << " " << errors[1];
    EXPECT_LT(errors[1], 1e-3);
  }

  namespace
  {
    /**
     * Backward Euler (order 1) and Crank–Nicolson (order 2: the field is
     * Picard-iterated to the midpoint) against SSP-RK3 with a small step,
     * for the run @p text, solved with @p preconditioner.
     */
    template <int dim, int spacedim>
    void
    check_implicit_orders(const std::string &text,
                          const std::string &preconditioner)
    {
      // Short enough that the modes stay smooth: the limiter does not act,
      // and only the time discretisations differ.
      const double              T = 0.1;
      DensityRun<dim, spacedim> reference(text, {"Density/time step=0.001"});
      reference.solver.advance_to(T);
      for (const std::string scheme : {"backward euler", "crank nicolson"})
        {
          std::vector<double> distances;
          for (const double dt : {0.01, 0.005})
            {
              DensityRun<dim, spacedim> run(
                text,
                {"Density/time integrator=" + scheme,
                 "Density/time step=" + std::to_string(dt),
                 "Density/picard iterations=3",
                 "Density/preconditioner=" + preconditioner});
              run.solver.advance_to(T);
              distances.push_back(
                run.solver.l1_distance(reference.solver.get_density()));
              EXPECT_NEAR(run.solver.statistics().mass, 1., 1e-12);
            }
          const double order = std::log2(distances[0] / distances[1]);
          EXPECT_GT(order, scheme == "backward euler" ? 0.8 : 1.6)
            << scheme << " with " << preconditioner << ": " << distances[0]
            << " " << distances[1];
        }
    }
  } // namespace

  TEST(ContinuitySolver, ImplicitSchemesApproachTheExplicitOneAsDtShrinks)
  {
    check_implicit_orders<1, 2>(
      model_section("sphere", 2, 4., "uniform") +
        "subsection Initial condition\n set type = function\n"
        " set density function = 1 + 0.2*cos(3*theta)\nend\n"
        "subsection Density\n set degree = 1\n set refinements = 4\nend\n",
      "ilu");
    check_implicit_orders<2, 3>(
      model_section("sphere", 3, 4., "uniform") +
        "subsection Initial condition\n set type = function\n"
        " set density function = 1 + 0.2*x*y + 0.2*z\nend\n"
        "subsection Density\n set degree = 1\n set refinements = 2\nend\n",
      "amg");
  }

  TEST(ContinuitySolver, AdaptiveRefinementFollowsTheClustersAndKeepsMass)
  {
    DensityRun<1, 2> run(model_section("sphere", 2, 4., "uniform") +
                         "subsection Initial condition\n set type = function\n"
                         " set density function = 1 + 0.5*cos(3*theta)\nend\n"
                         "subsection Density\n set degree = 1\n"
                         " set refinements = 4\n set adaptive refinement = "
                         "true\n set max refinement level = 6\nend\n");
    run.solver.advance_to(1.5);
    EXPECT_GT(run.solver.n_adaptations(), 0u);
    const DensityStatistics s = run.solver.statistics();
    EXPECT_NEAR(s.mass, 1., 1e-12);
    EXPECT_GE(s.min_density, 0.);
    EXPECT_EQ(s.n_clusters, 3u);
    // The clusters sit at theta = 0, +-2 pi/3 (the maxima of cos(3 theta)):
    // the cells there are finer than those between them.
    const auto level_at = [&](const double theta) {
      // The level of the cell whose centre is closest to angle theta.
      int    level    = -1;
      double distance = 10.;
      for (const auto &cell :
           run.solver.get_triangulation().active_cell_iterators())
        {
          const dealii::Point<2> c = cell->center();
          const double           d =
            std::abs(std::remainder(std::atan2(c[1], c[0]) - theta, 2 * M_PI));
          if (d < distance)
            {
              distance = d;
              level    = cell->level();
            }
        }
      return level;
    };
    for (const double cluster : {0., 2. * M_PI / 3, -2. * M_PI / 3})
      EXPECT_GT(level_at(cluster), level_at(cluster + M_PI / 3))
        << "cluster at " << cluster;
  }

  TEST(ContinuitySolver, TokensFileGivesAKernelDensityEstimate)
  {
    // Two tokens in R^1 with bandwidth 0.2: rho0 = (N(-0.5, 0.04) +
    // N(0.5, 0.04)) / 2, so int x^2 rho0 = 0.25 + 0.04.
    const auto dir = testing::scratch_directory("kde");
    testing::write_text(dir / "tokens.csv", "-0.5\n0.5\n");
    DensityRun<1, 1> run(model_section("euclidean", 1, 1., "softmax") +
                         "subsection Initial condition\n set type = tokens "
                         "file\n set tokens file = " +
                         (dir / "tokens.csv").string() +
                         "\nend\n"
                         "subsection Density\n set lower corner = -3\n"
                         " set upper corner = 3\n set refinements = 7\n"
                         " set kde bandwidth = 0.2\nend\n");
    EXPECT_NEAR(run.solver.integrate(
                  [](const dealii::Point<1> &x) { return x[0] * x[0]; }),
                0.29,
                1e-8);
    EXPECT_NEAR(run.solver.integrate(
                  [](const dealii::Point<1> &x) { return x[0] > 0 ? 1. : 0.; }),
                0.5,
                1e-12);
  }
} // namespace attnflow
