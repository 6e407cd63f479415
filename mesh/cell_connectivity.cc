#include <attnflow/cell_connectivity.h>
#include <attnflow/point_sets.h>


namespace attnflow
{
  template <int dim, int spacedim>
  bool
  MeshFace<dim, spacedim>::at_boundary() const
  {
    return neighbor_face == dealii::numbers::invalid_unsigned_int;
  }



  template <int dim, int spacedim>
  std::vector<MeshFace<dim, spacedim>>
  list_faces(const dealii::DoFHandler<dim, spacedim> &dof_handler)
  {
    std::vector<MeshFace<dim, spacedim>> faces;
    const unsigned int invalid = dealii::numbers::invalid_unsigned_int;
    for (const auto &cell : dof_handler.active_cell_iterators())
      for (const unsigned int f : cell->face_indices())
        {
          if (cell->at_boundary(f))
            {
              faces.push_back({cell, cell, f, invalid, invalid, invalid});
              continue;
            }
          const auto neighbor = cell->neighbor(f);
          if (neighbor->has_children())
            continue; // the finer side lists this face
          if (dim > 1 && cell->neighbor_is_coarser(f))
            {
              const auto faces_of_neighbor =
                cell->neighbor_of_coarser_neighbor(f);
              faces.push_back({cell,
                               neighbor,
                               f,
                               invalid,
                               faces_of_neighbor.first,
                               faces_of_neighbor.second});
              continue;
            }
          // Same level (or, in 1D, a coarser neighbour): list it once.
          if (neighbor->level() == cell->level() &&
              neighbor->index() < cell->index())
            continue;
          unsigned int neighbor_face = invalid;
          for (const unsigned int nf : neighbor->face_indices())
            if (neighbor->face(nf)->index() == cell->face(f)->index())
              neighbor_face = nf;
          faces.push_back({cell, neighbor, f, invalid, neighbor_face, invalid});
        }
    return faces;
  }



  template <int dim, int spacedim>
  unsigned int
  count_connected_components(const std::vector<MeshFace<dim, spacedim>> &faces,
                             const std::vector<bool>                    &marked)
  {
    const unsigned int n_cells = marked.size();
    UnionFind          components(n_cells);
    for (const MeshFace<dim, spacedim> &face : faces)
      if (!face.at_boundary())
        {
          const unsigned int a = face.cell->active_cell_index(),
                             b = face.neighbor->active_cell_index();
          if (marked[a] && marked[b])
            components.unite(a, b);
        }
    unsigned int n_components = 0;
    for (unsigned int c = 0; c < n_cells; ++c)
      if (marked[c] && components.find(c) == c)
        ++n_components;
    return n_components;
  }



  template struct MeshFace<1, 1>;
  template std::vector<MeshFace<1, 1>>
  list_faces(const dealii::DoFHandler<1, 1> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<1, 1>> &,
                             const std::vector<bool> &);
  template struct MeshFace<2, 2>;
  template std::vector<MeshFace<2, 2>>
  list_faces(const dealii::DoFHandler<2, 2> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<2, 2>> &,
                             const std::vector<bool> &);
  template struct MeshFace<3, 3>;
  template std::vector<MeshFace<3, 3>>
  list_faces(const dealii::DoFHandler<3, 3> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<3, 3>> &,
                             const std::vector<bool> &);
  template struct MeshFace<1, 2>;
  template std::vector<MeshFace<1, 2>>
  list_faces(const dealii::DoFHandler<1, 2> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<1, 2>> &,
                             const std::vector<bool> &);
  template struct MeshFace<2, 3>;
  template std::vector<MeshFace<2, 3>>
  list_faces(const dealii::DoFHandler<2, 3> &);
  template unsigned int
  count_connected_components(const std::vector<MeshFace<2, 3>> &,
                             const std::vector<bool> &);
} // namespace attnflow
