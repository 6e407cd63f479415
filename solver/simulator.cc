#include <attnflow/exceptions.h>
#include <attnflow/simulator.h>
#include <attnflow/token_metrics.h>

#include <deal.II/base/table_handler.h>
#include <deal.II/base/timer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace attnflow
{
  Simulator::Simulator(const Parameters &parameters)
      : parameters(parameters)
      , engine(parameters.parallel.n_threads)
      , model(parameters.model)
      , field(model, engine)
      , initial_measure(parameters.initial_condition,
                        model,
                        parameters.density.kde_bandwidth)
      , timer(timing_summary,
              dealii::TimerOutput::never,
              dealii::TimerOutput::wall_times)
  {
    const std::size_t n = parameters.tokens.n_tokens;
    if (n == 0 && !parameters.density.enabled)
      throw InputError("Tokens/number of tokens",
                       "is 0 and Density/enabled = false: nothing to solve");
    const std::filesystem::path directory = parameters.output.directory;
    if (std::filesystem::exists(directory) &&
        !std::filesystem::is_directory(directory))
      throw InputError("Output/directory",
                       "'" + directory.string() +
                         "' exists and is not a directory");
    if (n > 0)
      tokens = std::make_unique<TokenSolver>(model,
                                             parameters.time,
                                             engine,
                                             initial_measure.sample(n));
    if (parameters.density.enabled)
      density = create_density_solver(model,
                                      parameters.density,
                                      engine,
                                      initial_measure,
                                      timer);
  }



  std::string
  Simulator::output_comparison()
  {
    const WeightedPoints density_measure = density->quadrature_measure();
    const WeightedPoints token_measure{tokens->tokens(), tokens->weights()};
    const ComparisonParameters &p        = parameters.comparison;
    std::string                 progress = " | compare:";
    char                        line[64];
    const auto record = [&](const char *column, const double value) {
      table.set(column, value);
      std::snprintf(line, sizeof(line), "  %s = %.3e", column, value);
      progress += line;
    };

    const unsigned int d = model.dimension;
    if (model.geometry == Geometry::euclidean && d == 1)
      {
        // Exact: the piecewise polynomial density against the tokens.
        const auto                 rho = density->interval_density();
        const std::vector<double> &y   = token_measure.points.coordinates;
        record("w1", wasserstein_1d(*rho, y, token_measure.weights, 1.));
        record("w2", wasserstein_1d(*rho, y, token_measure.weights, 2.));
      }
    else if (model.geometry == Geometry::sphere && d == 2)
      {
        const auto angles = [](const PointSet &points) {
          std::vector<double> theta(points.size());
          for (std::size_t i = 0; i < points.size(); ++i)
            theta[i] = std::atan2(points[i][1], points[i][0]);
          return theta;
        };
        record("w1",
               wasserstein1_circle(angles(density_measure.points),
                                   density_measure.weights,
                                   angles(token_measure.points),
                                   token_measure.weights));
      }
    else
      record(
        "sliced_w2",
        sliced_wasserstein2(density_measure,
                            token_measure,
                            sliced_directions(d, p.sliced_directions, p.seed)));
    record("mmd",
           maximum_mean_discrepancy(density_measure,
                                    token_measure,
                                    p.mmd_bandwidth,
                                    engine));
    return progress;
  }



  void
  Simulator::report_overflow(const std::string &column,
                             const double       value,
                             const double       t)
  {
    if (std::isfinite(value) || !reported_overflows.insert(column).second)
      return;
    std::cerr << "attnflow: warning: " << column << " = " << value
              << " at t = " << t
              << ": the interaction energy exceeds the double range (beta "
                 "times |Q x||K y| above ~709); metrics.csv holds inf in "
                 "this column from here on"
              << std::endl;
  }



  void
  Simulator::remove_earlier_output(const std::filesystem::path &directory)
  {
    // The series files of an earlier run in this folder: a shorter run
    // would otherwise leave stale steps behind its .pvd records.
    for (const auto &entry : std::filesystem::directory_iterator(directory))
      {
        const std::string name = entry.path().filename().string();
        const bool        series =
          (name.rfind("tokens_", 0) == 0 || name.rfind("density_", 0) == 0) &&
          (entry.path().extension() == ".vtu" ||
           entry.path().extension() == ".csv");
        if (series || name == "tokens.pvd" || name == "density.pvd" ||
            name == "metrics.csv")
          std::filesystem::remove(entry.path());
      }
  }



  std::vector<double>
  Simulator::output_times() const
  {
    const double        end      = parameters.time.end_time;
    const double        interval = parameters.time.output_interval;
    std::vector<double> times;
    for (unsigned long k = 0; k * interval < end * (1. - 1e-12); ++k)
      times.push_back(k * interval);
    times.push_back(end);
    return times;
  }



  void
  Simulator::run(std::ostream &log)
  {
    const std::filesystem::path directory = parameters.output.directory;
    create_output_directory(directory);
    remove_earlier_output(directory);
    write_file_atomically(directory / "parameters.prm", [&](std::ostream &out) {
      out << parameters.used_parameter_file;
    });
    if ((parameters.output.write_vtu || parameters.output.write_csv) && tokens)
      token_output = std::make_unique<TokenOutput>(directory,
                                                   parameters.output.write_vtu,
                                                   parameters.output.write_csv);

    log << "attnflow: " << (model.geometry == Geometry::sphere ? "S^" : "R^")
        << (model.geometry == Geometry::sphere ? model.dimension - 1 :
                                                 model.dimension)
        << ", beta = " << model.beta << ", "
        << (model.normalization == Normalization::softmax ? "softmax" :
                                                            "uniform")
        << " attention, " << model.layers[0].heads.size() << " head(s), "
        << model.layers.size() << " layer(s); "
        << (tokens ? tokens->tokens().size() : 0) << " tokens; ";
    if (density)
      {
        log << "density: FE_DGQ(" << parameters.density.degree << "), "
            << density->n_dofs() << " DoFs";
        // A density function is normalised on the mesh: no mass to report.
        if (parameters.initial_condition.type != "function")
          log << ", mass of mu0 on the mesh "
              << density->captured_initial_mass() << " (normalised to 1)";
        log << "; ";
      }
    log << "output in " << directory.string() << "/\n";

    const std::vector<double> times = output_times();
    for (unsigned int index = 0; index < times.size(); ++index)
      {
        if (tokens)
          {
            dealii::TimerOutput::Scope scope(timer, "token integration");
            tokens->advance_to(times[index]);
          }
        if (density)
          // Timed inside: "density field" and "density transport".
          density->advance_to(times[index]);
        dealii::TimerOutput::Scope scope(timer, "metrics and output");
        output(index, log);
      }
    if (tokens && density)
      print_final_comparison(log);
    timer.print_summary();
    log << timing_summary.str();
  }



  void
  Simulator::print_final_comparison(std::ostream &log) const
  {
    // The last row of metrics.csv, side by side (deal.II's TableHandler).
    const std::vector<std::string> &columns = table.columns();
    const std::vector<double>      &last    = table.rows().back();
    const auto                      value   = [&](const std::string &column) {
      const auto at = std::find(columns.begin(), columns.end(), column);
      return at == columns.end() ? std::nan("") : last[at - columns.begin()];
    };
    dealii::TableHandler summary;
    for (const std::string quantity :
         {"energy", "order", "covariance_trace", "clusters"})
      {
        summary.add_value("quantity", quantity);
        summary.add_value("tokens", value(quantity + "_tokens"));
        summary.add_value("density", value(quantity + "_density"));
      }
    summary.set_precision("tokens", 6);
    summary.set_precision("density", 6);
    log << "\nAt t = " << value("t") << ", tokens against density:\n";
    summary.write_text(log, dealii::TableHandler::org_mode_table);
    log << "distances:";
    for (const char *distance : {"w1", "w2", "sliced_w2", "mmd"})
      if (std::find(columns.begin(), columns.end(), distance) != columns.end())
        log << "  " << distance << " = " << value(distance);
    log << "\n";
  }



  void
  Simulator::output(const unsigned int index, std::ostream &log)
  {
    const double t = tokens ? tokens->time() : density->time();
    table.set("t", t);
    char line[160];
    std::snprintf(line, sizeof(line), "t = %9.4f", t);
    std::string progress = line;
    if (tokens)
      progress += output_tokens(index);
    if (density)
      progress += output_density(index);
    if (tokens && density)
      progress += output_comparison();
    table.finish_row();
    table.write(std::filesystem::path(parameters.output.directory) /
                "metrics.csv");
    log << progress << std::endl;
  }



  std::string
  Simulator::output_tokens(const unsigned int index)
  {
    const TokenSolver &solver = *tokens;
    const Layer       &layer  = model.layers[model.layer_index(solver.time())];
    const PointStatistics s =
      compute_statistics(solver.tokens(),
                         solver.weights(),
                         parameters.tokens.cluster_radius,
                         parameters.tokens.minimum_cluster_fraction,
                         field,
                         layer);
    const IntegrationStatistics &work = solver.statistics();
    table.set("energy_tokens", s.energy);
    report_overflow("energy_tokens", s.energy, solver.time());
    table.set("order_tokens", s.order);
    table.set("covariance_trace_tokens", s.covariance_trace);
    table.set("clusters_tokens", s.n_clusters);
    for (unsigned int k = 0; k < std::min(model.dimension, 3u); ++k)
      table.set("mean_tokens_" + std::to_string(k + 1), s.mean[k]);
    table.set("steps_tokens", work.n_steps);
    table.set("dt_tokens", work.last_step);
    if (model.geometry == Geometry::sphere)
      table.set("sphere_drift", work.max_projection_change);

    if (token_output)
      token_output->write(index,
                          solver.time(),
                          solver.tokens(),
                          solver.velocity(),
                          s.cluster);

    char line[256];
    std::snprintf(line,
                  sizeof(line),
                  " | tokens: step %6lu  dt = %.2e  energy = %.8e  "
                  "order = %.6f  clusters = %u",
                  work.n_steps,
                  work.last_step,
                  s.energy,
                  s.order,
                  s.n_clusters);
    std::string progress = line;
    if (model.geometry == Geometry::sphere)
      {
        std::snprintf(line,
                      sizeof(line),
                      "  drift = %.1e",
                      work.max_projection_change);
        progress += line;
      }
    return progress;
  }



  std::string
  Simulator::output_density(const unsigned int index)
  {
    const DensityStatistics s = density->statistics();
    table.set("energy_density", s.energy);
    report_overflow("energy_density", s.energy, density->time());
    table.set("mass_density", s.mass);
    table.set("min_density", s.min_density);
    table.set("order_density", s.order);
    table.set("covariance_trace_density", s.covariance_trace);
    table.set("clusters_density", s.n_clusters);
    for (unsigned int k = 0; k < model.dimension; ++k)
      table.set("mean_density_" + std::to_string(k + 1), s.mean[k]);
    if (model.geometry == Geometry::euclidean)
      table.set("mass_outflow", s.mass_outflow);
    table.set("steps_density", s.n_steps);
    if (parameters.density.scheme != DensityScheme::ssp_rk3)
      table.set("linear_iterations_density", s.n_linear_iterations);
    table.set("dt_density", s.last_step);
    if (parameters.output.write_vtu)
      density->write_output(parameters.output.directory, index);

    char line[256];
    std::snprintf(line,
                  sizeof(line),
                  " | density: step %6lu  dt = %.2e  mass = %.15f  "
                  "min rho = %.3e  energy = %.8e  clusters = %u",
                  s.n_steps,
                  s.last_step,
                  s.mass,
                  s.min_density,
                  s.energy,
                  s.n_clusters);
    std::string progress = line;
    if (model.geometry == Geometry::euclidean)
      {
        std::snprintf(line, sizeof(line), "  outflow = %.2e", s.mass_outflow);
        progress += line;
      }
    return progress;
  }
} // namespace attnflow
