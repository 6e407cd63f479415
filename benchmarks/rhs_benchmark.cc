/**
 * @file
 * The token right-hand side X[mu_n](x_i), i = 1..n, in pairs per second
 * (doc/theory.md sections 1.2 and 4.1): n tokens uniform on S^{d-1}, weights
 * 1/n, softmax attention with beta = 4 and Q = K = V = I, one
 * AttentionField::evaluate() per iteration on a KernelEngine with 1 or 2
 * threads, Field/method = direct. One evaluation is n^2 (target, source) pairs;
 * the counter "pairs_per_second" is n^2 times the iterations over the
 * wall-clock time.
 *
 * benchmarks/compare_numpy.py runs this program next to benchmarks/numpy_rhs.py
 * and prints the ratio. Besides the Google Benchmark flags, this program
 * takes
 *
 *   --write_check=DIR   writes, for d = 2, 3, 16, 128, the tokens and the
 *                       velocity attnflow computes for them
 *                       (DIR/check_tokens_d<d>.csv,
 * DIR/check_velocity_d<d>.csv, n = 512) and exits, so that numpy_rhs.py --check
 * DIR confirms that both compute the same right-hand side.
 */
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/parameters.h>
#include <attnflow/random.h>

#include <deal.II/base/mpi.h>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "machine_peak.h"

namespace
{
  constexpr double        beta = 4.;
  constexpr std::uint64_t seed = 2024;

  /** The model of the benchmark: sphere, softmax, beta = 4, Q = K = V = I. */
  attnflow::ModelParameters
  model_parameters(const unsigned int d)
  {
    attnflow::ModelParameters parameters;
    parameters.geometry      = attnflow::Geometry::sphere;
    parameters.dimension     = d;
    parameters.beta          = beta;
    parameters.normalization = attnflow::Normalization::softmax;
    parameters.n_heads       = 1;
    parameters.Q             = "identity";
    parameters.K             = "identity";
    parameters.V             = "identity";
    return parameters;
  }

  /**
   * Field/method = direct: the all-pairs kernel engine, which this program
   * measures (method = auto would take the fast expansions of doc/theory.md
   * section 6 on S^1 and S^2).
   */
  attnflow::FieldParameters
  direct_sum()
  {
    attnflow::FieldParameters parameters;
    parameters.method = attnflow::FieldMethodKind::direct;
    return parameters;
  }

  /** @p n tokens uniform on S^{d-1}: standard normal vectors, normalised. */
  attnflow::PointSet
  uniform_tokens(const std::size_t n, const unsigned int d)
  {
    attnflow::RandomGenerator generator(seed, d);
    attnflow::PointSet        tokens(d, n);
    for (std::size_t i = 0; i < n; ++i)
      {
        double norm2 = 0.;
        do
          {
            norm2 = 0.;
            for (unsigned int k = 0; k < d; ++k)
              {
                tokens[i][k] = generator.normal();
                norm2 += tokens[i][k] * tokens[i][k];
              }
        } while (norm2 == 0.);
        const double inverse_norm = 1. / std::sqrt(norm2);
        for (unsigned int k = 0; k < d; ++k)
          tokens[i][k] *= inverse_norm;
      }
    return tokens;
  }

  /**
   * Arguments: n (tokens), d (dimension), threads (of the KernelEngine).
   * Everything but AttentionField::evaluate() happens before the timed loop.
   */
  void
  rhs(benchmark::State &state)
  {
    const std::size_t  n       = state.range(0);
    const unsigned int d       = state.range(1);
    const unsigned int threads = state.range(2);

    const attnflow::Model          model(model_parameters(d));
    const attnflow::KernelEngine   engine(threads);
    const attnflow::AttentionField field(model, engine, direct_sum());
    const attnflow::PointSet       tokens = uniform_tokens(n, d);
    const std::vector<double>      weights(n, 1. / n);
    attnflow::PointSet             velocity;

    for (auto _ : state)
      {
        field.evaluate(model.layers[0], tokens, tokens, weights, velocity);
        benchmark::DoNotOptimize(velocity.coordinates.data());
        benchmark::ClobberMemory();
      }

    // A cheap sanity check of the last result: finite and tangent.
    for (std::size_t i = 0; i < n; ++i)
      {
        double dot = 0.;
        for (unsigned int k = 0; k < d; ++k)
          {
            if (!std::isfinite(velocity[i][k]))
              {
                state.SkipWithError("non-finite velocity");
                return;
              }
            dot += velocity[i][k] * tokens[i][k];
          }
        if (std::abs(dot) > 1e-10)
          {
            state.SkipWithError("velocity not tangent to the sphere");
            return;
          }
      }

    // n^2 pairs per iteration, reported per second of wall-clock time.
    state.counters["pairs_per_second"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(n),
                         benchmark::Counter::kIsIterationInvariantRate);
  }

  /** The --write_check=DIR mode (see the file documentation). */
  void
  write_check(const std::string &directory)
  {
    const std::size_t n = 512;
    for (const unsigned int d : {2u, 3u, 16u, 128u})
      {
        const attnflow::Model          model(model_parameters(d));
        const attnflow::KernelEngine   engine(1);
        const attnflow::AttentionField field(model, engine, direct_sum());
        const attnflow::PointSet       tokens = uniform_tokens(n, d);
        const std::vector<double>      weights(n, 1. / n);
        attnflow::PointSet             velocity;
        field.evaluate(model.layers[0], tokens, tokens, weights, velocity);

        const auto write = [&](const std::string        &name,
                               const attnflow::PointSet &points) {
          const std::string path =
            directory + "/" + name + "_d" + std::to_string(d) + ".csv";
          std::ofstream out(path);
          if (!out)
            throw std::runtime_error("cannot write " + path);
          char buffer[32];
          for (std::size_t i = 0; i < points.size(); ++i)
            for (unsigned int k = 0; k < d; ++k)
              {
                std::snprintf(buffer, sizeof(buffer), "%.17g", points[i][k]);
                out << buffer << (k + 1 < d ? "," : "\n");
              }
        };
        write("check_tokens", tokens);
        write("check_velocity", velocity);
      }
  }
} // namespace



BENCHMARK(rhs)
  ->ArgNames({"n", "d", "threads"})
  ->ArgsProduct({{1024, 2048, 4096, 8192, 16384},
                 {2, 3, 16, 32, 64, 128},
                 {1, 2}})
  ->Unit(benchmark::kMillisecond)
  ->MinTime(0.2)
  ->UseRealTime();



int
main(int argc, char **argv)
{
  // AttentionField shares its targets over the MPI ranks (one here).
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  // Our own flag first; Google Benchmark rejects flags it does not know.
  const std::string check_flag = "--write_check=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], check_flag.c_str(), check_flag.size()) == 0)
      {
        try
          {
            write_check(argv[i] + check_flag.size());
          }
        catch (const std::exception &error)
          {
            std::cerr << "attnflow_benchmark: " << error.what() << std::endl;
            return 1;
          }
        return 0;
      }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::AddCustomContext("machine",
                              attnflow::benchmarks::machine_line(
                                attnflow::benchmarks::measured_fma_peak()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
