/**
 * @file
 * Distances between two weighted point measures: the tokens' empirical
 * measure and the density (its quadrature points weighted by rho JxW), or
 * any two such measures (doc/theory.md section 5).
 */
#ifndef attnflow_comparison_h
#define attnflow_comparison_h

#include <attnflow/field_method_choice.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/parameters.h>
#include <attnflow/point_sets.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * The distances between the density and the tokens that attnflow reports,
   * each a column of metrics.csv of the same name (doc/theory.md section 5).
   */
  enum class Distance
  {
    /** Exact W_1: on R^1 (quantile functions) and on S^1 (section 5.1). */
    w1,
    /** Exact W_2 on R^1 (section 5.1). */
    w2,
    /** Sliced W_2, wherever W_1 is not exact (section 5.2). */
    sliced_w2,
    /** MMD with a Gaussian kernel, in every geometry (section 5.3). */
    mmd
  };

  /** The column name of @p distance: "w1", "w2", "sliced_w2" or "mmd". */
  std::string
  column_name(const Distance distance);

  /**
   * The distances measured between density and tokens in @p geometry of
   * dimension @p dimension, in the order of the metrics.csv columns: w1 and
   * w2 on R^1 (exact), w1 on S^1 (exact), sliced_w2 elsewhere (R^2, R^3,
   * S^2); mmd everywhere.
   */
  std::vector<Distance>
  measured_distances(const Geometry geometry, const unsigned int dimension);

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
   * A density on an interval of R that is a polynomial of degree k on each
   * cell, as a 1-D finite-element solution is: given by its values at k + 1
   * distinct nodes of each cell (Lagrange interpolation). Its cumulative
   * distribution function and quantiles are computed exactly (Gauss rules,
   * bisection on the monotone CDF), for exact Wasserstein distances
   * between a density and tokens.
   */
  class PiecewisePolynomialDensity
  {
  public:
    /**
     * The density with cells [@p vertices[c], @p vertices[c + 1]]
     * (increasing), nodes @p nodes in [0, 1] (unit cell coordinates), and
     * @p values[c][i] = rho at node i of cell c.
     */
    PiecewisePolynomialDensity(std::vector<double>              vertices,
                               std::vector<double>              nodes,
                               std::vector<std::vector<double>> values);

    /** int rho over the interval. */
    double
    mass() const
    {
      return cumulative_mass.back();
    }

    /** int_(-inf)^x rho. */
    double
    cumulative(const double x) const;

    /** The left end of the first cell. */
    double
    start() const
    {
      return vertices.front();
    }

    /** The smallest x with int_(-inf)^x rho = @p m (0 <= m <= mass()). */
    double
    quantile(const double m) const;

    /**
     * int_a^b |x - y|^p rho(x) dx for @p a <= @p b, exact for p = 1, 2
     * (Gauss rules of k + 3 points, split at y and at cell boundaries).
     */
    double
    transport_cost(const double a,
                   const double b,
                   const double y,
                   const double p) const;

  private:
    /** rho at unit coordinate @p xi of cell @p c. */
    double
    value(const unsigned int c, const double xi) const;

    /** int_0^xi rho over cell @p c (in x, so scaled by its length). */
    double
    partial_mass(const unsigned int c, const double xi) const;

    /** int_a^b |x - y|^p rho for [a, b] inside cell @p c, y not inside. */
    double
    cell_cost(const unsigned int c,
              const double       a,
              const double       b,
              const double       y,
              const double       p) const;

    /** The cell containing @p x (the first or last one outside). */
    unsigned int
    cell_of(const double x) const;

    std::vector<double>              vertices, nodes;
    std::vector<std::vector<double>> values;
    /** The Lagrange denominators prod_(j != i) (nodes_i - nodes_j). */
    std::vector<double> denominators;
    /** int rho over the cells left of vertex c. */
    std::vector<double> cumulative_mass;
    /** Gauss points and weights on [0, 1], k + 3 of them. */
    std::vector<double> gauss_points, gauss_weights;
  };

  /**
   * W_p between the density @p rho and sum_j b_j delta_{y_j}, both
   * normalised to mass 1, exact for p = 1 and 2: the monotone coupling
   * sends the mass of rho between the quantiles q_(j-1), q_j of the
   * cumulative weights to y_j, W_p^p = sum_j int_(q_(j-1))^(q_j)
   * |x - y_j|^p rho(x) dx / mass.
   */
  double
  wasserstein_1d(const PiecewisePolynomialDensity &rho,
                 const std::vector<double>        &y,
                 const std::vector<double>        &b,
                 const double                      p);

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

  /**
   * W1 on the circle between the density @p rho of the angle (cells
   * covering [rho.start(), rho.start() + 2 pi), doc/theory.md section 5.1)
   * and sum_j b_j delta_{y_j}, both normalised to mass 1: min_c int
   * |F - G - c| dtheta with F the exact cumulative distribution of rho. The
   * optimal c (where the measure of {F - G < c} is pi) is found by
   * bisection, and the integral is exact between the atoms (F - G - c is
   * monotone there; a piece where it changes sign is split at its root).
   */
  double
  wasserstein1_circle(const PiecewisePolynomialDensity &rho,
                      const std::vector<double>        &y,
                      const std::vector<double>        &b);

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

  /**
   * The same MMD with each of the three double sums computed by the first
   * of @p methods that serves it (doc/theory.md section 6.6): with
   * exp(-|x - y|^2 / (2 sigma^2)) = exp(-|x|^2 / (2 sigma^2))
   * exp(<x, y> / sigma^2) exp(-|y|^2 / (2 sigma^2)), a kernel sum with
   * A = I / sigma^2 and the last factor in the weights; on the unit sphere
   * the circle and sphere expansions serve it, on a tensor grid the tensor
   * product. Targets whose bound exceeds @p tolerance (relative to the sum
   * at that target) are summed directly; so is every sum no method serves,
   * exactly as above. The record of the choices is kept in @p methods
   * under "MMD k(mu, mu)", "MMD k(nu, nu)" and "MMD k(mu, nu)".
   */
  double
  maximum_mean_discrepancy(const WeightedPoints    &mu,
                           const WeightedPoints    &nu,
                           const double             sigma,
                           const KernelEngine      &engine,
                           const FieldMethodChoice &methods,
                           const double             tolerance);
} // namespace attnflow

#endif
