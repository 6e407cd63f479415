#include <attnflow/density_field.h>
#include <attnflow/dg_face_values.h>
#include <attnflow/distributed.h>

#include <deal.II/base/mpi.h>

#include <algorithm>

namespace attnflow
{
  using namespace dealii;

  template <int dim, int spacedim>
  DensityField<dim, spacedim>::DensityField(
    const Model                  &model,
    const KernelEngine           &engine,
    const DGSpace<dim, spacedim> &space,
    TimerOutput                  &timer,
    const FieldParameters        &field_parameters)
      : field(model,
              engine,
              field_parameters,
              space.get_communicator(),
              AttentionField::Sharing::own_targets)
      , shared_field(model, engine, field_parameters, space.get_communicator())
      , space(space)
      , timer(timer)
  {}



  template <int dim, int spacedim>
  void
  DensityField<dim, spacedim>::reinit()
  {
    const PointSet    &cell_points = space.cell_points();
    const unsigned int n_q         = space.get_face_quadrature().size();
    sources                        = PointSet(spacedim);
    sources.coordinates = all_gather_concatenated(space.get_communicator(),
                                                  cell_points.coordinates);
    targets             = cell_points;
    targets.coordinates.resize(
      (cell_points.size() + space.faces().size() * n_q) * spacedim);
    FaceValues<dim, spacedim> face_values(space, update_quadrature_points);
    for (std::size_t r = 0; r < space.faces().size(); ++r)
      {
        const std::vector<Point<spacedim>> &points =
          face_values.reinit(space.faces()[r]) ?
            face_values.boundary.get_quadrature_points() :
            face_values.interface.get_quadrature_points();
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Point<spacedim> x = space.on_domain(points[q]);
            for (unsigned int k = 0; k < spacedim; ++k)
              targets[space.face_point_index(r, q)][k] = x[k];
          }
      }
    velocity_at_targets.assign(targets.size(), Tensor<1, spacedim>());
  }



  template <int dim, int spacedim>
  std::vector<double>
  DensityField<dim, spacedim>::source_weights(const DensityVector &rho) const
  {
    std::vector<double> weights = space.cell_point_weights(rho);
    for (double &w : weights)
      w = std::max(0., w);
    return weights;
  }



  template <int dim, int spacedim>
  WeightedPoints
  DensityField<dim, spacedim>::measure(const DensityVector &rho) const
  {
    return {sources,
            all_gather_concatenated(space.get_communicator(),
                                    source_weights(rho))};
  }



  template <int dim, int spacedim>
  void
  DensityField<dim, spacedim>::evaluate(const DensityVector &rho,
                                        const Layer         &layer)
  {
    TimerOutput::Scope   scope(timer, "density field");
    const WeightedPoints density = measure(rho);
    PointSet             X;
    field.evaluate(layer, targets, density.points, density.weights, X);
    for (std::size_t t = 0; t < targets.size(); ++t)
      for (unsigned int k = 0; k < spacedim; ++k)
        velocity_at_targets[t][k] = X[t][k];
  }



  template <int dim, int spacedim>
  double
  DensityField<dim, spacedim>::max_speed() const
  {
    double speed = 0.;
    for (const Tensor<1, spacedim> &v : velocity_at_targets)
      speed = std::max(speed, v.norm());
    return Utilities::MPI::max(speed, space.get_communicator());
  }



  template <int dim, int spacedim>
  double
  DensityField<dim, spacedim>::energy(const WeightedPoints &density,
                                      const Layer          &layer) const
  {
    return shared_field.energy(layer, density.points, density.weights);
  }



  template class DensityField<1, 1>;
  template class DensityField<2, 2>;
  template class DensityField<3, 3>;
  template class DensityField<1, 2>;
  template class DensityField<2, 3>;
} // namespace attnflow
