/**
 * @file
 * The run parameters, one struct per section of the parameter file. Each
 * struct holds its entries as members with their defaults in-class, and
 * add_parameters() declares the entries bound to those members, with the
 * range (pattern) and the documentation that `attnflow --print-parameters`
 * prints: each default, range and text stands in one place. Selections are
 * enums with one table of names (selection.h).
 */
#ifndef attnflow_parameters_h
#define attnflow_parameters_h

#include <attnflow/convergence_sweep.h>
#include <attnflow/ensemble_parameters.h>
#include <attnflow/kernel_engine.h>
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

  /** The names of Model/geometry. */
  inline const SelectionTable<Geometry> geometry_names =
    {{Geometry::euclidean, "euclidean"}, {Geometry::sphere, "sphere"}};

  /** Softmax (SA) or unnormalised (USA) attention. */
  enum class Normalization
  {
    softmax,
    uniform
  };

  /** The names of Model/normalization. */
  inline const SelectionTable<Normalization> normalization_names =
    {{Normalization::softmax, "softmax"}, {Normalization::uniform, "uniform"}};

  /** The names of Model/mask (doc/theory.md section 1.4). */
  inline const SelectionTable<AttentionMask::Kind> mask_names = {
    {AttentionMask::Kind::none, "none"},
    {AttentionMask::Kind::causal, "causal"}};

  /** The activation sigma of the feed-forward flow (doc/theory.md 1.3). */
  enum class Activation
  {
    identity,
    relu,
    tanh,
    gelu
  };

  /** The names of Model/feed forward activation. */
  inline const SelectionTable<Activation> activation_names = {
    {Activation::identity, "identity"},
    {Activation::relu, "relu"},
    {Activation::tanh, "tanh"},
    {Activation::gelu, "gelu"}};

  /**
   * Section "Model": the attention dynamics (doc/theory.md section 1.1).
   */
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
    /** d_k, the rows of Q and K; 0: d. */
    unsigned int head_dimension = 0;
    /** The file that matrices written 'file' are read from. */
    std::string weights_file = "";
    /** The causal mask and its ALiBi slope (doc/theory.md section 1.4). */
    AttentionMask::Kind mask        = AttentionMask::Kind::none;
    double              alibi_slope = 0.;
    /** The feed-forward flow sigma(W x + b) (doc/theory.md section 1.3). */
    bool        feed_forward            = false;
    std::string feed_forward_W          = "identity";
    std::string feed_forward_b          = "zero";
    Activation  feed_forward_activation = Activation::identity;

    /**
     * Declares the entries of section "Model" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /**
     * What the patterns cannot check (positive layer durations, d >= 2 on
     * the sphere, d_k <= d, a slope only with the mask): InputError naming
     * the entry.
     */
    void
    check() const;
  };

  /** The kinds of initial measure mu0 (Initial condition/type). */
  enum class InitialMeasureType
  {
    uniform,
    gaussian,
    von_mises_fisher,
    function,
    tokens_file
  };

  /** The names of Initial condition/type. */
  inline const SelectionTable<InitialMeasureType> initial_measure_names = {
    {InitialMeasureType::uniform, "uniform"},
    {InitialMeasureType::gaussian, "gaussian"},
    {InitialMeasureType::von_mises_fisher, "von mises fisher"},
    {InitialMeasureType::function, "function"},
    {InitialMeasureType::tokens_file, "tokens file"}};

  /** Section "Initial condition": the initial measure mu0. */
  struct InitialConditionParameters
  {
    InitialMeasureType type             = InitialMeasureType::uniform;
    std::string        density_function = "";
    unsigned int       seed             = 1;
    std::string        tokens_file      = "";
    /** The box of uniform and function measures (see parse_box()). */
    std::string lower_corner    = "-1";
    std::string upper_corner    = "1";
    std::string means           = "0";
    std::string covariances     = "identity";
    std::string concentrations  = "10";
    std::string mixture_weights = "";
    /**
     * Mixtures: tokens in blocks by component (for a causal mask), not
     * each from a component drawn at random.
     */
    bool ordered_by_component = false;

    /**
     * Declares the entries of section "Initial condition" in @p prm, bound
     * to the members of this object: their in-class values are the
     * defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
  };

  /** Section "Tokens": the Lagrangian solver. */
  struct TokenParameters
  {
    unsigned int n_tokens                 = 1000;
    double       cluster_radius           = 0.1;
    double       minimum_cluster_fraction = 0.;

    /**
     * Declares the entries of section "Tokens" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /** What the patterns cannot check (cluster radius > 0): InputError. */
    void
    check() const;
  };

  /** Time integration schemes of the finite-element solver. */
  enum class DensityScheme
  {
    ssp_rk3,
    backward_euler,
    crank_nicolson
  };

  /** The names of Density/time integrator. */
  inline const SelectionTable<DensityScheme> density_scheme_names = {
    {DensityScheme::ssp_rk3, "ssp rk3"},
    {DensityScheme::backward_euler, "backward euler"},
    {DensityScheme::crank_nicolson, "crank nicolson"}};

  /** Preconditioners of the implicit density schemes (Trilinos). */
  enum class Preconditioner
  {
    ilu,
    amg
  };

  /** The names of Density/preconditioner. */
  inline const SelectionTable<Preconditioner> preconditioner_names =
    {{Preconditioner::ilu, "ilu"}, {Preconditioner::amg, "amg"}};

  /**
   * Section "Density": the finite-element solver of the continuity
   * equation.
   */
  struct DensityParameters
  {
    bool         enabled     = false;
    unsigned int degree      = 2;
    unsigned int refinements = 6;
    /**
     * Euclidean box: corners (1 or d numbers, see parse_box()) and coarse
     * cells per axis.
     */
    std::string    lower_corner         = "-1";
    std::string    upper_corner         = "1";
    std::string    subdivisions         = "1";
    unsigned int   mapping_degree       = 3;
    double         cfl_number           = 0.5;
    DensityScheme  scheme               = DensityScheme::ssp_rk3;
    double         time_step            = 0.05;
    unsigned int   picard_iterations    = 1;
    double         solver_tolerance     = 1e-12;
    Preconditioner preconditioner       = Preconditioner::ilu;
    bool           positivity_limiter   = true;
    bool           adaptive_refinement  = false;
    unsigned int   max_refinement_level = 8;
    double         refine_ratio         = 2.;
    double         coarsen_ratio        = 0.1;
    unsigned int   adaptation_interval  = 10;
    double         kde_bandwidth        = 0.;

    /**
     * Declares the entries of section "Density" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /**
     * What the patterns cannot check (cfl number in (0, 1], positive steps
     * and tolerance, the adaptivity levels and ratios): InputError naming
     * the entry.
     */
    void
    check() const;
  };

  /** Time integration schemes of the token solver. */
  enum class TimeScheme
  {
    euler,
    rk4,
    dopri5
  };

  /** The names of Time/integrator. */
  inline const SelectionTable<TimeScheme> time_scheme_names = {
    {TimeScheme::dopri5, "dopri5"},
    {TimeScheme::rk4, "rk4"},
    {TimeScheme::euler, "euler"}};

  /** Section "Time": the common time axis and the token integrator. */
  struct TimeParameters
  {
    double     end_time           = 10.;
    double     output_interval    = 0.5;
    TimeScheme scheme             = TimeScheme::dopri5;
    double     time_step          = 0.01;
    double     relative_tolerance = 1e-8;
    double     absolute_tolerance = 1e-10;

    /**
     * Declares the entries of section "Time" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /**
     * What the patterns cannot check (positive interval and step, the
     * number of output times and steps, one tolerance > 0): InputError
     * naming the entry.
     */
    void
    check() const;
  };

  /** Section "Output": where and what a run writes. */
  struct OutputParameters
  {
    std::string directory = "output";
    bool        write_vtu = true;
    bool        write_csv = false;
    /**
     * The simulated time between checkpoints (0: none): the run saves what
     * it needs to continue (attnflow --resume) at the first output time at
     * least this long after the last checkpoint, and at the end.
     */
    double checkpoint_interval = 0.;

    /**
     * Declares the entries of section "Output" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /** What the patterns cannot check (a directory): InputError. */
    void
    check() const;
  };

  /** Section "Comparison": the distances between density and tokens. */
  struct ComparisonParameters
  {
    double       mmd_bandwidth     = 0.1;
    unsigned int sliced_directions = 64;
    unsigned int seed              = 1;

    /**
     * Declares the entries of section "Comparison" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /** What the patterns cannot check (mmd bandwidth > 0): InputError. */
    void
    check() const;
  };

  /** How each head's kernel sums are computed (doc/theory.md section 6). */
  enum class FieldMethodKind
  {
    /** The fastest exact method that serves the head, else direct. */
    automatic,
    /** The all-pairs KernelEngine. */
    direct,
    circle_fourier,
    sphere_harmonics,
    tensor_product,
    sphere_pruned
  };

  /** The names of Field/method. */
  inline const SelectionTable<FieldMethodKind> field_method_names = {
    {FieldMethodKind::automatic, "auto"},
    {FieldMethodKind::direct, "direct"},
    {FieldMethodKind::circle_fourier, "circle fourier"},
    {FieldMethodKind::sphere_harmonics, "sphere harmonics"},
    {FieldMethodKind::tensor_product, "tensor product"},
    {FieldMethodKind::sphere_pruned, "sphere pruned"}};

  /** Section "Field": the evaluation of the nonlocal sums. */
  struct FieldParameters
  {
    FieldMethodKind method    = FieldMethodKind::automatic;
    double          tolerance = 1e-10;

    /**
     * Declares the entries of section "Field" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /** What the patterns cannot check (0 < tolerance < 1): InputError. */
    void
    check() const;
  };

  /** Section "Parallel": threads (and later MPI) of the run. */
  struct ParallelParameters
  {
    unsigned int n_threads = 0;

    /**
     * Declares the entries of section "Parallel" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
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
    FieldParameters            field;
    ConvergenceParameters      convergence;
    EnsembleParameters         ensemble;
    /** The complete parameter file of this run (PRM format). */
    std::string used_parameter_file;

    /**
     * Declares the entries of every section in @p prm, bound to the members
     * of this object: their in-class values are the defaults. A default
     * Parameters bound to a handler documents every entry
     * (`attnflow --print-parameters`).
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /**
     * The checks of every section, and those across sections (the number of
     * implicit density steps): InputError naming the entry.
     */
    void
    check() const;
  };

  /**
   * Reads @p file, then applies each "Section/name=value" of @p overrides in
   * order (the --set options), into a Parameters bound to the handler, and
   * checks the result; records the complete parameter file used. Unknown
   * sections and entries, and values that do not match their pattern, raise
   * InputError naming the entry ("Section/name"), the value, where it was
   * read and what is allowed (e.g. "a number >= 0").
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

  /** An axis-aligned box [lower, upper] of R^d. */
  struct Box
  {
    std::vector<double> lower;
    std::vector<double> upper;
  };

  /**
   * The box of the entries "lower corner" and "upper corner" of
   * @p section ("Initial condition" or "Density"), each one number (every
   * coordinate) or @p d; InputError naming the entry unless it is such a
   * list and lower < upper in every coordinate.
   */
  Box
  parse_box(const std::string &lower_corner,
            const std::string &upper_corner,
            const unsigned int d,
            const std::string &section);
} // namespace attnflow

#endif
