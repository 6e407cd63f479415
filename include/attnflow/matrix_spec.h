/**
 * @file
 * Dense d x d matrices for the attention weights and the covariances, and
 * the small language in which the parameter file writes them.
 */
#ifndef attnflow_matrix_spec_h
#define attnflow_matrix_spec_h

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnflow
{
  /** A set of points (point_sets.h), which SquareMatrix::apply() maps. */
  struct PointSet;

  /**
   * A dense d x d matrix (row-major) that knows whether it is a multiple of
   * the identity, so that the common case Q = K = V = I costs nothing.
   */
  struct SquareMatrix
  {
    /** The zero matrix of size @p dimension. */
    explicit SquareMatrix(const unsigned int dimension = 0);

    /** @p scale times the identity of size @p dimension. */
    static SquareMatrix
    scaled_identity(const unsigned int dimension, const double scale);

    /** Entry (i, j). */
    double
    operator()(const unsigned int i, const unsigned int j) const
    {
      return entries[std::size_t(i) * dimension + j];
    }

    /** Entry (i, j). */
    double &
    operator()(const unsigned int i, const unsigned int j)
    {
      identity_scale_known = false;
      return entries[std::size_t(i) * dimension + j];
    }

    /** Whether this is c I; then @p scale is c. */
    bool
    is_scaled_identity(double &scale) const;

    /** out_i = factor * A x_i for every point (any number of threads). */
    void
    apply(const PointSet &points, const double factor, PointSet &out) const;

    /** The transpose. */
    SquareMatrix
    transpose() const;

    unsigned int        dimension;
    std::vector<double> entries;

  private:
    bool   identity_scale_known = false;
    double identity_scale       = 0.;
  };

  /**
   * Parses one matrix of size @p dimension written as
   *   identity | c*identity | zero | random | diagonal a1, ..., ad |
   *   rows "a11, a12; a21, a22"
   * ("random": i.i.d. N(0, 1/d) entries from @p seed, sub-stream @p stream).
   * Anything else raises InputError naming @p parameter and the syntax.
   */
  SquareMatrix
  parse_matrix(const std::string  &text,
               const unsigned int  dimension,
               const std::string  &parameter,
               const std::uint64_t seed   = 0,
               const std::uint64_t stream = 0);

  /**
   * The lower triangular L with L L^T = @p A; InputError naming
   * @p parameter unless @p A is symmetric positive definite.
   */
  SquareMatrix
  cholesky(const SquareMatrix &A, const std::string &parameter);

  /** The syntax that parse_matrix() accepts, for error messages. */
  extern const char *const matrix_syntax;
} // namespace attnflow

#endif
