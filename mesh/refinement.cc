#include <attnflow/refinement.h>

#include <deal.II/distributed/shared_tria.h>
#include <deal.II/grid/grid_refinement.h>

#include <algorithm>

namespace attnflow
{
  template <int dim, int spacedim>
  void
  mark_cells_by_density(dealii::Triangulation<dim, spacedim> &triangulation,
                        const dealii::Vector<double>         &ratio,
                        const DensityParameters              &parameters)
  {
    dealii::GridRefinement::refine(triangulation,
                                   ratio,
                                   parameters.refine_ratio);
    dealii::GridRefinement::coarsen(triangulation,
                                    ratio,
                                    parameters.coarsen_ratio);
    const int  coarsest = std::max(0, int(parameters.refinements) - 2);
    const bool replicated =
      dynamic_cast<
        const dealii::parallel::shared::Triangulation<dim, spacedim> *>(
        &triangulation) != nullptr;
    for (const auto &cell : triangulation.active_cell_iterators())
      {
        // Each rank flags the cells it owns (a mesh that is whole on every
        // rank, parallel::shared, is flagged alike everywhere).
        if (!replicated && !cell->is_locally_owned())
          {
            cell->clear_refine_flag();
            cell->clear_coarsen_flag();
          }
        if (cell->level() >= int(parameters.max_refinement_level))
          cell->clear_refine_flag();
        if (cell->level() <= coarsest)
          cell->clear_coarsen_flag();
      }
    triangulation.prepare_coarsening_and_refinement();
  }



  template void
  mark_cells_by_density(dealii::Triangulation<1, 1> &,
                        const dealii::Vector<double> &,
                        const DensityParameters &);
  template void
  mark_cells_by_density(dealii::Triangulation<2, 2> &,
                        const dealii::Vector<double> &,
                        const DensityParameters &);
  template void
  mark_cells_by_density(dealii::Triangulation<3, 3> &,
                        const dealii::Vector<double> &,
                        const DensityParameters &);
  template void
  mark_cells_by_density(dealii::Triangulation<1, 2> &,
                        const dealii::Vector<double> &,
                        const DensityParameters &);
  template void
  mark_cells_by_density(dealii::Triangulation<2, 3> &,
                        const dealii::Vector<double> &,
                        const DensityParameters &);
} // namespace attnflow
