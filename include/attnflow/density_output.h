/**
 * @file
 * The VTU files of a finite-element density and its field: one .vtu, or
 * under MPI a .pvtu record with a .vtu piece per rank.
 */
#ifndef attnflow_density_output_h
#define attnflow_density_output_h

#include <attnflow/dg_space.h>
#include <attnflow/parameters.h>

#include <deal.II/base/tensor.h>

#include <filesystem>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * The files of the density at output @p index on @p n_ranks ranks, the
   * one ParaView opens first: density_NNNN.vtu on one rank; on more, the
   * record density_NNNN.pvtu and the pieces density_NNNN_RRRR.vtu of ranks
   * RRRR = 0 .. n_ranks - 1.
   */
  std::vector<std::string>
  density_file_names(const unsigned int index, const unsigned int n_ranks);

  /**
   * Writes @p rho on @p space and the field @p velocity (given at the
   * quadrature points of the space, DensityField::velocity(); its values
   * at the cell points are projected cell by cell onto FE_DGQ(k)^spacedim)
   * as the fields "density" and "velocity" of the files @p names
   * (density_file_names()) in @p directory, each atomically, stamped with
   * @p time and @p cycle: each rank its own cells as its piece, rank 0 the
   * .pvtu record too. Curved cells are subdivided as finely as their
   * mapping (Density/mapping degree) bends them. Collective.
   */
  template <int dim, int spacedim>
  void
  write_density_vtu(const DGSpace<dim, spacedim>                   &space,
                    const DensityVector                            &rho,
                    const std::vector<dealii::Tensor<1, spacedim>> &velocity,
                    const DensityParameters                        &parameters,
                    const double                                    time,
                    const unsigned int                              cycle,
                    const std::filesystem::path                    &directory,
                    const std::vector<std::string>                 &names);
} // namespace attnflow

#endif
