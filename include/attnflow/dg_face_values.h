/**
 * @file
 * The face values of a DGSpace for its list of faces: FEFaceValues on the
 * boundary, FEInterfaceValues inside (for the .cc files of the operator and
 * the field only: it pulls in deal.II's interface values).
 */
#ifndef attnflow_dg_face_values_h
#define attnflow_dg_face_values_h

#include <attnflow/cell_connectivity.h>
#include <attnflow/dg_space.h>

#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_values.h>

namespace attnflow
{
  /**
   * FEFaceValues for the boundary faces and FEInterfaceValues for the
   * interior ones, with the same update flags, reinitialised from a
   * MeshFace.
   */
  template <int dim, int spacedim>
  struct FaceValues
  {
    /** Face values of @p space with @p flags. */
    FaceValues(const DGSpace<dim, spacedim> &space,
               const dealii::UpdateFlags     flags)
        : interface(space.get_mapping(),
                    space.get_fe(),
                    space.get_face_quadrature(),
                    flags)
        , boundary(space.get_mapping(),
                   space.get_fe(),
                   space.get_face_quadrature(),
                   flags)
    {}

    /**
     * Reinitialises for @p face: returns true for a boundary face (then
     * @p boundary describes it), false for an interior one (@p interface).
     */
    bool
    reinit(const MeshFace<dim, spacedim> &face)
    {
      if (face.at_boundary())
        {
          boundary.reinit(face.cell, face.face);
          return true;
        }
      interface.reinit(face.cell,
                       face.face,
                       face.subface,
                       face.neighbor,
                       face.neighbor_face,
                       face.neighbor_subface);
      return false;
    }

    dealii::FEInterfaceValues<dim, spacedim> interface;
    dealii::FEFaceValues<dim, spacedim>      boundary;
  };
} // namespace attnflow

#endif
