#include <attnflow/cell_connectivity.h>
#include <attnflow/distributed.h>
#include <attnflow/point_sets.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <optional>


namespace attnflow
{
  template <int dim, int spacedim>
  bool
  MeshFace<dim, spacedim>::at_boundary() const
  {
    return neighbor_face == dealii::numbers::invalid_unsigned_int;
  }



  namespace
  {
    /**
     * The face @p f of @p cell as list_faces() lists it, or nothing if it
     * is listed from its other side.
     */
    template <int dim, int spacedim>
    std::optional<MeshFace<dim, spacedim>>
    listed_face(
      const typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator
                        &cell,
      const unsigned int f)
    {
      const unsigned int invalid = dealii::numbers::invalid_unsigned_int;
      if (cell->at_boundary(f))
        return MeshFace<dim, spacedim>{cell,
                                       cell,
                                       f,
                                       invalid,
                                       invalid,
                                       invalid};
      const auto neighbor = cell->neighbor(f);
      if (neighbor->has_children())
        return {}; // the finer side lists this face
      if (dim > 1 && cell->neighbor_is_coarser(f))
        {
          const auto faces_of_neighbor = cell->neighbor_of_coarser_neighbor(f);
          return MeshFace<dim, spacedim>{cell,
                                         neighbor,
                                         f,
                                         invalid,
                                         faces_of_neighbor.first,
                                         faces_of_neighbor.second};
        }
      // Same level (or, in 1D, a coarser neighbour): list it once.
      if (neighbor->level() == cell->level() &&
          neighbor->index() < cell->index())
        return {};
      unsigned int neighbor_face = invalid;
      for (const unsigned int nf : neighbor->face_indices())
        if (neighbor->face(nf)->index() == cell->face(f)->index())
          neighbor_face = nf;
      return MeshFace<dim, spacedim>{cell,
                                     neighbor,
                                     f,
                                     invalid,
                                     neighbor_face,
                                     invalid};
    }
  } // namespace



  template <int dim, int spacedim>
  std::vector<MeshFace<dim, spacedim>>
  list_faces(const dealii::DoFHandler<dim, spacedim> &dof_handler)
  {
    std::vector<MeshFace<dim, spacedim>> faces;
    for (const auto &cell : dof_handler.active_cell_iterators())
      if (!cell->is_artificial())
        for (const unsigned int f : cell->face_indices())
          if (const auto face = listed_face<dim, spacedim>(cell, f))
            if (face->cell->is_locally_owned() ||
                face->neighbor->is_locally_owned())
              faces.push_back(*face);
    return faces;
  }



  template <int dim, int spacedim>
  unsigned int
  count_connected_components(const std::vector<MeshFace<dim, spacedim>> &faces,
                             const std::vector<bool>                    &marked,
                             const MPI_Comm communicator)
  {
    // The marked owned cells and the faces between marked cells, by global
    // active cell index, from every rank: one union-find over them all.
    using Index = dealii::types::global_cell_index;
    std::vector<Index> cells, edges;
    for (const MeshFace<dim, spacedim> &face : faces)
      {
        const auto record = [&](const auto &cell) {
          if (cell->is_locally_owned() && marked[cell->active_cell_index()])
            cells.push_back(cell->global_active_cell_index());
        };
        // An owned cell from each of its faces (duplicates go below).
        record(face.cell);
        if (!face.at_boundary())
          record(face.neighbor);
        if (!face.at_boundary() && marked[face.cell->active_cell_index()] &&
            marked[face.neighbor->active_cell_index()])
          {
            edges.push_back(face.cell->global_active_cell_index());
            edges.push_back(face.neighbor->global_active_cell_index());
          }
      }
    if (dealii::Utilities::MPI::n_mpi_processes(communicator) > 1)
      {
        cells =
          concatenated(dealii::Utilities::MPI::all_gather(communicator, cells));
        edges =
          concatenated(dealii::Utilities::MPI::all_gather(communicator, edges));
      }
    std::sort(cells.begin(), cells.end());
    cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
    const auto position = [&](const Index i) {
      return std::lower_bound(cells.begin(), cells.end(), i) - cells.begin();
    };
    UnionFind components(cells.size());
    for (std::size_t e = 0; e < edges.size(); e += 2)
      components.unite(position(edges[e]), position(edges[e + 1]));
    return components.n_sets();
  }



  template struct MeshFace<1, 1>;
  template std::vector<MeshFace<1, 1>>
  list_faces(const dealii::DoFHandler<1, 1> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<1, 1>> &,
                             const std::vector<bool> &,
                             const MPI_Comm);
  template struct MeshFace<2, 2>;
  template std::vector<MeshFace<2, 2>>
  list_faces(const dealii::DoFHandler<2, 2> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<2, 2>> &,
                             const std::vector<bool> &,
                             const MPI_Comm);
  template struct MeshFace<3, 3>;
  template std::vector<MeshFace<3, 3>>
  list_faces(const dealii::DoFHandler<3, 3> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<3, 3>> &,
                             const std::vector<bool> &,
                             const MPI_Comm);
  template struct MeshFace<1, 2>;
  template std::vector<MeshFace<1, 2>>
  list_faces(const dealii::DoFHandler<1, 2> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<1, 2>> &,
                             const std::vector<bool> &,
                             const MPI_Comm);
  template struct MeshFace<2, 3>;
  template std::vector<MeshFace<2, 3>>
  list_faces(const dealii::DoFHandler<2, 3> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<2, 3>> &,
                             const std::vector<bool> &,
                             const MPI_Comm);
} // namespace attnflow
