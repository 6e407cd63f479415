/**
 * @file
 * The dense matrix product of the tensor-product contractions
 * (doc/theory.md section 6.3).
 */
#ifndef attnflow_dense_product_h
#define attnflow_dense_product_h

#include <cstddef>

namespace attnflow
{
  /**
   * C = A B^T for row-major A (@p m x @p k), B (@p n x @p k) and C
   * (@p m x @p n, leading dimension @p ldc), on the calling thread.
   *
   * A register-blocked kernel (8 rows of A times 16 rows of B, packed so
   * that the 16 are contiguous per k), vectorised like the kernel engine.
   * Every entry is one multiply-add chain over k in order 0, 1, ..., k - 1,
   * so the result does not depend on how callers split a product into
   * tasks, nor on the number of threads. It is written here rather than
   * taken from BLAS: the BLAS libraries of the target systems choose their
   * kernels (and threads) at run time, and on CPUs newer than the library
   * they fall back to generic SSE kernels (OpenBLAS 0.3.21 on the Xeons of
   * these machines), several times slower than this one.
   */
  void
  multiply_transposed(std::size_t   m,
                      std::size_t   n,
                      std::size_t   k,
                      const double *a,
                      const double *b,
                      double       *c,
                      std::size_t   ldc);
} // namespace attnflow

#endif
