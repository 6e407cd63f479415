/**
 * @file
 * The Eulerian solver: the continuity equation d_t rho + div(rho X[rho]) = 0
 * of the attention dynamics on a mesh, discontinuous Galerkin in space.
 */
#ifndef attnflow_continuity_solver_h
#define attnflow_continuity_solver_h

#include <attnflow/comparison.h>
#include <attnflow/initial_measure.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/output.h>
#include <attnflow/parameters.h>
#include <attnflow/token_metrics.h>

#include <deal.II/base/point.h>
#include <deal.II/base/tensor.h>
#include <deal.II/base/timer.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/mapping.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/full_matrix.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/vector.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace attnflow
{
  /** The statistics of the density at one time (metrics.csv columns). */
  struct DensityStatistics : Moments
  {
    /** int rho: 1 up to round-off, less what left a box (mass_outflow). */
    double mass = 0.;
    /** The smallest rho at the quadrature and Gauss–Lobatto points. */
    double min_density = 0.;
    /** The mass carried out through the boundary of a box so far. */
    double mass_outflow = 0.;
    /** The interaction energy (AttentionField::energy()). */
    double energy = 0.;
    /**
     * The number of clusters: connected components (through faces) of the
     * cells whose mean density exceeds twice the average mass/|domain|.
     */
    unsigned int n_clusters = 0;
    /** GMRES iterations of the implicit schemes so far. */
    unsigned long n_linear_iterations = 0;
    /** Time steps and current step size of the density solver. */
    unsigned long n_steps   = 0;
    double        last_step = 0.;
  };

  /**
   * The interface of the finite-element solver that the Simulator sees,
   * whatever the dimension of the mesh: ContinuitySolver<dim, spacedim>
   * implements it for boxes in R^1..R^3 and for S^1 and S^2.
   */
  class DensitySolver
  {
  public:
    virtual ~DensitySolver() = default;

    /** Advances the density from the current time to @p t_end. */
    virtual void
    advance_to(const double t_end) = 0;

    /** The current time. */
    virtual double
    time() const = 0;

    /** The statistics of the density now. */
    virtual DensityStatistics
    statistics() const = 0;

    /**
     * Writes density_NNNN.vtu (NNNN = @p index) with the fields density
     * and velocity into @p directory, and adds it to density.pvd.
     */
    virtual void
    write_output(const std::filesystem::path &directory,
                 const unsigned int           index) = 0;

    /** The number of degrees of freedom of the density. */
    virtual std::size_t
    n_dofs() const = 0;

    /**
     * The density as a weighted point measure: the cell quadrature points
     * (on the sphere projected onto it) with weights max(rho, 0) JxW. The
     * comparisons with the tokens use it (DESIGN.md section 4).
     */
    virtual WeightedPoints
    quadrature_measure() const = 0;

    /**
     * Times the two parts of every step from now on in @p timer: "density
     * field" (X[rho] at the quadrature points, the kernel engine) and
     * "density transport" (the DG operator, limiter and linear algebra).
     */
    void
    set_timer(dealii::TimerOutput &timer)
    {
      this->timer = &timer;
    }

    /**
     * The mass of the projected initial density before it was normalised
     * to 1 (less than 1 when mu0 reaches beyond a box).
     */
    virtual double
    captured_initial_mass() const = 0;

    /**
     * int |rho - @p exact| over the domain (Gauss rule with degree + 4
     * points per direction); @p exact takes the spacedim coordinates of a
     * point.
     */
    virtual double
    l1_error(const std::function<double(const double *)> &exact) const = 0;

    /**
     * int |rho - rho_other| for the density @p other of a run on the same
     * coarse mesh, refined alike or further (a convergence study's finest
     * run): rho is interpolated onto @p other's mesh (exactly, DG
     * polynomials embed in their children) and the difference integrated
     * there. InputError if @p other lives on another domain.
     */
    virtual double
    l1_distance_to(const DensitySolver &other) const = 0;

    /** The largest cell diameter h. */
    virtual double
    mesh_size() const = 0;

    /**
     * On an interval of R^1: rho as a PiecewisePolynomialDensity (for the
     * exact W1, W2 against the tokens); null in higher dimensions and on
     * the sphere.
     */
    virtual std::unique_ptr<PiecewisePolynomialDensity>
    interval_density() const = 0;

  protected:
    /** The timer of set_timer(), or null. */
    dealii::TimerOutput *timer = nullptr;
  };

  /**
   * The continuity equation d_t rho + div(rho X[rho]) = 0 on a box
   * (dim == spacedim) or on the unit sphere S^dim in R^spacedim
   * (dim == spacedim - 1, with the surface divergence), discretised with
   * FE_DGQ(k) and the upwind flux:
   *
   *   (d_t rho, phi)_K = (rho X, grad phi)_K - <(X.n) rho^upwind, phi>_dK.
   *
   * The field X[rho] is evaluated at every cell and face quadrature point by
   * the kernel engine, with the cell quadrature points as sources weighted
   * by rho JxW (AttentionField). Explicit steps are SSP-RK3 in Shu–Osher
   * form with the Zhang–Shu positivity limiter after each stage and the
   * step dt = cfl * w * h_min / (dim * max|X|); implicit theta steps
   * assemble the upwind matrix with the field frozen (Picard-iterated) and
   * solve it with Trilinos. Nothing enters a box; what leaves it is
   * measured. On the sphere the field is evaluated at the radial projection
   * of the mapped quadrature points onto the unit sphere.
   */
  template <int dim, int spacedim>
  class ContinuitySolver : public DensitySolver
  {
  public:
    /**
     * The solver of @p model on the domain of @p parameters, starting from
     * the density of @p initial_measure, projected cell by cell (L2) and
     * normalised to mass 1.
     */
    ContinuitySolver(const Model             &model,
                     const DensityParameters &parameters,
                     const KernelEngine      &engine,
                     const InitialMeasure    &initial_measure);

    ~ContinuitySolver() override;

    void
    advance_to(const double t_end) override;

    double
    time() const override
    {
      return current_time;
    }

    DensityStatistics
    statistics() const override;

    void
    write_output(const std::filesystem::path &directory,
                 const unsigned int           index) override;

    std::size_t
    n_dofs() const override
    {
      return dof_handler.n_dofs();
    }

    WeightedPoints
    quadrature_measure() const override;

    /**
     * The L1 distance int |rho - @p exact| over the domain, with a Gauss
     * rule of degree + 4 points per direction (for convergence studies).
     */
    double
    l1_distance(const std::function<double(const dealii::Point<spacedim> &)>
                  &exact) const;

    /**
     * The L1 distance int |rho - @p other| to another density on the same
     * mesh (for comparisons of schemes).
     */
    double
    l1_distance(const dealii::Vector<double> &other) const;

    /** The coefficients of rho (FE_DGQ(k) on the current mesh). */
    const dealii::Vector<double> &
    get_density() const
    {
      return density;
    }

    /** The number of mesh adaptations so far. */
    unsigned int
    n_adaptations() const
    {
      return adaptations;
    }

    /** int rho f over the domain (for tests and comparisons). */
    double
    integrate(
      const std::function<double(const dealii::Point<spacedim> &)> &f) const;

    double
    captured_initial_mass() const override
    {
      return initial_mass;
    }

    double
    l1_error(const std::function<double(const double *)> &exact) const override;

    double
    l1_distance_to(const DensitySolver &other) const override;

    double
    mesh_size() const override;

    std::unique_ptr<PiecewisePolynomialDensity>
    interval_density() const override;

    /** The mesh. */
    const dealii::Triangulation<dim, spacedim> &
    get_triangulation() const
    {
      return triangulation;
    }

  private:
    /** A face with its two sides as FEInterfaceValues::reinit() takes them. */
    struct FaceRecord
    {
      typename dealii::DoFHandler<dim, spacedim>::active_cell_iterator cell,
        neighbor;
      unsigned int face, subface, neighbor_face, neighbor_subface;
      /** The index of its first quadrature point among the targets. */
      std::size_t offset;
    };

    /** Face values of either kind for a FaceRecord (in the .cc file). */
    struct FaceValues;

    /** Distributes DoFs and caches everything that depends on the mesh. */
    void
    setup();

    /** Lists the interior and boundary faces, each once. */
    void
    collect_faces();

    /** rho0 projected cell by cell, limited and normalised to mass 1. */
    void
    project_initial_density(const InitialMeasure &initial_measure);

    /** X[rho] under @p layer at every cell and face quadrature point. */
    void
    evaluate_field(const dealii::Vector<double> &rho, const Layer &layer);

    /**
     * d rho/dt = M^{-1} (the upwind DG residual) for the field of the last
     * evaluate_field(); returns the outflow rate through the boundary.
     */
    double
    apply_operator(const dealii::Vector<double> &rho,
                   dealii::Vector<double>       &rho_dot) const;

    /**
     * The Zhang–Shu limiter. A negative cell mean beyond round-off raises
     * NumericalError (the explicit scheme's CFL bound was broken), or, if
     * @p clip_negative_means (implicit schemes, which are not
     * positivity-preserving), is set to zero.
     */
    void
    limit(dealii::Vector<double> &rho,
          const bool              clip_negative_means = false) const;

    /** One SSP-RK3 step of at most @p max_step under @p layer; its size. */
    double
    explicit_step(const Layer &layer, const double max_step);

    /**
     * One theta step of size @p dt under @p layer (theta = 1: backward
     * Euler, 1/2: Crank–Nicolson): (M - theta dt A) rho_new = (M + (1 -
     * theta) dt A) rho, with A the upwind DG matrix of the field of
     * theta rho_new + (1 - theta) rho, Picard-iterated from rho_new = rho.
     */
    void
    implicit_step(const Layer &layer, const double dt);

    /**
     * The mass matrix and the upwind DG transport matrix A of the field of
     * the last evaluate_field(), into @p mass and @p transport.
     */
    void
    assemble_matrices(dealii::TrilinosWrappers::SparseMatrix &mass,
                      dealii::TrilinosWrappers::SparseMatrix &transport) const;

    /**
     * Refines the cells whose mean density exceeds Density/refine density
     * ratio times the average (up to Density/max refinement level),
     * coarsens those below Density/coarsen density ratio times it (not
     * below two levels under Density/refinements), and transfers rho
     * (SolutionTransfer), rescaled so that the mass is kept exactly.
     */
    void
    adapt_mesh();

    /**
     * Sets the refinement and coarsening flags of adapt_mesh() from the
     * current density, and prepares the triangulation for them.
     */
    void
    mark_cells();

    /** adapt_mesh() every Density/adaptation interval steps, if enabled. */
    void
    adapt_if_due();

    /** The clusters of DensityStatistics::n_clusters for @p rho. */
    unsigned int
    count_clusters(const std::vector<double> &values) const;

    /** int rho over the domain. */
    double
    mass_of(const dealii::Vector<double> &rho) const;

    /** The rate int (X.n)^+ rho ds at which rho leaves a box. */
    double
    outflow_rate(const dealii::Vector<double> &rho) const;

    /** rho at the cell quadrature points, cell after cell. */
    std::vector<double>
    values_at_quadrature_points(const dealii::Vector<double> &rho) const;

    const Model                                    &model;
    const DensityParameters                         parameters;
    AttentionField                                  field;
    dealii::Triangulation<dim, spacedim>            triangulation;
    std::unique_ptr<dealii::Mapping<dim, spacedim>> mapping;
    dealii::FE_DGQ<dim, spacedim>                   fe;
    dealii::DoFHandler<dim, spacedim>               dof_handler;
    dealii::Vector<double>                          density;

    /** Cell quadrature (Gauss, k + 2 points) and face quadrature. */
    dealii::Quadrature<dim>     cell_quadrature;
    dealii::Quadrature<dim - 1> face_quadrature;
    /** Points where the limiter enforces rho >= 0 (unit cell). */
    dealii::Quadrature<dim> positivity_points;

    /** Cell quadrature points (sources) and their JxW, cell after cell. */
    PointSet            sources;
    std::vector<double> source_JxW;
    /** All targets: the sources, then the face quadrature points. */
    PointSet                targets;
    std::vector<FaceRecord> faces;
    /** The sparsity of the implicit schemes (DG flux coupling). */
    dealii::DynamicSparsityPattern flux_sparsity;
    /** Mesh adaptations so far. */
    unsigned int adaptations = 0;
    /** Linear solver iterations of the implicit schemes, in total. */
    unsigned long n_linear_iterations = 0;
    /** Inverse cell mass matrices. */
    std::vector<dealii::FullMatrix<double>> inverse_mass;
    /** The field at the targets (last evaluate_field()). */
    std::vector<dealii::Tensor<1, spacedim>> velocity;
    double                                   min_cell_size;
    /** The area (length, volume) of the domain: sum of JxW. */
    double domain_measure = 0.;

    double                     current_time;
    double                     initial_mass;
    double                     outflow;
    unsigned long              n_steps;
    double                     last_step;
    std::unique_ptr<PvdRecord> pvd;
  };

  /**
   * The ContinuitySolver for the geometry and dimension of @p model:
   * <d, d> on a box in R^d (d <= 3), <1, 2> on S^1, <2, 3> on S^2;
   * InputError for d > 3.
   */
  std::unique_ptr<DensitySolver>
  create_density_solver(const Model             &model,
                        const DensityParameters &parameters,
                        const KernelEngine      &engine,
                        const InitialMeasure    &initial_measure);
} // namespace attnflow

#endif
