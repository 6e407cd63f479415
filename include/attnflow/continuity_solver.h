/**
 * @file
 * The Eulerian solver: the continuity equation d_t rho + div(rho X[rho]) = 0
 * of the attention dynamics on a mesh, discontinuous Galerkin in space.
 */
#ifndef attnflow_continuity_solver_h
#define attnflow_continuity_solver_h

#include <attnflow/comparison.h>
#include <attnflow/density_field.h>
#include <attnflow/density_steppers.h>
#include <attnflow/dg_space.h>
#include <attnflow/dg_transport_operator.h>
#include <attnflow/initial_measure.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/output.h>
#include <attnflow/parameters.h>
#include <attnflow/positivity_limiter.h>
#include <attnflow/step_observer.h>
#include <attnflow/token_metrics.h>

#include <deal.II/base/point.h>
#include <deal.II/base/timer.h>
#include <deal.II/grid/tria.h>
#include <deal.II/lac/vector.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
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

    /**
     * Advances the density from the current time to @p t_end, calling
     * @p after_step after every accepted step.
     */
    virtual void
    advance_to(const double        t_end,
               const StepObserver &after_step = StepObserver()) = 0;

    /** The current time. */
    virtual double
    time() const = 0;

    /** The statistics of the density now. */
    virtual DensityStatistics
    statistics() const = 0;

    /**
     * Writes the files output_files(@p index) with the fields density and
     * velocity into @p directory, and adds the first to density.pvd. Under
     * MPI every rank calls it and writes its piece; rank 0 the record and
     * density.pvd.
     */
    virtual void
    write_output(const std::filesystem::path &directory,
                 const unsigned int           index) = 0;

    /**
     * The files write_output(@p index) writes: density_NNNN.vtu, or under
     * MPI density_NNNN.pvtu and a piece per rank (density_file_names()).
     */
    virtual std::vector<std::string>
    output_files(const unsigned int index) const = 0;

    /** The number of degrees of freedom of the density. */
    virtual std::size_t
    n_dofs() const = 0;

    /**
     * The density as a weighted point measure: the cell quadrature points
     * (on the sphere projected onto it) with weights max(rho, 0) JxW. The
     * comparisons with the tokens use it (doc/theory.md section 5).
     */
    virtual WeightedPoints
    quadrature_measure() const = 0;

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
     * exact W1, W2 against the tokens); on the circle S^1 the density of the
     * angle (for the exact W1); null in higher dimensions and on S^2.
     */
    virtual std::unique_ptr<PiecewisePolynomialDensity>
    interval_density() const = 0;

    /** The field's methods, one line per head (AttentionField). */
    virtual std::vector<std::string>
    field_method_report() const = 0;

    /**
     * What continues the run from now, as the files of a checkpoint (name,
     * bytes): density.mesh (the ids of the active cells of all ranks, in
     * their order, with the coefficients of rho on each) and density.state
     * (time, step counters, mass outflow, the PVD record). Neither depends
     * on the number of ranks. Collective; the files on rank 0, none on the
     * others.
     */
    virtual std::vector<std::pair<std::string, std::string>>
    checkpoint_files() const = 0;

    /**
     * Continues from the checkpoint_files() in @p checkpoint of a run of
     * the same parameters on any number of ranks (the mesh rebuilt from the
     * coarse mesh and shared out anew), with the PVD record in
     * @p run_folder. Collective.
     */
    virtual void
    load_checkpoint(const std::filesystem::path &checkpoint,
                    const std::filesystem::path &run_folder) = 0;
  };

  /**
   * The continuity equation d_t rho + div(rho X[rho]) = 0 on a box
   * (dim == spacedim) or on the unit sphere S^dim in R^spacedim
   * (dim == spacedim - 1, with the surface divergence), doc/theory.md
   * sections 2 and 4: FE_DGQ(k) on a DGSpace, the upwind DG operator
   * (DGTransportOperator) with the field X[rho] of a DensityField frozen in
   * each stage, stepped by SSP-RK3 with the positivity limiter after each
   * stage (SSPRK3Stepper, PositivityLimiter) or by a theta scheme
   * (ThetaStepper), the mesh adapted to the clusters every
   * Density/adaptation interval steps. Nothing enters a box; what leaves it
   * is measured.
   */
  template <int dim, int spacedim>
  class ContinuitySolver : public DensitySolver
  {
  public:
    /**
     * The solver of @p model on the domain of @p parameters, starting from
     * the density of @p initial_measure, projected cell by cell (L2),
     * limited and normalised to mass 1; the mesh adapted to it first if
     * Density/adaptive refinement is set. Its steps are timed in @p timer,
     * which must outlive it, as "density field" and "density transport".
     * Under MPI the mesh and rho are shared out over the ranks of
     * @p communicator (DGSpace): each rank steps its own cells, with the
     * ghost cells' DoFs exchanged, and evaluates the field at its own
     * quadrature points from the sources of all ranks (DensityField);
     * statistics and outputs are over all ranks (doc/theory.md section 10).
     */
    ContinuitySolver(const Model             &model,
                     const DensityParameters &parameters,
                     const KernelEngine      &engine,
                     const InitialMeasure    &initial_measure,
                     dealii::TimerOutput     &timer,
                     const FieldParameters   &field        = FieldParameters(),
                     const MPI_Comm           communicator = MPI_COMM_SELF);

    void
    advance_to(const double        t_end,
               const StepObserver &after_step = StepObserver()) override;

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

    std::vector<std::string>
    output_files(const unsigned int index) const override;

    std::size_t
    n_dofs() const override
    {
      return space.get_dof_handler().n_dofs();
    }

    WeightedPoints
    quadrature_measure() const override;

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

    std::vector<std::string>
    field_method_report() const override
    {
      return field.method_report();
    }

    std::vector<std::pair<std::string, std::string>>
    checkpoint_files() const override;

    void
    load_checkpoint(const std::filesystem::path &checkpoint,
                    const std::filesystem::path &run_folder) override;

    /**
     * The L1 distance int |rho - @p exact| over the domain, with a Gauss
     * rule of degree + 4 points per direction (for tests).
     */
    double
    l1_distance(const std::function<double(const dealii::Point<spacedim> &)>
                  &exact) const;

    /**
     * The L1 distance int |rho - @p other| to another density on the same
     * mesh (for tests).
     */
    double
    l1_distance(const DensityVector &other) const;

    /** int rho f over the domain (for tests). */
    double
    integrate(
      const std::function<double(const dealii::Point<spacedim> &)> &f) const;

    /** The coefficients of rho (FE_DGQ(k) on the current mesh; for tests). */
    const DensityVector &
    get_density() const
    {
      return density;
    }

    /** The number of mesh adaptations so far (for tests). */
    unsigned int
    n_adaptations() const
    {
      return adaptations;
    }

    /** The mesh (for tests). */
    const dealii::Triangulation<dim, spacedim> &
    get_triangulation() const
    {
      return space.get_triangulation();
    }

  private:
    /** Recomputes what the field and the steppers keep of the mesh. */
    void
    reinit();

    /** rho0 projected cell by cell, limited and normalised to mass 1. */
    void
    project_initial_density(const InitialMeasure &initial_measure);

    /**
     * The positivity limiter as a stage hook, treating negative cell means
     * as @p negative says; empty if Density/positivity limiter is off.
     */
    StageHook
    limiter_hook(
      const typename PositivityLimiter<dim, spacedim>::NegativeMeans negative);

    /** Counts @p step and checks that rho stayed finite. */
    void
    record(const DensityStep &step);

    /**
     * Flags the cells for adapt_mesh() by their density relative to the
     * average (mark_cells_by_density()).
     */
    void
    mark_cells();

    /**
     * Refines and coarsens the flagged cells and transfers rho
     * (transfer_to_adapted_mesh()), rescaled so that the mass is kept
     * exactly.
     */
    void
    adapt_mesh();

    /**
     * Refines and coarsens the flagged cells, rho interpolated onto the
     * new mesh: parallel::distributed::SolutionTransfer (repartitioned by
     * p4est) for dim >= 2, SolutionTransfer of rho whole (replicated()) on
     * the mesh that is whole on every rank for dim = 1.
     */
    void
    transfer_to_adapted_mesh();

    /**
     * The id of each active cell with the coefficients of rho on it, the
     * cells of all ranks in the order of their ids: on every rank if
     * @p to_all, else on rank 0 (empty on the others). Collective.
     */
    std::vector<std::pair<std::string, std::vector<double>>>
    cell_coefficients(const bool to_all) const;

    /**
     * The coefficients of cell_coefficients() (or of a checkpoint) by cell;
     * deal.II's ExceptionBase for a string that is no CellId.
     */
    static std::map<dealii::CellId, std::vector<double>>
    by_cell_id(std::vector<std::pair<std::string, std::vector<double>>> cells);

    /** All coefficients of @p rho, on every rank (collective). */
    dealii::Vector<double>
    replicated(const DensityVector &rho) const;

    /** adapt_mesh() every Density/adaptation interval steps, if enabled. */
    void
    adapt_if_due();

    /** The layer that acts at the current time. */
    const Layer &
    current_layer() const;

    const Model                             &model;
    const DensityParameters                  parameters;
    DGSpace<dim, spacedim>                   space;
    DensityField<dim, spacedim>              field;
    const DGTransportOperator<dim, spacedim> transport;
    const PositivityLimiter<dim, spacedim>   limiter;
    SSPRK3Stepper<dim, spacedim>             explicit_stepper;
    ThetaStepper<dim, spacedim>              implicit_stepper;
    DensityVector                            density;

    double                     current_time        = 0.;
    double                     initial_mass        = 0.;
    double                     outflow             = 0.;
    unsigned long              n_steps             = 0;
    double                     last_step           = 0.;
    unsigned long              n_linear_iterations = 0;
    unsigned int               adaptations         = 0;
    std::unique_ptr<PvdRecord> pvd;
    /** The ranks that share the mesh; rank 0 writes the output. */
    MPI_Comm communicator;
  };

  /**
   * The ContinuitySolver for the geometry and dimension of @p model:
   * <d, d> on a box in R^d (d <= 3), <1, 2> on S^1, <2, 3> on S^2, timed in
   * @p timer (which must outlive it), its field shared out over the ranks of
   * @p communicator; InputError for d > 3.
   */
  std::unique_ptr<DensitySolver>
  create_density_solver(const Model             &model,
                        const DensityParameters &parameters,
                        const KernelEngine      &engine,
                        const InitialMeasure    &initial_measure,
                        dealii::TimerOutput     &timer,
                        const FieldParameters   &field = FieldParameters(),
                        const MPI_Comm           communicator = MPI_COMM_SELF);
} // namespace attnflow

#endif
