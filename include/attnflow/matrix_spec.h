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
   * A dense rows x columns matrix (row-major): the query and key maps of a
   * transformer-shaped head, d_k x d with d_k <= d (doc/theory.md
   * section 1.4). A square one remembers whether it is c I, as SquareMatrix
   * does, so that apply() costs one multiplication per entry then.
   */
  struct Matrix
  {
    /** The zero matrix of @p rows x @p columns. */
    Matrix(const unsigned int rows = 0, const unsigned int columns = 0);

    /** The same entries as @p square (and its identity scale). */
    explicit Matrix(const SquareMatrix &square);

    /** Entry (i, j). */
    double
    operator()(const unsigned int i, const unsigned int j) const
    {
      return entries[std::size_t(i) * columns + j];
    }

    /**
     * out_i = factor * A x_i for every point (dimension columns) into
     * @p out (dimension rows), with the arithmetic of SquareMatrix::apply().
     */
    void
    apply(const PointSet &points, const double factor, PointSet &out) const;

    unsigned int        rows, columns;
    std::vector<double> entries;
    /** Whether this is square and c I, with c = identity_scale. */
    bool   is_scaled_identity = false;
    double identity_scale     = 0.;
  };

  /** K^T Q (columns x columns) of two matrices with as many rows. */
  SquareMatrix
  transpose_product(const Matrix &K, const Matrix &Q);

  /**
   * Parses one @p rows x @p columns matrix (rows <= columns) in the syntax
   * of parse_matrix(): a square one is parse_matrix(); otherwise identity
   * and c*identity are c times the first @p rows rows of the identity,
   * diagonal has @p rows entries, random has i.i.d. N(0, 1/columns)
   * entries and explicit rows are @p rows rows of @p columns entries.
   */
  Matrix
  parse_rectangular_matrix(const std::string  &text,
                           const unsigned int  rows,
                           const unsigned int  columns,
                           const std::string  &parameter,
                           const std::uint64_t seed   = 0,
                           const std::uint64_t stream = 0);

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
