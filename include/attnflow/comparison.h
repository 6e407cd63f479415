/**
 * @file
 * Distances between two weighted point measures: the tokens' empirical
 * measure and the density (its quadrature points weighted by rho JxW), or
 * any two such measures (DESIGN.md section 4).
 */
#ifndef attnflow_comparison_h
#define attnflow_comparison_h

#include <attnflow/kernel_engine.h>

#include <cstdint>
#include <vector>

namespace attnflow
{
  /**
   * A measure sum_j w_j delta_{x_j}: tokens (w = 1/n), or the quadrature
   * points of a finite-element density (w = rho JxW).
   */
  struct WeightedPoints
  {
    PointSet            points;
    std::vector<double> weights;
  };

  /**
   * The Wasserstein distance W_p (p >= 1) on R between sum_i a_i
   * delta_{x_i} and sum_j b_j delta_{y_j}, each normalised to mass 1: the
   * L^p distance of the quantile functions, computed exactly by merging
   * the sorted atoms. O((n + m) log(n + m)).
   */
  double
  wasserstein_1d(const std::vector<double> &x,
                 const std::vector<double> &a,
                 const std::vector<double> &y,
                 const std::vector<double> &b,
                 const double               p);

  /**
   * The Wasserstein distance W_1 on the circle S^1 with the arc-length
   * metric between measures of the angles @p x, @p y (radians, any
   * range), each normalised to mass 1: min_c int |F - G - c| dtheta over
   * the cumulative distribution functions F, G (exact; the optimal c is a
   * weighted median).
   */
  double
  wasserstein1_circle(const std::vector<double> &x,
                      const std::vector<double> &a,
                      const std::vector<double> &y,
                      const std::vector<double> &b);

  /** @p n directions drawn uniformly on S^{d-1} from @p seed. */
  PointSet
  sliced_directions(const unsigned int  d,
                    const unsigned int  n,
                    const std::uint64_t seed);

  /**
   * The sliced Wasserstein distance SW_2 = (mean over @p directions of
   * W_2^2 of the projections <theta, x>)^(1/2).
   */
  double
  sliced_wasserstein2(const WeightedPoints &mu,
                      const WeightedPoints &nu,
                      const PointSet       &directions);

  /**
   * The maximum mean discrepancy with the Gaussian kernel
   * k(x, y) = exp(-|x - y|^2 / (2 sigma^2)):
   * MMD^2 = k(mu, mu) + k(nu, nu) - 2 k(mu, nu), with each double sum
   * k(mu, nu) = sum_i sum_j a_i b_j k(x_i, y_j) computed exactly by the
   * kernel engine (log-weights, so that nothing underflows). Masses are
   * normalised to 1.
   */
  double
  maximum_mean_discrepancy(const WeightedPoints &mu,
                           const WeightedPoints &nu,
                           const double          sigma,
                           const KernelEngine   &engine);
} // namespace attnflow

#endif
