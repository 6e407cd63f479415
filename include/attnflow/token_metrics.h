/**
 * @file
 * Statistics of a weighted point measure (the tokens): moments, order
 * parameter, interaction energy and clusters.
 */
#ifndef attnflow_token_metrics_h
#define attnflow_token_metrics_h

#include <attnflow/model.h>
#include <attnflow/point_sets.h>

#include <vector>

namespace attnflow
{
  /** The statistics of a measure sum_i w_i delta_{x_i} at one time. */
  struct PointStatistics : Moments
  {
    /** The interaction energy (AttentionField::energy()). */
    double energy = 0.;
    /** The number of clusters (single linkage, see cluster_labels()). */
    unsigned int n_clusters = 0;
    /** The cluster of each point, 0 .. n_clusters (none). */
    std::vector<unsigned int> cluster;
  };

  /**
   * Single-linkage clusters: the connected components of the graph joining
   * points closer than @p radius (Euclidean distance in R^d, also on the
   * sphere) that hold at least @p minimum_size points. Labels are 0, 1, ...
   * in the order of each cluster's first point; points in smaller
   * components (stragglers between clusters) get the label n_clusters.
   * @p n_clusters receives the number of clusters. The edges come from a
   * cell list over the first min(d, 3) coordinates, not from all pairs
   * (doc/theory.md section 6.6): the same components as the all-pairs
   * test, in O(n log n) plus the pairs of neighbouring cells not yet joined.
   */
  std::vector<unsigned int>
  cluster_labels(const PointSet   &points,
                 const double      radius,
                 unsigned int     &n_clusters,
                 const std::size_t minimum_size = 1);

  /**
   * All statistics of (@p points, @p weights); the energy is that of
   * @p field under @p layer; clusters hold at least the fraction
   * @p minimum_cluster_fraction of the points.
   */
  PointStatistics
  compute_statistics(const PointSet            &points,
                     const std::vector<double> &weights,
                     const double               cluster_radius,
                     const double               minimum_cluster_fraction,
                     const AttentionField      &field,
                     const Layer               &layer);
} // namespace attnflow

#endif
