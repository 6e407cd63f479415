/**
 * @file
 * The fast field methods against the direct kernel engine (doc/theory.md
 * sections 6.1, 6.2): n tokens uniform on S^1 or S^2, weights 1/n,
 * A = beta I with beta = 4, values v = y (softmax attention, Q = K = V = I);
 * one evaluation of the sums at every token (targets = sources = tokens).
 *
 * The fast side is evaluate_guarded(): the expansion at all n targets plus
 * the direct sum at the targets its guard rejects. The direct side at n^2
 * pairs is too slow at n = 10^6, so it is timed on a sample of the first
 * `--sample` tokens as targets (all n sources) and scaled by n / sample;
 * the same sample gives the largest error of the fast side (relative to
 * S^0, and to S^0 max |v| for the values). The two sides alternate,
 * `--repetitions` times, and the medians are printed with the CPU model.
 *
 * Usage: attnflow_field_methods_benchmark [--n N] [--sample S]
 *        [--repetitions R] [--geometry circle|sphere|both]
 *
 * The per-mode cost in units of one direct pair (the constants of the
 * no-gain refusal in solver/fast_expansions.cc) is printed as well.
 */
#include <attnflow/fast_expansions.h>
#include <attnflow/field_method.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/random.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "machine_peak.h"

namespace
{
  using namespace attnflow;

  /** @p n tokens uniform on S^{d-1}: normal vectors, normalised. */
  PointSet
  uniform_tokens(const std::size_t n, const unsigned int d)
  {
    RandomGenerator random(2024, d);
    PointSet        tokens(d, n);
    for (std::size_t i = 0; i < n; ++i)
      {
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          {
            tokens[i][k] = random.normal();
            norm2 += tokens[i][k] * tokens[i][k];
          }
        for (unsigned int k = 0; k < d; ++k)
          tokens[i][k] /= std::sqrt(norm2);
      }
    return tokens;
  }

  double
  seconds_since(const std::chrono::steady_clock::time_point start)
  {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
      .count();
  }

  double
  median(std::vector<double> x)
  {
    std::sort(x.begin(), x.end());
    const std::size_t n = x.size();
    return n % 2 == 1 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2.;
  }

  /**
   * The largest error of @p fast (all targets) at the first sample targets
   * against @p direct (the sample), relative to S^0 and S^0 max |v|.
   */
  double
  max_error(const KernelSums &fast,
            const KernelSums &direct,
            const double      v_max)
  {
    double error = 0.;
    for (std::size_t i = 0; i < direct.normaliser.size(); ++i)
      {
        const double scale = std::exp(fast.shift[i] - direct.shift[i]);
        error =
          std::max(error,
                   std::abs(scale * fast.normaliser[i] - direct.normaliser[i]) /
                     direct.normaliser[i]);
        for (unsigned int c = 0; c < direct.values.dimension; ++c)
          error =
            std::max(error,
                     std::abs(scale * fast.values[i][c] - direct.values[i][c]) /
                       (direct.normaliser[i] * v_max));
      }
    return error;
  }

  /**
   * One row of the table: @p method at @p n tokens on S^{d-1}, with
   * @p n_modes modes per component (described by @p modes).
   */
  void
  run(const FieldMethod &method,
      const unsigned int d,
      const std::size_t  n,
      const std::size_t  n_sample,
      const unsigned int repetitions,
      const std::string &modes,
      const double       n_modes)
  {
    const double              beta   = 4.;
    const PointSet            tokens = uniform_tokens(n, d);
    const std::vector<double> weights(n, 1. / n);
    std::vector<double>       A(d * d, 0.);
    for (unsigned int k = 0; k < d; ++k)
      A[k * d + k] = beta;
    const double           tolerance = 1e-10;
    const KernelSumProblem problem{tokens,
                                   tokens,
                                   weights,
                                   tokens,
                                   A,
                                   tolerance};

    PointSet sample(d, n_sample);
    std::copy(tokens.coordinates.begin(),
              tokens.coordinates.begin() + n_sample * d,
              sample.coordinates.begin());
    const KernelSumProblem sample_problem{sample,
                                          tokens,
                                          weights,
                                          tokens,
                                          A,
                                          tolerance};

    const KernelEngine  engine(0);
    std::vector<double> fast_times, direct_times;
    KernelSums          fast, direct;
    std::size_t         n_rejected = 0;
    for (unsigned int r = 0; r < repetitions; ++r)
      {
        auto start = std::chrono::steady_clock::now();
        n_rejected = evaluate_guarded(method, problem, engine, fast);
        fast_times.push_back(seconds_since(start));

        start = std::chrono::steady_clock::now();
        evaluate_direct(sample_problem, engine, direct);
        direct_times.push_back(seconds_since(start) * n / n_sample);
      }
    const double t_fast = median(fast_times), t_direct = median(direct_times);
    const double error = max_error(fast, direct, 1.);
    std::printf("| %-16s | %8zu | %-10s | %9.3e | %9.3e | %8.0f | %8.1e | "
                "%zu |\n",
                method.name().c_str(),
                n,
                modes.c_str(),
                t_fast,
                t_direct,
                t_direct / t_fast,
                error,
                n_rejected);
    // Cost per (point, mode, component) in direct pairs.
    std::printf("|   cost per (point, mode, component): %.2f direct pairs\n",
                (t_fast / (2. * n * n_modes * (1. + d))) /
                  (t_direct / (double(n) * n)));
  }
} // namespace



int
main(int argc, char **argv)
{
  std::size_t  n = 1000000, n_sample = 2000;
  unsigned int repetitions = 5;
  std::string  geometry    = "both";
  for (int a = 1; a + 1 < argc; a += 2)
    {
      const std::string flag = argv[a], value = argv[a + 1];
      if (flag == "--n")
        n = std::stoul(value);
      else if (flag == "--sample")
        n_sample = std::stoul(value);
      else if (flag == "--repetitions")
        repetitions = std::stoul(value);
      else if (flag == "--geometry")
        geometry = value;
      else
        {
          std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
          return 1;
        }
    }
  n_sample = std::min(n_sample, n);

  std::printf("%s\n",
              attnflow::benchmarks::machine_line(
                attnflow::benchmarks::measured_fma_peak())
                .c_str());
  std::printf("n tokens uniform, beta = 4, softmax, Q = K = V = I, tolerance "
              "1e-10; medians of %u repetitions; direct timed on %zu "
              "targets and scaled by n / %zu\n\n",
              repetitions,
              n_sample,
              n_sample);
  std::printf("| method           |        n | modes      | fast s    | "
              "direct s  | speed-up | max error | rejected |\n");
  std::printf("|------------------|---------:|------------|----------:|"
              "----------:|---------:|----------:|---------:|\n");
  const std::vector<double> weights(1, 1.);
  if (geometry == "circle" || geometry == "both")
    {
      const CircleFourierMethod method;
      const PointSet            one(2, 1);
      const std::vector<double> A = {4., 0., 0., 4.};
      const KernelSumProblem    p{one, one, weights, one, A, 1e-10};
      const unsigned int        K = method.modes(p).K1;
      run(method,
          2,
          n,
          n_sample,
          repetitions,
          "K1=" + std::to_string(K),
          K + 1.);
    }
  if (geometry == "sphere" || geometry == "both")
    {
      const SphereHarmonicMethod method;
      const PointSet             one(3, 1);
      const std::vector<double>  A = {4., 0., 0., 0., 4., 0., 0., 0., 4.};
      const KernelSumProblem     p{one, one, weights, one, A, 1e-10};
      const unsigned int         L = method.degree(p);
      run(method,
          3,
          n,
          n_sample,
          repetitions,
          "L=" + std::to_string(L),
          (L + 1.) * (L + 1.));
    }
  return 0;
}
