/**
 * @file
 * The types that the token side, the density side and the comparison of the
 * two share: sets of points in R^d, weighted point measures, their first two
 * moments, and a union-find forest for connected components (clusters).
 */
#ifndef attnflow_point_sets_h
#define attnflow_point_sets_h

#include <attnflow/matrix_spec.h>

#include <cstddef>
#include <vector>

namespace attnflow
{
  /**
   * A set of n points in R^d stored row-major and contiguously: tokens,
   * quadrature points, or their images under a matrix. The token store of
   * attnflow for any d (deal.II's Point and Particles are for d <= 3).
   */
  struct PointSet
  {
    /** An empty set of points in R^@p dimension. */
    explicit PointSet(const unsigned int dimension = 0,
                      const std::size_t  n_points  = 0)
        : dimension(dimension)
        , coordinates(n_points * dimension, 0.)
    {}

    /** The number of points. */
    std::size_t
    size() const
    {
      return dimension == 0 ? 0 : coordinates.size() / dimension;
    }

    /** The coordinates of point @p i (d consecutive values). */
    double *
    operator[](const std::size_t i)
    {
      return coordinates.data() + i * dimension;
    }

    /** The coordinates of point @p i (d consecutive values). */
    const double *
    operator[](const std::size_t i) const
    {
      return coordinates.data() + i * dimension;
    }

    /** The space dimension d. */
    unsigned int dimension;

    /** All coordinates, point after point. */
    std::vector<double> coordinates;
  };

  /**
   * A measure sum_j w_j delta_{x_j}: tokens (w = 1/n), or the quadrature
   * points of a finite-element density (w = rho JxW).
   */
  struct WeightedPoints
  {
    /** The atoms x_j. */
    PointSet points;
    /** The weights w_j >= 0, one per atom. */
    std::vector<double> weights;
  };

  /**
   * The first two moments of a measure mu = sum_i w_i delta_{x_i} in R^d:
   * the mean m = sum_i w_i x_i and the covariance
   * S = sum_i w_i (x_i - m) (x_i - m)^T (doc/theory.md section 5.4).
   * The scalar summaries are computed from these two, never stored.
   */
  struct Moments
  {
    /** The mean m. */
    std::vector<double> mean;
    /** The covariance S, a symmetric d x d matrix. */
    SquareMatrix covariance;

    /** |m|: the order parameter on the sphere. */
    double
    order() const;

    /** trace S = sum_i w_i |x_i - m|^2. */
    double
    covariance_trace() const;
  };

  /**
   * The moments of sum_i w_i delta_{x_i} (tokens, or the quadrature points
   * of a density weighted by rho JxW), each entry summed over the points in
   * their order. The weights are used as given (mass 1 for a probability
   * measure). O(n d^2).
   */
  Moments
  weighted_moments(const PointSet &points, const std::vector<double> &weights);

  /**
   * Disjoint sets of the indices 0, ..., n - 1 (a union-find forest with
   * path halving and union by size): the connected components of a graph
   * whose edges are given one by one, e.g. the token clusters of single
   * linkage (doc/theory.md section 5.4) or the connected dense cells of a
   * density (section 4.6). Each operation costs O(alpha(n)) amortised.
   */
  class UnionFind
  {
  public:
    /** @p n singletons {0}, ..., {n - 1}. */
    explicit UnionFind(std::size_t n);

    /**
     * The representative of the set holding @p i: the same index for every
     * member of a set, until the next unite().
     */
    std::size_t
    find(std::size_t i);

    /** Joins the sets holding @p a and @p b (nothing if they are one). */
    void
    unite(std::size_t a, std::size_t b);

    /** The number of disjoint sets. */
    std::size_t
    n_sets() const;

  private:
    /** The parent of each index in its tree; roots are their own parent. */
    std::vector<std::size_t> parent;
    /** The number of indices in the tree of each root. */
    std::vector<std::size_t> size;
    /** The number of trees. */
    std::size_t sets;
  };
} // namespace attnflow

#endif
