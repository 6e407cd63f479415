/**
 * @file
 * What the kernel engine's options cost (Google Benchmark; ratios printed by
 * benchmarks/engine_ratios.py):
 *
 * - `causal_rhs/n/d/threads/mask`: the token right-hand side v_i =
 *   sum_j w_j e^{beta <x_i, x_j>} x_j / sum_j w_j e^{beta <x_i, x_j>},
 *   projected on the tangent space of S^{d-1}, for n tokens uniform on the
 *   sphere, beta = 4, w = 1/n: one KernelEngine::evaluate() plus the
 *   division and projection. mask 0 = none (all n^2 pairs), 1 = causal
 *   (j <= i: n (n + 1) / 2 pairs), 2 = causal with ALiBi slope 1. The
 *   causal sum skips the tiles after the diagonal, so it should cost about
 *   half of the unmasked one.
 * - `heads/n/d/d_k/heads`: one layer of a transformer-shaped model, h heads
 *   of queries and keys Q_h x, K_h x in R^{d_k} and values V_h x in R^d
 *   (prepared before the timed loop: the engine's part only), softmax
 *   attention. The exponent costs d_k per pair and the values d, so
 *   d_k = 64 against d_k = d = 768 should save about (768 + 768) /
 *   (64 + 768) = 1.85x.
 * - `model_heads/n/d/d_k/heads`: the same layer through the whole model,
 *   one AttentionField::evaluate() of a Model with Model/head dimension =
 *   d_k (Q_h, K_h random d_k x d, V_h = I, tokens on S^{d-1}, beta = 1,
 *   the direct engine): what a solver pays per right-hand side, the
 *   projections Q_h x, K_h x included.
 */
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/random.h>

#include <deal.II/base/mpi.h>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "machine_peak.h"

namespace
{
  constexpr std::uint64_t seed = 2024;

  /** @p n points with i.i.d. N(0, @p variance) coordinates in R^@p d. */
  attnflow::PointSet
  gaussian_points(const std::size_t   n,
                  const unsigned int  d,
                  const double        variance,
                  const std::uint64_t stream)
  {
    attnflow::RandomGenerator generator(seed, stream);
    attnflow::PointSet        points(d, n);
    for (double &x : points.coordinates)
      x = std::sqrt(variance) * generator.normal();
    return points;
  }

  /** @p n tokens uniform on S^{d-1}. */
  attnflow::PointSet
  sphere_tokens(const std::size_t n, const unsigned int d)
  {
    attnflow::PointSet tokens = gaussian_points(n, d, 1., d);
    for (std::size_t i = 0; i < n; ++i)
      {
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          norm2 += tokens[i][k] * tokens[i][k];
        for (unsigned int k = 0; k < d; ++k)
          tokens[i][k] /= std::sqrt(norm2);
      }
    return tokens;
  }

  /** Arguments: n, d, threads, mask (0 none, 1 causal, 2 causal + ALiBi). */
  void
  causal_rhs(benchmark::State &state)
  {
    const std::size_t  n       = state.range(0);
    const unsigned int d       = state.range(1);
    const unsigned int threads = state.range(2);
    const int          kind    = state.range(3);

    const attnflow::KernelEngine engine(threads);
    const attnflow::PointSet     tokens  = sphere_tokens(n, d);
    attnflow::PointSet           queries = tokens;
    for (double &x : queries.coordinates)
      x *= 4.;
    const std::vector<double> weights(n, 1. / n);
    attnflow::AttentionMask   mask;
    if (kind > 0)
      mask = {attnflow::AttentionMask::Kind::causal, kind == 2 ? 1. : 0.};
    attnflow::KernelSums sums;
    attnflow::PointSet   velocity(d, n);

    for (auto _ : state)
      {
        engine.evaluate(queries, tokens, weights, tokens, sums, mask);
        for (std::size_t i = 0; i < n; ++i)
          {
            double dot = 0.;
            for (unsigned int k = 0; k < d; ++k)
              {
                velocity[i][k] = sums.values[i][k] / sums.normaliser[i];
                dot += velocity[i][k] * tokens[i][k];
              }
            for (unsigned int k = 0; k < d; ++k)
              velocity[i][k] -= dot * tokens[i][k];
          }
        benchmark::DoNotOptimize(velocity.coordinates.data());
        benchmark::ClobberMemory();
      }
    for (const double v : velocity.coordinates)
      if (!std::isfinite(v))
        {
          state.SkipWithError("non-finite velocity");
          return;
        }
  }

  /** Arguments: n, d, d_k, heads (one thread). */
  void
  heads(benchmark::State &state)
  {
    const std::size_t  n       = state.range(0);
    const unsigned int d       = state.range(1);
    const unsigned int d_k     = state.range(2);
    const unsigned int n_heads = state.range(3);

    // Queries and keys of GPT-2-like size (entries N(0, 1/d_k) so that
    // <q, k> = O(1)), values in R^d.
    const attnflow::KernelEngine    engine(1);
    std::vector<attnflow::PointSet> queries, keys, values;
    for (unsigned int h = 0; h < n_heads; ++h)
      {
        queries.push_back(gaussian_points(n, d_k, 1. / d_k, 3 * h));
        keys.push_back(gaussian_points(n, d_k, 1. / d_k, 3 * h + 1));
        values.push_back(gaussian_points(n, d, 1., 3 * h + 2));
      }
    const std::vector<double> weights(n, 1. / n);
    attnflow::KernelSums      sums;
    attnflow::PointSet        output(d, n);

    for (auto _ : state)
      {
        std::fill(output.coordinates.begin(), output.coordinates.end(), 0.);
        for (unsigned int h = 0; h < n_heads; ++h)
          {
            engine.evaluate(queries[h], keys[h], weights, values[h], sums);
            for (std::size_t i = 0; i < n; ++i)
              for (unsigned int k = 0; k < d; ++k)
                output[i][k] += sums.values[i][k] / sums.normaliser[i];
          }
        benchmark::DoNotOptimize(output.coordinates.data());
        benchmark::ClobberMemory();
      }
  }

  /** Arguments: n, d, d_k, heads (one thread). */
  void
  model_heads(benchmark::State &state)
  {
    const std::size_t  n = state.range(0);
    const unsigned int d = state.range(1);

    attnflow::ModelParameters parameters;
    parameters.dimension      = d;
    parameters.head_dimension = state.range(2);
    parameters.n_heads        = state.range(3);
    parameters.beta           = 1.;
    parameters.Q = parameters.K = "random";
    const attnflow::Model        model(parameters);
    const attnflow::KernelEngine engine(1);
    attnflow::FieldParameters    direct;
    direct.method = attnflow::FieldMethodKind::direct;
    const attnflow::AttentionField field(model, engine, direct);
    attnflow::PointSet             tokens = gaussian_points(n, d, 1., 7);
    for (std::size_t i = 0; i < n; ++i)
      {
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          norm2 += tokens[i][k] * tokens[i][k];
        for (unsigned int k = 0; k < d; ++k)
          tokens[i][k] /= std::sqrt(norm2);
      }
    const std::vector<double> weights(n, 1. / n);
    attnflow::PointSet        velocity;

    for (auto _ : state)
      {
        field.evaluate(model.layers[0], tokens, tokens, weights, velocity);
        benchmark::DoNotOptimize(velocity.coordinates.data());
        benchmark::ClobberMemory();
      }
  }
} // namespace



BENCHMARK(causal_rhs)
  ->ArgNames({"n", "d", "threads", "mask"})
  ->ArgsProduct({{8192}, {3, 16}, {1, 2}, {0, 1, 2}})
  ->Unit(benchmark::kMillisecond)
  ->MinTime(0.3)
  ->UseRealTime();

BENCHMARK(heads)
  ->ArgNames({"n", "d", "d_k", "heads"})
  ->Args({1024, 768, 64, 12})
  ->Args({1024, 768, 768, 12})
  ->Unit(benchmark::kMillisecond)
  ->MinTime(0.5)
  ->UseRealTime();

BENCHMARK(model_heads)
  ->ArgNames({"n", "d", "d_k", "heads"})
  ->Args({1024, 768, 64, 12})
  ->Args({1024, 768, 768, 12})
  ->Unit(benchmark::kMillisecond)
  ->MinTime(0.5)
  ->UseRealTime();

int
main(int argc, char **argv)
{
  // AttentionField shares its targets over the MPI ranks (one here).
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
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
