/**
 * @file
 * The run parameters, one struct per section of the parameter file
 * (DESIGN.md section 6). Each struct declares its entries, with the
 * documentation that `attnflow --print-parameters` prints, and parses them.
 */
#ifndef attnflow_parameters_h
#define attnflow_parameters_h

#include <attnflow/convergence_sweep.h>
#include <attnflow/selection.h>

#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace attnflow
{
  /** Whether tokens live in R^d or on the unit sphere S^{d-1}. */
  enum class Geometry
  {
    euclidean,
    sphere
  };

  /** Softmax (SA) or unnormalised (USA) attention. */
  enum class Normalization
  {
    softmax,
    uniform
  };

  /** Section "Model": the attention dynamics (DESIGN.md section 1). */
  struct ModelParameters
  {
    Geometry      geometry      = Geometry::sphere;
    unsigned int  dimension     = 2;
    double        beta          = 4.;
    Normalization normalization = Normalization::softmax;
    unsigned int  n_heads       = 1;
    /** Matrix specifications, as written (parsed by the Model). */
    std::string Q = "identity";
    std::string K = "identity";
    std::string V = "identity";
    /** Durations of the layers; empty: one layer for all time. */
    std::vector<double> layer_durations;
    unsigned int        weights_seed = 1;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Section "Initial condition": the initial measure mu0. */
  struct InitialConditionParameters
  {
    /** uniform | gaussian | von mises fisher | function | tokens file */
    std::string  type             = "uniform";
    std::string  density_function = "";
    unsigned int seed             = 1;
    std::string  tokens_file      = "";
    std::string  lower_corner     = "-1";
    std::string  upper_corner     = "1";
    std::string  means            = "0";
    std::string  covariances      = "identity";
    std::string  concentrations   = "10";
    std::string  mixture_weights  = "";

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Section "Tokens": the Lagrangian solver. */
  struct TokenParameters
  {
    unsigned int n_tokens                 = 1000;
    double       cluster_radius           = 0.1;
    double       minimum_cluster_fraction = 0.;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Time integration schemes of the finite-element solver. */
  enum class DensityScheme
  {
    ssp_rk3,
    backward_euler,
    crank_nicolson
  };

  /** Section "Density": the finite-element solver of the continuity equation.
   */
  struct DensityParameters
  {
    bool         enabled     = false;
    unsigned int degree      = 2;
    unsigned int refinements = 6;
    /** Euclidean box: corners (1 or d numbers) and coarse cells per axis. */
    std::string   lower_corner         = "-1";
    std::string   upper_corner         = "1";
    std::string   subdivisions         = "1";
    unsigned int  mapping_degree       = 3;
    double        cfl_number           = 0.5;
    DensityScheme scheme               = DensityScheme::ssp_rk3;
    double        time_step            = 0.05;
    unsigned int  picard_iterations    = 1;
    double        solver_tolerance     = 1e-12;
    std::string   preconditioner       = "ilu";
    bool          positivity_limiter   = true;
    bool          adaptive_refinement  = false;
    unsigned int  max_refinement_level = 8;
    double        refine_ratio         = 2.;
    double        coarsen_ratio        = 0.1;
    unsigned int  adaptation_interval  = 10;
    double        kde_bandwidth        = 0.;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Time integration schemes of the token solver. */
  enum class TimeScheme
  {
    euler,
    rk4,
    dopri5
  };

  /** Section "Time": the common time axis and the token integrator. */
  struct TimeParameters
  {
    double     end_time           = 10.;
    double     output_interval    = 0.5;
    TimeScheme scheme             = TimeScheme::dopri5;
    double     time_step          = 0.01;
    double     relative_tolerance = 1e-8;
    double     absolute_tolerance = 1e-10;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Section "Output": where and what a run writes. */
  struct OutputParameters
  {
    std::string directory = "output";
    bool        write_vtu = true;
    bool        write_csv = false;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Section "Comparison": the distances between density and tokens. */
  struct ComparisonParameters
  {
    double       mmd_bandwidth     = 0.1;
    unsigned int sliced_directions = 64;
    unsigned int seed              = 1;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** Section "Parallel": threads (and later MPI) of the run. */
  struct ParallelParameters
  {
    unsigned int n_threads = 0;

    /** Declares the entries of this section in @p prm. */
    static void
    declare_parameters(dealii::ParameterHandler &prm);
    /** Reads the entries of this section from @p prm. */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /** What a convergence study measures at the end time. */
  enum class ConvergenceError
  {
    /** int |rho_h - rho|. */
    density_l1,
    /** max |mean - m| and max |covariance - S| of the density. */
    density_moments,
    /** The same for the tokens. */
    token_moments,
    /** max_i |x_i - x_i^ref|. */
    token_positions,
    /** The distances between tokens and density (no reference). */
    w1,
    w2,
    sliced_w2,
    mmd
  };

  /** The names of Convergence/error. */
  inline const SelectionTable<ConvergenceError> convergence_errors = {
    {ConvergenceError::density_l1, "density L1"},
    {ConvergenceError::density_moments, "density moments"},
    {ConvergenceError::token_positions, "token positions"},
    {ConvergenceError::token_moments, "token moments"},
    {ConvergenceError::w1, "w1"},
    {ConvergenceError::w2, "w2"},
    {ConvergenceError::sliced_w2, "sliced_w2"},
    {ConvergenceError::mmd, "mmd"}};

  /** What a convergence study's error is measured against. */
  enum class ConvergenceReference
  {
    /** The exact solution (E1, E2). */
    exact,
    /** The run with the last, finest value. */
    finest
  };

  /** The names of Convergence/reference. */
  inline const SelectionTable<ConvergenceReference> convergence_references = {
    {ConvergenceReference::exact, "exact"},
    {ConvergenceReference::finest, "finest"}};

  /**
   * Section "Convergence": what `attnflow --convergence STUDY.prm` sweeps and
   * measures (ignored by a plain run). The values stay text here; the
   * ConvergencePlan checks them against the runs they apply to.
   */
  struct ConvergenceParameters
  {
    /** The swept parameter, a row of sweeps() (default: the first). */
    const Sweep *sweep = &sweeps().front();
    /** Its values, comma-separated. */
    std::string values = "";
    /** A second parameter with one error column per value; null: none. */
    const Sweep *series = nullptr;
    /** The values of the series parameter, comma-separated. */
    std::string series_values = "";
    /** The error measured at the end time. */
    ConvergenceError error = ConvergenceError::density_l1;
    /** What the error is measured against. */
    ConvergenceReference reference = ConvergenceReference::exact;
    /** Runs per value (seeds seed, seed + 1, ...): mean and spread. */
    unsigned int n_seeds = 1;
    /** The slopes of the reference lines of the plot, or "auto". */
    std::string reference_slopes = "auto";
    /** Whether to draw convergence.png and .svg with gnuplot. */
    bool plot = true;

    /**
     * Declares the entries of section "Convergence" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
  };

  /**
   * All parameters of a run, and the parameter file actually used (every
   * default filled in) for the run folder.
   */
  struct Parameters
  {
    ModelParameters            model;
    InitialConditionParameters initial_condition;
    TokenParameters            tokens;
    DensityParameters          density;
    TimeParameters             time;
    OutputParameters           output;
    ParallelParameters         parallel;
    ComparisonParameters       comparison;
    ConvergenceParameters      convergence;
    /** The complete parameter file of this run (PRM format). */
    std::string used_parameter_file;

    /**
     * Declares every section in @p prm; the entries of section
     * "Convergence" are bound to the member convergence.
     */
    void
    declare_parameters(dealii::ParameterHandler &prm);
    /**
     * Reads every section but "Convergence" (bound) from @p prm and records
     * the file used.
     */
    void
    parse_parameters(dealii::ParameterHandler &prm);
  };

  /**
   * Reads @p file, then applies each "Section/name=value" of @p overrides in
   * order (the --set options), and parses the result. Unknown sections and
   * entries, and values that do not match their pattern, raise InputError
   * naming the entry and what it allows.
   */
  Parameters
  read_parameters(const std::string              &file,
                  const std::vector<std::string> &overrides);

  /**
   * Splits @p text at @p separator and trims each piece; an empty text gives
   * no pieces.
   */
  std::vector<std::string>
  split(const std::string &text, const char separator);

  /**
   * Parses @p text as comma-separated finite numbers; InputError naming
   * @p parameter otherwise.
   */
  std::vector<double>
  parse_numbers(const std::string &text, const std::string &parameter);

  /**
   * Parses @p text as one number (for every coordinate) or @p d
   * comma-separated numbers; InputError naming @p parameter otherwise.
   */
  std::vector<double>
  parse_coordinates(const std::string &text,
                    const unsigned int d,
                    const std::string &parameter);
} // namespace attnflow

#endif
