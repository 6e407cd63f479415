/**
 * @file
 * The faces of an active mesh, each listed once with its two sides, and the
 * connected components of a set of cells through them (density clusters,
 * doc/theory.md section 4.6).
 */
#ifndef attnflow_cell_connectivity_h
#define attnflow_cell_connectivity_h

#include <deal.II/base/types.h>
#include <deal.II/dofs/dof_handler.h>

#include <vector>

#include <mpi.h>

namespace attnflow
{
  /**
   * A face of the active mesh with its two sides as
   * FEInterfaceValues::reinit() takes them. A boundary face has
   * neighbor_face == numbers::invalid_unsigned_int (and neighbor == cell).
   */
  template <int dim, int spacedim>
  struct MeshFace
  {
    typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator cell,
      neighbor;
    unsigned int face, subface, neighbor_face, neighbor_subface;

    /** Whether the face lies on the boundary of the domain. */
    bool
    at_boundary() const;
  };

  /**
   * The interior and boundary faces of the active cells of @p dof_handler
   * with a side this rank owns, each once: a face between cells of
   * different levels from its finer side, one between cells of the same
   * level from the cell of larger index (the cell may be a ghost).
   */
  template <int dim, int spacedim>
  std::vector<MeshFace<dim, spacedim>>
  list_faces(const dealii::DoFHandler<dim, spacedim> &dof_handler);

  /**
   * The number of connected components of the active cells with
   * @p marked[active_cell_index] set (owned and ghost cells), two cells
   * being connected when they share an interior face, over the meshes of
   * all ranks of @p communicator: the marked owned cells and the faces
   * between marked cells (from @p faces, list_faces()) of every rank,
   * all-gathered, in one union-find. Collective.
   */
  template <int dim, int spacedim>
  unsigned int
  count_connected_components(const std::vector<MeshFace<dim, spacedim>> &faces,
                             const std::vector<bool>                    &marked,
                             const MPI_Comm communicator);
} // namespace attnflow

#endif
