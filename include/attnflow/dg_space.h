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

#include <deal.II/base/index_set.h>
#include <deal.II/base/quadrature.h>
#include <deal.II/distributed/shared_tria.h>
#include <deal.II/distributed/tria.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/grid/cell_id.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/la_parallel_vector.h>

#include <memory>
#include <type_traits>
#include <vector>

#include <mpi.h>

namespace attnflow
{
  /**
   * The coefficients of a density on a DGSpace: the DoFs this rank owns,
   * and, to read, those of its ghost cells (update_ghost_values()).
   */
  using DensityVector = dealii::LinearAlgebra::distributed::Vector<double>;

  /**
   * The mesh of a DGSpace, shared out over the ranks of a communicator:
   * p4est's parallel::distributed::Triangulation for dim >= 2 (boxes in R^2,
   * R^3 and S^2), and for dim = 1 (R^1, S^1), which p4est does not serve,
   * parallel::shared::Triangulation (every rank holds the whole mesh, a
   * contiguous block of cells its own). doc/theory.md section 10.
   */
  template <int dim, int spacedim>
  using DistributedMesh = std::conditional_t<
    dim == 1,
    dealii::parallel::shared::Triangulation<dim, spacedim>,
    dealii::parallel::distributed::Triangulation<dim, spacedim>>;

  /**
   * FE_DGQ(k) on the domain of the density (a box, dim == spacedim, or the
   * unit sphere S^dim in R^spacedim), with a Gauss rule of k + 2 points per
   * direction on cells and faces, on the mesh shared out over the ranks of a
   * communicator (DistributedMesh; one rank: the whole mesh). Each rank
   * keeps what lives on the cells it owns, numbered once for everything
   * that lives on them: the cell points first (point q of owned cell c,
   * c = cell_index(), is c n_q + q), then the points of the faces with an
   * owned side, face after face of faces() (point q of face r is
   * n_owned_cells n_q + r n_qf + q). On the sphere, the points are the radial
   * projections of the mapped quadrature points onto the unit sphere.
   * Reductions over the domain (integral(), domain_measure(),
   * min_cell_size()) are over all ranks.
   */
  template <int dim, int spacedim>
  class DGSpace
  {
  public:
    /** An active cell with its DoFs. */
    using CellIterator =
      typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator;

    /**
     * The domain of @p parameters (create_domain()) and its space, the mesh
     * shared out over the ranks of @p communicator.
     */
    explicit DGSpace(const DensityParameters &parameters,
                     const MPI_Comm           communicator = MPI_COMM_SELF);

    ~DGSpace();

    /**
     * Distributes the DoFs and recomputes everything that depends on the
     * mesh. Call it after every change of the triangulation.
     */
    void
    reinit();

    /** The mesh (to flag cells for adaptation; then reinit()). */
    DistributedMesh<dim, spacedim> &
    get_triangulation()
    {
      return triangulation;
    }

    /** The mesh. */
    const DistributedMesh<dim, spacedim> &
    get_triangulation() const
    {
      return triangulation;
    }

    /** The ranks that share the mesh. */
    MPI_Comm
    get_communicator() const
    {
      return triangulation.get_communicator();
    }

    /** The cells this rank owns, in the order of their cell_index(). */
    const std::vector<CellIterator> &
    owned_cells() const
    {
      return owned;
    }

    /** The number of the owned @p cell in owned_cells(). */
    unsigned int
    cell_index(const CellIterator &cell) const
    {
      return owned_index[cell->active_cell_index()];
    }

    /** The DoFs of the owned cells. */
    const dealii::IndexSet &
    locally_owned_dofs() const
    {
      return owned_dofs;
    }

    /** The owned DoFs and those of the ghost cells. */
    const dealii::IndexSet &
    locally_relevant_dofs() const
    {
      return relevant_dofs;
    }

    /**
     * A zero density: the owned DoFs and, to read, those of the ghost cells
     * (the other side of the faces of owned cells).
     */
    DensityVector
    create_vector() const;

    /** A zero density without ghost DoFs (for the linear solvers). */
    DensityVector
    create_owned_vector() const;

    /**
     * Refines and coarsens the mesh until its active cells are @p cells (the
     * ids of the active cells of a mesh of the same domain, from any number
     * of ranks), then reinit(); false if they are the cells of no mesh of
     * this domain (checkpoints). Collective.
     */
    bool
    rebuild_mesh(const std::vector<dealii::CellId> &cells);

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

    /**
     * The faces of the active mesh with an owned side, each once
     * (list_faces()).
     */
    const std::vector<MeshFace<dim, spacedim>> &
    faces() const
    {
      return face_list;
    }

    /**
     * The cell quadrature points x_q on the domain, owned cell after owned
     * cell.
     */
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

    /** |K| = sum of JxW_q over each owned cell K, by cell_index(). */
    const std::vector<double> &
    cell_measures() const
    {
      return measures;
    }

    /** The inverse of the mass matrix of the owned cell @p c (cell_index()). */
    const dealii::FullMatrix<double> &
    inverse_mass_matrix(const unsigned int c) const
    {
      return inverse_mass[c];
    }

    /** The smallest distance between two vertices of a cell (all ranks). */
    double
    min_cell_size() const
    {
      return smallest_cell_size;
    }

    /**
     * The area (length, volume) of the domain: the sum of all JxW_q (all
     * ranks).
     */
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
    values_at_cell_points(const DensityVector &rho) const;

    /**
     * The weights rho(x_q) JxW_q of the cell points: rho as a weighted
     * point measure (signed), the quadrature of every integral of rho.
     */
    std::vector<double>
    cell_point_weights(const DensityVector &rho) const;

    /** int rho = sum_q rho(x_q) JxW_q over all ranks (collective). */
    double
    integral(const DensityVector &rho) const;

    /** The sum of @p value over the ranks (collective). */
    double
    sum_over_ranks(const double value) const;

    /**
     * The sums of @p point_weights (numbered as cell_points()) over each
     * owned cell, by cell_index(): int_K rho for cell_point_weights(rho).
     */
    std::vector<double>
    cell_integrals(const std::vector<double> &point_weights) const;

    /**
     * The cell-wise L2 projection onto FE_DGQ(k) of the function with
     * @p values at cell_points(): u_K = M_K^{-1} (f, phi_i)_K.
     */
    DensityVector
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
    /** Numbers the owned DoFs cell after cell in the order of owned. */
    void
    number_dofs_by_cell();

    const DensityParameters                                    parameters;
    DistributedMesh<dim, spacedim>                             triangulation;
    std::unique_ptr<dealii::Mapping<dim, spacedim>>            mapping;
    const dealii::FE_DGQ<dim, spacedim>                        fe;
    dealii::DoFHandler<dim, spacedim>                          dof_handler;
    const dealii::Quadrature<dim>                              cell_quadrature;
    const dealii::Quadrature<dim - 1>                          face_quadrature;
    std::vector<CellIterator>                                  owned;
    std::vector<unsigned int>                                  owned_index;
    dealii::IndexSet                                           owned_dofs;
    dealii::IndexSet                                           relevant_dofs;
    std::shared_ptr<const dealii::Utilities::MPI::Partitioner> with_ghosts;
    std::shared_ptr<const dealii::Utilities::MPI::Partitioner> owned_only;
    std::vector<MeshFace<dim, spacedim>>                       face_list;
    PointSet                                                   points;
    std::vector<double>                                        JxW;
    std::vector<double>                                        measures;
    std::vector<dealii::FullMatrix<double>>                    inverse_mass;
    double smallest_cell_size = 0.;
    double measure_of_domain  = 0.;
  };
} // namespace attnflow

#endif
