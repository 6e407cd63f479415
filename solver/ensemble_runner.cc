#include <attnflow/ensemble.h>
#include <attnflow/initial_measure.h>
#include <attnflow/small_system_field.h>
#include <attnflow/time_integrator.h>
#include <attnflow/token_solver.h>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iomanip>

namespace attnflow
{
  EnsembleRunner::EnsembleRunner(const EnsemblePlan &plan)
      : plan(plan)
  {}



  EnsembleResults
  EnsembleRunner::run(std::ostream &log) const
  {
    EnsembleResults results(plan.n_values(), plan.output_times().size());
    for (unsigned int v = 0; v < plan.n_values(); ++v)
      {
        const auto   start   = std::chrono::steady_clock::now();
        const double steps   = run_value(v, results);
        const double seconds = std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
        const unsigned int last = plan.output_times().size() - 1;
        log << "  " << plan.settings().sweep << " = " << plan.value(v) << ": "
            << plan.settings().n_systems << " systems, " << std::fixed
            << std::setprecision(1) << steps << " steps each, " << seconds
            << " s; at t = " << plan.output_times()[last]
            << std::setprecision(3) << ": first_pair "
            << results.mean(v, last, int(EnsembleStatistic::first_pair))
            << ", clusters "
            << results.mean(v, last, int(EnsembleStatistic::clusters))
            << std::defaultfloat << "\n"
            << std::flush;
      }
    return results;
  }



  double
  EnsembleRunner::run_value(const unsigned int v,
                            EnsembleResults   &results) const
  {
    const Parameters          &run      = plan.value_parameters(v);
    const EnsembleParameters  &ensemble = run.ensemble;
    const Model                model(run.model);
    const SmallSystemField     field(model);
    const EnsembleStatistics   statistics(ensemble, run.tokens);
    const std::vector<double> &times = plan.output_times();
    const unsigned int         d     = model.dimension;
    const bool                 from_file =
      run.initial_condition.type == InitialMeasureType::tokens_file;
    const InitialMeasure file_measure(run.initial_condition,
                                      model,
                                      run.density.kde_bandwidth);

    const unsigned int                        M = ensemble.n_systems;
    std::vector<std::vector<StatisticValues>> samples(
      M,
      std::vector<StatisticValues>(times.size()));
    std::vector<PointSet> &final_tokens = results.final_tokens(v);
    if (ensemble.write_final_tokens)
      final_tokens.assign(M, PointSet(d));
    std::atomic<unsigned long> n_steps(0);

    const auto run_system = [&](const unsigned int m) {
      // The system's own tokens and weights.
      InitialConditionParameters initial = run.initial_condition;
      initial.seed = system_seed(run.initial_condition.seed, m);
      PointSet tokens =
        from_file ? file_measure.sample(0) :
                    InitialMeasure(initial, model, run.density.kde_bandwidth)
                      .sample(run.tokens.n_tokens);
      Model system = model;
      if (ensemble.weights != EnsembleWeights::model)
        system.layers = random_layers(ensemble.weights,
                                      d,
                                      ensemble.value_sign,
                                      ensemble.regeneration_interval,
                                      run.time.end_time,
                                      system_seed(run.model.weights_seed, m));

      std::vector<std::vector<SmallHead>> heads(system.layers.size());
      SmallSystemField::Workspace         workspace;
      TimeIntegrator                      integrator(run.time);
      const TimeIntegrator::Projection    projection =
        [d](TimeIntegrator::State &y) { return project_to_sphere(d, y); };
      samples[m][0] = statistics.measure(tokens);
      for (std::size_t k = 1; k < times.size(); ++k)
        {
          for (const Model::Interval &interval :
               system.intervals(times[k - 1], times[k]))
            {
              std::vector<SmallHead> &layer_heads =
                heads[interval.layer - system.layers.data()];
              if (layer_heads.empty())
                layer_heads = field.prepare(*interval.layer);
              integrator.advance(
                interval.start,
                interval.end,
                tokens.coordinates,
                [&](const double,
                    const TimeIntegrator::State &y,
                    TimeIntegrator::State       &dydt) {
                  field.evaluate(layer_heads, y, dydt, workspace);
                },
                projection);
            }
          samples[m][k] = statistics.measure(tokens);
        }
      n_steps += integrator.statistics().n_steps;
      if (ensemble.write_final_tokens)
        final_tokens[m] = std::move(tokens);
    };

    const auto work = [&]() {
      tbb::parallel_for(tbb::blocked_range<unsigned int>(0, M, 1),
                        [&](const tbb::blocked_range<unsigned int> &range) {
                          for (unsigned int m = range.begin(); m < range.end();
                               ++m)
                            run_system(m);
                        });
    };
    const unsigned int n_threads = run.parallel.n_threads;
    if (n_threads == 0)
      work();
    else
      {
        tbb::task_arena arena(static_cast<int>(n_threads));
        arena.execute(work);
      }
    results.set(v, samples);
    return double(n_steps) / M;
  }
} // namespace attnflow
