#include <attnflow/ensemble.h>
#include <attnflow/token_metrics.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace attnflow
{
  EnsembleStatistics::EnsembleStatistics(const EnsembleParameters &ensemble,
                                         const TokenParameters    &tokens)
      : delta(ensemble.delta)
      , cluster_count(ensemble.cluster_count)
      , gram_threshold(ensemble.gram_threshold)
      , cluster_radius(tokens.cluster_radius)
      , minimum_cluster_fraction(tokens.minimum_cluster_fraction)
  {}



  StatisticValues
  EnsembleStatistics::measure(const PointSet &tokens) const
  {
    const std::size_t   n = tokens.size();
    const unsigned int  d = tokens.dimension;
    std::vector<double> gram(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j)
        {
          double dot = 0.;
          for (unsigned int k = 0; k < d; ++k)
            dot += tokens[i][k] * tokens[j][k];
          gram[i * n + j] = gram[j * n + i] = dot;
        }
    std::size_t together = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < i; ++j)
        together += gram[i * n + j] >= 1. - delta;

    StatisticValues values;
    using S                       = EnsembleStatistic;
    values[int(S::pair_fraction)] = double(together) / (n * (n - 1) / 2);
    values[int(S::first_pair)]    = gram[1] >= 1. - delta ? 1. : 0.;
    if (cluster_count == ClusterCount::gram_rank)
      values[int(S::clusters)] = thresholded_gram_rank(gram, n, gram_threshold);
    else
      {
        unsigned int      n_clusters = 0;
        const std::size_t minimum_size =
          std::max<std::size_t>(1, std::ceil(minimum_cluster_fraction * n));
        cluster_labels(tokens, cluster_radius, n_clusters, minimum_size);
        values[int(S::clusters)] = n_clusters;
      }
    values[int(S::order)] =
      weighted_moments(tokens, std::vector<double>(n, 1. / n)).order();
    return values;
  }



  unsigned int
  thresholded_gram_rank(const std::vector<double> &gram,
                        const std::size_t          n,
                        const double               threshold)
  {
    // The rows of A as bit sets; equal rows are one row for the rank.
    const std::size_t                       n_words = (n + 63) / 64;
    std::vector<std::vector<std::uint64_t>> bits(
      n,
      std::vector<std::uint64_t>(n_words, 0));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (gram[i * n + j] >= threshold)
          bits[i][j / 64] |= std::uint64_t(1) << (j % 64);
    std::sort(bits.begin(), bits.end());
    bits.erase(std::unique(bits.begin(), bits.end()), bits.end());

    const std::size_t   m = bits.size();
    std::vector<double> a(m * n, 0.);
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t j = 0; j < n; ++j)
        a[r * n + j] = (bits[r][j / 64] >> (j % 64)) & 1 ? 1. : 0.;
    // Gaussian elimination with partial pivoting: pivots below the
    // tolerance (relative to the entries, which start at 0 or 1) are zero.
    const double tolerance = 1e-9 * n;
    unsigned int rank      = 0;
    for (std::size_t column = 0; column < n && rank < m; ++column)
      {
        std::size_t pivot = rank;
        for (std::size_t r = rank + 1; r < m; ++r)
          if (std::abs(a[r * n + column]) > std::abs(a[pivot * n + column]))
            pivot = r;
        if (std::abs(a[pivot * n + column]) <= tolerance)
          continue;
        for (std::size_t j = 0; j < n; ++j)
          std::swap(a[pivot * n + j], a[rank * n + j]);
        for (std::size_t r = rank + 1; r < m; ++r)
          {
            const double factor = a[r * n + column] / a[rank * n + column];
            if (factor != 0.)
              for (std::size_t j = column; j < n; ++j)
                a[r * n + j] -= factor * a[rank * n + j];
          }
        ++rank;
      }
    return rank;
  }



  EnsembleResults::EnsembleResults(const unsigned int n_values,
                                   const unsigned int n_times)
      : means(n_values, std::vector<StatisticValues>(n_times))
      , deviations(means)
      , tokens(n_values)
  {}



  void
  EnsembleResults::set(const unsigned int                               v,
                       const std::vector<std::vector<StatisticValues>> &samples)
  {
    const std::size_t M = samples.size();
    for (std::size_t t = 0; t < means[v].size(); ++t)
      for (unsigned int s = 0; s < n_ensemble_statistics; ++s)
        {
          double sum = 0.;
          for (std::size_t m = 0; m < M; ++m)
            sum += samples[m][t][s];
          const double mean = sum / M;
          double       sum2 = 0.;
          for (std::size_t m = 0; m < M; ++m)
            sum2 += (samples[m][t][s] - mean) * (samples[m][t][s] - mean);
          means[v][t][s]      = mean;
          deviations[v][t][s] = M > 1 ? std::sqrt(sum2 / (M - 1)) : 0.;
        }
  }
} // namespace attnflow
