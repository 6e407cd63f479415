/**
 * @file
 * The VTU file of a finite-element density and its field.
 */
#ifndef attnflow_density_output_h
#define attnflow_density_output_h

#include <attnflow/dg_space.h>
#include <attnflow/parameters.h>

#include <deal.II/base/tensor.h>
#include <deal.II/lac/vector.h>

#include <filesystem>
#include <vector>

namespace attnflow
{
  /**
   * Writes @p rho on @p space and the field @p velocity (given at the
   * quadrature points of the space, DensityField::velocity(); its values
   * at the cell points are projected cell by cell onto FE_DGQ(k)^spacedim)
   * as the fields "density" and "velocity" of the VTU file @p file
   * (atomically), stamped with @p time and @p cycle. Curved cells are
   * subdivided as finely as their mapping (Density/mapping degree) bends
   * them.
   */
  template <int dim, int spacedim>
  void
  write_density_vtu(const DGSpace<dim, spacedim>                   &space,
                    const dealii::Vector<double>                   &rho,
                    const std::vector<dealii::Tensor<1, spacedim>> &velocity,
                    const DensityParameters                        &parameters,
                    const double                                    time,
                    const unsigned int                              cycle,
                    const std::filesystem::path                    &file);
} // namespace attnflow

#endif
