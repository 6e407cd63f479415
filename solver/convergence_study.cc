#include <attnflow/convergence_study.h>
#include <attnflow/exact_solution.h>
#include <attnflow/exceptions.h>
#include <attnflow/output.h>

#include <deal.II/base/convergence_table.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

namespace attnflow
{
  namespace
  {
    const std::string section = "Convergence/";

    /** Whether @p error is a distance between tokens and density. */
    bool
    is_metric(const std::string &error)
    {
      return error == "w1" || error == "w2" || error == "sliced_w2" ||
             error == "mmd";
    }

    /** A short name of a sweepable parameter, for labels and columns. */
    std::string
    short_name(const std::string &parameter)
    {
      if (parameter == "Density/refinements")
        return "refinements";
      if (parameter == "Density/degree")
        return "k";
      if (parameter == "Density/cfl number")
        return "cfl";
      if (parameter == "Tokens/number of tokens")
        return "n";
      return "dt"; // Density/time step, Time/time step
    }

    /** The mean of @p x. */
    double
    mean(const std::vector<double> &x)
    {
      return std::accumulate(x.begin(), x.end(), 0.) / x.size();
    }

    /** The sample standard deviation of @p x (0 for one value). */
    double
    standard_deviation(const std::vector<double> &x)
    {
      if (x.size() < 2)
        return 0.;
      const double m   = mean(x);
      double       sum = 0.;
      for (const double value : x)
        sum += (value - m) * (value - m);
      return std::sqrt(sum / (x.size() - 1));
    }

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

    /** The last output's value of metrics.csv column @p name (NaN: none). */
    double
    final_metric(const Simulator &run, const std::string &name)
    {
      const auto &columns = run.metrics().columns();
      const auto  column  = std::find(columns.begin(), columns.end(), name);
      return column == columns.end() ?
               std::numeric_limits<double>::quiet_NaN() :
               run.metrics().rows().back()[column - columns.begin()];
    }

    /** @p text with LaTeX's special character _ escaped. */
    std::string
    tex_escaped(const std::string &text)
    {
      std::string escaped;
      for (const char c : text)
        escaped += c == '_' ? std::string("\\_") : std::string(1, c);
      return escaped;
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
  } // namespace



  ConvergenceStudy::ConvergenceStudy(const std::string              &file,
                                     const std::vector<std::string> &overrides)
      : file(file)
      , base_overrides(overrides)
      , parameters(read_parameters(file, overrides))
      , study(parameters.convergence)
      , directory(parameters.output.directory)
  {
    check_values();
    const bool finest = against("finest");
    if (finest && study.error.find("moments") != std::string::npos)
      throw InputError(section + "reference",
                       "moments are measured against the exact solution "
                       "only; use reference = exact");
    if (finest && values.size() < 3)
      throw InputError(section + "values",
                       "against the finest run (the last value) give at "
                       "least three values, for two rows and a rate");
    if (finest && study.error == "token positions" &&
        study.sweep == "Tokens/number of tokens")
      throw InputError(section + "error",
                       "token positions of runs with different numbers of "
                       "tokens cannot be compared; use w1, mmd, ... or an "
                       "exact reference with token moments");

    // Every run's parameters parse (errors name the --set of the value) and
    // suit the study.
    for (unsigned int s = 0; s < series_values.size(); ++s)
      for (unsigned int v = 0; v < values.size(); ++v)
        check_run(read_parameters(file, overrides_of(s, v, 0)));
    reference_slopes(); // checks Convergence/reference slopes
  }



  void
  ConvergenceStudy::check_values()
  {
    const std::vector<double> x =
      parse_numbers(study.values, section + "values");
    values = split(study.values, ',');
    if (values.size() < 2)
      throw InputError(section + "values",
                       "give at least two values of " + study.sweep +
                         ", comma-separated, coarsest first");
    // Coarsest first: refinements, degrees and n increase, steps decrease.
    const bool increasing = study.sweep == "Density/refinements" ||
                            study.sweep == "Density/degree" ||
                            study.sweep == "Tokens/number of tokens";
    for (std::size_t v = 1; v < x.size(); ++v)
      if (increasing ? !(x[v] > x[v - 1]) : !(x[v] < x[v - 1]))
        throw InputError(section + "values",
                         "give the values coarsest first, each finer than "
                         "the one before (" +
                           std::string(increasing ? "increasing" :
                                                    "decreasing") +
                           " for " + study.sweep + "), got " + study.values);
    if (study.series == "none")
      {
        series_values = {""};
        return;
      }
    if (study.series == study.sweep)
      throw InputError(section + "series",
                       "must differ from Convergence/sweep");
    std::vector<double> y =
      parse_numbers(study.series_values, section + "series values");
    series_values = split(study.series_values, ',');
    if (series_values.empty())
      throw InputError(section + "series values",
                       "give the values of " + study.series);
    std::sort(y.begin(), y.end());
    if (std::adjacent_find(y.begin(), y.end()) != y.end())
      throw InputError(section + "series values",
                       "values must differ, got " + study.series_values);
  }



  void
  ConvergenceStudy::check_run(const Parameters &run) const
  {
    const std::string error         = study.error;
    const bool        density_error = error.rfind("density", 0) == 0;
    const bool        token_error   = error.rfind("token", 0) == 0;
    const auto        swept         = [this](const std::string &prefix) {
      return study.sweep.rfind(prefix, 0) == 0 ||
             study.series.rfind(prefix, 0) == 0;
    };
    if ((density_error || is_metric(error) || swept("Density/")) &&
        !run.density.enabled)
      throw InputError("Density/enabled",
                       "must be true for Convergence/error = " + error +
                         " and sweep " + study.sweep);
    if ((token_error || is_metric(error)) && run.tokens.n_tokens == 0)
      throw InputError("Tokens/number of tokens",
                       "must be > 0 in every run for Convergence/error = " +
                         error);
    // Sweeps that cannot change the error measured.
    if (swept("Tokens/") &&
        run.initial_condition.type == InitialMeasureType::tokens_file)
      throw InputError(section + "sweep",
                       "with a tokens file every run takes all its tokens: "
                       "Tokens/number of tokens changes nothing");
    if ((swept("Density/") && token_error) ||
        (swept("Time/") && density_error) ||
        (swept("Tokens/") && density_error))
      throw InputError(section + "sweep",
                       study.sweep +
                         (study.series == "none" ?
                            "" :
                            " (series " + study.series + ")") +
                         " does not change Convergence/error = " + error);
    if (swept("Time/time step") && run.time.scheme == TimeScheme::dopri5)
      throw InputError("Time/integrator",
                       "dopri5 chooses its own steps; sweep Time/time step "
                       "with rk4 or euler");
    if (swept("Density/cfl number") &&
        run.density.scheme != DensityScheme::ssp_rk3)
      throw InputError("Density/time integrator",
                       "the implicit schemes take Density/time step, not the "
                       "cfl number; sweep Density/time step");
    const unsigned int d = run.model.dimension;
    const bool line      = run.model.geometry == Geometry::euclidean && d == 1;
    const bool circle    = run.model.geometry == Geometry::sphere && d == 2;
    if ((error == "w1" && !line && !circle) || (error == "w2" && !line) ||
        (error == "sliced_w2" && (line || circle)))
      throw InputError(section + "error",
                       "'" + error +
                         "' is not measured here: w1 and w2 in R^1, w1 on "
                         "S^1, sliced_w2 in R^2, R^3 and on S^2, mmd "
                         "everywhere");
    if (against("exact"))
      {
        const Model          model(run.model);
        const InitialMeasure mu0(run.initial_condition,
                                 model,
                                 run.density.kde_bandwidth);
        const ExactSolution  exact(model, mu0, section + "reference");
        if (error == "token positions" && !exact.is_translation())
          throw InputError(section + "reference",
                           "exact token positions are known for beta = 0 "
                           "(E1) only; use reference = finest or error = "
                           "token moments");
      }
  }



  std::vector<std::string>
  ConvergenceStudy::overrides_of(const unsigned int s,
                                 const unsigned int v,
                                 const unsigned int seed) const
  {
    std::vector<std::string> o = base_overrides;
    o.push_back(study.sweep + "=" + values[v]);
    if (study.series != "none")
      o.push_back(study.series + "=" + series_values[s]);
    o.push_back("Initial condition/seed=" +
                std::to_string(parameters.initial_condition.seed + seed));
    o.push_back("Comparison/seed=" +
                std::to_string(parameters.comparison.seed + seed));
    o.push_back("Output/directory=" +
                (directory / "runs" / label_of(s, v, seed)).string());
    o.push_back("Output/write vtu=false");
    o.push_back("Output/write tokens csv=false");
    return o;
  }



  std::string
  ConvergenceStudy::label_of(const unsigned int s,
                             const unsigned int v,
                             const unsigned int seed) const
  {
    std::string label = short_name(study.sweep) + "_" + values[v];
    if (study.series != "none")
      label += "_" + short_name(study.series) + "_" + series_values[s];
    if (study.n_seeds > 1)
      label +=
        "_seed_" + std::to_string(parameters.initial_condition.seed + seed);
    return label;
  }



  std::unique_ptr<Simulator>
  ConvergenceStudy::run_one(const unsigned int s,
                            const unsigned int v,
                            const unsigned int seed,
                            std::ostream      &log) const
  {
    const auto start     = std::chrono::steady_clock::now();
    auto       simulator = std::make_unique<Simulator>(
      read_parameters(file, overrides_of(s, v, seed)));
    const std::filesystem::path run_directory =
      directory / "runs" / label_of(s, v, seed);
    std::filesystem::create_directories(run_directory);
    std::ofstream run_log(run_directory / "log.txt");
    try
      {
        simulator->run(run_log);
      }
    catch (const NumericalError &e)
      {
        throw NumericalError("run " + label_of(s, v, seed) + " (" +
                             run_directory.string() + "): " + e.what());
      }

    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
    log << "  run " << std::left << std::setw(36) << label_of(s, v, seed)
        << std::right << std::fixed << std::setprecision(1) << std::setw(8)
        << seconds << " s" << std::defaultfloat << std::flush;
    return simulator;
  }



  void
  ConvergenceStudy::run(std::ostream &log)
  {
    const auto start   = std::chrono::steady_clock::now();
    const bool created = !std::filesystem::exists(directory);
    create_output_directory(directory);
    remove_earlier_output();
    try
      {
        std::filesystem::create_directories(directory / "runs");
        write_file_atomically(directory / "parameters.prm",
                              [&](std::ostream &out) {
                                out << parameters.used_parameter_file;
                              });
        run_all(log);
      }
    catch (const InputError &)
      {
        // Bad input found only by a run: leave nothing behind.
        if (created)
          std::filesystem::remove_all(directory);
        else
          {
            remove_earlier_output();
            std::filesystem::remove(directory / "parameters.prm");
          }
        throw;
      }
    write_tables(log);
    const bool   plotted = write_plot(log);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
    log << "convergence study: " << std::fixed << std::setprecision(1)
        << seconds << " s; convergence.txt, .tex, .csv, .gp, .dat"
        << (plotted ? ", .png, .svg" : "") << " in " << directory.string()
        << std::defaultfloat << "\n";
  }



  void
  ConvergenceStudy::remove_earlier_output() const
  {
    std::filesystem::remove_all(directory / "runs");
    for (const char *extension :
         {"txt", "tex", "csv", "gp", "dat", "png", "svg", "png.tmp", "svg.tmp"})
      std::filesystem::remove(directory /
                              ("convergence." + std::string(extension)));
    std::filesystem::remove(directory / "gnuplot.log");
  }



  void
  ConvergenceStudy::run_all(std::ostream &log)
  {
    const bool         finest_reference = against("finest");
    const unsigned int n_series         = series_values.size();
    describe(log);
    abscissae.assign(n_series, std::vector<double>(values.size(), 0.));
    errors.assign(n_series, std::vector<std::vector<double>>(values.size()));
    for (unsigned int s = 0; s < n_series; ++s)
      for (unsigned int seed = 0; seed < study.n_seeds; ++seed)
        {
          std::unique_ptr<Simulator> finest;
          if (finest_reference)
            {
              finest = run_one(s, values.size() - 1, seed, log);
              log << "  (reference)" << std::endl;
            }
          for (unsigned int v = 0; v < n_rows(); ++v)
            {
              const std::unique_ptr<Simulator> run = run_one(s, v, seed, log);
              const double error = error_of(*run, finest.get());
              if (!(error > 0.) || !std::isfinite(error))
                throw InputError(
                  section + "values",
                  "the error of run " + label_of(s, v, seed) + " is " +
                    std::to_string(error) +
                    ": the runs do not differ as the swept value does "
                    "(e.g. the CFL step is below every Density/time step)");
              errors[s][v].push_back(error);
              abscissae[s][v] = abscissa_of(*run, v);
              if (v > 0 && abscissae[s][v] == abscissae[s][v - 1])
                throw InputError(section + "values",
                                 values[v - 1] + " and " + values[v] +
                                   " give the same step (steps are equal "
                                   "pieces of each output interval, at "
                                   "most the value)");
              log << "  " << error_name(s) << " = " << std::scientific
                  << std::setprecision(4) << error << std::defaultfloat
                  << std::endl;
              if (v + 1 == n_rows() && seed == 0)
                check_captured_mass(*run, log);
            }
        }
  }



  void
  ConvergenceStudy::describe(std::ostream &log) const
  {
    log << "attnflow convergence study: " << study.sweep << " = "
        << study.values;
    if (study.series != "none")
      log << " for " << study.series << " = " << study.series_values;
    log << ", " << study.n_seeds << " seed(s); error: " << study.error
        << (is_metric(study.error) ?
              " (tokens against density)" :
              " against the " + study.reference + " solution")
        << "; runs in " << (directory / "runs").string() << "\n";
  }



  unsigned int
  ConvergenceStudy::n_rows() const
  {
    return values.size() - (against("finest") ? 1 : 0);
  }



  bool
  ConvergenceStudy::against(const std::string &reference) const
  {
    return !is_metric(study.error) && study.reference == reference;
  }



  double
  ConvergenceStudy::error_of(const Simulator &run,
                             const Simulator *finest) const
  {
    if (is_metric(study.error))
      return final_metric(run, study.error); // check_run(): it exists
    const DensitySolver *density = run.density_solver();
    const TokenSolver   *tokens  = run.token_solver();
    if (finest != nullptr)
      return study.error == "density L1" ?
               density->l1_distance_to(*finest->density_solver()) :
               max_distance(tokens->tokens(), finest->token_solver()->tokens());

    const double        t = run.get_parameters().time.end_time;
    const ExactSolution exact(run.get_model(),
                              run.get_initial_measure(),
                              section + "reference");
    if (study.error == "density L1")
      {
        const auto   rho  = exact.density(t);
        const double mass = density->captured_initial_mass();
        return density->l1_error(
          [&](const double *x) { return rho(x) / mass; });
      }
    if (study.error == "density moments")
      {
        const WeightedPoints q = density->quadrature_measure();
        return moment_error(weighted_moments(q.points, q.weights),
                            exact.moments(t));
      }
    if (study.error == "token moments")
      return moment_error(weighted_moments(tokens->tokens(), tokens->weights()),
                          exact.moments(t));
    const PointSet initial =
      run.get_initial_measure().sample(tokens->tokens().size());
    return max_distance(tokens->tokens(), exact.translated_tokens(initial, t));
  }



  void
  ConvergenceStudy::check_captured_mass(const Simulator &run, std::ostream &log)
  {
    const DensitySolver *density = run.density_solver();
    if (!against("exact") || density == nullptr)
      return;
    const double outflow = final_metric(run, "mass_outflow");
    const double missing = 1. - density->captured_initial_mass() +
                           (std::isnan(outflow) ? 0. : outflow);
    if (missing > 1e-3)
      throw InputError("Density/lower corner",
                       "the box misses " + std::to_string(missing) +
                         " of the mass of mu(t) in its finest run (cut off "
                         "at t = 0 or lost through the boundary), but the "
                         "exact solution lives on R^d: enlarge the box");
    if (missing > 1e-12 && !warned_about_the_box)
      {
        log << "attnflow: warning: the box misses " << missing
            << " of the mass of mu(t) in the finest run; errors against "
               "the exact solution cannot fall much below that\n";
        warned_about_the_box = true;
      }
  }



  double
  ConvergenceStudy::abscissa_of(const Simulator   &run,
                                const unsigned int v) const
  {
    if (study.sweep == "Density/refinements")
      return 1. / run.density_solver()->mesh_size();
    // The steps taken: equal pieces of each output interval, at most the
    // value swept.
    if (study.sweep == "Time/time step")
      return 1. / final_metric(run, "dt_tokens");
    if (study.sweep == "Density/time step" &&
        run.get_parameters().density.scheme != DensityScheme::ssp_rk3)
      return 1. / final_metric(run, "dt_density");
    const double value = std::stod(values[v]);
    if (study.sweep == "Density/degree" ||
        study.sweep == "Tokens/number of tokens")
      return value;
    return 1. / value;
  }



  std::string
  ConvergenceStudy::abscissa_name() const
  {
    if (study.sweep == "Density/refinements")
      return "1/h";
    if (study.sweep == "Density/cfl number")
      return "1/cfl";
    const std::string name = short_name(study.sweep);
    return name == "dt" ? "1/dt" : name;
  }



  std::string
  ConvergenceStudy::error_name(const unsigned int s) const
  {
    std::string name = study.error == "density L1"      ? "L1" :
                       study.error == "density moments" ? "moments" :
                       study.error == "token positions" ? "positions" :
                       study.error == "token moments"   ? "token moments" :
                                                          study.error;
    if (study.series != "none")
      name += " " + short_name(study.series) + "=" + series_values[s];
    return name;
  }



  double
  ConvergenceStudy::mean_error(const unsigned int s, const unsigned int v) const
  {
    return mean(errors[s][v]);
  }



  double
  ConvergenceStudy::rate(const unsigned int s, const unsigned int v) const
  {
    const double reduction = mean_error(s, v - 1) / mean_error(s, v);
    if (study.sweep == "Density/degree")
      return reduction;
    return std::log(reduction) /
           std::log(abscissae[s][v] / abscissae[s][v - 1]);
  }



  double
  ConvergenceStudy::fitted_order(const unsigned int s) const
  {
    // The slope of log e against log x by least squares, negated.
    double mean_x = 0., mean_y = 0.;
    for (unsigned int v = 0; v < n_rows(); ++v)
      {
        mean_x += std::log(abscissae[s][v]) / n_rows();
        mean_y += std::log(mean_error(s, v)) / n_rows();
      }
    double covariance = 0., variance = 0.;
    for (unsigned int v = 0; v < n_rows(); ++v)
      {
        const double dx = std::log(abscissae[s][v]) - mean_x;
        covariance += dx * (std::log(mean_error(s, v)) - mean_y);
        variance += dx * dx;
      }
    return -covariance / variance;
  }



  std::vector<double>
  ConvergenceStudy::reference_slopes() const
  {
    const double              none = std::numeric_limits<double>::quiet_NaN();
    std::vector<double>       slopes(series_values.size(), none);
    const std::vector<double> given =
      study.reference_slopes == "auto" ?
        std::vector<double>() :
        parse_numbers(study.reference_slopes, section + "reference slopes");
    if (!given.empty())
      {
        if (given.size() != 1 && given.size() != slopes.size())
          throw InputError(section + "reference slopes",
                           "give auto, one slope, or one per series value");
        for (unsigned int s = 0; s < slopes.size(); ++s)
          slopes[s] = given[given.size() == 1 ? 0 : s];
        return slopes;
      }
    for (unsigned int s = 0; s < slopes.size(); ++s)
      {
        const Parameters p = read_parameters(file, overrides_of(s, 0, 0));
        if (study.sweep == "Density/refinements")
          slopes[s] = p.density.degree + 1;
        else if (study.sweep == "Tokens/number of tokens")
          slopes[s] = 0.5;
        else if (study.sweep == "Time/time step")
          slopes[s] = p.time.scheme == TimeScheme::rk4 ? 4 : 1;
        else if (study.sweep != "Density/degree")
          // Crank–Nicolson is second order with two Picard iterations.
          slopes[s] = p.density.scheme == DensityScheme::ssp_rk3 ? 3 :
                      p.density.scheme == DensityScheme::crank_nicolson &&
                          p.density.picard_iterations >= 2 ?
                                                                   2 :
                                                                   1;
      }
    return slopes;
  }



  void
  ConvergenceStudy::write_tables(std::ostream &log) const
  {
    dealii::ConvergenceTable table;
    const std::string        x      = abscissa_name();
    const std::string        swept  = short_name(study.sweep);
    const bool               own_x  = x != swept;
    const bool               spread = study.n_seeds > 1;
    for (unsigned int v = 0; v < n_rows(); ++v)
      {
        if (own_x)
          table.add_value(swept, values[v]);
        table.add_value(x, abscissae[0][v]);
        for (unsigned int s = 0; s < series_values.size(); ++s)
          {
            table.add_value(error_name(s), mean_error(s, v));
            if (spread)
              table.add_value("sd " + error_name(s),
                              standard_deviation(errors[s][v]));
          }
      }
    const bool counted = study.sweep == "Tokens/number of tokens" ||
                         study.sweep == "Density/degree";
    table.set_precision(x, counted ? 0 : 4);
    table.set_scientific(x, study.sweep == "Density/refinements");
    for (unsigned int s = 0; s < series_values.size(); ++s)
      {
        const std::string name = error_name(s);
        table.set_precision(name, 3);
        table.set_scientific(name, true);
        if (spread)
          {
            table.set_precision("sd " + name, 2);
            table.set_scientific("sd " + name, true);
          }
        table.set_tex_caption(name, tex_escaped(name));
        if (spread)
          table.set_tex_caption("sd " + name, tex_escaped("sd " + name));
        if (study.sweep == "Density/degree")
          table.evaluate_convergence_rates(
            name,
            dealii::ConvergenceTable::reduction_rate);
        else
          table.evaluate_convergence_rates(
            name,
            x,
            dealii::ConvergenceTable::reduction_rate_log2,
            1);
        table.set_tex_supercaption(name, tex_escaped(name));
      }

    log << "\n";
    table.write_text(log, dealii::TableHandler::table_with_headers);
    if (study.sweep != "Density/degree" && n_rows() > 2)
      for (unsigned int s = 0; s < series_values.size(); ++s)
        log << "least-squares order over all rows, " << error_name(s) << ": "
            << std::fixed << std::setprecision(2) << fitted_order(s)
            << std::defaultfloat << "\n";
    log << "\n";
    write_file_atomically(
      directory / "convergence.txt",
      [&](std::ostream &out) {
        table.write_text(out, dealii::TableHandler::table_with_headers);
      });
    write_file_atomically(directory / "convergence.tex",
                          [&](std::ostream &out) { table.write_tex(out); });
    write_file_atomically(
      directory / "convergence.csv",
      [&](std::ostream &out) {
        out << (own_x ? swept + "," : "") << x;
        for (unsigned int s = 0; s < series_values.size(); ++s)
          out << "," << error_name(s) << (spread ? ",sd " + error_name(s) : "")
              << ",rate " << error_name(s);
        out << "\n" << std::setprecision(10);
        for (unsigned int v = 0; v < n_rows(); ++v)
          {
            out << (own_x ? values[v] + "," : "") << abscissae[0][v];
            for (unsigned int s = 0; s < series_values.size(); ++s)
              {
                out << "," << mean_error(s, v);
                if (spread)
                  out << "," << standard_deviation(errors[s][v]);
                out << ",";
                if (v > 0)
                  out << rate(s, v);
              }
            out << "\n";
          }
      });
  }



  bool
  ConvergenceStudy::write_plot(std::ostream &log) const
  {
    // The natural abscissa: h, dt, cfl (error falls with it) or n, k.
    const bool inverse = study.sweep != "Tokens/number of tokens" &&
                         study.sweep != "Density/degree";
    const std::string name = study.sweep == "Density/refinements" ? "h" :
                             inverse ? short_name(study.sweep) :
                                       abscissa_name();
    write_file_atomically(
      directory / "convergence.dat",
      [&](std::ostream &out) {
        out << std::setprecision(10);
        for (unsigned int s = 0; s < series_values.size(); ++s)
          {
            out << "# " << error_name(s) << ": " << name << ", mean error, "
                << "standard deviation over seeds\n";
            for (unsigned int v = 0; v < n_rows(); ++v)
              out << (inverse ? 1. / abscissae[s][v] : abscissae[s][v]) << " "
                  << mean_error(s, v) << " " << standard_deviation(errors[s][v])
                  << "\n";
            out << "\n\n";
          }
      });

    const std::vector<double> slopes = reference_slopes();
    write_file_atomically(directory / "convergence.gp", [&](std::ostream &out) {
      out << "# gnuplot convergence.gp (in this folder) draws convergence.png "
             "and .svg\n"
          << "set logscale y\n"
          << (study.sweep == "Density/degree" ? "" : "set logscale x\n")
          << "set format y '10^{%L}'\nset grid\nset key outside right\n"
          << "set xlabel '" << name << "'\nset ylabel '" << study.error
          << (is_metric(study.error) ? " (tokens vs density)" :
                                       " error vs " + study.reference)
          << "'\nset title 'attnflow convergence study: " << study.sweep
          << "'\n";
      out << std::setprecision(10);
      std::string plot = "plot ";
      for (unsigned int s = 0; s < series_values.size(); ++s)
        {
          out << "set linetype " << s + 1 << " lw 2 pt " << 5 + 2 * s << "\n";
          plot += std::string(s ? ", \\\n     " : "") +
                  "'convergence.dat' index " + std::to_string(s) +
                  " using 1:2:3 with yerrorlines lt " + std::to_string(s + 1) +
                  " title '" + error_name(s) + "'";
          if (std::isnan(slopes[s]))
            continue;
          // The reference line C x^(+-p) through the last point.
          const unsigned int last = n_rows() - 1;
          const double       xl =
            inverse ? 1. / abscissae[s][last] : abscissae[s][last];
          const double p = inverse ? slopes[s] : -slopes[s];
          out << "ref" << s << "(x) = " << mean_error(s, last) << " * (x / "
              << xl << ")**(" << p << ")\n";
          std::ostringstream title;
          title << name << "^{" << p << "}";
          plot += ", \\\n     ref" + std::to_string(s) + "(x) lt " +
                  std::to_string(s + 1) + " dt 2 lw 1 title '" + title.str() +
                  "'";
        }
      out << "set terminal pngcairo size 900,600 enhanced font ',11'\n"
          << "set output 'convergence.png.tmp'\n"
          << plot << "\n"
          << "set terminal svg size 900,600 enhanced font ',11'\n"
          << "set output 'convergence.svg.tmp'\nreplot\nset output\n";
    });
    if (!study.plot)
      return false;
    // The folder in single quotes for sh, each ' written as '\''.
    std::string quoted = "'";
    for (const char c : directory.string())
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    const std::string command =
      "cd " + quoted + "' && gnuplot convergence.gp > gnuplot.log 2>&1";
    if (std::system(command.c_str()) != 0)
      {
        log << "attnflow: warning: gnuplot failed (see "
            << (directory / "gnuplot.log").string()
            << "; scripts/setup.sh installs gnuplot-nox): no plot\n";
        for (const char *plot_file :
             {"convergence.png.tmp", "convergence.svg.tmp"})
          std::filesystem::remove(directory / plot_file);
        return false;
      }
    for (const char *plot_file : {"convergence.png", "convergence.svg"})
      std::filesystem::rename(directory / (std::string(plot_file) + ".tmp"),
                              directory / plot_file);
    std::filesystem::remove(directory / "gnuplot.log");
    return true;
  }
} // namespace attnflow
