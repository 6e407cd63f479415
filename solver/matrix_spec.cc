#include <attnflow/exceptions.h>
#include <attnflow/matrix_spec.h>
#include <attnflow/parameters.h>
#include <attnflow/point_sets.h>
#include <attnflow/random.h>

#include <cmath>

namespace attnflow
{
  const char *const matrix_syntax =
    "allowed: identity | c*identity | zero | random | diagonal a1, ..., ad | "
    "rows 'a11, a12; a21, a22' (',' between entries, ';' between rows)";



  namespace
  {
    /** "1 row", "2 rows": @p n and its noun, @p plural unless n = 1. */
    std::string
    counted(const std::size_t  n,
            const std::string &singular,
            const std::string &plural)
    {
      return std::to_string(n) + " " + (n == 1 ? singular : plural);
    }

    /** Whether @p text is a list of comma-separated finite numbers. */
    bool
    is_numbers(const std::string &text)
    {
      try
        {
          parse_numbers(text, "");
          return true;
        }
      catch (const InputError &)
        {
          return false;
        }
    }
  } // namespace



  SquareMatrix::SquareMatrix(const unsigned int dimension)
      : dimension(dimension)
      , entries(std::size_t(dimension) * dimension, 0.)
  {}



  SquareMatrix
  SquareMatrix::scaled_identity(const unsigned int dimension,
                                const double       scale)
  {
    SquareMatrix matrix(dimension);
    for (unsigned int i = 0; i < dimension; ++i)
      matrix(i, i) = scale;
    matrix.identity_scale_known = true;
    matrix.identity_scale       = scale;
    return matrix;
  }



  bool
  SquareMatrix::is_scaled_identity(double &scale) const
  {
    if (identity_scale_known)
      {
        scale = identity_scale;
        return true;
      }
    const double c = dimension > 0 ? entries[0] : 0.;
    for (unsigned int i = 0; i < dimension; ++i)
      for (unsigned int j = 0; j < dimension; ++j)
        if ((*this)(i, j) != (i == j ? c : 0.))
          return false;
    scale = c;
    return true;
  }



  void
  SquareMatrix::apply(const PointSet &points,
                      const double    factor,
                      PointSet       &out) const
  {
    const unsigned int d = dimension;
    out                  = PointSet(d, points.size());
    double scale         = 0.;
    if (is_scaled_identity(scale))
      {
        for (std::size_t k = 0; k < points.coordinates.size(); ++k)
          out.coordinates[k] = factor * scale * points.coordinates[k];
        return;
      }
    for (std::size_t p = 0; p < points.size(); ++p)
      for (unsigned int i = 0; i < d; ++i)
        {
          double s = 0.;
          for (unsigned int j = 0; j < d; ++j)
            s += entries[std::size_t(i) * d + j] * points[p][j];
          out[p][i] = factor * s;
        }
  }



  SquareMatrix
  SquareMatrix::transpose() const
  {
    SquareMatrix result(dimension);
    for (unsigned int i = 0; i < dimension; ++i)
      for (unsigned int j = 0; j < dimension; ++j)
        result(j, i) = (*this)(i, j);
    return result;
  }



  SquareMatrix
  parse_matrix(const std::string  &text,
               const unsigned int  dimension,
               const std::string  &parameter,
               const std::uint64_t seed,
               const std::uint64_t stream)
  {
    const std::vector<std::string> words  = split(text, ';');
    const std::string              word   = words.empty() ? "" : words[0];
    const std::string              suffix = "identity";
    if (words.size() == 1 && word.size() >= suffix.size() &&
        word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0)
      {
        std::string factor = word.substr(0, word.size() - suffix.size());
        double      scale  = 1.;
        if (factor == "-")
          scale = -1.;
        else if (!factor.empty())
          {
            if (factor.back() != '*')
              throw InputError(parameter,
                               "cannot read '" + text + "'; " + matrix_syntax);
            factor.pop_back();
            const std::vector<double> numbers =
              parse_numbers(factor, parameter);
            if (numbers.size() != 1)
              throw InputError(parameter,
                               "cannot read '" + text +
                                 "': one number must "
                                 "precede '*identity'; " +
                                 matrix_syntax);
            scale = numbers[0];
          }
        return SquareMatrix::scaled_identity(dimension, scale);
      }
    if (words.size() == 1 && word == "zero")
      return SquareMatrix::scaled_identity(dimension, 0.);
    if (words.size() == 1 && word == "random")
      {
        RandomGenerator random(seed, stream);
        SquareMatrix    matrix(dimension);
        for (double &entry : matrix.entries)
          entry = random.normal() / std::sqrt(double(dimension));
        return matrix;
      }
    if (words.size() == 1 && word.rfind("diagonal", 0) == 0)
      {
        const std::vector<double> diagonal =
          parse_numbers(word.substr(8), parameter);
        if (diagonal.size() != dimension)
          throw InputError(
            parameter,
            "'" + text + "' has " +
              counted(diagonal.size(), "diagonal entry", "diagonal entries") +
              ", but Model/dimension = " + std::to_string(dimension) +
              ": give " + std::to_string(dimension));
        SquareMatrix matrix(dimension);
        for (unsigned int i = 0; i < dimension; ++i)
          matrix(i, i) = diagonal[i];
        return matrix;
      }
    if (words.empty())
      throw InputError(parameter, "is empty; " + std::string(matrix_syntax));
    // One word that is not numbers is a misspelt keyword, not one row.
    if (words.size() == 1 && !is_numbers(word))
      throw InputError(parameter,
                       "'" + text + "' is not a matrix; " + matrix_syntax);
    if (words.size() != dimension)
      throw InputError(
        parameter,
        "'" + text + "' has " + counted(words.size(), "row", "rows") +
          " (';'-separated), but a " + std::to_string(dimension) + " x " +
          std::to_string(dimension) +
          " matrix is needed (Model/dimension): give " +
          std::to_string(dimension) + " rows or a keyword; " + matrix_syntax);
    SquareMatrix matrix(dimension);
    for (unsigned int i = 0; i < dimension; ++i)
      {
        std::vector<double> row;
        try
          {
            row = parse_numbers(words[i], parameter);
          }
        catch (const InputError &)
          {
            throw InputError(parameter,
                             "cannot read row " + std::to_string(i + 1) + " '" +
                               words[i] + "' of '" + text + "'; " +
                               matrix_syntax);
          }
        if (row.size() != dimension)
          throw InputError(parameter,
                           "row " + std::to_string(i + 1) + " of '" + text +
                             "' has " +
                             counted(row.size(), "entry", "entries") +
                             ", but Model/dimension = " +
                             std::to_string(dimension) + ": give " +
                             std::to_string(dimension) + " per row");
        for (unsigned int j = 0; j < dimension; ++j)
          matrix(i, j) = row[j];
      }
    return matrix;
  }



  Matrix::Matrix(const unsigned int rows, const unsigned int columns)
      : rows(rows)
      , columns(columns)
      , entries(std::size_t(rows) * columns, 0.)
  {}



  Matrix::Matrix(const SquareMatrix &square)
      : rows(square.dimension)
      , columns(square.dimension)
      , entries(square.entries)
  {
    is_scaled_identity = square.is_scaled_identity(identity_scale);
  }



  void
  Matrix::apply(const PointSet &points,
                const double    factor,
                PointSet       &out) const
  {
    out = PointSet(rows, points.size());
    if (is_scaled_identity)
      {
        for (std::size_t k = 0; k < points.coordinates.size(); ++k)
          out.coordinates[k] = factor * identity_scale * points.coordinates[k];
        return;
      }
    for (std::size_t p = 0; p < points.size(); ++p)
      for (unsigned int i = 0; i < rows; ++i)
        {
          double s = 0.;
          for (unsigned int j = 0; j < columns; ++j)
            s += entries[std::size_t(i) * columns + j] * points[p][j];
          out[p][i] = factor * s;
        }
  }



  SquareMatrix
  transpose_product(const Matrix &K, const Matrix &Q)
  {
    const unsigned int d = Q.columns;
    SquareMatrix       product(d);
    for (unsigned int r = 0; r < d; ++r)
      for (unsigned int k = 0; k < Q.rows; ++k)
        for (unsigned int c = 0; c < d; ++c)
          product(r, c) += K(k, r) * Q(k, c);
    return product;
  }



  Matrix
  parse_rectangular_matrix(const std::string  &text,
                           const unsigned int  rows,
                           const unsigned int  columns,
                           const std::string  &parameter,
                           const std::uint64_t seed,
                           const std::uint64_t stream)
  {
    if (rows == columns)
      return Matrix(parse_matrix(text, columns, parameter, seed, stream));
    const std::string shape = std::to_string(rows) + " x " +
                              std::to_string(columns) +
                              " (Model/head dimension x Model/dimension)";
    const std::vector<std::string> words = split(text, ';');
    Matrix                         matrix(rows, columns);
    if (words.size() == 1 && words[0].rfind("diagonal", 0) == 0)
      {
        const std::vector<double> diagonal =
          parse_numbers(words[0].substr(8), parameter);
        if (diagonal.size() != rows)
          throw InputError(parameter,
                           "'" + text + "' has " +
                             counted(diagonal.size(),
                                     "diagonal entry",
                                     "diagonal entries") +
                             ", but the matrix is " + shape + ": give " +
                             std::to_string(rows));
        for (unsigned int i = 0; i < rows; ++i)
          matrix.entries[std::size_t(i) * columns + i] = diagonal[i];
        return matrix;
      }
    if (words.size() == 1 && !is_numbers(words[0]))
      {
        // A keyword: the first rows of its columns x columns matrix.
        const SquareMatrix square =
          parse_matrix(text, columns, parameter, seed, stream);
        matrix.entries.assign(square.entries.begin(),
                              square.entries.begin() +
                                std::size_t(rows) * columns);
        return matrix;
      }
    if (words.size() != rows)
      throw InputError(parameter,
                       "'" + text + "' has " +
                         counted(words.size(), "row", "rows") +
                         " (';'-separated), but the matrix is " + shape + "; " +
                         matrix_syntax);
    for (unsigned int i = 0; i < rows; ++i)
      {
        const std::vector<double> row = parse_numbers(words[i], parameter);
        if (row.size() != columns)
          throw InputError(parameter,
                           "row " + std::to_string(i + 1) + " of '" + text +
                             "' has " +
                             counted(row.size(), "entry", "entries") +
                             ", but the matrix is " + shape);
        for (unsigned int j = 0; j < columns; ++j)
          matrix.entries[std::size_t(i) * columns + j] = row[j];
      }
    return matrix;
  }



  SquareMatrix
  cholesky(const SquareMatrix &A, const std::string &parameter)
  {
    const unsigned int d = A.dimension;
    SquareMatrix       L(d);
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int j = 0; j < d; ++j)
        {
          if (A(i, j) != A(j, i))
            throw InputError(parameter, "the covariance is not symmetric");
          if (j > i)
            continue;
          double s = A(i, j);
          for (unsigned int k = 0; k < j; ++k)
            s -= L(i, k) * L(j, k);
          if (i == j)
            {
              if (!(s > 0.))
                throw InputError(parameter,
                                 "the covariance is not positive definite");
              L(i, i) = std::sqrt(s);
            }
          else
            L(i, j) = s / L(j, j);
        }
    return L;
  }
} // namespace attnflow
