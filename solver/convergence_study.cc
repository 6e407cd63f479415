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

    /** max(max_k |m_k - e_k|, max_kl |S_kl - E_kl|). */
    double
    moment_error(const MeanAndCovariance &a, const MeanAndCovariance &exact)
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
    parse_numbers(study.values, section + "values");
    values = split(study.values, ',');
    if (values.size() < 2)
      throw InputError(section + "values",
                       "give at least two values of " + study.sweep +
                         ", comma-separated, coarsest first");
    if (study.series == "none")
      series_values = {""};
    else
      {
        if (study.series == study.sweep)
          throw InputError(section + "series",
                           "must differ from Convergence/sweep");
        parse_numbers(study.series_values, section + "series values");
        series_values = split(study.series_values, ',');
        if (series_values.empty())
          throw InputError(section + "series values",
                           "give the values of " + study.series);
      }

    const bool finest = !is_metric(study.error) && study.reference == "finest";
    if (finest && study.error.find("moments") != std::string::npos)
      throw InputError(section + "reference",
                       "moments are measured against the exact solution "
                       "only; use reference = exact");
    if (finest && values.size() < 3)
      throw InputError(section + "values",
                       "against the finest run (the last value) give at "
                       "least three values, for two rows and a rate");
    if (finest && study.error == "token positions" &&
        (study.sweep == "Tokens/number of tokens" ||
         study.series == "Tokens/number of tokens"))
      throw InputError(section + "error",
                       "token positions of runs with different numbers of "
                       "tokens cannot be compared; use w1, mmd, ... or "
                       "token moments");

    // Every run's parameters parse (errors name the --set of the value).
    for (unsigned int s = 0; s < series_values.size(); ++s)
      for (unsigned int v = 0; v < values.size(); ++v)
        read_parameters(file, overrides_of(s, v, 0));

    const Parameters first = read_parameters(file, overrides_of(0, 0, 0));
    const bool       needs_density =
      is_metric(study.error) || study.error.rfind("density", 0) == 0;
    const bool needs_tokens =
      is_metric(study.error) || study.error.rfind("token", 0) == 0;
    if (needs_density && !first.density.enabled)
      throw InputError("Density/enabled",
                       "must be true for Convergence/error = " + study.error);
    if ((study.sweep.rfind("Density/", 0) == 0 ||
         study.series.rfind("Density/", 0) == 0) &&
        !first.density.enabled)
      throw InputError("Density/enabled",
                       "must be true to sweep the density's parameters");
    if (needs_tokens && first.tokens.n_tokens == 0)
      throw InputError("Tokens/number of tokens",
                       "must be > 0 for Convergence/error = " + study.error);
    if ((study.sweep == "Time/time step" || study.series == "Time/time step") &&
        first.time.scheme == TimeScheme::dopri5)
      throw InputError("Time/integrator",
                       "dopri5 chooses its own steps; sweep Time/time step "
                       "with rk4 or euler");
    if ((study.sweep == "Density/cfl number" ||
         study.series == "Density/cfl number") &&
        first.density.scheme != DensityScheme::ssp_rk3)
      throw InputError("Density/time integrator",
                       "the implicit schemes take Density/time step, not the "
                       "cfl number; sweep Density/time step");
    if (!is_metric(study.error) && study.reference == "exact")
      {
        const Model          model(first.model);
        const InitialMeasure mu0(first.initial_condition,
                                 model,
                                 first.density.kde_bandwidth);
        const ExactSolution  exact(model, mu0, section + "reference");
        if (study.error == "token positions" && !exact.is_translation())
          throw InputError(section + "reference",
                           "exact token positions are known for beta = 0 "
                           "(E1) only; use reference = finest or error = "
                           "token moments");
      }
    reference_slopes(); // checks Convergence/reference slopes
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
    simulator->run(run_log);
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
    const auto start = std::chrono::steady_clock::now();
    try
      {
        std::filesystem::create_directories(directory / "runs");
      }
    catch (const std::filesystem::filesystem_error &e)
      {
        throw InputError("Output/directory",
                         "cannot create '" + directory.string() +
                           "': " + e.code().message());
      }
    write_file_atomically(directory / "parameters.prm", [&](std::ostream &out) {
      out << parameters.used_parameter_file;
    });

    const bool finest_reference =
      !is_metric(study.error) && study.reference == "finest";
    const unsigned int n_series = series_values.size();
    log << "attnflow convergence study: " << study.sweep << " = "
        << study.values;
    if (study.series != "none")
      log << " for " << study.series << " = " << study.series_values;
    log << ", " << study.n_seeds << " seed(s); error: " << study.error
        << (is_metric(study.error) ?
              " (tokens against density)" :
              " against the " + study.reference + " solution")
        << "; runs in " << (directory / "runs").string() << "\n";

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
              if (!std::isfinite(error))
                throw NumericalError("the error of run " +
                                     label_of(s, v, seed) + " is not finite");
              errors[s][v].push_back(error);
              abscissae[s][v] = abscissa_of(*run, v);
              log << "  " << error_name(s) << " = " << std::scientific
                  << std::setprecision(4) << error << std::defaultfloat << "\n";
            }
        }
    write_tables(log);
    write_plot(log);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
    log << "convergence study: " << std::fixed << std::setprecision(1)
        << seconds << " s; convergence.txt, .tex, .csv, .gp, .dat"
        << (study.plot ? ", .png, .svg" : "") << " in " << directory.string()
        << std::defaultfloat << "\n";
  }



  unsigned int
  ConvergenceStudy::n_rows() const
  {
    const bool finest_reference =
      !is_metric(study.error) && study.reference == "finest";
    return values.size() - (finest_reference ? 1 : 0);
  }



  double
  ConvergenceStudy::error_of(const Simulator &run,
                             const Simulator *finest) const
  {
    if (is_metric(study.error))
      {
        const MetricsTable &table   = run.metrics();
        const auto         &columns = table.columns();
        const auto          column =
          std::find(columns.begin(), columns.end(), study.error);
        if (column == columns.end())
          throw InputError(section + "error",
                           "'" + study.error +
                             "' is not measured here: w1 and w2 in R^1, w1 "
                             "on S^1, sliced_w2 otherwise; mmd always");
        return table.rows().back()[column - columns.begin()];
      }
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
        return moment_error(mean_and_covariance(q.points, q.weights),
                            exact.moments(t));
      }
    if (study.error == "token moments")
      return moment_error(mean_and_covariance(tokens->tokens(),
                                              tokens->weights()),
                          exact.moments(t));
    const PointSet initial =
      run.get_initial_measure().sample(tokens->tokens().size());
    return max_distance(tokens->tokens(), exact.translated_tokens(initial, t));
  }



  double
  ConvergenceStudy::abscissa_of(const Simulator   &run,
                                const unsigned int v) const
  {
    if (study.sweep == "Density/refinements")
      return 1. / run.density_solver()->mesh_size();
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
          slopes[s] = p.density.scheme == DensityScheme::backward_euler ? 1 :
                      p.density.scheme == DensityScheme::crank_nicolson ? 2 :
                                                                          3;
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



  void
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
      return;
    const std::string command =
      "cd '" + directory.string() +
      "' && gnuplot convergence.gp > gnuplot.log 2>&1";
    if (std::system(command.c_str()) != 0)
      {
        log << "attnflow: warning: gnuplot failed (see "
            << (directory / "gnuplot.log").string()
            << "; scripts/setup.sh installs gnuplot-nox): no plot\n";
        return;
      }
    for (const char *plot_file : {"convergence.png", "convergence.svg"})
      std::filesystem::rename(directory / (std::string(plot_file) + ".tmp"),
                              directory / plot_file);
    std::filesystem::remove(directory / "gnuplot.log");
  }
} // namespace attnflow
