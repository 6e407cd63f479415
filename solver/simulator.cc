#include <attnflow/exceptions.h>
#include <attnflow/simulator.h>
#include <attnflow/token_metrics.h>

#include <deal.II/base/timer.h>

#include <cstdio>
#include <filesystem>

namespace attnflow {
  Simulator::Simulator(const Parameters &parameters)
      : parameters(parameters)
      , engine(parameters.parallel.n_threads)
      , model(parameters.model)
      , field(model, engine)
      , initial_measure(parameters.initial_condition, model)
  {
    const std::size_t n = parameters.tokens.n_tokens;
    if (n == 0 && !parameters.density.enabled)
      throw InputError("Tokens/number of tokens",
                       "is 0 and Density/enabled = false: nothing to solve");
    if (n > 0 || initial_measure.is_tokens_file())
      tokens = std::make_unique<TokenSolver>(model,
                                             parameters.time,
                                             engine,
                                             initial_measure.sample(n));
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
    std::filesystem::create_directories(directory);
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
        << (tokens ? tokens->tokens().size() : 0) << " tokens; output in "
        << directory.string() << "/\n";

    dealii::TimerOutput       timer(log,
                              dealii::TimerOutput::summary,
                              dealii::TimerOutput::wall_times);
    const std::vector<double> times = output_times();
    for (unsigned int index = 0; index < times.size(); ++index)
      {
        if (tokens)
          {
            dealii::TimerOutput::Scope scope(timer, "token integration");
            tokens->advance_to(times[index]);
          }
        dealii::TimerOutput::Scope scope(timer, "metrics and output");
        output(index, log);
      }
  }



  void
  Simulator::output(const unsigned int index, std::ostream &log)
  {
    const TokenSolver    &solver = *tokens;
    const double          t      = solver.time();
    const Layer          &layer  = model.layers[model.layer_index(t)];
    const PointStatistics s =
      compute_statistics(solver.tokens(),
                         solver.weights(),
                         parameters.tokens.cluster_radius,
                         field,
                         layer);
    const IntegrationStatistics &work = solver.statistics();

    table.set("t", t);
    table.set("energy_tokens", s.energy);
    table.set("order_tokens", s.order);
    table.set("covariance_trace_tokens", s.covariance_trace);
    table.set("clusters_tokens", s.n_clusters);
    for (unsigned int k = 0; k < std::min(model.dimension, 3u); ++k)
      table.set("mean_tokens_" + std::to_string(k + 1), s.mean[k]);
    table.set("steps", work.n_steps);
    table.set("dt", work.last_step);
    if (model.geometry == Geometry::sphere)
      table.set("sphere_drift", work.max_projection_change);
    table.finish_row();
    table.write(std::filesystem::path(parameters.output.directory) /
                "metrics.csv");

    if (token_output)
      token_output->write(index,
                          t,
                          solver.tokens(),
                          solver.velocity(),
                          s.cluster);

    char line[256];
    std::snprintf(line,
                  sizeof(line),
                  "step %7lu  t = %9.4f  dt = %.2e  energy = %.8e  "
                  "order = %.6f  cov = %.4e  clusters = %u",
                  work.n_steps,
                  t,
                  work.last_step,
                  s.energy,
                  s.order,
                  s.covariance_trace,
                  s.n_clusters);
    log << line;
    if (model.geometry == Geometry::sphere)
      {
        std::snprintf(line,
                      sizeof(line),
                      "  drift = %.1e",
                      work.max_projection_change);
        log << line;
      }
    log << std::endl;
  }
} // namespace attnflow
