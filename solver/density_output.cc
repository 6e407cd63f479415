#include <attnflow/density_output.h>
#include <attnflow/output.h>

#include <deal.II/fe/fe_system.h>
#include <deal.II/numerics/data_out.h>

#include <algorithm>

namespace attnflow
{
  using namespace dealii;

  template <int dim, int spacedim>
  void
  write_density_vtu(const DGSpace<dim, spacedim>           &space,
                    const Vector<double>                   &rho,
                    const std::vector<Tensor<1, spacedim>> &velocity,
                    const DensityParameters                &parameters,
                    const double                            time,
                    const unsigned int                      cycle,
                    const std::filesystem::path            &file)
  {
    // Each component of the field at the cell points, projected.
    std::vector<Vector<double>> components;
    std::vector<double>         values(space.cell_points().size());
    for (unsigned int k = 0; k < spacedim; ++k)
      {
        for (std::size_t q = 0; q < values.size(); ++q)
          values[q] = velocity[q][k];
        components.push_back(space.project(values));
      }
    const FESystem<dim, spacedim> velocity_fe(space.get_fe(), spacedim);
    DoFHandler<dim, spacedim>     velocity_dofs(space.get_triangulation());
    velocity_dofs.distribute_dofs(velocity_fe);
    Vector<double>                       projected(velocity_dofs.n_dofs());
    std::vector<types::global_dof_index> dofs(velocity_fe.n_dofs_per_cell()),
      scalar_dofs(space.get_fe().n_dofs_per_cell());
    for (const auto &cell : velocity_dofs.active_cell_iterators())
      {
        const typename DoFHandler<dim, spacedim>::active_cell_iterator
          scalar_cell(&space.get_triangulation(),
                      cell->level(),
                      cell->index(),
                      &space.get_dof_handler());
        cell->get_dof_indices(dofs);
        scalar_cell->get_dof_indices(scalar_dofs);
        for (unsigned int i = 0; i < velocity_fe.n_dofs_per_cell(); ++i)
          {
            const auto component = velocity_fe.system_to_component_index(i);
            projected(dofs[i]) =
              components[component.first](scalar_dofs[component.second]);
          }
      }

    DataOut<dim, spacedim> data_out;
    data_out.attach_dof_handler(space.get_dof_handler());
    data_out.add_data_vector(rho, "density");
    data_out.add_data_vector(
      velocity_dofs,
      projected,
      std::vector<std::string>(spacedim, "velocity"),
      std::vector<DataComponentInterpretation::DataComponentInterpretation>(
        spacedim,
        DataComponentInterpretation::component_is_part_of_vector));
    // Subdivide curved cells as finely as their mapping bends them.
    data_out.build_patches(
      space.get_mapping(),
      dim < spacedim ? std::max(parameters.degree, parameters.mapping_degree) :
                       std::max(1u, parameters.degree),
      dim < spacedim ? DataOut<dim, spacedim>::curved_inner_cells :
                       DataOut<dim, spacedim>::no_curved_cells);
    // No date in the file: a run and its resumed twin write the same bytes.
    DataOutBase::VtkFlags flags(time, cycle, false);
    // deal.II 9.4 writes no higher-order 1-D cells (it gives VTK_LAGRANGE_CURVE
    // cells without their inner points): line segments per subdivision there.
    flags.write_higher_order_cells = dim > 1;
    data_out.set_flags(flags);
    write_file_atomically(file,
                          [&](std::ostream &out) { data_out.write_vtu(out); });
    data_out.clear();
    velocity_dofs.clear();
  }



  template void
  write_density_vtu(const DGSpace<1, 1> &,
                    const Vector<double> &,
                    const std::vector<Tensor<1, 1>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &);
  template void
  write_density_vtu(const DGSpace<2, 2> &,
                    const Vector<double> &,
                    const std::vector<Tensor<1, 2>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &);
  template void
  write_density_vtu(const DGSpace<3, 3> &,
                    const Vector<double> &,
                    const std::vector<Tensor<1, 3>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &);
  template void
  write_density_vtu(const DGSpace<1, 2> &,
                    const Vector<double> &,
                    const std::vector<Tensor<1, 2>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &);
  template void
  write_density_vtu(const DGSpace<2, 3> &,
                    const Vector<double> &,
                    const std::vector<Tensor<1, 3>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &);
} // namespace attnflow
