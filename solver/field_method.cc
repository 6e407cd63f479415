#include <attnflow/distributed.h>
#include <attnflow/field_method.h>

#include <tbb/task_arena.h>

namespace attnflow
{
  namespace
  {
    /** The keys A y_j of the direct engine. */
    PointSet
    transformed_sources(const KernelSumProblem &problem)
    {
      const unsigned int d = problem.sources.dimension;
      PointSet           keys(d, problem.sources.size());
      for (std::size_t j = 0; j < problem.sources.size(); ++j)
        for (unsigned int r = 0; r < d; ++r)
          {
            double sum = 0.;
            for (unsigned int c = 0; c < d; ++c)
              sum += problem.A[r * d + c] * problem.sources[j][c];
            keys[j][r] = sum;
          }
      return keys;
    }
  } // namespace



  bool
  KernelSumProblem::leaves_the_cost_to_other_ranks() const
  {
    return targets.size() == 0 && n_ranks(communicator) > 1;
  }



  void
  evaluate_direct(const KernelSumProblem &problem,
                  const KernelEngine     &engine,
                  KernelSums             &sums)
  {
    engine.evaluate(problem.targets,
                    transformed_sources(problem),
                    problem.weights,
                    problem.values,
                    sums);
  }



  std::size_t
  evaluate_guarded(const FieldMethod      &method,
                   const KernelSumProblem &problem,
                   const KernelEngine     &engine,
                   KernelSums             &sums)
  {
    std::vector<std::size_t> rejected;
    // The method's threads are the engine's (Parallel/number of threads).
    const auto work = [&] { method.evaluate(problem, sums, rejected); };
    if (engine.n_threads() == 0)
      work();
    else
      {
        tbb::task_arena arena(static_cast<int>(engine.n_threads()));
        arena.execute(work);
      }
    if (rejected.empty())
      return 0;

    const unsigned int d = problem.targets.dimension;
    PointSet           subset(d, rejected.size());
    for (std::size_t r = 0; r < rejected.size(); ++r)
      for (unsigned int c = 0; c < d; ++c)
        subset[r][c] = problem.targets[rejected[r]][c];

    KernelSums direct;
    engine.evaluate(subset,
                    transformed_sources(problem),
                    problem.weights,
                    problem.values,
                    direct);
    const unsigned int n_values = problem.values.dimension;
    for (std::size_t r = 0; r < rejected.size(); ++r)
      {
        const std::size_t i = rejected[r];
        sums.shift[i]       = direct.shift[r];
        sums.normaliser[i]  = direct.normaliser[r];
        for (unsigned int c = 0; c < n_values; ++c)
          sums.values[i][c] = direct.values[r][c];
      }
    return rejected.size();
  }
} // namespace attnflow
