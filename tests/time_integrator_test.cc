/**
 * @file
 * The integrators on y' = -y^2 (y = 1/(1 + t)) and a rotation: observed
 * orders of Euler and RK4, and dopri5 meeting its tolerance.
 */
#include <attnflow/exceptions.h>
#include <attnflow/time_integrator.h>

#include <gtest/gtest.h>

#include <cmath>

namespace attnflow
{
  namespace
  {
    /** y1' = -y1^2, (y2, y3)' = rotation: y1 = 1/(1+t), (cos t, sin t). */
    void
    f(const double, const TimeIntegrator::State &y, TimeIntegrator::State &dydt)
    {
      dydt = {-y[0] * y[0], -y[2], y[1]};
    }

    /**
     * The error at T = 2 of @p scheme with step @p dt (or tolerance), and
     * the number of steps taken into @p n_steps.
     */
    double
    error(const TimeScheme scheme,
          const double     dt,
          const double     tolerance = 1e-6,
          unsigned long   *n_steps   = nullptr)
    {
      TimeParameters p;
      p.scheme             = scheme;
      p.time_step          = dt;
      p.relative_tolerance = tolerance;
      p.absolute_tolerance = tolerance;
      TimeIntegrator        integrator(p);
      TimeIntegrator::State y = {1., 1., 0.};
      // Through several output times, as a run does.
      const double times[] = {0., 0.3, 1., 1.7, 2.};
      for (unsigned int i = 1; i < 5; ++i)
        integrator.advance(times[i - 1], times[i], y, f);
      if (n_steps)
        *n_steps = integrator.statistics().n_steps;
      return std::max({std::abs(y[0] - 1. / 3.),
                       std::abs(y[1] - std::cos(2.)),
                       std::abs(y[2] - std::sin(2.))});
    }
  } // namespace

  TEST(TimeIntegrator, RungeKutta4HasOrderFour)
  {
    const double e1 = error(TimeScheme::rk4, 0.1);
    const double e2 = error(TimeScheme::rk4, 0.05);
    const double e3 = error(TimeScheme::rk4, 0.025);
    EXPECT_NEAR(std::log2(e1 / e2), 4., 0.2);
    EXPECT_NEAR(std::log2(e2 / e3), 4., 0.2);
  }

  TEST(TimeIntegrator, EulerHasOrderOne)
  {
    const double e1 = error(TimeScheme::euler, 0.01);
    const double e2 = error(TimeScheme::euler, 0.005);
    EXPECT_NEAR(std::log2(e1 / e2), 1., 0.05);
  }

  TEST(TimeIntegrator, DormandPrinceMeetsItsTolerance)
  {
    // Each accepted step keeps its local error below atol + rtol |y| <= 2 tol
    // (|y| <= 1 here). The flow is non-expansive (a contraction and a
    // rotation), so local errors do not grow: the global error is at most
    // their sum, n_steps * 2 tol. And it converges as the tolerance shrinks.
    double previous = 1.;
    for (const double tolerance : {1e-4, 1e-6, 1e-8, 1e-10})
      {
        unsigned long n_steps = 0;
        const double  e = error(TimeScheme::dopri5, 0.1, tolerance, &n_steps);
        EXPECT_LT(e, 2. * n_steps * tolerance) << "tolerance " << tolerance;
        EXPECT_LT(e, 0.1 * previous) << "tolerance " << tolerance;
        previous = e;
      }
  }

  TEST(TimeIntegrator, AdaptiveStepsAdaptAndLandOnTheEndTime)
  {
    TimeParameters p;
    p.relative_tolerance = 1e-9;
    p.absolute_tolerance = 1e-9;
    p.time_step          = 1.; // far too large: rejected, then adapted
    TimeIntegrator        integrator(p);
    TimeIntegrator::State y = {1., 1., 0.};
    integrator.advance(0., 0.123, y, f);
    EXPECT_NEAR(y[0], 1. / 1.123, 1e-9);
    EXPECT_GT(integrator.statistics().n_rejected_steps, 0u);
  }

  TEST(TimeIntegrator, BlowUpIsReportedNotWritten)
  {
    TimeParameters p;
    p.scheme    = TimeScheme::rk4;
    p.time_step = 0.1;
    TimeIntegrator integrator(p);
    // y' = y^2 from y = 1 blows up at t = 1.
    TimeIntegrator::State y = {1.};
    const auto            g = [](const double,
                      const TimeIntegrator::State &y,
                      TimeIntegrator::State &dydt) { dydt = {y[0] * y[0]}; };
    EXPECT_THROW(integrator.advance(0., 5., y, g), NumericalError);
    p.scheme = TimeScheme::dopri5;
    TimeIntegrator adaptive(p);
    y = {1.};
    EXPECT_THROW(adaptive.advance(0., 5., y, g), NumericalError);
  }
} // namespace attnflow
