/**
 * @file
 * The tensor-product method (doc/theory.md section 6.3) and the pruned sum
 * on the sphere (section 6.4) against the direct engine, measured side by
 * side in one run: one field evaluation each, the median CPU time (all
 * threads) of a few repetitions, the speed-up and the largest error against
 * direct.
 *
 *   local_methods_benchmark [--quick]
 *
 * (i) the density-like grid of a uniform DG mesh on [-4, 4]^2 (QGauss(k + 2)
 * cell and face points, as ContinuitySolver builds them), A = beta I,
 * values V y with V = I; (ii) n tokens uniform on S^2, A = c I. Where the
 * direct sum is too long it is timed on a sample of the targets and scaled,
 * and the table says so.
 */
#include <attnflow/field_method.h>
#include <attnflow/sphere_pruned_method.h>
#include <attnflow/tensor_product_method.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <string>

#include "machine_peak.h"
#include "method_points.h"

namespace
{
  using namespace attnflow;

  /** The median wall time of @p repetitions calls of @p f, in seconds. */
  double
  median_time(const std::function<void()> &f, const unsigned int repetitions)
  {
    std::vector<double> times;
    for (unsigned int r = 0; r < repetitions; ++r)
      {
        const auto start = std::chrono::steady_clock::now();
        f();
        times.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
      }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

  /** The targets @p indices of @p points. */
  PointSet
  subset(const PointSet &points, const std::vector<std::size_t> &indices)
  {
    PointSet result(points.dimension, indices.size());
    for (std::size_t r = 0; r < indices.size(); ++r)
      std::copy(points[indices[r]],
                points[indices[r]] + points.dimension,
                result[r]);
    return result;
  }

  /**
   * The largest error of @p sums at the targets @p indices against the
   * direct sums @p direct of those targets (normaliser relative, values
   * relative to normaliser times max |v|).
   */
  double
  max_error(const KernelSums               &sums,
            const std::vector<std::size_t> &indices,
            const KernelSums               &direct,
            const PointSet                 &values)
  {
    double max_v = 0.;
    for (const double v : values.coordinates)
      max_v = std::max(max_v, std::abs(v));
    double error = 0.;
    for (std::size_t r = 0; r < indices.size(); ++r)
      {
        const std::size_t i     = indices[r];
        const double      scale = std::exp(sums.shift[i] - direct.shift[r]);
        error =
          std::max(error,
                   std::abs(scale * sums.normaliser[i] - direct.normaliser[r]) /
                     direct.normaliser[r]);
        for (unsigned int c = 0; c < values.dimension; ++c)
          error =
            std::max(error,
                     std::abs(scale * sums.values[i][c] - direct.values[r][c]) /
                       (direct.normaliser[r] * max_v));
      }
    return error;
  }

  void
  print_row(const std::string &label,
            const std::size_t  n_sources,
            const std::size_t  n_targets,
            const double       fast,
            const double       direct,
            const std::string &direct_note,
            const double       error,
            const std::size_t  n_rejected,
            const std::string &refusal)
  {
    std::cout << "| " << label << " | " << n_sources << " | " << n_targets
              << " | " << std::setprecision(3) << fast << " | " << direct
              << direct_note << " | " << std::setprecision(4) << direct / fast
              << " | " << std::setprecision(2) << error << " | " << n_rejected
              << " | " << (refusal.empty() ? "served" : refusal) << " |"
              << std::endl;
  }

  /** Case (i): the tensor-product method on a DG mesh grid in R^2. */
  void
  mesh_case(const unsigned int n_cells,
            const unsigned int degree,
            const double       beta,
            const unsigned int repetitions)
  {
    const testing::MeshPoints points =
      testing::mesh_points<2>(n_cells, degree, 4., 1);
    const PointSet            values = points.sources; // V = I
    const std::vector<double> A      = {beta, 0., 0., beta};
    const KernelSumProblem    problem{points.targets,
                                   points.sources,
                                   points.weights,
                                   values,
                                   A,
                                   1e-10};
    const TensorProductMethod method;
    const KernelEngine        engine;
    const std::string         refusal = method.refusal(problem);

    KernelSums               sums;
    std::vector<std::size_t> rejected;
    const double             fast =
      median_time([&]() { method.evaluate(problem, sums, rejected); },
                  repetitions);

    // The direct sum on every target up to 10^4 of them, else on a strided
    // sample of about 4096, scaled.
    const std::size_t        n_targets = points.targets.size();
    const std::size_t        stride = n_targets <= 10000 ? 1 : n_targets / 4096;
    std::vector<std::size_t> sample;
    for (std::size_t i = 0; i < n_targets; i += stride)
      sample.push_back(i);
    const PointSet         sample_targets = subset(points.targets, sample);
    const KernelSumProblem sampled{sample_targets,
                                   points.sources,
                                   points.weights,
                                   values,
                                   A,
                                   1e-10};
    KernelSums             direct;
    const double           direct_time =
      median_time([&]() { evaluate_direct(sampled, engine, direct); },
                  repetitions) *
      double(n_targets) / sample.size();
    print_row("R^2 " + std::to_string(n_cells) + "x" + std::to_string(n_cells) +
                " k=" + std::to_string(degree) +
                " beta=" + std::to_string(beta).substr(0, 4),
              points.sources.size(),
              n_targets,
              fast,
              direct_time,
              stride == 1 ? "" : " (sampled)",
              max_error(sums, sample, direct, values),
              rejected.size(),
              refusal);
  }

  /**
   * Case (ii): the pruned sum for @p n tokens uniform on S^2, A = c I.
   * Both sides are timed on the targets in 8 caps around random centres
   * (about @p n_sample tokens, whole target leaves as in a full run) and
   * scaled to n; the pruned side's setup (the trees) is timed once with one
   * target leaf and counted once.
   */
  void
  sphere_case(const std::size_t  n,
              const double       c,
              const std::size_t  n_sample,
              const unsigned int repetitions)
  {
    const PointSet tokens =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, n, 31);
    const std::vector<double> weights(n, 1. / n);
    const PointSet            values = tokens; // V = I
    const std::vector<double> A      = {c, 0., 0., 0., c, 0., 0., 0., c};
    const SpherePrunedMethod  method;
    const KernelEngine        engine;

    // The tokens nearest to 8 random centres: caps of n_sample / 8 each.
    const PointSet centres =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, 8, 32);
    const double cap = 1. - 2. * n_sample / 8 / n; // <x, centre> >= cap
    std::vector<std::size_t> sample;
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int m = 0; m < 8; ++m)
        if (tokens[i][0] * centres[m][0] + tokens[i][1] * centres[m][1] +
              tokens[i][2] * centres[m][2] >=
            cap)
          {
            sample.push_back(i);
            break;
          }
    const PointSet         sample_targets = subset(tokens, sample);
    const KernelSumProblem sampled{sample_targets,
                                   tokens,
                                   weights,
                                   values,
                                   A,
                                   1e-10};
    // One target leaf: the 64 sample targets nearest to the first centre.
    std::vector<std::size_t> one_leaf_indices = sample;
    const auto               closeness        = [&](const std::size_t i) {
      return tokens[i][0] * centres[0][0] + tokens[i][1] * centres[0][1] +
             tokens[i][2] * centres[0][2];
    };
    std::partial_sort(one_leaf_indices.begin(),
                      one_leaf_indices.begin() + 64,
                      one_leaf_indices.end(),
                      [&](const std::size_t i, const std::size_t j) {
                        return closeness(i) > closeness(j);
                      });
    one_leaf_indices.resize(64);
    const PointSet         one_leaf = subset(tokens, one_leaf_indices);
    const KernelSumProblem setup_problem{one_leaf,
                                         tokens,
                                         weights,
                                         values,
                                         A,
                                         1e-10};

    KernelSums               sums, setup_sums, direct;
    std::vector<std::size_t> rejected, setup_rejected;
    const double             setup = median_time(
      [&]() { method.evaluate(setup_problem, setup_sums, setup_rejected); },
      repetitions);
    const double sample_time =
      median_time([&]() { method.evaluate(sampled, sums, rejected); },
                  repetitions);
    const double fast =
      setup + (sample_time - setup) * double(n - 64) / (sample.size() - 64);
    const double direct_time =
      median_time([&]() { evaluate_direct(sampled, engine, direct); },
                  repetitions) *
      double(n) / sample.size();
    std::vector<std::size_t> identity(sample.size());
    for (std::size_t r = 0; r < identity.size(); ++r)
      identity[r] = r;
    print_row("S^2 uniform c=" + std::to_string(int(c)),
              n,
              n,
              fast,
              direct_time,
              " (sampled)",
              max_error(sums, identity, direct, values),
              rejected.size() * n / sample.size(),
              method.refusal(sampled));
    std::cout << "    (sample " << sample.size() << " targets in 8 caps; "
              << "pruned setup " << setup << " s; pruned on the sample "
              << sample_time << " s)" << std::endl;
  }
} // namespace



int
main(int argc, char **argv)
{
  const bool         quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const unsigned int repetitions = quick ? 1 : 3;
  std::cout << attnflow::benchmarks::machine_line(
                 attnflow::benchmarks::measured_fma_peak())
            << "\nthreads: all cores (TBB)\n"
            << "CPU seconds (all threads) per field evaluation, median of "
            << repetitions << "\n\n"
            << "| case | sources | targets | fast | direct | speed-up | max "
               "error | rejected | refusal |\n"
            << "|---|---|---|---|---|---|---|---|---|" << std::endl;
  for (const unsigned int n_cells : {4u, 8u, 16u, 32u, 64u, 128u})
    if (!quick || n_cells <= 32)
      mesh_case(n_cells, 2, 1., repetitions);
  if (!quick)
    for (const double beta : {0.1, 4., 25.})
      mesh_case(128, 2, beta, repetitions);
  for (const double c : {25., 100.})
    sphere_case(quick ? 100000 : 1000000, c, 8192, repetitions);
  return 0;
}
