/**
 * @file
 * The initial measure mu0 from which tokens are drawn (and, later, the
 * density is built): uniform, Gaussian mixture, von Mises–Fisher mixture,
 * a density function, or the tokens of a file.
 */
#ifndef attnflow_initial_measure_h
#define attnflow_initial_measure_h

#include <attnflow/kernel_engine.h>
#include <attnflow/matrix_spec.h>
#include <attnflow/model.h>
#include <attnflow/parameters.h>

#include <deal.II/base/function.h>

#include <memory>
#include <string>
#include <vector>

namespace attnflow
{
  class RandomGenerator;

  /**
   * The density of N(@p mean, L L^T) at @p x, with L = @p cholesky_factor
   * lower triangular.
   */
  double
  gaussian_density(const double              *x,
                   const std::vector<double> &mean,
                   const SquareMatrix        &cholesky_factor);

  /**
   * The initial measure mu0 of a run (section "Initial condition"). The
   * constructor checks every parameter against the model (InputError
   * otherwise); sample() draws tokens reproducibly from the seed.
   */
  class InitialMeasure
  {
  public:
    /**
     * mu0 as described by @p parameters for tokens of @p model. With type =
     * tokens file, density() is the kernel density estimate of bandwidth
     * @p kde_bandwidth (0: Scott's rule; see kde_bandwidth()).
     */
    InitialMeasure(const InitialConditionParameters &parameters,
                   const Model                      &model,
                   const double                      kde_bandwidth = 0.);

    ~InitialMeasure();

    /**
     * @p n tokens drawn i.i.d. from mu0 with the seed of the parameters
     * (bit-identical for the same parameters). With type = tokens file, the
     * file's tokens, whatever @p n.
     */
    PointSet
    sample(const std::size_t n) const;

    /**
     * The density of mu0 at @p x (d coordinates) with respect to Lebesgue
     * measure in R^d, or to the surface measure on the sphere (arc length
     * on S^1, area on S^2). For type = function, the expression itself: a
     * density up to its normalisation, which the finite-element side fixes
     * on its mesh. For type = tokens file, the kernel density estimate
     * (1/n) sum_i K_h(x, x_i): Gaussian N(x_i, h^2 I) in R^d, von
     * Mises–Fisher with mean x_i and concentration 1/h^2 on the sphere.
     */
    double
    density(const double *x) const;

    /**
     * The bandwidth h of the kernel density estimate of a tokens file: the
     * one given, or Scott's rule h = sigma n^(-1/(d+4)) with sigma^2 the
     * tokens' variance averaged over the coordinates.
     */
    /**
     * The mean and covariance of mu0 where they have a closed form (uniform
     * on a box, Gaussian mixtures, a tokens file with its kernel density
     * estimate), for the exact solutions of a convergence study; false
     * (and zeros) for a density function and on the sphere.
     */
    bool
    moments(std::vector<double> &mean, SquareMatrix &covariance) const;

    /** Whether mu0 is one Gaussian N(m, S) in R^d (case E2). */
    bool
    is_gaussian() const
    {
      return type == Type::gaussian && geometry == Geometry::euclidean &&
             means.size() == 1;
    }

    double
    kde_bandwidth() const
    {
      return bandwidth;
    }

  private:
    using Type = InitialMeasureType;

    /** One token from the uniform measure (sphere or box). */
    void
    draw_uniform(RandomGenerator &random, double *x) const;
    /** One token from component @p c of the Gaussian mixture. */
    void
    draw_gaussian(RandomGenerator   &random,
                  const unsigned int c,
                  double            *x) const;
    /**
     * One token from component @p c of the von Mises–Fisher mixture
     * (Wood's algorithm).
     */
    void
    draw_von_mises_fisher(RandomGenerator   &random,
                          const unsigned int c,
                          double            *x) const;
    /** The index of a mixture component drawn by its weight. */
    unsigned int
    draw_component(RandomGenerator &random) const;
    /** n tokens by rejection sampling of the density function. */
    PointSet
    sample_function(RandomGenerator &random, const std::size_t n) const;
    /** The variables of the density function: x, y, z (and theta on S^1). */
    std::string
    variables() const;
    /** Scott's rule for the bandwidth of the file's tokens. */
    double
    scott_bandwidth() const;
    /** The kernel density estimate of the file's tokens at x. */
    double
    kernel_density_estimate(const double *x) const;
    /** The weight of mixture component @p c. */
    double
    component_weight(const unsigned int c) const;
    /** The density function at x (checked finite and non-negative). */
    double
    density_function(const double *x) const;
    /** Reads and checks the tokens file. */
    void
    read_tokens_file(const std::string &file_name);

    Type         type;
    Geometry     geometry;
    unsigned int dimension;
    unsigned int seed;
    /** Initial condition/ordered by component. */
    bool ordered_by_component;

    std::vector<double> lower_corner, upper_corner;

    std::vector<std::vector<double>> means;
    /** Cholesky factors of the covariances (lower triangular). */
    std::vector<SquareMatrix> cholesky_factors;
    std::vector<double>       concentrations;
    /** Cumulative mixture weights, ending at 1. */
    std::vector<double> cumulative_weights;

    std::string                          density_expression;
    std::unique_ptr<dealii::Function<1>> function_1d;
    std::unique_ptr<dealii::Function<2>> function_2d;
    std::unique_ptr<dealii::Function<3>> function_3d;

    PointSet file_tokens;
    double   bandwidth = 0.;
  };
} // namespace attnflow

#endif
