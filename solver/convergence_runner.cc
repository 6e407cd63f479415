#include <attnflow/convergence_study.h>
#include <attnflow/distributed.h>
#include <attnflow/exact_solution.h>
#include <attnflow/exceptions.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

namespace attnflow
{
  namespace
  {
    /** max_i |x_i - y_i| (Euclidean norm of each point). */
    double
    max_distance(const PointSet &x, const PointSet &y)
    {
      double distance = 0.;
      for (std::size_t i = 0; i < x.size(); ++i)
        {
          double square = 0.;
          for (unsigned int k = 0; k < x.dimension; ++k)
            square += (x[i][k] - y[i][k]) * (x[i][k] - y[i][k]);
          distance = std::max(distance, std::sqrt(square));
        }
      return distance;
    }

    /** max(max_k |m_k - e_k|, max_kl |S_kl - E_kl|). */
    double
    moment_error(const Moments &a, const Moments &exact)
    {
      double error = 0.;
      for (std::size_t k = 0; k < a.mean.size(); ++k)
        error = std::max(error, std::abs(a.mean[k] - exact.mean[k]));
      for (std::size_t k = 0; k < a.covariance.entries.size(); ++k)
        error = std::max(error,
                         std::abs(a.covariance.entries[k] -
                                  exact.covariance.entries[k]));
      return error;
    }

    /**
     * The distance @p error between tokens and density at the last output
     * of @p run. The Simulator keeps its comparison in its metrics only, so
     * this reads the metrics column of that name (ConvergencePlan checked
     * that the run's geometry measures it).
     */
    double
    final_distance(const Simulator &run, const ConvergenceError error)
    {
      const std::string &name    = selection_name(convergence_errors, error);
      const auto        &columns = run.metrics().columns();
      const auto column = std::find(columns.begin(), columns.end(), name);
      return column == columns.end() ?
               std::numeric_limits<double>::quiet_NaN() :
               run.metrics().rows().back()[column - columns.begin()];
    }
  } // namespace



  ConvergenceRunner::ConvergenceRunner(const ConvergencePlan &plan,
                                       OutputFolder          *folder,
                                       const MPI_Comm         communicator)
      : plan(plan)
      , folder(folder)
      , communicator(communicator)
  {}



  ConvergenceResults
  ConvergenceRunner::run(std::ostream &log)
  {
    const bool finest_reference = plan.against(ConvergenceReference::finest);
    ConvergenceResults results(plan.n_series(),
                               plan.n_rows(),
                               plan.sweep().rate);
    plan.describe(log);
    for (unsigned int s = 0; s < plan.n_series(); ++s)
      for (unsigned int seed = 0; seed < plan.settings().n_seeds; ++seed)
        {
          std::unique_ptr<Simulator> finest;
          if (finest_reference)
            {
              finest = run_one(s, plan.n_values() - 1, seed, log);
              log << "  (reference)" << std::endl;
            }
          for (unsigned int v = 0; v < plan.n_rows(); ++v)
            {
              const std::unique_ptr<Simulator> run = run_one(s, v, seed, log);
              const double error = error_of(*run, finest.get());
              if (!(error > 0.) || !std::isfinite(error))
                throw InputError(
                  "Convergence/values",
                  "the error of run " + plan.label(s, v, seed) + " is " +
                    std::to_string(error) +
                    ": the runs do not differ as the swept value does "
                    "(e.g. the CFL step is below every Density/time step)");
              results.add_error(s, v, error);
              results.set_abscissa(s, v, abscissa_of(*run, v));
              if (v > 0 && results.abscissa(s, v) == results.abscissa(s, v - 1))
                throw InputError("Convergence/values",
                                 plan.value(v - 1) + " and " + plan.value(v) +
                                   " give the same step (steps are equal "
                                   "pieces of each output interval, at "
                                   "most the value)");
              log << "  " << plan.error_name(s) << " = " << std::scientific
                  << std::setprecision(4) << error << std::defaultfloat
                  << std::endl;
              if (v + 1 == plan.n_rows() && seed == 0)
                check_captured_mass(*run, log);
            }
        }
    return results;
  }



  std::unique_ptr<Simulator>
  ConvergenceRunner::run_one(const unsigned int s,
                             const unsigned int v,
                             const unsigned int seed,
                             std::ostream      &log) const
  {
    const auto start = std::chrono::steady_clock::now();
    auto       simulator =
      std::make_unique<Simulator>(plan.run_parameters(s, v, seed),
                                  "",
                                  communicator);
    const std::filesystem::path run_directory = plan.run_directory(s, v, seed);
    // The run folder is the study's; the run writes its own log.txt there.
    on_root(communicator, [&]() {
      folder->add_folder(
        run_directory.lexically_relative(plan.directory()).string());
    });
    std::ostringstream run_log;
    try
      {
        simulator->run(run_log);
      }
    catch (const NumericalError &e)
      {
        throw NumericalError("run " + plan.label(s, v, seed) + " (" +
                             run_directory.string() + "): " + e.what());
      }

    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
    log << "  run " << std::left << std::setw(36) << plan.label(s, v, seed)
        << std::right << std::fixed << std::setprecision(1) << std::setw(8)
        << seconds << " s" << std::defaultfloat << std::flush;
    return simulator;
  }



  double
  ConvergenceRunner::error_of(const Simulator &run,
                              const Simulator *finest) const
  {
    const ConvergenceError error = plan.settings().error;
    if (plan.measures_distance())
      return final_distance(run, error);
    const DensitySolver *density = run.density_solver();
    const TokenSolver   *tokens  = run.token_solver();
    if (finest != nullptr)
      return error == ConvergenceError::density_l1 ?
               density->l1_distance_to(*finest->density_solver()) :
               max_distance(tokens->tokens(), finest->token_solver()->tokens());

    const double        t = run.get_parameters().time.end_time;
    const ExactSolution exact(run.get_model(),
                              run.get_initial_measure(),
                              "Convergence/reference");
    switch (error)
      {
        case ConvergenceError::density_l1:
          {
            const auto   rho  = exact.density(t);
            const double mass = density->captured_initial_mass();
            return density->l1_error(
              [&](const double *x) { return rho(x) / mass; });
          }
        case ConvergenceError::density_moments:
          {
            const WeightedPoints q = density->quadrature_measure();
            return moment_error(weighted_moments(q.points, q.weights),
                                exact.moments(t));
          }
        case ConvergenceError::token_moments:
          return moment_error(weighted_moments(tokens->tokens(),
                                               tokens->weights()),
                              exact.moments(t));
        case ConvergenceError::token_positions:
          {
            const PointSet initial =
              run.get_initial_measure().sample(tokens->tokens().size());
            return max_distance(tokens->tokens(),
                                exact.translated_tokens(initial, t));
          }
        default: // the distances, returned above
          return std::numeric_limits<double>::quiet_NaN();
      }
  }



  double
  ConvergenceRunner::abscissa_of(const Simulator   &run,
                                 const unsigned int v) const
  {
    // The steps taken: equal pieces of each output interval, at most the
    // value swept.
    switch (plan.sweep().abscissa)
      {
        case Sweep::Abscissa::inverse_mesh_size:
          return 1. / run.density_solver()->mesh_size();
        case Sweep::Abscissa::inverse_token_step:
          return 1. / run.token_solver()->statistics().last_step;
        case Sweep::Abscissa::inverse_density_step:
          if (run.get_parameters().density.scheme != DensityScheme::ssp_rk3)
            return 1. / run.density_solver()->statistics().last_step;
          return 1. / std::stod(plan.value(v));
        case Sweep::Abscissa::inverse_value:
          return 1. / std::stod(plan.value(v));
        case Sweep::Abscissa::value:
          break;
      }
    return std::stod(plan.value(v));
  }



  void
  ConvergenceRunner::check_captured_mass(const Simulator &run,
                                         std::ostream    &log)
  {
    const DensitySolver *density = run.density_solver();
    if (!plan.against(ConvergenceReference::exact) || density == nullptr)
      return;
    const double missing = 1. - density->captured_initial_mass() +
                           density->statistics().mass_outflow;
    if (missing > 1e-3)
      throw InputError("Density/lower corner",
                       "the box misses " + std::to_string(missing) +
                         " of the mass of mu(t) in its finest run (cut off "
                         "at t = 0 or lost through the boundary), but the "
                         "exact solution lives on R^d: enlarge the box");
    const double tilted = tilted_mass_outside(run);
    if ((missing > 1e-12 || tilted > 1e-12) && !warned_about_the_box)
      {
        log << "attnflow: warning: the box misses " << missing
            << " of the mass of mu(t)";
        if (tilted > 0.)
          log << " and " << tilted
              << " of the tilted measures its field averages (doc/theory.md "
                 "3.2)";
        log << " in the finest run; errors against the exact solution "
               "cannot fall much below that\n";
        warned_about_the_box = true;
      }
  }



  double
  ConvergenceRunner::tilted_mass_outside(const Simulator &run)
  {
    const Parameters   &parameters = run.get_parameters();
    const ExactSolution exact(run.get_model(),
                              run.get_initial_measure(),
                              "Convergence/reference");
    const Box           box = parse_box(parameters.density.lower_corner,
                              parameters.density.upper_corner,
                              run.get_model().dimension,
                              "Density");
    return std::max(exact.tilted_mass_outside(0., box.lower, box.upper),
                    exact.tilted_mass_outside(parameters.time.end_time,
                                              box.lower,
                                              box.upper));
  }
} // namespace attnflow
