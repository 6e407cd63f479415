/**
 * @file
 * The exact solution of case E2 (doc/theory.md section 3.2): under softmax
 * attention a Gaussian N(m, S) in R^2 stays Gaussian, with
 *   B = beta V S K^T Q,  m' = V m + B m,  S' = B S + S B^T,
 * integrated here by RK4 with 4000 steps (error ~1e-14).
 */
#ifndef attnflow_gaussian_moments_h
#define attnflow_gaussian_moments_h

#include <array>

namespace attnflow::testing
{
  using Matrix2 = std::array<std::array<double, 2>, 2>;

  /** The matrix [[a, b], [c, d]]. */
  inline Matrix2
  matrix(const double a, const double b, const double c, const double d)
  {
    Matrix2 m;
    m[0] = {{a, b}};
    m[1] = {{c, d}};
    return m;
  }

  inline Matrix2
  product(const Matrix2 &a, const Matrix2 &b)
  {
    Matrix2 c{};
    for (unsigned int i = 0; i < 2; ++i)
      for (unsigned int j = 0; j < 2; ++j)
        c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
    return c;
  }

  inline Matrix2
  transpose(const Matrix2 &a)
  {
    return matrix(a[0][0], a[1][0], a[0][1], a[1][1]);
  }

  /** The moments (m, S) of a Gaussian under E2, stepped by RK4. */
  struct GaussianMoments
  {
    std::array<double, 2> m;
    Matrix2               S;
  };

  /** E2: m' = V m + B m, S' = B S + S B^T, B = beta V S K^T Q. */
  inline GaussianMoments
  derivative(const GaussianMoments &y,
             const double           beta,
             const Matrix2         &Q,
             const Matrix2         &K,
             const Matrix2         &V)
  {
    Matrix2 B = product(product(V, y.S), product(transpose(K), Q));
    for (auto &row : B)
      for (double &b : row)
        b *= beta;
    GaussianMoments d{};
    for (unsigned int i = 0; i < 2; ++i)
      d.m[i] = (V[i][0] + B[i][0]) * y.m[0] + (V[i][1] + B[i][1]) * y.m[1];
    const Matrix2 BS = product(B, y.S);
    for (unsigned int i = 0; i < 2; ++i)
      for (unsigned int j = 0; j < 2; ++j)
        d.S[i][j] = BS[i][j] + BS[j][i];
    return d;
  }

  inline GaussianMoments
  integrate_moments(GaussianMoments y,
                    const double    T,
                    const double    beta,
                    const Matrix2  &Q,
                    const Matrix2  &K,
                    const Matrix2  &V)
  {
    const unsigned int n_steps = 4000;
    const double       h       = T / n_steps;
    const auto         axpy =
      [](const GaussianMoments &y, const double a, const GaussianMoments &x) {
        GaussianMoments z = y;
        for (unsigned int i = 0; i < 2; ++i)
          {
            z.m[i] += a * x.m[i];
            for (unsigned int j = 0; j < 2; ++j)
              z.S[i][j] += a * x.S[i][j];
          }
        return z;
      };
    for (unsigned int s = 0; s < n_steps; ++s)
      {
        const GaussianMoments k1 = derivative(y, beta, Q, K, V);
        const GaussianMoments k2 =
          derivative(axpy(y, h / 2, k1), beta, Q, K, V);
        const GaussianMoments k3 =
          derivative(axpy(y, h / 2, k2), beta, Q, K, V);
        const GaussianMoments k4 = derivative(axpy(y, h, k3), beta, Q, K, V);
        y =
          axpy(axpy(axpy(axpy(y, h / 6, k1), h / 3, k2), h / 3, k3), h / 6, k4);
      }
    return y;
  }

} // namespace attnflow::testing

#endif
