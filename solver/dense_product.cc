/**
 * @file
 * The register-blocked dense product C = A B^T.
 */
#include <attnflow/dense_product.h>
#include <attnflow/vector_exp.h>

#include <algorithm>
#include <vector>

namespace attnflow
{
  namespace
  {
    using namespace simd;

    /** Rows of A per block, and rows of B (two vectors) per panel. */
    constexpr std::size_t rows = 8, columns = 2 * lanes;

    /**
     * The rows j0.. j0 + 15 of B, k-major: panel[a * 16 + q] = B(j0 + q, a),
     * zero beyond the last row.
     */
    void
    pack_panel(const double     *b,
               const std::size_t n,
               const std::size_t k,
               const std::size_t j0,
               double           *panel)
    {
      const std::size_t n_q = std::min(columns, n - j0);
      std::fill(panel, panel + k * columns, 0.);
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t q = 0; q < n_q; ++q)
          panel[a * columns + q] = b[(j0 + q) * k + a];
    }

    /**
     * C(i0 + r, j0 + q) for r < @p n_rows, q < @p n_q: the 8 x 16 block of
     * rows @p i0 of A against one packed panel.
     */
    void
    multiply_block(const double     *a,
                   const std::size_t k,
                   const std::size_t i0,
                   const std::size_t n_rows,
                   const double     *panel,
                   const std::size_t n_q,
                   double           *c,
                   const std::size_t ldc,
                   const std::size_t j0)
    {
      const double *row[rows];
      for (std::size_t r = 0; r < rows; ++r)
        row[r] = a + (i0 + std::min(r, n_rows - 1)) * k;
      vdouble acc0[rows], acc1[rows];
      for (std::size_t r = 0; r < rows; ++r)
        acc0[r] = acc1[r] = broadcast(0.);
      for (std::size_t l = 0; l < k; ++l)
        {
          const vdouble b0 = load(panel + l * columns);
          const vdouble b1 = load(panel + l * columns + lanes);
          for (std::size_t r = 0; r < rows; ++r)
            {
              const double x = row[r][l];
              acc0[r] += x * b0;
              acc1[r] += x * b1;
            }
        }
      for (std::size_t r = 0; r < n_rows; ++r)
        {
          double *out = c + (i0 + r) * ldc + j0;
          if (n_q == columns)
            {
              store(out, acc0[r]);
              store(out + lanes, acc1[r]);
            }
          else
            for (std::size_t q = 0; q < n_q; ++q)
              out[q] = q < lanes ? acc0[r][q] : acc1[r][q - lanes];
        }
    }
  } // namespace



  void
  multiply_transposed(const std::size_t m,
                      const std::size_t n,
                      const std::size_t k,
                      const double     *a,
                      const double     *b,
                      double           *c,
                      const std::size_t ldc)
  {
    std::vector<double> panel(k * columns);
    for (std::size_t j0 = 0; j0 < n; j0 += columns)
      {
        pack_panel(b, n, k, j0, panel.data());
        const std::size_t n_q = std::min(columns, n - j0);
        for (std::size_t i0 = 0; i0 < m; i0 += rows)
          multiply_block(a,
                         k,
                         i0,
                         std::min(rows, m - i0),
                         panel.data(),
                         n_q,
                         c,
                         ldc,
                         j0);
      }
  }
} // namespace attnflow
