#include <attnflow/density_output.h>
#include <attnflow/output.h>

#include <deal.II/base/mpi.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_system.h>
#include <deal.II/numerics/data_out.h>

#include <algorithm>
#include <cstdio>

namespace attnflow
{
  using namespace dealii;

  std::vector<std::string>
  density_file_names(const unsigned int index, const unsigned int n_ranks)
  {
    char name[64];
    std::snprintf(name, sizeof(name), "density_%04u", index);
    if (n_ranks == 1)
      return {std::string(name) + ".vtu"};
    std::vector<std::string> names = {std::string(name) + ".pvtu"};
    for (unsigned int r = 0; r < n_ranks; ++r)
      {
        char piece[80];
        std::snprintf(piece, sizeof(piece), "%s_%04u.vtu", name, r);
        names.emplace_back(piece);
      }
    return names;
  }



  template <int dim, int spacedim>
  void
  write_density_vtu(const DGSpace<dim, spacedim>           &space,
                    const DensityVector                    &rho,
                    const std::vector<Tensor<1, spacedim>> &velocity,
                    const DensityParameters                &parameters,
                    const double                            time,
                    const unsigned int                      cycle,
                    const std::filesystem::path            &directory,
                    const std::vector<std::string>         &names)
  {
    // Each component of the field at the cell points, projected.
    std::vector<DensityVector> components;
    std::vector<double>        values(space.cell_points().size());
    for (unsigned int k = 0; k < spacedim; ++k)
      {
        for (std::size_t q = 0; q < values.size(); ++q)
          values[q] = velocity[q][k];
        components.push_back(space.project(values));
      }
    const FESystem<dim, spacedim> velocity_fe(space.get_fe(), spacedim);
    DoFHandler<dim, spacedim>     velocity_dofs(space.get_triangulation());
    velocity_dofs.distribute_dofs(velocity_fe);
    IndexSet relevant;
    DoFTools::extract_locally_relevant_dofs(velocity_dofs, relevant);
    DensityVector projected(velocity_dofs.locally_owned_dofs(),
                            relevant,
                            space.get_communicator());
    std::vector<types::global_dof_index> dofs(velocity_fe.n_dofs_per_cell()),
      scalar_dofs(space.get_fe().n_dofs_per_cell());
    for (const auto &cell : velocity_dofs.active_cell_iterators())
      if (cell->is_locally_owned())
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

    projected.update_ghost_values();
    rho.update_ghost_values();
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
    const unsigned int rank =
      Utilities::MPI::this_mpi_process(space.get_communicator());
    write_file_atomically(directory / names[names.size() == 1 ? 0 : rank + 1],
                          [&](std::ostream &out) { data_out.write_vtu(out); });
    if (names.size() > 1 && rank == 0)
      write_file_atomically(directory / names[0], [&](std::ostream &out) {
        data_out.write_pvtu_record(out,
                                   std::vector<std::string>(names.begin() + 1,
                                                            names.end()));
      });
    data_out.clear();
    velocity_dofs.clear();
  }



  template void
  write_density_vtu(const DGSpace<1, 1> &,
                    const DensityVector &,
                    const std::vector<Tensor<1, 1>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &,
                    const std::vector<std::string> &);
  template void
  write_density_vtu(const DGSpace<2, 2> &,
                    const DensityVector &,
                    const std::vector<Tensor<1, 2>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &,
                    const std::vector<std::string> &);
  template void
  write_density_vtu(const DGSpace<3, 3> &,
                    const DensityVector &,
                    const std::vector<Tensor<1, 3>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &,
                    const std::vector<std::string> &);
  template void
  write_density_vtu(const DGSpace<1, 2> &,
                    const DensityVector &,
                    const std::vector<Tensor<1, 2>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &,
                    const std::vector<std::string> &);
  template void
  write_density_vtu(const DGSpace<2, 3> &,
                    const DensityVector &,
                    const std::vector<Tensor<1, 3>> &,
                    const DensityParameters &,
                    const double,
                    const unsigned int,
                    const std::filesystem::path &,
                    const std::vector<std::string> &);
} // namespace attnflow
