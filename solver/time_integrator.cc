#include <attnflow/exceptions.h>
#include <attnflow/time_integrator.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace attnflow
{
  namespace
  {
    // Dormand–Prince 5(4): nodes, stage matrix, 5th-order weights (the last
    // row of the matrix) and the difference to the embedded 4th-order ones.
    constexpr double c[7]    = {0., 1. / 5, 3. / 10, 4. / 5, 8. / 9, 1., 1.};
    constexpr double a[7][6] = {
      {0, 0, 0, 0, 0, 0},
      {1. / 5, 0, 0, 0, 0, 0},
      {3. / 40, 9. / 40, 0, 0, 0, 0},
      {44. / 45, -56. / 15, 32. / 9, 0, 0, 0},
      {19372. / 6561, -25360. / 2187, 64448. / 6561, -212. / 729, 0, 0},
      {9017. / 3168, -355. / 33, 46732. / 5247, 49. / 176, -5103. / 18656, 0},
      {35. / 384, 0, 500. / 1113, 125. / 192, -2187. / 6784, 11. / 84}};
    constexpr double e[7] = {71. / 57600,
                             0.,
                             -71. / 16695,
                             71. / 1920,
                             -17253. / 339200,
                             22. / 525,
                             -1. / 40};

    /** y_out = y + h sum_{s < n} coefficients[s] k_s. */
    void
    combine(const TimeIntegrator::State              &y,
            const double                              h,
            const double                             *coefficients,
            const unsigned int                        n,
            const std::vector<TimeIntegrator::State> &k,
            TimeIntegrator::State                    &y_out)
    {
      const std::size_t size = y.size();
      y_out.resize(size);
      for (std::size_t i = 0; i < size; ++i)
        {
          double s = 0.;
          for (unsigned int stage = 0; stage < n; ++stage)
            s += coefficients[stage] * k[stage][i];
          y_out[i] = y[i] + h * s;
        }
    }
  } // namespace



  TimeIntegrator::TimeIntegrator(const TimeParameters &parameters)
      : parameters(parameters)
      , next_step(parameters.time_step)
      , stages(7)
  {}



  void
  TimeIntegrator::advance(const double         t0,
                          const double         t1,
                          State               &y,
                          const RightHandSide &f,
                          const Projection    &projection,
                          const StepObserver  &after_step)
  {
    if (!(t1 > t0))
      return;
    if (parameters.scheme == TimeScheme::dopri5)
      return advance_adaptive(t0, t1, y, f, projection, after_step);

    const double        length = t1 - t0;
    const unsigned long n_steps =
      std::max(1.0, std::ceil(length / parameters.time_step * (1. - 1e-12)));
    const double h = length / n_steps;
    for (unsigned long step = 0; step < n_steps; ++step)
      {
        const double t = step + 1 == n_steps ? t1 : t0 + (step + 1) * h;
        fixed_step(t0 + step * h, h, y, f);
        stats.last_step = h;
        finish_step(t, y, projection);
        if (after_step)
          after_step(t);
      }
  }



  void
  TimeIntegrator::fixed_step(const double         t,
                             const double         h,
                             State               &y,
                             const RightHandSide &f)
  {
    const std::size_t size = y.size();
    if (parameters.scheme == TimeScheme::euler)
      {
        f(t, y, stages[0]);
        ++stats.n_evaluations;
        for (std::size_t i = 0; i < size; ++i)
          y[i] += h * stages[0][i];
        return;
      }
    constexpr double rk4_a[4] = {0., 0.5, 0.5, 1.};
    constexpr double rk4_b[4] = {1. / 6, 1. / 3, 1. / 3, 1. / 6};
    for (unsigned int s = 0; s < 4; ++s)
      {
        if (s == 0)
          f(t, y, stages[0]);
        else
          {
            work.resize(size);
            for (std::size_t i = 0; i < size; ++i)
              work[i] = y[i] + rk4_a[s] * h * stages[s - 1][i];
            f(t + rk4_a[s] * h, work, stages[s]);
          }
        ++stats.n_evaluations;
      }
    for (std::size_t i = 0; i < size; ++i)
      y[i] += h * (rk4_b[0] * stages[0][i] + rk4_b[1] * stages[1][i] +
                   rk4_b[2] * stages[2][i] + rk4_b[3] * stages[3][i]);
  }



  double
  TimeIntegrator::dopri_step(const double         t,
                             const double         h,
                             const State         &y,
                             State               &y_new,
                             const RightHandSide &f)
  {
    if (!first_stage_known)
      {
        f(t, y, stages[0]);
        ++stats.n_evaluations;
        first_stage_known = true;
      }
    for (unsigned int s = 1; s < 7; ++s)
      {
        combine(y, h, a[s], s, stages, s == 6 ? y_new : work);
        f(t + c[s] * h, s == 6 ? y_new : work, stages[s]);
      }
    stats.n_evaluations += 6;

    const double rtol = parameters.relative_tolerance;
    const double atol = parameters.absolute_tolerance;
    double       sum  = 0.;
    for (std::size_t i = 0; i < y.size(); ++i)
      {
        double error = 0.;
        for (unsigned int s = 0; s < 7; ++s)
          error += e[s] * stages[s][i];
        const double scale =
          atol + rtol * std::max(std::abs(y[i]), std::abs(y_new[i]));
        const double r = h * error / scale;
        sum += r * r;
      }
    const double norm = std::sqrt(sum / std::max<std::size_t>(1, y.size()));
    return std::isfinite(norm) ? norm : std::nan("");
  }



  void
  TimeIntegrator::advance_adaptive(const double         t0,
                                   const double         t1,
                                   State               &y,
                                   const RightHandSide &f,
                                   const Projection    &projection,
                                   const StepObserver  &after_step)
  {
    double t = t0;
    State  y_new;
    // A new interval may bring other weights: no first stage from before.
    first_stage_known = false;
    while (t < t1)
      {
        const double remaining = t1 - t;
        const bool   last      = next_step >= remaining * (1. - 1e-12);
        const double h         = last ? remaining : next_step;
        const double error     = dopri_step(t, h, y, y_new, f);
        if (!(error <= 1.))
          {
            ++stats.n_rejected_steps;
            next_step = std::isnan(error) ?
                          0.2 * h :
                          h * std::max(0.2, 0.9 * std::pow(error, -0.2));
            if (next_step < 1e-14 * std::max(1., std::abs(t)))
              {
                std::ostringstream message;
                message << "the adaptive step fell below round-off at t = " << t
                        << " (step " << next_step
                        << "): the solution is not finite or too stiff";
                throw NumericalError(message.str());
              }
            continue;
          }
        y.swap(y_new);
        // First same as last: f(t + h, y_new) is the next step's first
        // stage (on the sphere too: f is evaluated at y_i/|y_i|, which the
        // projection does not change).
        stages[0].swap(stages[6]);
        t               = last ? t1 : t + h;
        stats.last_step = h;
        const double factor =
          error == 0. ?
            5. :
            std::min(5., std::max(0.2, 0.9 * std::pow(error, -0.2)));
        // A step cut short to land on t1 does not shrink the next one.
        next_step = last ? std::max(next_step, h * factor) : h * factor;
        finish_step(t, y, projection);
        if (after_step)
          after_step(t);
      }
  }



  void
  TimeIntegrator::finish_step(const double      t,
                              State            &y,
                              const Projection &projection)
  {
    ++stats.n_steps;
    if (projection)
      stats.max_projection_change =
        std::max(stats.max_projection_change, projection(y));
    for (const double value : y)
      if (!std::isfinite(value))
        {
          std::ostringstream message;
          message << "a token coordinate is not finite at t = " << t
                  << " (step " << stats.n_steps
                  << "); reduce Time/time step or the tolerances";
          throw NumericalError(message.str());
        }
  }
} // namespace attnflow
