#include <attnflow/token_metrics.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnflow
{
  std::vector<unsigned int>
  cluster_labels(const PointSet   &points,
                 const double      radius,
                 unsigned int     &n_clusters,
                 const std::size_t minimum_size)
  {
    const std::size_t  n  = points.size();
    const unsigned int d  = points.dimension;
    const double       r2 = radius * radius;
    UnionFind          components(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        {
          double distance2 = 0.;
          for (unsigned int k = 0; k < d && distance2 < r2; ++k)
            {
              const double diff = points[i][k] - points[j][k];
              distance2 += diff * diff;
            }
          if (distance2 < r2)
            components.unite(i, j);
        }
    std::vector<std::size_t> component_size(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      ++component_size[components.find(i)];
    const unsigned int        unset = static_cast<unsigned int>(-1);
    std::vector<unsigned int> label_of_root(n, unset), labels(n);
    n_clusters = 0;
    for (std::size_t i = 0; i < n; ++i)
      {
        const std::size_t root = components.find(i);
        if (label_of_root[root] == unset &&
            component_size[root] >= minimum_size)
          label_of_root[root] = n_clusters++;
      }
    for (std::size_t i = 0; i < n; ++i)
      {
        const unsigned int label = label_of_root[components.find(i)];
        labels[i]                = label == unset ? n_clusters : label;
      }
    return labels;
  }



  PointStatistics
  compute_statistics(const PointSet            &points,
                     const std::vector<double> &weights,
                     const double               cluster_radius,
                     const double               minimum_cluster_fraction,
                     const AttentionField      &field,
                     const Layer               &layer)
  {
    PointStatistics s;
    static_cast<Moments &>(s) = weighted_moments(points, weights);
    s.energy                  = field.energy(layer, points, weights);
    const auto minimum_size   = static_cast<std::size_t>(
      std::ceil(minimum_cluster_fraction * points.size()));
    s.cluster = cluster_labels(points,
                               cluster_radius,
                               s.n_clusters,
                               std::max<std::size_t>(minimum_size, 1));
    return s;
  }
} // namespace attnflow
