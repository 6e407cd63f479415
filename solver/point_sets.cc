#include <attnflow/point_sets.h>

#include <cmath>
#include <numeric>
#include <utility>

namespace attnflow
{
  double
  Moments::order() const
  {
    double norm2 = 0.;
    for (const double m : mean)
      norm2 += m * m;
    return std::sqrt(norm2);
  }



  double
  Moments::covariance_trace() const
  {
    double trace = 0.;
    for (unsigned int k = 0; k < covariance.dimension; ++k)
      trace += covariance(k, k);
    return trace;
  }



  Moments
  weighted_moments(const PointSet &points, const std::vector<double> &weights)
  {
    const unsigned int d = points.dimension;
    Moments            moments{std::vector<double>(d, 0.), SquareMatrix(d)};
    for (std::size_t p = 0; p < points.size(); ++p)
      for (unsigned int i = 0; i < d; ++i)
        moments.mean[i] += weights[p] * points[p][i];
    for (std::size_t p = 0; p < points.size(); ++p)
      for (unsigned int i = 0; i < d; ++i)
        for (unsigned int j = 0; j < d; ++j)
          moments.covariance(i, j) += weights[p] *
                                      (points[p][i] - moments.mean[i]) *
                                      (points[p][j] - moments.mean[j]);
    return moments;
  }



  UnionFind::UnionFind(const std::size_t n)
      : parent(n)
      , size(n, 1)
      , sets(n)
  {
    std::iota(parent.begin(), parent.end(), std::size_t(0));
  }



  std::size_t
  UnionFind::find(std::size_t i)
  {
    while (parent[i] != i)
      i = parent[i] = parent[parent[i]];
    return i;
  }



  void
  UnionFind::unite(const std::size_t a, const std::size_t b)
  {
    std::size_t root_a = find(a), root_b = find(b);
    if (root_a == root_b)
      return;
    if (size[root_a] < size[root_b])
      std::swap(root_a, root_b);
    parent[root_b] = root_a;
    size[root_a] += size[root_b];
    --sets;
  }



  std::size_t
  UnionFind::n_sets() const
  {
    return sets;
  }
} // namespace attnflow
