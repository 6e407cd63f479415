/**
 * @file
 * The meshes of the finite-element solver: boxes in R^1..R^3, the circle
 * S^1 in R^2 and the sphere S^2 in R^3, and the mapping of their cells.
 */
#ifndef attnflow_domain_h
#define attnflow_domain_h

#include <attnflow/parameters.h>

#include <deal.II/fe/mapping.h>
#include <deal.II/grid/tria.h>

#include <memory>

namespace attnflow
{
  /**
   * Fills @p triangulation with the domain of the density: for dim ==
   * spacedim the box [lower corner, upper corner] of Density/subdivisions
   * coarse cells per axis; for dim == spacedim - 1 the unit sphere
   * (GridGenerator::hyper_sphere, with its SphericalManifold). Then
   * Density/refinements global refinements. InputError for bad corners or
   * subdivisions.
   */
  template <int dim, int spacedim>
  void
  create_domain(dealii::Triangulation<dim, spacedim> &triangulation,
                const DensityParameters              &parameters);

  /**
   * The mapping of the cells of @p triangulation: MappingQ of degree 1 on
   * boxes, of Density/mapping degree on the sphere (curved cells), with the
   * support points of every cell computed once (MappingQCache), so that
   * FEValues::reinit() does not ask the SphericalManifold again. Create it
   * anew whenever the mesh changes.
   */
  template <int dim, int spacedim>
  std::unique_ptr<dealii::Mapping<dim, spacedim>>
  create_mapping(const DensityParameters                    &parameters,
                 const dealii::Triangulation<dim, spacedim> &triangulation);
} // namespace attnflow

#endif
