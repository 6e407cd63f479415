/**
 * @file
 * Initial measures: reproducible sampling, and the moments of each type
 * against their exact values within a few standard errors n^(-1/2).
 */
#include <attnflow/exceptions.h>
#include <attnflow/initial_measure.h>

#include <gtest/gtest.h>

#include <cmath>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** Model and initial condition of one test. */
    struct MeasureSetup
    {
      MeasureSetup(const Geometry geometry, const unsigned int d)
      {
        model.geometry  = geometry;
        model.dimension = d;
      }

      PointSet
      sample(const std::size_t n) const
      {
        const Model m(model);
        return InitialMeasure(initial, m).sample(n);
      }

      ModelParameters            model;
      InitialConditionParameters initial;
    };

    /** The sample mean of f over the points. */
    template <typename F>
    double
    average(const PointSet &points, const F &f)
    {
      double sum = 0.;
      for (std::size_t i = 0; i < points.size(); ++i)
        sum += f(points[i]);
      return sum / points.size();
    }

    constexpr std::size_t n = 40000;
    /** Five standard errors of a mean of variables with variance @p var. */
    double
    tolerance(const double var)
    {
      return 5. * std::sqrt(var / n);
    }
  } // namespace

  TEST(InitialMeasure, SameSeedGivesBitIdenticalTokens)
  {
    MeasureSetup s(Geometry::sphere, 3);
    s.initial.type   = InitialMeasureType::von_mises_fisher;
    s.initial.means  = "0, 0, 1 | 1, 0, 0";
    const PointSet a = s.sample(500), b = s.sample(500);
    EXPECT_EQ(a.coordinates, b.coordinates);
    s.initial.seed = 2;
    EXPECT_NE(a.coordinates, s.sample(500).coordinates);
  }

  TEST(InitialMeasure, UniformOnTheSphereHasZeroMeanAndUnitNorm)
  {
    MeasureSetup   s(Geometry::sphere, 5);
    const PointSet x = s.sample(n);
    for (unsigned int k = 0; k < 5; ++k)
      EXPECT_NEAR(average(x, [k](const double *p) { return p[k]; }),
                  0.,
                  tolerance(1. / 5));
    for (std::size_t i = 0; i < 100; ++i)
      EXPECT_NEAR(x[i][0] * x[i][0] + x[i][1] * x[i][1] + x[i][2] * x[i][2] +
                    x[i][3] * x[i][3] + x[i][4] * x[i][4],
                  1.,
                  1e-14);
  }

  TEST(InitialMeasure, UniformOnABoxHasTheBoxMoments)
  {
    MeasureSetup s(Geometry::euclidean, 2);
    s.initial.lower_corner = "0, -2";
    s.initial.upper_corner = "1, 2";
    const PointSet x       = s.sample(n);
    EXPECT_NEAR(average(x, [](const double *p) { return p[0]; }),
                0.5,
                tolerance(1. / 12));
    EXPECT_NEAR(average(x, [](const double *p) { return p[1] * p[1]; }),
                4. / 3,
                tolerance(16. / 5 - 16. / 9));
  }

  TEST(InitialMeasure, GaussianMixtureHasItsMeanAndCovariance)
  {
    MeasureSetup s(Geometry::euclidean, 2);
    s.initial.type            = InitialMeasureType::gaussian;
    s.initial.means           = "1, 0 | -1, 2";
    s.initial.covariances     = "2, 0.5; 0.5, 1 | 0.5*identity";
    s.initial.mixture_weights = "3, 1";
    const PointSet x          = s.sample(n);
    // Mixture mean 0.75 (1, 0) + 0.25 (-1, 2) = (0.5, 0.5);
    // E[x y] = 0.75 (0.5 + 0) + 0.25 (0 + -2) = -0.125.
    EXPECT_NEAR(average(x, [](const double *p) { return p[0]; }),
                0.5,
                tolerance(2.5));
    EXPECT_NEAR(average(x, [](const double *p) { return p[1]; }),
                0.5,
                tolerance(2.));
    EXPECT_NEAR(average(x, [](const double *p) { return p[0] * p[1]; }),
                -0.125,
                tolerance(10.));
  }

  TEST(InitialMeasure, VonMisesFisherHasItsMeanResultantLength)
  {
    // On S^2, E <x, mu> = coth(kappa) - 1/kappa; on S^1, I_1(kappa)/I_0(kappa).
    for (const double kappa : {0.5, 4., 50.})
      {
        MeasureSetup s3(Geometry::sphere, 3);
        s3.initial.type           = InitialMeasureType::von_mises_fisher;
        s3.initial.means          = "0, 3, 4";
        s3.initial.concentrations = std::to_string(kappa);
        const PointSet x          = s3.sample(n);
        EXPECT_NEAR(
          average(x, [](const double *p) { return 0.6 * p[1] + 0.8 * p[2]; }),
          1. / std::tanh(kappa) - 1. / kappa,
          tolerance(1.));

        MeasureSetup s2(Geometry::sphere, 2);
        s2.initial.type           = InitialMeasureType::von_mises_fisher;
        s2.initial.means          = "-1, 0";
        s2.initial.concentrations = std::to_string(kappa);
        EXPECT_NEAR(average(s2.sample(n),
                            [](const double *p) { return -p[0]; }),
                    std::cyl_bessel_i(1., kappa) / std::cyl_bessel_i(0., kappa),
                    tolerance(1.));
      }
  }

  TEST(InitialMeasure, DensityFunctionIsSampledByRejection)
  {
    // rho ~ 1 + 0.5 cos(theta) on S^1: E cos(theta) = 1/4.
    MeasureSetup s(Geometry::sphere, 2);
    s.initial.type             = InitialMeasureType::function;
    s.initial.density_function = "1 + 0.5*cos(theta)";
    EXPECT_NEAR(average(s.sample(n), [](const double *p) { return p[0]; }),
                0.25,
                tolerance(0.5));
    // rho ~ x on [0, 1]: E x = 2/3.
    MeasureSetup e(Geometry::euclidean, 1);
    e.initial.type             = InitialMeasureType::function;
    e.initial.density_function = "x";
    e.initial.lower_corner     = "0";
    EXPECT_NEAR(average(e.sample(n), [](const double *p) { return p[0]; }),
                2. / 3,
                tolerance(1. / 18));
  }

  TEST(InitialMeasure, TokensFileIsReadAndNormalisedOnTheSphere)
  {
    const auto dir = testing::scratch_directory("tokens_file");
    testing::write_text(dir / "t.csv", "# x, y\n3, 4\n\n0, -2\n");
    MeasureSetup s(Geometry::sphere, 2);
    s.initial.type        = InitialMeasureType::tokens_file;
    s.initial.tokens_file = (dir / "t.csv").string();
    const PointSet x      = s.sample(1000);
    ASSERT_EQ(x.size(), 2u);
    EXPECT_DOUBLE_EQ(x[0][0], 0.6);
    EXPECT_DOUBLE_EQ(x[0][1], 0.8);
    EXPECT_DOUBLE_EQ(x[1][1], -1.);
  }
} // namespace attnflow

namespace attnflow
{
  TEST(InitialMeasure, DensitiesIntegrateToOne)
  {
    // von Mises–Fisher on S^1 (trapezoidal rule: spectral for periodic
    // integrands), for small, moderate and huge concentrations.
    for (const double kappa : {0., 2., 60., 2000.})
      {
        MeasureSetup s(Geometry::sphere, 2);
        s.initial.type           = InitialMeasureType::von_mises_fisher;
        s.initial.means          = "0.6, 0.8";
        s.initial.concentrations = std::to_string(kappa);
        const Model          model(s.model);
        const InitialMeasure mu(s.initial, model);
        const unsigned int   n   = 20000;
        double               sum = 0.;
        for (unsigned int i = 0; i < n; ++i)
          {
            const double theta = 2. * M_PI * i / n;
            const double x[2]  = {std::cos(theta), std::sin(theta)};
            sum += mu.density(x) * 2. * M_PI / n;
          }
        EXPECT_NEAR(sum, 1., 1e-10) << "kappa " << kappa;
      }
    // von Mises–Fisher mixture on S^2, in (z, phi): Simpson's rule in z
    // (error ~ (h kappa)^4 / 180 = 3e-12 here), the trapezoidal rule in phi.
    {
      MeasureSetup s(Geometry::sphere, 3);
      s.initial.type            = InitialMeasureType::von_mises_fisher;
      s.initial.means           = "0, 0, 1 | 1, 0, 0";
      s.initial.concentrations  = "1000, 3";
      s.initial.mixture_weights = "1, 3";
      const Model          model(s.model);
      const InitialMeasure mu(s.initial, model);
      const unsigned int   nz = 400000, nphi = 32;
      const double         h   = 2. / nz;
      double               sum = 0.;
      for (unsigned int i = 0; i <= nz; ++i)
        {
          const double z      = -1. + i * h;
          const double r      = std::sqrt(std::max(0., 1. - z * z));
          const double weight = (i == 0 || i == nz) ? 1. : (i % 2 ? 4. : 2.);
          for (unsigned int j = 0; j < nphi; ++j)
            {
              const double phi  = 2. * M_PI * j / nphi;
              const double x[3] = {r * std::cos(phi), r * std::sin(phi), z};
              sum += mu.density(x) * weight * h / 3. * (2. * M_PI / nphi);
            }
        }
      EXPECT_NEAR(sum, 1., 1e-10);
    }
    // A Gaussian mixture in R^2 and the uniform measures.
    {
      MeasureSetup s(Geometry::euclidean, 2);
      s.initial.type        = InitialMeasureType::gaussian;
      s.initial.means       = "1, 0 | -1, 2";
      s.initial.covariances = "2, 0.5; 0.5, 1 | 0.5*identity";
      const Model          model(s.model);
      const InitialMeasure mu(s.initial, model);
      const unsigned int   n   = 1000;
      const double         h   = 24. / n;
      double               sum = 0.;
      for (unsigned int i = 0; i < n; ++i)
        for (unsigned int j = 0; j < n; ++j)
          {
            const double x[2] = {-12. + (i + 0.5) * h, -10. + (j + 0.5) * h};
            sum += mu.density(x) * h * h;
          }
      EXPECT_NEAR(sum, 1., 1e-8);
    }
    {
      MeasureSetup s(Geometry::sphere, 3);
      const Model  model(s.model);
      const double x[3] = {0., 0., 1.};
      EXPECT_DOUBLE_EQ(InitialMeasure(s.initial, model).density(x),
                       1. / (4. * M_PI));
      MeasureSetup b(Geometry::euclidean, 2);
      b.initial.lower_corner = "0, -1";
      b.initial.upper_corner = "2, 1";
      const Model  box(b.model);
      const double inside[2] = {1., 0.}, outside[2] = {3., 0.};
      EXPECT_DOUBLE_EQ(InitialMeasure(b.initial, box).density(inside), 0.25);
      EXPECT_EQ(InitialMeasure(b.initial, box).density(outside), 0.);
    }
  }
} // namespace attnflow
