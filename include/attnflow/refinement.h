/**
 * @file
 * Adaptive refinement of the density's mesh towards its clusters
 * (doc/theory.md section 4.6).
 */
#ifndef attnflow_refinement_h
#define attnflow_refinement_h

#include <attnflow/parameters.h>

#include <deal.II/grid/tria.h>
#include <deal.II/lac/vector.h>

namespace attnflow
{
  /**
   * Flags for refinement the cells of @p triangulation whose @p ratio (the
   * cell mean of rho over the average mass/|domain|, by active cell index)
   * exceeds Density/refine density ratio, below Density/max refinement
   * level, and for coarsening those below Density/coarsen density ratio,
   * not below two levels under Density/refinements; then prepares the
   * triangulation for execute_coarsening_and_refinement(). On a mesh shared
   * out over ranks, the cells this rank owns (all cells, alike on every
   * rank, where the mesh is whole on every rank).
   */
  template <int dim, int spacedim>
  void
  mark_cells_by_density(dealii::Triangulation<dim, spacedim> &triangulation,
                        const dealii::Vector<double>         &ratio,
                        const DensityParameters              &parameters);
} // namespace attnflow

#endif
