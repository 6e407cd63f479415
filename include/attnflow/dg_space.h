/**
 * @file
 * The discontinuous Galerkin space of the density: mesh, mapping,
 * FE_DGQ(k), quadrature rules and what depends on the mesh only (doc/theory.md
 * section 4.3). The operator, the field, the limiter and the diagnostics of
 * the density all read it.
 */
#ifndef attnflow_dg_space_h
#define attnflow_dg_space_h

#include <attnflow/cell_connectivity.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/parameters.h>

#include <deal.II/base/quadrature.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/vector.h>

#include <memory>
#include <vector>

namespace boost::archive
{
  class binary_iarchive;
  class binary_oarchive;
} // namespace boost::archive

namespace attnflow
{
  /**
   * FE_DGQ(k) on the domain of the density (a box, dim == spacedim, or the
   * unit sphere S^dim in R^spacedim), with a Gauss rule of k + 2 points per
   * direction on cells and faces. The quadrature points are numbered once
   * for everything that lives on them: the cell points first (point q of
   * the cell with active index c is c n_q + q), then the face points, face
   * after face of faces() (point q of face r is n_cells n_q + r n_qf + q).
   * On the sphere, the points are the radial projections of the mapped
   * quadrature points onto the unit sphere.
   */
  template <int dim, int spacedim>
  class DGSpace
  {
  public:
    /** The domain of @p parameters (create_domain()) and its space. */
    explicit DGSpace(const DensityParameters &parameters);

    ~DGSpace();

    /**
     * Distributes the DoFs and recomputes everything that depends on the
     * mesh. Call it after every change of the triangulation.
     */
    void
    reinit();

    /** The mesh (to flag cells for adaptation; then reinit()). */
    dealii::Triangulation<dim, spacedim> &
    get_triangulation()
    {
      return triangulation;
    }

    /** The mesh. */
    const dealii::Triangulation<dim, spacedim> &
    get_triangulation() const
    {
      return triangulation;
    }

    /**
     * Writes the mesh, refinement history included, to @p archive
     * (Triangulation::save; checkpoints).
     */
    void
    save_mesh(boost::archive::binary_oarchive &archive) const;

    /**
     * Replaces the mesh by the one save_mesh() wrote to @p archive for the
     * same domain, then reinit(): the cells, and so the DoFs, come back in
     * the order they had (checkpoints).
     */
    void
    load_mesh(boost::archive::binary_iarchive &archive);

    /** The mapping of the current mesh (curved cells on the sphere). */
    const dealii::Mapping<dim, spacedim> &
    get_mapping() const
    {
      return *mapping;
    }

    /** FE_DGQ(k). */
    const dealii::FE_DGQ<dim, spacedim> &
    get_fe() const
    {
      return fe;
    }

    /** The DoFs of rho. */
    const dealii::DoFHandler<dim, spacedim> &
    get_dof_handler() const
    {
      return dof_handler;
    }

    /** The cell rule: Gauss, k + 2 points per direction. */
    const dealii::Quadrature<dim> &
    get_cell_quadrature() const
    {
      return cell_quadrature;
    }

    /** The face rule: Gauss, k + 2 points per direction. */
    const dealii::Quadrature<dim - 1> &
    get_face_quadrature() const
    {
      return face_quadrature;
    }

    /** The faces of the active mesh, each once (list_faces()). */
    const std::vector<MeshFace<dim, spacedim>> &
    faces() const
    {
      return face_list;
    }

    /** The cell quadrature points x_q on the domain, cell after cell. */
    const PointSet &
    cell_points() const
    {
      return points;
    }

    /** The weights JxW_q of cell_points(). */
    const std::vector<double> &
    cell_JxW() const
    {
      return JxW;
    }

    /** |K| = sum of JxW_q over each cell K, by active cell index. */
    const std::vector<double> &
    cell_measures() const
    {
      return measures;
    }

    /** The inverse of the mass matrix of the cell of active index @p c. */
    const dealii::FullMatrix<double> &
    inverse_mass_matrix(const unsigned int c) const
    {
      return inverse_mass[c];
    }

    /** The smallest distance between two vertices of a cell. */
    double
    min_cell_size() const
    {
      return smallest_cell_size;
    }

    /** The area (length, volume) of the domain: the sum of all JxW_q. */
    double
    domain_measure() const
    {
      return measure_of_domain;
    }

    /** Whether the domain is the unit sphere (dim < spacedim). */
    static constexpr bool on_sphere = dim < spacedim;

    /** The index of face point @p q of face @p r in the numbering above. */
    std::size_t
    face_point_index(const std::size_t r, const unsigned int q) const
    {
      return points.size() + r * face_quadrature.size() + q;
    }

    /** rho(x_q) at cell_points(). */
    std::vector<double>
    values_at_cell_points(const dealii::Vector<double> &rho) const;

    /**
     * The weights rho(x_q) JxW_q of the cell points: rho as a weighted
     * point measure (signed), the quadrature of every integral of rho.
     */
    std::vector<double>
    cell_point_weights(const dealii::Vector<double> &rho) const;

    /** int rho = sum_q rho(x_q) JxW_q. */
    double
    integral(const dealii::Vector<double> &rho) const;

    /**
     * The sums of @p point_weights (numbered as cell_points()) over each
     * cell, by active cell index: int_K rho for cell_point_weights(rho).
     */
    std::vector<double>
    cell_integrals(const std::vector<double> &point_weights) const;

    /**
     * The cell-wise L2 projection onto FE_DGQ(k) of the function with
     * @p values at cell_points(): u_K = M_K^{-1} (f, phi_i)_K.
     */
    dealii::Vector<double>
    project(const std::vector<double> &values) const;

    /** M_ij = (phi_j, phi_i)_K of the cell of @p fe_values. */
    static dealii::FullMatrix<double>
    cell_mass_matrix(const dealii::FEValues<dim, spacedim> &fe_values);

    /** @p p, radially projected onto the unit sphere if on_sphere. */
    static dealii::Point<spacedim>
    on_domain(const dealii::Point<spacedim> &p)
    {
      return on_sphere ? dealii::Point<spacedim>(p / p.norm()) : p;
    }

  private:
    const DensityParameters                         parameters;
    dealii::Triangulation<dim, spacedim>            triangulation;
    std::unique_ptr<dealii::Mapping<dim, spacedim>> mapping;
    const dealii::FE_DGQ<dim, spacedim>             fe;
    dealii::DoFHandler<dim, spacedim>               dof_handler;
    const dealii::Quadrature<dim>                   cell_quadrature;
    const dealii::Quadrature<dim - 1>               face_quadrature;
    std::vector<MeshFace<dim, spacedim>>            face_list;
    PointSet                                        points;
    std::vector<double>                             JxW;
    std::vector<double>                             measures;
    std::vector<dealii::FullMatrix<double>>         inverse_mass;
    double                                          smallest_cell_size = 0.;
    double                                          measure_of_domain  = 0.;
  };
} // namespace attnflow

#endif
