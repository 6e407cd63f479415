#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/interruption.h>
#include <attnflow/run_limits.h>
#include <attnflow/simulator.h>
#include <attnflow/token_metrics.h>

#include <deal.II/base/table_handler.h>
#include <deal.II/base/timer.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace attnflow
{
  namespace
  {
    /** The files a run reads: the parameter file, a tokens file. */
    std::vector<OutputFolder::Input>
    inputs_of(const Parameters &parameters, const std::string &parameter_file)
    {
      std::vector<OutputFolder::Input> files;
      if (!parameter_file.empty())
        files.push_back({parameter_file, "the parameter file"});
      if (parameters.initial_condition.type == InitialMeasureType::tokens_file)
        files.push_back({parameters.initial_condition.tokens_file,
                         "Initial condition/tokens file"});
      return files;
    }



    /**
     * Whether the run of @p parameters writes a file named @p name into its
     * folder (parameters.prm not if @p keeps_parameter_file).
     */
    bool
    writes(const Parameters  &parameters,
           const bool         keeps_parameter_file,
           const std::string &name)
    {
      const bool with_tokens  = parameters.tokens.n_tokens > 0;
      const bool with_density = parameters.density.enabled;
      const bool vtu          = parameters.output.write_vtu;
      if (name == "metrics.csv" || name == "log.txt" || name == "metrics.gp" ||
          name == "metrics.png" || name == "metrics.svg")
        return true;
      if (name == "parameters.prm")
        return !keeps_parameter_file;
      if (name == "tokens.pvd")
        return with_tokens && vtu;
      if (name == "density.pvd")
        return with_density && vtu;
      // A series file prefix_NNNN.extension of an output index the run has.
      const auto series = [&](const std::string &prefix,
                              const std::string &extension) {
        if (name.rfind(prefix, 0) != 0 ||
            name.size() <= prefix.size() + extension.size() ||
            name.compare(name.size() - extension.size(),
                         extension.size(),
                         extension) != 0)
          return false;
        const std::string digits =
          name.substr(prefix.size(),
                      name.size() - prefix.size() - extension.size());
        if (digits.size() < 4 ||
            digits.find_first_not_of("0123456789") != std::string::npos)
          return false;
        return std::stod(digits) < estimate_run_size(parameters).n_outputs;
      };
      // A piece density_NNNN_RRRR.vtu of the record density_NNNN.pvtu.
      const std::size_t cut = name.rfind('_');
      const std::string rank_part =
        cut == std::string::npos ? "" : name.substr(cut);
      const bool is_piece =
        rank_part.size() > 5 &&
        rank_part.compare(rank_part.size() - 4, 4, ".vtu") == 0 &&
        rank_part.find_first_not_of("0123456789", 1) == rank_part.size() - 4 &&
        series("density_", rank_part);
      return (with_tokens && vtu && series("tokens_", ".vtu")) ||
             (with_tokens && parameters.output.write_csv &&
              series("tokens_", ".csv")) ||
             (with_density && vtu &&
              (series("density_", ".vtu") || series("density_", ".pvtu") ||
               is_piece));
    }

    /**
     * Whether @p parameter_file is the run folder's parameters.prm with
     * exactly the text the run would write: rerunning a folder's own
     * parameters.prm keeps it; changed parameters would overwrite it, which
     * OutputFolder refuses.
     */
    bool
    is_kept_parameter_file(const Parameters  &parameters,
                           const std::string &parameter_file)
    {
      std::error_code error;
      if (parameter_file.empty() ||
          !std::filesystem::equivalent(parameter_file,
                                       std::filesystem::path(
                                         parameters.output.directory) /
                                         "parameters.prm",
                                       error))
        return false;
      std::ostringstream text;
      text << std::ifstream(parameter_file).rdbuf();
      return text.str() == parameters.used_parameter_file;
    }

    /** Checks the limits of the machine and the run folder. */
    void
    check_limits_and_folder(const Parameters  &parameters,
                            const std::string &parameter_file)
    {
      check_run_limits(parameters, estimate_run_size(parameters));
      const bool keeps = is_kept_parameter_file(parameters, parameter_file);
      OutputFolder::check(parameters.output.directory,
                          inputs_of(parameters, parameter_file),
                          [&](const std::string &name) {
                            return writes(parameters, keeps, name);
                          });
    }
  } // namespace



  void
  Simulator::check(const Parameters  &parameters,
                   const std::string &parameter_file,
                   const MPI_Comm     communicator)
  {
    on_root(communicator,
            [&]() { check_limits_and_folder(parameters, parameter_file); });
    const Model          model(parameters.model);
    const InitialMeasure mu0(parameters.initial_condition,
                             model,
                             parameters.density.kde_bandwidth);
  }



  Simulator::Simulator(const Parameters  &parameters,
                       const std::string &parameter_file,
                       const MPI_Comm     communicator)
      // The limits and the folder first, before any member allocates.
      : parameters((on_root(communicator,
                            [&]() {
                              check_limits_and_folder(parameters,
                                                      parameter_file);
                            }),
                    parameters))
      , parameter_file(parameter_file)
      , communicator(communicator)
      , engine(parameters.parallel.n_threads)
      , model(parameters.model)
      , field(model, engine, parameters.field, communicator)
      , mmd_methods(
          make_mmd_methods(parameters.field.method, engine.n_threads()))
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
    keeps_parameter_file = is_kept_parameter_file(parameters, parameter_file);
    if (n > 0)
      tokens = std::make_unique<TokenSolver>(model,
                                             parameters.time,
                                             engine,
                                             initial_measure.sample(n),
                                             parameters.field,
                                             communicator);
    if (parameters.density.enabled)
      density = create_density_solver(model,
                                      parameters.density,
                                      engine,
                                      initial_measure,
                                      timer,
                                      parameters.field,
                                      communicator);
  }



  double
  Simulator::distance_between(const Distance        distance,
                              const WeightedPoints &density_measure,
                              const WeightedPoints &token_measure) const
  {
    const ComparisonParameters &p      = parameters.comparison;
    const auto                  angles = [](const PointSet &points) {
      std::vector<double> theta(points.size());
      for (std::size_t i = 0; i < points.size(); ++i)
        theta[i] = std::atan2(points[i][1], points[i][0]);
      return theta;
    };
    switch (distance)
      {
        case Distance::w1:
        case Distance::w2:
          if (model.geometry == Geometry::euclidean)
            // Exact: the piecewise polynomial density against the tokens.
            return wasserstein_1d(*density->interval_density(),
                                  token_measure.points.coordinates,
                                  token_measure.weights,
                                  distance == Distance::w1 ? 1. : 2.);
          // Exact on S^1 too: the density of the angle against the tokens.
          return wasserstein1_circle(*density->interval_density(),
                                     angles(token_measure.points),
                                     token_measure.weights);
        case Distance::sliced_w2:
          return sliced_wasserstein2(density_measure,
                                     token_measure,
                                     sliced_directions(model.dimension,
                                                       p.sliced_directions,
                                                       p.seed));
        case Distance::mmd:
          return maximum_mean_discrepancy(density_measure,
                                          token_measure,
                                          p.mmd_bandwidth,
                                          engine,
                                          mmd_methods,
                                          parameters.field.tolerance);
      }
    throw std::logic_error("a distance without a definition");
  }



  std::string
  Simulator::output_comparison()
  {
    const WeightedPoints density_measure = density->quadrature_measure();
    const WeightedPoints token_measure{tokens->tokens(), tokens->weights()};
    std::string          progress = " | compare:";
    char                 line[64];
    const auto           record = [&](const char *column, const double value) {
      table.set(column, value);
      if (column == distance_column)
        progress_values.distance = value;
      std::snprintf(line, sizeof(line), "  %s = %.3e", column, value);
      progress += line;
    };

    const unsigned int d = model.dimension;
    for (const Distance distance : measured_distances(model.geometry, d))
      record(column_name(distance).c_str(),
             distance_between(distance, density_measure, token_measure));
    return progress;
  }



  void
  Simulator::report_overflow(const std::string &column,
                             const double       value,
                             const double       t)
  {
    if (std::isfinite(value) || !reported_overflows.insert(column).second ||
        !is_root(communicator))
      return;
    std::cerr << "attnflow: warning: " << column << " = " << value
              << " at t = " << t
              << ": the interaction energy exceeds the double range (beta "
                 "times |Q x||K y| above ~709); metrics.csv holds inf in "
                 "this column from here on"
              << std::endl;
  }



  void
  Simulator::print(std::ostream      &log,
                   const std::string &text,
                   const bool         on_screen)
  {
    on_root(communicator, [&]() {
      if (on_screen)
        log << text << std::endl;
      log_file << text << std::endl;
      if (!log_file)
        throw OutputError(folder->path() / "log.txt",
                          io_failure_cause(folder->path() / "log.txt", errno));
    });
  }



  void
  Simulator::plot_metrics(std::ostream &log)
  {
    on_root(communicator, [&]() {
      if (folder && !table.rows().empty())
        attnflow::plot_metrics(*folder, table.columns(), log);
    });
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
    on_root(communicator, [&]() { open_folder(); });
    start_output(log);
    advance_and_output(0, log);
  }



  void
  Simulator::start_output(std::ostream &log)
  {
    const std::filesystem::path directory = parameters.output.directory;
    // The folder and its checkpoints are rank 0's.
    if (parameters.output.checkpoint_interval > 0.)
      on_root(communicator, [&]() {
        checkpoints = std::make_unique<CheckpointFolder>(*folder);
      });
    // The folder and its files are rank 0's.
    if ((parameters.output.write_vtu || parameters.output.write_csv) && tokens)
      on_root(communicator, [&]() {
        token_output =
          std::make_unique<TokenOutput>(*folder,
                                        parameters.output.write_vtu,
                                        parameters.output.write_csv);
      });

    std::ostringstream header;
    header << "attnflow: " << (model.geometry == Geometry::sphere ? "S^" : "R^")
           << (model.geometry == Geometry::sphere ? model.dimension - 1 :
                                                    model.dimension)
           << ", beta = " << model.beta << ", "
           << selection_name(normalization_names, model.normalization)
           << " attention, " << model.layers[0].heads.size() << " head(s)";
    if (model.head_dimension < model.dimension)
      header << " of d_k = " << model.head_dimension;
    if (model.mask.kind == AttentionMask::Kind::causal)
      header << ", causal mask (ALiBi slope " << model.mask.alibi_slope << ")";
    if (model.feed_forward)
      header << ", feed-forward flow ("
             << selection_name(activation_names, model.activation) << ")";
    header << ", " << model.layers.size() << " layer(s); "
           << (tokens ? tokens->tokens().size() : 0) << " tokens; ";
    if (density)
      {
        header << "density: FE_DGQ(" << parameters.density.degree << "), "
               << density->n_dofs() << " DoFs";
        // A density function is normalised on the mesh: no mass to report.
        if (parameters.initial_condition.type != InitialMeasureType::function)
          header << ", mass of mu0 on the mesh "
                 << density->captured_initial_mass() << " (normalised to 1)";
        header << "; ";
      }
    header << "output in " << directory.string() << "/ (full detail in "
           << (directory / "log.txt").string() << ")";
    print(log, header.str(), true);
    if (tokens && density)
      distance_column = column_name(
        measured_distances(model.geometry, model.dimension).front());
    progress = std::make_unique<ProgressReport>(parameters.time.end_time,
                                                tokens != nullptr,
                                                density != nullptr,
                                                distance_column);
    log << progress->header() << std::endl;
  }



  void
  Simulator::advance_and_output(const unsigned int first_index,
                                std::ostream      &log)
  {
    const std::vector<double> times      = output_times();
    const auto                after_step = [&](const bool density_side) {
      return [&, density_side](const double t) {
        const std::string line = progress->step(density_side, t);
        if (!line.empty())
          log << line << std::endl;
        // Without checkpoints nothing is gained by going on to the next
        // output time: a signal stops the run after the step (one process;
        // ranks stop together at output times).
        if (parameters.output.checkpoint_interval == 0. &&
            n_ranks(communicator) == 1)
          if (const int signal = pending_interruption())
            {
              char at[96];
              std::snprintf(at,
                            sizeof(at),
                            "after the step of the %s to t = %.6g",
                            density_side ? "density" : "tokens",
                            t);
              stop(signal, at, log);
            }
      };
    };
    for (unsigned int index = first_index; index < times.size(); ++index)
      {
        progress->begin_interval(index == 0 ? times[0] : times[index - 1],
                                 times[index]);
        if (tokens)
          {
            dealii::TimerOutput::Scope scope(timer, "token integration");
            tokens->advance_to(times[index], after_step(false));
          }
        if (density)
          // Timed inside: "density field" and "density transport".
          density->advance_to(times[index], after_step(true));
        {
          dealii::TimerOutput::Scope scope(timer, "metrics and output");
          output(index, log);
        }
        checkpoint_or_stop(index, times, log);
      }
    if (tokens && density)
      print_final_comparison(log);
    print_field_methods(log);
    timer.print_summary();
    log << timing_summary.str();
  }



  void
  Simulator::open_folder()
  {
    folder =
      std::make_unique<OutputFolder>(parameters.output.directory,
                                     inputs_of(parameters, parameter_file),
                                     [this](const std::string &name) {
                                       return writes(parameters,
                                                     keeps_parameter_file,
                                                     name);
                                     });
    log_file.open(folder->add("log.txt"));
    if (!keeps_parameter_file)
      write_file_atomically(folder->add("parameters.prm"),
                            [&](std::ostream &out) {
                              out << parameters.used_parameter_file;
                            });
  }



  void
  Simulator::print_field_methods(std::ostream &log) const
  {
    const auto print = [&](const char                     *side,
                           const std::vector<std::string> &lines) {
      for (const std::string &line : lines)
        log << "field of the " << side << ": " << line << "\n";
    };
    if (tokens)
      print("tokens", tokens->field_method_report());
    if (density)
      print("density", density->field_method_report());
    for (const std::string &line : mmd_methods.report())
      log << "comparison (mu = density, nu = tokens): " << line << "\n";
  }



  void
  Simulator::print_final_comparison(std::ostream &log)
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
        for (const std::string side : {"tokens", "density"})
          if (quantity == "clusters")
            // A count: printed as an integer.
            summary.add_value(side,
                              static_cast<unsigned int>(
                                value(quantity + "_" + side)));
          else
            summary.add_value(side, value(quantity + "_" + side));
      }
    summary.set_precision("tokens", 6);
    summary.set_precision("density", 6);
    std::ostringstream text;
    text << "\nAt t = " << value("t") << ", tokens against density:\n";
    summary.write_text(text, dealii::TableHandler::org_mode_table);
    text << "distances:";
    for (const char *distance : {"w1", "w2", "sliced_w2", "mmd"})
      if (std::find(columns.begin(), columns.end(), distance) != columns.end())
        text << "  " << distance << " = " << value(distance);
    print(log, text.str(), true);
  }



  void
  Simulator::output(const unsigned int index, std::ostream &log)
  {
    const double t = tokens ? tokens->time() : density->time();
    table.set("t", t);
    progress_values   = ProgressReport::Values();
    progress_values.t = t;
    char line[160];
    std::snprintf(line, sizeof(line), "t = %9.4f", t);
    std::string detail = line;
    if (tokens)
      detail += output_tokens(index);
    if (density)
      detail += output_density(index);
    if (tokens && density)
      detail += output_comparison();
    table.finish_row();
    on_root(communicator, [&]() { table.write(folder->add("metrics.csv")); });
    log << progress->line(progress_values) << std::endl;
    print(log, detail, false);
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
    progress_values.energy_tokens     = s.energy;
    progress_values.order_tokens      = s.order();
    progress_values.clusters_tokens   = s.n_clusters;
    table.set("energy_tokens", s.energy);
    report_overflow("energy_tokens", s.energy, solver.time());
    table.set("order_tokens", s.order());
    table.set("covariance_trace_tokens", s.covariance_trace());
    table.set("clusters_tokens", s.n_clusters);
    for (unsigned int k = 0; k < std::min(model.dimension, 3u); ++k)
      table.set("mean_tokens_" + std::to_string(k + 1), s.mean[k]);
    table.set("steps_tokens", work.n_steps);
    table.set("dt_tokens", work.last_step);
    if (model.geometry == Geometry::sphere)
      table.set("sphere_drift", work.max_projection_change);

    if (parameters.output.write_vtu || parameters.output.write_csv)
      {
        // The field on every rank (each its block), the file on the root.
        const PointSet velocity = solver.velocity();
        on_root(communicator, [&]() {
          token_output->write(index,
                              solver.time(),
                              solver.tokens(),
                              velocity,
                              s.cluster);
        });
      }

    char line[256];
    std::snprintf(line,
                  sizeof(line),
                  " | tokens: step %6lu  dt = %.2e  energy = %.8e  "
                  "order = %.6f  clusters = %u",
                  work.n_steps,
                  work.last_step,
                  s.energy,
                  s.order(),
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
    const DensityStatistics s        = density->statistics();
    progress_values.energy_density   = s.energy;
    progress_values.mass_error       = s.mass - 1.;
    progress_values.clusters_density = s.n_clusters;
    table.set("energy_density", s.energy);
    report_overflow("energy_density", s.energy, density->time());
    table.set("mass_density", s.mass);
    table.set("min_density", s.min_density);
    table.set("order_density", s.order());
    table.set("covariance_trace_density", s.covariance_trace());
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
      {
        on_root(communicator, [&]() {
          for (const std::string &name : density->output_files(index))
            folder->add(name);
          folder->add("density.pvd");
        });
        // The field and a piece on every rank, the record on rank 0.
        density->write_output(parameters.output.directory, index);
      }

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
