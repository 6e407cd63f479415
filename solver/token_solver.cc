#include <attnflow/token_solver.h>

#include <algorithm>
#include <cmath>

namespace attnflow
{
  TokenSolver::TokenSolver(const Model           &model,
                           const TimeParameters  &time_parameters,
                           const KernelEngine    &engine,
                           const PointSet        &tokens,
                           const FieldParameters &field,
                           const MPI_Comm         communicator)
      : model(model)
      , field(model, engine, field, communicator)
      , integrator(time_parameters)
      , points(tokens)
      , token_weights(tokens.size(), 1. / tokens.size())
      , current_time(0.)
  {}



  void
  TokenSolver::advance_to(const double t_end, const StepObserver &after_step)
  {
    for (const Model::Interval &interval : model.intervals(current_time, t_end))
      {
        const Layer &layer = *interval.layer;
        const auto   f     = [&](const double,
                           const TimeIntegrator::State &y,
                           TimeIntegrator::State       &dydt) {
          right_hand_side(layer, y, dydt);
        };
        TimeIntegrator::Projection projection;
        if (model.geometry == Geometry::sphere)
          projection = [this](TimeIntegrator::State &y) {
            return project_to_sphere(model.dimension, y);
          };
        integrator.advance(interval.start,
                           interval.end,
                           points.coordinates,
                           f,
                           projection,
                           after_step);
        current_time = interval.end;
      }
  }



  PointSet
  TokenSolver::velocity() const
  {
    PointSet v;
    field.evaluate(model.layers[model.layer_index(current_time)],
                   points,
                   points,
                   token_weights,
                   v);
    return v;
  }



  void
  TokenSolver::right_hand_side(const Layer                 &layer,
                               const TimeIntegrator::State &y,
                               TimeIntegrator::State       &dydt) const
  {
    PointSet state(model.dimension, 0);
    state.coordinates = y;
    if (model.geometry == Geometry::sphere)
      project_to_sphere(model.dimension, state.coordinates);
    PointSet v;
    field.evaluate(layer, state, state, token_weights, v);
    dydt.swap(v.coordinates);
  }



  double
  project_to_sphere(const unsigned int d, TimeIntegrator::State &y)
  {
    double drift = 0.;
    for (std::size_t i = 0; i < y.size(); i += d)
      {
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          norm2 += y[i + k] * y[i + k];
        const double norm = std::sqrt(norm2);
        drift             = std::max(drift, std::abs(norm - 1.));
        for (unsigned int k = 0; k < d; ++k)
          y[i + k] /= norm;
      }
    return drift;
  }
} // namespace attnflow
