/**
 * @file
 * The token metrics without all pairs (doc/theory.md section 6.6) against
 * the all-pairs versions, side by side in one run: n tokens on S^1 (uniform,
 * or three von Mises–Fisher clusters of concentration 400), and a density
 * measure of 2048 equispaced atoms with weights 1 + 0.2 cos 3 theta.
 *
 * - MMD (sigma = 0.1, Field/tolerance 1e-10): make_mmd_methods(auto)
 *   against Field/method = direct; |difference| of the MMD in each row where
 *   the direct one is run (n <= --direct-limit). Above it the direct time is
 *   estimated from the row at the limit, scaled by the number of pairs
 *   (the sum k(nu, nu) dominates), and said so.
 * - Cluster count (radius 0.05): the cell list of cluster_labels() against
 *   the all-pairs single linkage (the earlier code, kept here); the counts
 *   must agree. Above --direct-limit the all-pairs time is scaled by n^2.
 *
 * Usage: metrics_benchmark [--n N1,N2,...] [--direct-limit N]
 *        [--repetitions R]
 */
#include <attnflow/comparison.h>
#include <attnflow/random.h>
#include <attnflow/token_metrics.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "machine_peak.h"

namespace
{
  using namespace attnflow;

  /** Seconds of @p work, the median of @p repetitions runs. */
  template <typename Work>
  double
  median_seconds(const unsigned int repetitions, const Work &work)
  {
    std::vector<double> times;
    for (unsigned int r = 0; r < repetitions; ++r)
      {
        const auto start = std::chrono::steady_clock::now();
        work();
        times.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
      }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

  /**
   * @p n tokens on S^1 with weights 1/n: uniform, or three clusters of
   * angular width 1/20 around 0, 2 and 4 radians.
   */
  WeightedPoints
  circle_tokens(const std::size_t n, const bool clustered)
  {
    RandomGenerator random(7, clustered);
    WeightedPoints  tokens{PointSet(2, n), std::vector<double>(n, 1. / n)};
    for (std::size_t i = 0; i < n; ++i)
      {
        const double theta = clustered ? 2. * (i % 3) + 0.05 * random.normal() :
                                         2. * M_PI * random.uniform();
        tokens.points[i][0] = std::cos(theta);
        tokens.points[i][1] = std::sin(theta);
      }
    return tokens;
  }

  /** 2048 equispaced atoms on S^1, weights 1 + 0.2 cos 3 theta. */
  WeightedPoints
  circle_density()
  {
    const std::size_t m = 2048;
    WeightedPoints    rho{PointSet(2, m), std::vector<double>(m)};
    for (std::size_t i = 0; i < m; ++i)
      {
        const double theta = 2. * M_PI * (i + 0.5) / m;
        rho.points[i][0]   = std::cos(theta);
        rho.points[i][1]   = std::sin(theta);
        rho.weights[i]     = (1. + 0.2 * std::cos(3. * theta)) / m;
      }
    return rho;
  }

  /** The number of single-linkage clusters by all pairs (the old code). */
  unsigned int
  all_pairs_clusters(const PointSet &points, const double radius)
  {
    const std::size_t n  = points.size();
    const double      r2 = radius * radius;
    UnionFind         components(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        {
          double distance2 = 0.;
          for (unsigned int k = 0; k < points.dimension && distance2 < r2; ++k)
            {
              const double diff = points[i][k] - points[j][k];
              distance2 += diff * diff;
            }
          if (distance2 < r2)
            components.unite(i, j);
        }
    return components.n_sets();
  }

  /** The values of "--name a,b,c" as sizes. */
  std::vector<std::size_t>
  sizes(const std::string &list)
  {
    std::vector<std::size_t> result;
    std::stringstream        stream(list);
    for (std::string item; std::getline(stream, item, ',');)
      result.push_back(static_cast<std::size_t>(std::atof(item.c_str())));
    return result;
  }
} // namespace



int
main(int argc, char **argv)
{
  std::vector<std::size_t> ns           = {10000, 100000, 1000000};
  std::size_t              direct_limit = 100000;
  unsigned int             repetitions  = 1;
  for (int a = 1; a + 1 < argc; a += 2)
    if (std::strcmp(argv[a], "--n") == 0)
      ns = sizes(argv[a + 1]);
    else if (std::strcmp(argv[a], "--direct-limit") == 0)
      direct_limit = static_cast<std::size_t>(std::atof(argv[a + 1]));
    else if (std::strcmp(argv[a], "--repetitions") == 0)
      repetitions = std::atoi(argv[a + 1]);

  const double         sigma = 0.1, radius = 0.05, tolerance = 1e-10;
  const KernelEngine   engine(1);
  const WeightedPoints rho = circle_density();
  std::printf("%s\n",
              attnflow::benchmarks::machine_line(
                attnflow::benchmarks::measured_fma_peak())
                .c_str());
  std::printf("One thread; MMD sigma = %g against 2048 density "
              "atoms, tolerance %g; cluster radius %g\n",
              sigma,
              tolerance,
              radius);
  std::printf("%-9s %8s | %10s %10s %9s %10s | %10s %10s %9s %8s\n",
              "tokens",
              "n",
              "MMD fast",
              "direct",
              "speed-up",
              "|diff|",
              "clusters",
              "all pairs",
              "speed-up",
              "count");
  for (const bool clustered : {false, true})
    {
      double direct_mmd_rate = 0., all_pairs_rate = 0.;
      for (const std::size_t n : ns)
        {
          const WeightedPoints    tokens = circle_tokens(n, clustered);
          const FieldMethodChoice methods =
            make_mmd_methods(FieldMethodKind::automatic, 1);
          double       fast = 0., direct = 0.;
          const double fast_time = median_seconds(repetitions, [&] {
            fast = maximum_mean_discrepancy(rho,
                                            tokens,
                                            sigma,
                                            engine,
                                            methods,
                                            tolerance);
          });
          unsigned int n_fast = 0, n_all = 0;
          const double cluster_time = median_seconds(repetitions, [&] {
            cluster_labels(tokens.points, radius, n_fast);
          });
          const bool   run_direct   = n <= direct_limit;
          const double pairs       = double(n) * n + 2. * n * rho.points.size();
          double       direct_time = 0., all_pairs_time = 0.;
          if (run_direct)
            {
              direct_time     = median_seconds(repetitions, [&] {
                direct = maximum_mean_discrepancy(rho, tokens, sigma, engine);
              });
              all_pairs_time  = median_seconds(repetitions, [&] {
                n_all = all_pairs_clusters(tokens.points, radius);
              });
              direct_mmd_rate = pairs / direct_time;
              all_pairs_rate  = double(n) * n / all_pairs_time;
            }
          else
            {
              direct_time    = pairs / direct_mmd_rate;
              all_pairs_time = double(n) * n / all_pairs_rate;
            }
          char difference[32] = "not run", count[32];
          if (run_direct)
            std::snprintf(difference,
                          sizeof(difference),
                          "%.1e",
                          std::abs(fast - direct));
          std::snprintf(count,
                        sizeof(count),
                        run_direct ? "%u=%u" : "%u",
                        n_fast,
                        n_all);
          std::printf("%-9s %8zu | %9.3fs %9.3fs%s %8.0fx %10s | %9.3fs "
                      "%9.3fs%s %8.0fx %8s\n",
                      clustered ? "clustered" : "uniform",
                      n,
                      fast_time,
                      direct_time,
                      run_direct ? " " : "*",
                      direct_time / fast_time,
                      difference,
                      cluster_time,
                      all_pairs_time,
                      run_direct ? " " : "*",
                      all_pairs_time / cluster_time,
                      count);
          for (const std::string &line : methods.report())
            std::printf("    %s\n", line.c_str());
        }
    }
  std::printf("* estimated from the largest n run directly, scaled by the "
              "number of pairs\n");
  return 0;
}
