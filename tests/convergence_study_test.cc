/**
 * @file
 * Convergence studies: the exact solutions E1 and E2 against closed forms,
 * the table of sweeps and the plan (section "Convergence" parsed, labels,
 * columns, reference slopes), observed rates of whole studies (DG in h, RK4
 * and backward Euler in dt), the files a study writes, and the errors of
 * bad study sections.
 */
#include <attnflow/convergence_study.h>
#include <attnflow/exact_solution.h>
#include <attnflow/exceptions.h>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** The study file @p text in a scratch folder @p name, and its path. */
    std::string
    study_file(const std::string &text, const std::string &name)
    {
      const std::filesystem::path directory = testing::scratch_directory(name);
      testing::write_text(directory / "study.prm",
                          text + "subsection Output\n set directory = " +
                            (directory / "output").string() + "\nend\n");
      return (directory / "study.prm").string();
    }

    /** The lines of @p path. */
    std::vector<std::string>
    lines_of(const std::filesystem::path &path)
    {
      std::ifstream            in(path);
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);)
        lines.push_back(line);
      return lines;
    }

    /**
     * The run of the parameter text @p text (scratch folder @p name): its
     * model, its initial measure and their exact solution.
     */
    struct ExactCase
    {
      ExactCase(const std::string &text, const std::string &name)
          : parameters(testing::parameters_from(text, name))
          , model(parameters.model)
          , mu0(parameters.initial_condition, model)
          , exact(model, mu0, "test")
      {}

      const Parameters     parameters;
      const Model          model;
      const InitialMeasure mu0;
      const ExactSolution  exact;
    };

    /** E1 in R^1: a Gaussian translated by X = -m (beta = 0, V = -1). */
    const std::string translation_1d =
      "subsection Model\n set geometry = euclidean\n set dimension = 1\n"
      " set beta = 0\n set V = -1\nend\n"
      "subsection Initial condition\n set type = gaussian\n set means = 0.5\n"
      " set covariances = 0.04\nend\n"
      "subsection Tokens\n set number of tokens = 50\nend\n"
      "subsection Density\n set enabled = true\n set lower corner = -2\n"
      " set upper corner = 2\n set degree = 1\nend\n"
      "subsection Time\n set end time = 1\n set output interval = 1\nend\n";
  } // namespace

  TEST(ExactSolution, TranslationFollowsTheMean)
  {
    // E1 in R^2 with V a rotation generator: m(t) = R(t) m0.
    const ExactCase run(
      "subsection Model\n set geometry = euclidean\n set beta = 0\n"
      " set V = 0, -1; 1, 0\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 1, 0.5\nend\n",
      "exact_translation");
    const ExactSolution &exact = run.exact;
    const double         t     = 0.7;
    const Moments        m     = exact.moments(t);
    EXPECT_NEAR(m.mean[0], std::cos(t) - 0.5 * std::sin(t), 1e-13);
    EXPECT_NEAR(m.mean[1], std::sin(t) + 0.5 * std::cos(t), 1e-13);
    const double x[2] = {0.2, -0.3};
    const double y[2] = {0.2 - m.mean[0] + 1., -0.3 - m.mean[1] + 0.5};
    EXPECT_DOUBLE_EQ(exact.density(t)(x), run.mu0.density(y));

    PointSet       tokens = testing::random_points(2, 10, 3);
    const PointSet moved  = exact.translated_tokens(tokens, t);
    const Moments  start =
      weighted_moments(tokens, std::vector<double>(10, 0.1));
    const double shift0 =
      std::cos(t) * start.mean[0] - std::sin(t) * start.mean[1] - start.mean[0];
    for (std::size_t i = 0; i < 10; ++i)
      EXPECT_NEAR(moved[i][0] - tokens[i][0], shift0, 1e-13);
  }

  TEST(ExactSolution, GaussianVarianceDecaysAsInDesign)
  {
    // E2, Q = K = I, V = -I, S0 = s0 I: s(t) = s0 / (1 + 2 beta s0 t).
    const ExactCase run(
      "subsection Model\n set geometry = euclidean\n set beta = 2\n"
      " set V = -1*identity\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 0.3, -0.2\n set covariances = 0.5*identity\nend\n",
      "exact_gaussian");
    const ExactSolution &exact = run.exact;
    const double         t = 1.3, s = 0.5 / (1. + 2. * 2. * 0.5 * t);
    const Moments        m = exact.moments(t);
    EXPECT_NEAR(m.covariance(0, 0), s, 1e-12);
    EXPECT_NEAR(m.covariance(1, 1), s, 1e-12);
    EXPECT_NEAR(m.covariance(0, 1), 0., 1e-15);
    // m' = -m + B m with B = -beta S: m(t) = m0 e^{-t} (1 + 2 beta s0
    // t)^{-1/2}.
    const double factor = std::exp(-t) / std::sqrt(1. + 2. * 2. * 0.5 * t);
    EXPECT_NEAR(m.mean[0], 0.3 * factor, 1e-12);
    EXPECT_NEAR(m.mean[1], -0.2 * factor, 1e-12);
    const double x[2] = {0.1, 0.2};
    const double r2 =
      std::pow(0.1 - m.mean[0], 2) + std::pow(0.2 - m.mean[1], 2);
    EXPECT_NEAR(exact.density(t)(x),
                std::exp(-r2 / (2. * s)) / (2. * M_PI * s),
                1e-12);
  }

  TEST(ExactSolution, TiltedMassOutsideIsBothTailsOnALine)
  {
    // E2 in R^1, beta = 1.5, Q = 2, K = 1: the field at x averages
    // N(m + 3 s x, s), whose mass outside [a, b] is its two tails exactly;
    // their integral against rho by composite Simpson.
    const ExactCase run(
      "subsection Model\n set geometry = euclidean\n set dimension = 1\n"
      " set beta = 1.5\n set Q = 2\n set K = 1\n set V = -1\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 0.3\n set covariances = 0.4\nend\n",
      "exact_tilted_mass");
    const ExactSolution &exact = run.exact;
    const double         a = -2., b = 2.5;
    for (const double t : {0., 0.4})
      {
        const Moments      now     = exact.moments(t);
        const auto         rho     = exact.density(t);
        const double       s       = now.covariance(0, 0);
        const unsigned int n       = 20000;
        const double       h       = (b - a) / n;
        long double        simpson = 0.;
        for (unsigned int i = 0; i <= n; ++i)
          {
            const double x    = a + i * h;
            const double mean = now.mean[0] + 1.5 * 2. * s * x;
            const double tails =
              0.5 * std::erfc((mean - a) / std::sqrt(2. * s)) +
              0.5 * std::erfc((b - mean) / std::sqrt(2. * s));
            const double weight = (i == 0 || i == n) ? 1. : (i % 2 ? 4. : 2.);
            simpson += weight * rho(&x) * tails;
          }
        const double expected = static_cast<double>(simpson * h / 3.);
        EXPECT_GT(expected, 1e-6) << "t = " << t; // a box that cuts off
        EXPECT_NEAR(exact.tilted_mass_outside(t, {a}, {b}),
                    expected,
                    1e-10 * expected)
          << "t = " << t;
      }
  }

  TEST(ExactSolution, TiltedMassOutsideIsZeroForATranslation)
  {
    const ExactCase run(
      "subsection Model\n set geometry = euclidean\n set beta = 0\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 1, 0.5\nend\n",
      "exact_tilted_translation");
    EXPECT_EQ(run.exact.tilted_mass_outside(0.5, {-1., -1.}, {1., 1.}), 0.);
  }

  TEST(ConvergenceSweeps, EveryRowSetsADeclaredEntry)
  {
    // Each sweep's parameter is an entry of the parameter file, named once.
    dealii::ParameterHandler prm;
    Parameters               defaults;
    defaults.add_parameters(prm);
    std::set<std::string> parameters;
    for (const Sweep &sweep : sweeps())
      {
        EXPECT_TRUE(parameters.insert(sweep.parameter).second)
          << sweep.parameter;
        const std::vector<std::string> path = split(sweep.parameter, '/');
        ASSERT_EQ(path.size(), 2u) << sweep.parameter;
        prm.enter_subsection(path[0]);
        EXPECT_NO_THROW(prm.get(path[1])) << sweep.parameter;
        prm.leave_subsection();
      }
    EXPECT_EQ(defaults.convergence.sweep->parameter, "Density/refinements");
    EXPECT_EQ(defaults.convergence.series, nullptr);
  }

  TEST(ConvergenceSweeps, SectionIsParsedIntoTypes)
  {
    const Parameters p = testing::parameters_from(
      "subsection Convergence\n set sweep = Tokens/number of tokens\n"
      " set series = Time/time step\n set error = sliced_w2\n"
      " set reference = finest\n set number of seeds = 3\n"
      " set plot = false\n set values = 10, 20\nend\n",
      "convergence_section");
    const ConvergenceParameters &c = p.convergence;
    EXPECT_EQ(c.sweep->parameter, "Tokens/number of tokens");
    EXPECT_EQ(c.sweep->abscissa_name(), "n");
    ASSERT_NE(c.series, nullptr);
    EXPECT_EQ(c.series->parameter, "Time/time step");
    EXPECT_EQ(c.series->abscissa_name(), "1/dt");
    EXPECT_EQ(c.error, ConvergenceError::sliced_w2);
    EXPECT_EQ(c.reference, ConvergenceReference::finest);
    EXPECT_EQ(c.n_seeds, 3u);
    EXPECT_FALSE(c.plot);
    EXPECT_EQ(c.values, "10, 20");
    // The file used names the values again, so that it reproduces the study.
    EXPECT_NE(p.used_parameter_file.find("Tokens/number of tokens"),
              std::string::npos);
    EXPECT_THROW(
      testing::parameters_from("subsection Convergence\n set error = L2\nend\n",
                               "bad"),
      InputError);
  }

  TEST(ConvergencePlan, LabelsColumnsAndSlopesBeforeAnyRun)
  {
    const std::string file =
      study_file(translation_1d +
                   "subsection Convergence\n set values = 4, 5, 6\n"
                   " set series = Density/degree\n"
                   " set series values = 1, 3\nend\n",
                 "plan_h");
    const ConvergencePlan plan(file, {});
    EXPECT_EQ(plan.n_series(), 2u);
    EXPECT_EQ(plan.n_rows(), 3u); // exact reference: every value a row
    EXPECT_EQ(plan.label(1, 2, 0), "refinements_6_k_3");
    EXPECT_EQ(plan.error_name(0), "L1 k=1");
    EXPECT_EQ(plan.reference_slope(0), 2.); // k + 1
    EXPECT_EQ(plan.reference_slope(1), 4.);
    EXPECT_EQ(plan.run_parameters(1, 2, 0).density.refinements, 6u);
    EXPECT_EQ(plan.run_parameters(1, 2, 0).density.degree, 3u);
    EXPECT_FALSE(plan.measures_distance());
    // Nothing was written.
    EXPECT_FALSE(std::filesystem::exists(plan.directory()));

    const ConvergencePlan euler(
      study_file(translation_1d +
                   "subsection Time\n set integrator = euler\nend\n"
                   "subsection Convergence\n set sweep = Time/time step\n"
                   " set values = 0.1, 0.05, 0.025\n"
                   " set error = token moments\n set number of seeds = 2\n"
                   "end\n",
                 "plan_dt"),
      {});
    EXPECT_EQ(euler.reference_slope(0), 1.);
    EXPECT_EQ(euler.label(0, 1, 1), "dt_0.05_seed_2");
    EXPECT_EQ(euler.run_parameters(0, 1, 1).initial_condition.seed, 2u);
  }

  TEST(ConvergenceStudy, BackwardEulerStepsConvergeAtOrderOne)
  {
    // Density/time step of the implicit scheme against the finest run (same
    // mesh): the abscissa is the step taken, the rate 1.
    const std::string file =
      study_file(translation_1d +
                   "subsection Density\n set refinements = 5\n"
                   " set time integrator = backward euler\nend\n"
                   "subsection Convergence\n set sweep = Density/time step\n"
                   " set values = 0.1, 0.05, 0.025, 0.003125\n"
                   " set reference = finest\n set plot = false\nend\n",
                 "study_density_dt");
    ConvergenceStudy   study(file, {});
    std::ostringstream log;
    study.run(log);
    ASSERT_EQ(study.n_rows(), 3u);
    EXPECT_NEAR(study.rate(0, 2), 1., 0.15) << log.str();
    const std::vector<std::string> csv = lines_of(
      std::filesystem::path(file).parent_path() / "output/convergence.csv");
    ASSERT_EQ(csv.size(), 4u);
    EXPECT_EQ(csv[0], "dt,1/dt,L1,rate L1");
    EXPECT_EQ(split(csv[3], ',')[1], "40"); // 1 / 0.025
  }

  TEST(ConvergenceStudy, DensityL1ConvergesAtOrderKPlusOne)
  {
    const std::string file =
      study_file(translation_1d +
                   "subsection Convergence\n set values = 4, 5, 6, 7\n"
                   " set series = Density/degree\n"
                   " set series values = 1, 2\nend\n",
                 "study_h");
    ConvergenceStudy   study(file, {});
    std::ostringstream log;
    study.run(log);
    ASSERT_EQ(study.n_rows(), 4u);
    for (unsigned int s = 0; s < 2; ++s)
      {
        const double expected = s + 2.;
        EXPECT_NEAR(study.rate(s, 3), expected, 0.15) << log.str();
        EXPECT_NEAR(study.fitted_order(s), expected, 0.3) << log.str();
        for (unsigned int v = 1; v < 4; ++v)
          EXPECT_LT(study.mean_error(s, v), study.mean_error(s, v - 1));
      }

    // The files: the table (text, LaTeX, CSV with the same rates), the
    // plot's data and script, the plot.
    const std::filesystem::path dir =
      std::filesystem::path(file).parent_path() / "output";
    for (const char *name : {"convergence.txt",
                             "convergence.tex",
                             "convergence.gp",
                             "convergence.dat",
                             "convergence.png",
                             "convergence.svg",
                             "parameters.prm",
                             "runs/refinements_4_k_1/metrics.csv"})
      EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
    const std::vector<std::string> csv = lines_of(dir / "convergence.csv");
    ASSERT_EQ(csv.size(), 5u);
    EXPECT_EQ(csv[0], "refinements,1/h,L1 k=1,rate L1 k=1,L1 k=2,rate L1 k=2");
    const std::vector<std::string> last = split(csv[4], ',');
    ASSERT_EQ(last.size(), 6u);
    EXPECT_EQ(last[0], "7");
    EXPECT_NEAR(std::stod(last[1]), 32., 1e-12); // 128 cells on [-2, 2]
    EXPECT_NEAR(std::stod(last[2]),
                study.mean_error(0, 3),
                1e-9 * study.mean_error(0, 3));
    EXPECT_NEAR(std::stod(last[5]), study.rate(1, 3), 1e-8);
    std::ifstream png(dir / "convergence.png", std::ios::binary);
    char          signature[4] = {};
    png.read(signature, 4);
    EXPECT_EQ(std::string(signature + 1, 3), "PNG");
  }

  TEST(ConvergenceStudy, WarnsOfTheTiltedMeasuresTheBoxCutsOff)
  {
    // E2 in R^1 on [-1, 1.3]: the box misses 3e-5 of N(0.5, 0.04), and
    // with beta = 10 the field near x = 1.3 averages N(0.5 + 0.4 x, 0.04),
    // of which far more lies beyond 1.3.
    const std::string file = study_file(
      "subsection Model\n set geometry = euclidean\n set dimension = 1\n"
      " set beta = 10\n set V = -1\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 0.5\n set covariances = 0.04\nend\n"
      "subsection Tokens\n set number of tokens = 0\nend\n"
      "subsection Density\n set enabled = true\n set lower corner = -1\n"
      " set upper corner = 1.3\n set degree = 1\nend\n"
      "subsection Time\n set end time = 0.1\n set output interval = "
      "0.1\nend\n"
      "subsection Convergence\n set values = 2, 3\nend\n",
      "study_tilted_warning");
    ConvergenceStudy   study(file, {});
    std::ostringstream log;
    study.run(log);
    const std::string text   = log.str();
    const std::string mass   = "the box misses ",
                      tilted = " of the mass of mu(t) and ";
    const std::size_t at     = text.find(mass);
    ASSERT_NE(at, std::string::npos) << text;
    const std::size_t at_tilted = text.find(tilted, at);
    ASSERT_NE(at_tilted, std::string::npos) << text;
    EXPECT_NE(text.find(" of the tilted measures its field averages",
                        at_tilted),
              std::string::npos)
      << text;
    const double missing = std::stod(text.substr(at + mass.size()));
    const double cut_off = std::stod(text.substr(at_tilted + tilted.size()));
    EXPECT_GT(cut_off, 10. * missing) << text;
  }

  TEST(ConvergenceStudy, TokenPositionsConvergeAtTheOrderOfRK4)
  {
    // Against the finest run (dt = 1/80) on the sphere: order 4.
    const std::string file = study_file(
      "subsection Model\n set dimension = 3\n set beta = 2\nend\n"
      "subsection Tokens\n set number of tokens = 40\nend\n"
      "subsection Time\n set end time = 1\n set output interval = 1\n"
      " set integrator = rk4\nend\n"
      "subsection Convergence\n set sweep = Time/time step\n"
      " set values = 0.2, 0.1, 0.05, 0.0125\n set error = token positions\n"
      " set reference = finest\n set plot = false\nend\n",
      "study_dt");
    ConvergenceStudy   study(file, {});
    std::ostringstream log;
    study.run(log);
    ASSERT_EQ(study.n_rows(), 3u);
    EXPECT_NEAR(study.rate(0, 2), 4., 0.3) << log.str();
    EXPECT_FALSE(std::filesystem::exists(
      std::filesystem::path(file).parent_path() / "output/convergence.png"));
  }

  TEST(ConvergenceStudy, SeedsGiveMeanAndSpread)
  {
    // E1 token moments: the exact mean and covariance of mu(t) against the
    // empirical ones, ~ n^(-1/2) (sampling error), averaged over 6 seeds.
    const std::string file = study_file(
      translation_1d +
        "subsection Convergence\n set sweep = Tokens/number of tokens\n"
        " set values = 100, 1600\n set error = token moments\n"
        " set number of seeds = 6\n set plot = false\nend\n",
      "study_n");
    ConvergenceStudy   study(file, {});
    std::ostringstream log;
    study.run(log);
    EXPECT_NEAR(study.rate(0, 1), 0.5, 0.2) << log.str();
    const std::vector<std::string> csv = lines_of(
      std::filesystem::path(file).parent_path() / "output/convergence.csv");
    ASSERT_EQ(csv.size(), 3u);
    EXPECT_EQ(csv[0], "n,token moments,sd token moments,rate token moments");
    EXPECT_GT(std::stod(split(csv[1], ',')[2]), 0.); // a spread over seeds
  }

  TEST(ConvergenceStudy, BadStudiesAreRejectedWithoutOutput)
  {
    const auto expect_error = [](const std::string &convergence,
                                 const std::string &named,
                                 const std::string &model = translation_1d) {
      const std::string file =
        study_file(model + "subsection Convergence\n" + convergence + "end\n",
                   "bad");
      try
        {
          ConvergenceStudy   study(file, {});
          std::ostringstream log;
          study.run(log);
          ADD_FAILURE() << "no error for " << convergence;
        }
      catch (const InputError &e)
        {
          EXPECT_NE(std::string(e.what()).find(named), std::string::npos)
            << e.what();
        }
      EXPECT_FALSE(std::filesystem::exists(
        std::filesystem::path(file).parent_path() / "output"));
    };
    expect_error(" set values = 3\n", "Convergence/values");
    expect_error(" set values = 3, x\n", "Convergence/values");
    expect_error(" set values = 3, 4\n set series = Density/refinements\n",
                 "Convergence/series");
    expect_error(" set values = 3, 4, 5\n set error = density moments\n"
                 " set reference = finest\n",
                 "Convergence/reference");
    expect_error(" set values = 3, 4\n set sweep = Density/degree\n",
                 "Density/degree");
    expect_error(" set values = 3, 4\n set reference slopes = 1, 2\n",
                 "Convergence/reference slopes");
    expect_error(" set values = 0.1, 0.05\n set sweep = Time/time step\n"
                 " set error = token positions\n",
                 "Time/integrator");
    expect_error(" set values = 3, 4\n",
                 "Convergence/reference",
                 "subsection Density\n set enabled = true\nend\n");
    expect_error(" set values = 4, 3\n", "Convergence/values");
    expect_error(" set values = 3, 3, 4\n", "Convergence/values");
    expect_error(" set values = 3, 4\n set series = Density/degree\n"
                 " set series values = 1, 1\n",
                 "Convergence/series values");
    expect_error(" set values = 3, 4\n set error = sliced_w2\n",
                 "Convergence/error");
    expect_error(" set sweep = Tokens/number of tokens\n set values = 10, 20\n",
                 "Convergence/sweep");
    expect_error(" set sweep = Density/degree\n set values = 1, 2\n"
                 " set error = token moments\n",
                 "Convergence/sweep");
    expect_error(" set sweep = Tokens/number of tokens\n set values = 0, 10\n"
                 " set error = token moments\n",
                 "Tokens/number of tokens");
    // Found by the first run (the box cuts off 6 % of mu0): still no folder.
    expect_error(" set values = 3, 4\n",
                 "Density/lower corner",
                 translation_1d + "subsection Density\n set lower corner = -1\n"
                                  " set upper corner = 1\nend\n"
                                  "subsection Initial condition\n"
                                  " set covariances = 0.1\nend\n");
    expect_error(" set values = 3, 4\n set error = mmd\n",
                 "Density/enabled",
                 "subsection Model\n set beta = 1\nend\n");
  }
} // namespace attnflow
