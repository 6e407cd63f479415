#include <attnflow/exceptions.h>
#include <attnflow/parameter_file.h>
#include <attnflow/parameters.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace attnflow
{
  using dealii::ParameterHandler;
  using dealii::Patterns::Anything;
  using dealii::Patterns::Bool;
  using dealii::Patterns::Double;
  using dealii::Patterns::Integer;
  using dealii::Patterns::Selection;

  namespace
  {
    /** The entry @p name of the current subsection, as a positive number. */
    double
    get_positive(ParameterHandler  &prm,
                 const std::string &section,
                 const std::string &name)
    {
      const double value = prm.get_double(name);
      if (!(value > 0.))
        throw InputError(section + "/" + name,
                         "must be > 0, got " + prm.get(name));
      return value;
    }

    /** The message of a deal.II exception without its source location. */
    std::string
    message_of(const dealii::ExceptionBase &e)
    {
      std::ostringstream out;
      e.print_info(out);
      std::string text = out.str();
      while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
      return text;
    }

    /**
     * The parameter-file text that sets "Section/.../name" to value for one
     * --set option.
     */
    std::string
    override_as_input(const std::string &assignment)
    {
      const std::size_t equal = assignment.find('=');
      if (equal == std::string::npos)
        throw InputError("--set \"" + assignment + "\"",
                         "expected \"Section/name=value\"");
      if (assignment.find('#') != std::string::npos)
        throw InputError("--set \"" + assignment + "\"",
                         "'#' starts a comment in parameter files and cannot "
                         "be part of a value");
      const std::vector<std::string> path =
        split(assignment.substr(0, equal), '/');
      if (path.size() < 2)
        throw InputError("--set \"" + assignment + "\"",
                         "expected \"Section/name=value\" (the entry needs "
                         "its section, e.g. \"Model/beta=9\")");
      std::string text;
      for (std::size_t i = 0; i + 1 < path.size(); ++i)
        text += "subsection " + path[i] + "\n";
      text +=
        "set " + path.back() + " = " + assignment.substr(equal + 1) + "\n";
      for (std::size_t i = 0; i + 1 < path.size(); ++i)
        text += "end\n";
      return text;
    }
  } // namespace



  std::vector<std::string>
  split(const std::string &text, const char separator)
  {
    std::vector<std::string> pieces;
    if (text.find_first_not_of(" \t") == std::string::npos)
      return pieces;
    std::size_t begin = 0;
    while (true)
      {
        const std::size_t end   = text.find(separator, begin);
        std::string       piece = text.substr(begin, end - begin);
        const std::size_t first = piece.find_first_not_of(" \t\r\n");
        const std::size_t last  = piece.find_last_not_of(" \t\r\n");
        pieces.push_back(first == std::string::npos ?
                           "" :
                           piece.substr(first, last - first + 1));
        if (end == std::string::npos)
          return pieces;
        begin = end + 1;
      }
  }



  std::vector<double>
  parse_numbers(const std::string &text, const std::string &parameter)
  {
    std::vector<double> numbers;
    for (const std::string &piece : split(text, ','))
      {
        char        *end   = nullptr;
        const double value = std::strtod(piece.c_str(), &end);
        if (piece.empty() || *end != '\0' || !std::isfinite(value))
          throw InputError(parameter,
                           "'" + piece + "' in '" + text +
                             "' is not a finite number");
        numbers.push_back(value);
      }
    return numbers;
  }



  std::vector<double>
  parse_coordinates(const std::string &text,
                    const unsigned int d,
                    const std::string &parameter)
  {
    std::vector<double> v = parse_numbers(text, parameter);
    if (v.size() == 1)
      v.assign(d, v[0]);
    if (v.size() != d)
      throw InputError(parameter,
                       "'" + text + "' has " + std::to_string(v.size()) +
                         " numbers; give 1 (every coordinate) or " +
                         std::to_string(d) + " (Model/dimension)");
    return v;
  }



  void
  ModelParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Model");
    prm.declare_entry("geometry",
                      "sphere",
                      Selection("euclidean|sphere"),
                      "Where tokens live: euclidean (R^d) or sphere (the unit "
                      "sphere S^{d-1} of R^d, i.e. with layer normalisation; "
                      "the field is projected on the tangent space).");
    prm.declare_entry("dimension",
                      "2",
                      Integer(1, 4096),
                      "d: tokens in R^d, or on S^{d-1} (then d >= 2), up to "
                      "4096; the finite-element density needs d <= 3.");
    prm.declare_entry("beta",
                      "4",
                      Double(0),
                      "The inverse temperature beta >= 0 of the kernel "
                      "exp(beta <Q x, K y>).");
    prm.declare_entry("normalization",
                      "softmax",
                      Selection("softmax|uniform"),
                      "softmax (SA): X(x) = int k(x,y) V y dmu / int k(x,y) "
                      "dmu; uniform (USA): X(x) = int k(x,y) V y dmu.");
    prm.declare_entry("number of heads",
                      "1",
                      Integer(1),
                      "H: the field is the sum of H heads, each with its own "
                      "Q, K, V.");
    const std::string matrix_doc =
      " matrix of every head and layer. A matrix is one of: identity | "
      "c*identity (e.g. -identity, 0.5*identity) | zero | random (entries "
      "i.i.d. N(0, 1/d), seeded by 'weights seed') | diagonal a1, ..., ad | "
      "its rows, entries separated by ',' and rows by ';' (e.g. '1, 0; 0, "
      "2'). Several heads: one matrix per head separated by '|' (one matrix "
      "alone serves every head). Several layers: one such list per layer "
      "separated by '/' (one list alone serves every layer).";
    prm.declare_entry("Q", "identity", Anything(), "The query" + matrix_doc);
    prm.declare_entry("K", "identity", Anything(), "The key" + matrix_doc);
    prm.declare_entry("V", "identity", Anything(), "The value" + matrix_doc);
    prm.declare_entry("layer durations",
                      "",
                      Anything(),
                      "Time-dependent weights: the durations of consecutive "
                      "layers, comma-separated positive numbers (e.g. '1, 1, "
                      "2'); layer l uses the l-th '/'-separated entry of Q, "
                      "K, V, and the last layer holds after its end. Empty: "
                      "one layer for all time.");
    prm.declare_entry("weights seed",
                      "1",
                      Integer(0),
                      "Seed of the 'random' matrices.");
    prm.leave_subsection();
  }



  void
  ModelParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Model");
    geometry =
      prm.get("geometry") == "sphere" ? Geometry::sphere : Geometry::euclidean;
    dimension     = prm.get_integer("dimension");
    beta          = prm.get_double("beta");
    normalization = prm.get("normalization") == "softmax" ?
                      Normalization::softmax :
                      Normalization::uniform;
    n_heads       = prm.get_integer("number of heads");
    Q             = prm.get("Q");
    K             = prm.get("K");
    V             = prm.get("V");
    layer_durations =
      parse_numbers(prm.get("layer durations"), "Model/layer durations");
    for (const double duration : layer_durations)
      if (!(duration > 0.))
        throw InputError("Model/layer durations",
                         "every duration must be > 0, got '" +
                           prm.get("layer durations") + "'");
    weights_seed = prm.get_integer("weights seed");
    prm.leave_subsection();
    if (geometry == Geometry::sphere && dimension < 2)
      throw InputError("Model/dimension",
                       "geometry = sphere needs dimension >= 2 (S^{d-1} in "
                       "R^d), got " +
                         std::to_string(dimension));
  }



  void
  InitialConditionParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Initial condition");
    prm.declare_entry(
      "type",
      "uniform",
      Selection("uniform|gaussian|von mises fisher|function|tokens file"),
      "The initial measure mu0. uniform: on the sphere, or on the box "
      "[lower corner, upper corner] in R^d; gaussian: a mixture of normal "
      "distributions (means, covariances, mixture weights; euclidean only); "
      "von mises fisher: a mixture on the sphere (means, concentrations, "
      "mixture weights); function: the density 'density function' (on the "
      "box, or on the sphere), sampled by rejection; tokens file: the tokens "
      "of a CSV file.");
    prm.declare_entry(
      "density function",
      "",
      Anything(),
      "With type = function: a non-negative deal.II FunctionParser "
      "expression (d <= 3) in x (d = 1), x, y (d = 2) or x, y, z (d = 3), "
      "and theta = atan2(y, x) on S^1, e.g. '1 + 0.1*cos(3*theta)'. It is "
      "normalised to mass 1; tokens are drawn from it by rejection sampling.");
    prm.declare_entry("seed",
                      "1",
                      Integer(0),
                      "Seed of the token sampling: the same file and seed give "
                      "bit-identical tokens.");
    prm.declare_entry("tokens file",
                      "",
                      Anything(),
                      "With type = tokens file: a CSV file, one token per "
                      "line, d comma-separated numbers; lines starting with "
                      "'#' are skipped. On the sphere each token is "
                      "normalised to unit length. Relative paths are taken "
                      "from the working directory.");
    prm.declare_entry("lower corner",
                      "-1",
                      Anything(),
                      "Euclidean uniform and function measures: the lower "
                      "corner of the box, one number (every coordinate) or d "
                      "comma-separated numbers.");
    prm.declare_entry("upper corner",
                      "1",
                      Anything(),
                      "The upper corner of the box, as 'lower corner'.");
    prm.declare_entry("means",
                      "0",
                      Anything(),
                      "gaussian / von mises fisher: the mean of each mixture "
                      "component, components separated by '|', each one "
                      "number (every coordinate) or d comma-separated "
                      "numbers, e.g. '1, 0 | -1, 0'. On the sphere the mean "
                      "directions are normalised (and must not be 0).");
    prm.declare_entry("covariances",
                      "identity",
                      Anything(),
                      "gaussian: the covariance matrix of each component, "
                      "separated by '|' (one serves all), in the matrix "
                      "syntax of Model/Q, e.g. '0.1*identity' or '1, 0.5; "
                      "0.5, 2'. Symmetric positive definite.");
    prm.declare_entry("concentrations",
                      "10",
                      Anything(),
                      "von mises fisher: the concentration kappa >= 0 of each "
                      "component, comma-separated (one serves all).");
    prm.declare_entry("mixture weights",
                      "",
                      Anything(),
                      "gaussian / von mises fisher: the positive weights of "
                      "the components, comma-separated (normalised to sum "
                      "1); empty: equal weights.");
    prm.leave_subsection();
  }



  void
  InitialConditionParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Initial condition");
    type             = prm.get("type");
    density_function = prm.get("density function");
    seed             = prm.get_integer("seed");
    tokens_file      = prm.get("tokens file");
    lower_corner     = prm.get("lower corner");
    upper_corner     = prm.get("upper corner");
    means            = prm.get("means");
    covariances      = prm.get("covariances");
    concentrations   = prm.get("concentrations");
    mixture_weights  = prm.get("mixture weights");
    prm.leave_subsection();
  }



  void
  TokenParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Tokens");
    prm.declare_entry("number of tokens",
                      "1000",
                      Integer(0),
                      "n, the number of tokens drawn from mu0; 0 switches the "
                      "token solver off. With type = tokens file, any n > 0 "
                      "takes all the file's tokens.");
    prm.declare_entry("cluster radius",
                      "0.1",
                      Double(0),
                      "Clusters are the connected components of the graph "
                      "that links two tokens closer than this (Euclidean "
                      "distance in R^d: single linkage). > 0.");
    prm.declare_entry("minimum cluster fraction",
                      "0",
                      Double(0, 1),
                      "Only linked groups holding at least this fraction of "
                      "the tokens count as clusters (column clusters_tokens); "
                      "the others (stragglers between clusters) get the VTU "
                      "label clusters_tokens. 0: every group counts.");
    prm.leave_subsection();
  }



  void
  TokenParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Tokens");
    n_tokens                 = prm.get_integer("number of tokens");
    cluster_radius           = get_positive(prm, "Tokens", "cluster radius");
    minimum_cluster_fraction = prm.get_double("minimum cluster fraction");
    prm.leave_subsection();
  }



  void
  DensityParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Density");
    prm.declare_entry("enabled",
                      "false",
                      Bool(),
                      "Solve the continuity equation d_t rho + div(rho X[rho]) "
                      "= 0 for the density with the finite-element solver "
                      "(discontinuous Galerkin). Needs d <= 3: boxes in R^1, "
                      "R^2, R^3, the circle S^1 (d = 2) and the sphere S^2 "
                      "(d = 3).");
    prm.declare_entry("degree",
                      "2",
                      Integer(0, 3),
                      "The polynomial degree k of FE_DGQ(k), 0..3 (0: the "
                      "first-order finite-volume scheme).");
    prm.declare_entry("refinements",
                      "6",
                      Integer(0, 12),
                      "Global refinements of the coarse mesh (the box of "
                      "'subdivisions' cells, or deal.II's hyper_sphere: 4 "
                      "cells on S^1, 6 on S^2).");
    prm.declare_entry("lower corner",
                      "-1",
                      Anything(),
                      "Euclidean geometry: the lower corner of the box "
                      "domain, one number (every coordinate) or d. Mass "
                      "that the field carries out of the box is measured "
                      "and reported (column mass_outflow).");
    prm.declare_entry("upper corner",
                      "1",
                      Anything(),
                      "The upper corner of the box domain, as 'lower "
                      "corner'.");
    prm.declare_entry("subdivisions",
                      "1",
                      Anything(),
                      "Coarse cells of the box per coordinate, one number or "
                      "d, before the global refinements.");
    prm.declare_entry("mapping degree",
                      "3",
                      Integer(1, 6),
                      "Polynomial degree of the mapping of the curved cells "
                      "of S^1 and S^2 (MappingQ).");
    prm.declare_entry("cfl number",
                      "0.5",
                      Double(0),
                      "Explicit steps: dt = cfl number * w * h_min / (dim * "
                      "max |X|), with w the Gauss–Lobatto end weight of "
                      "degree k (1, 1/2, 1/6, 1/6 for k = 0..3), the bound "
                      "under which the positivity limiter keeps rho >= 0. In "
                      "(0, 1].");
    prm.declare_entry("time integrator",
                      "ssp rk3",
                      Selection("ssp rk3|backward euler|crank nicolson"),
                      "ssp rk3: explicit strong-stability-preserving "
                      "Runge–Kutta of order 3 (Shu–Osher) with the CFL step "
                      "and the positivity limiter after each stage. backward "
                      "euler / crank nicolson: the implicit theta scheme "
                      "with 'time step', the field frozen per step "
                      "and Picard-iterated, the sparse system solved with "
                      "Trilinos (GMRES and 'preconditioner'): for long, "
                      "slow runs.");
    prm.declare_entry("time step",
                      "0.05",
                      Double(0),
                      "Implicit schemes: the step (intervals between output "
                      "times and layer switches are cut into equal steps no "
                      "longer than this). ssp rk3: the largest step, for "
                      "accuracy where the field is slow (the CFL step may be "
                      "smaller). > 0.");
    prm.declare_entry("picard iterations",
                      "1",
                      Integer(1, 50),
                      "Implicit schemes: the field X[rho] is recomputed from "
                      "the new iterate this many times per step (1: frozen at "
                      "the start of the step, first order in time; "
                      "Crank–Nicolson needs 2 or more for second order).");
    prm.declare_entry("linear solver tolerance",
                      "1e-12",
                      Double(0),
                      "Implicit schemes: the relative residual at which "
                      "GMRES stops. > 0.");
    prm.declare_entry("preconditioner",
                      "ilu",
                      Selection("ilu|amg"),
                      "Implicit schemes: Trilinos ILU (Ifpack) or algebraic "
                      "multigrid (ML).");
    prm.declare_entry("positivity limiter",
                      "true",
                      Bool(),
                      "The Zhang–Shu limiter scales rho towards its cell "
                      "mean so that rho >= 0 at every quadrature point, "
                      "keeping the mass (after every stage of ssp rk3; after "
                      "every implicit step, where slightly negative cell "
                      "means, which the implicit schemes allow for k >= 1, "
                      "are set to zero and the mass restored).");
    prm.declare_entry("adaptive refinement",
                      "false",
                      Bool(),
                      "Refine where the density concentrates and coarsen "
                      "where it vanishes, every 'adaptation interval' steps "
                      "(indicator: the mean density of each cell against "
                      "the average density mass/|domain|), the solution "
                      "transferred with its mass kept.");
    prm.declare_entry("max refinement level",
                      "8",
                      Integer(0, 14),
                      "Adaptive refinement: the finest level allowed.");
    prm.declare_entry("refine density ratio",
                      "2",
                      Double(0),
                      "Adaptive refinement: cells whose mean density exceeds "
                      "this multiple of the average density are refined.");
    prm.declare_entry("coarsen density ratio",
                      "0.1",
                      Double(0),
                      "Adaptive refinement: cells whose mean density is below "
                      "this multiple of the average density are coarsened "
                      "(not below two levels under 'refinements').");
    prm.declare_entry("adaptation interval",
                      "10",
                      Integer(1),
                      "Adaptive refinement: time steps between adaptations.");
    prm.declare_entry("kde bandwidth",
                      "0",
                      Double(0),
                      "Initial condition type = tokens file: the density is "
                      "the kernel density estimate of the tokens, Gaussian "
                      "with this standard deviation h in R^d, von "
                      "Mises–Fisher with concentration 1/h^2 on the sphere. "
                      "0: Scott's rule h = n^(-1/(d+4)) times the tokens' "
                      "standard deviation (per coordinate, averaged).");
    prm.leave_subsection();
  }



  void
  DensityParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Density");
    enabled                = prm.get_bool("enabled");
    degree                 = prm.get_integer("degree");
    refinements            = prm.get_integer("refinements");
    lower_corner           = prm.get("lower corner");
    upper_corner           = prm.get("upper corner");
    subdivisions           = prm.get("subdivisions");
    mapping_degree         = prm.get_integer("mapping degree");
    cfl_number             = get_positive(prm, "Density", "cfl number");
    const std::string name = prm.get("time integrator");
    scheme                 = name == "ssp rk3"        ? DensityScheme::ssp_rk3 :
                             name == "backward euler" ? DensityScheme::backward_euler :
                                                        DensityScheme::crank_nicolson;
    time_step              = get_positive(prm, "Density", "time step");
    picard_iterations      = prm.get_integer("picard iterations");
    solver_tolerance = get_positive(prm, "Density", "linear solver tolerance");
    if (solver_tolerance < 1e-15)
      throw InputError("Density/linear solver tolerance",
                       "must be >= 1e-15 (round-off), got " +
                         prm.get("linear solver tolerance"));
    preconditioner       = prm.get("preconditioner");
    positivity_limiter   = prm.get_bool("positivity limiter");
    adaptive_refinement  = prm.get_bool("adaptive refinement");
    max_refinement_level = prm.get_integer("max refinement level");
    refine_ratio         = prm.get_double("refine density ratio");
    coarsen_ratio        = prm.get_double("coarsen density ratio");
    adaptation_interval  = prm.get_integer("adaptation interval");
    kde_bandwidth        = prm.get_double("kde bandwidth");
    prm.leave_subsection();
    if (cfl_number > 1.)
      throw InputError("Density/cfl number",
                       "must be in (0, 1], got " + std::to_string(cfl_number));
    if (adaptive_refinement && max_refinement_level < refinements)
      throw InputError("Density/max refinement level",
                       "is below Density/refinements (" +
                         std::to_string(refinements) +
                         "): adaptivity could only coarsen");
    if (!(coarsen_ratio < refine_ratio))
      throw InputError("Density/coarsen density ratio",
                       "must be smaller than the refine density ratio");
  }



  void
  TimeParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Time");
    prm.declare_entry("end time", "10", Double(0), "The final time T >= 0.");
    prm.declare_entry("output interval",
                      "0.5",
                      Double(0),
                      "Output (VTU, metrics, progress line) at t = 0, this "
                      "interval, twice it, ..., and at the end time, each hit "
                      "exactly. > 0.");
    prm.declare_entry("integrator",
                      "dopri5",
                      Selection("dopri5|rk4|euler"),
                      "The token integrator. dopri5: adaptive Dormand–Prince "
                      "5(4) with the tolerances below (the default: accurate "
                      "to about the tolerance); rk4: classical Runge–Kutta "
                      "with the fixed 'time step'; euler: explicit Euler with "
                      "the fixed 'time step' (what the published Python codes "
                      "use; first order, for comparison only).");
    prm.declare_entry("time step",
                      "0.01",
                      Double(0),
                      "rk4 and euler: the step size (each interval between "
                      "output times and layer switches is cut into equal "
                      "steps no longer than this); dopri5: the first trial "
                      "step. > 0.");
    prm.declare_entry("relative tolerance",
                      "1e-8",
                      Double(0),
                      "dopri5: the relative tolerance of the local error.");
    prm.declare_entry("absolute tolerance",
                      "1e-10",
                      Double(0),
                      "dopri5: the absolute tolerance of the local error.");
    prm.leave_subsection();
  }



  void
  TimeParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Time");
    end_time               = prm.get_double("end time");
    output_interval        = get_positive(prm, "Time", "output interval");
    const std::string name = prm.get("integrator");
    scheme                 = name == "dopri5" ? TimeScheme::dopri5 :
                             name == "rk4"    ? TimeScheme::rk4 :
                                                TimeScheme::euler;
    time_step              = get_positive(prm, "Time", "time step");
    relative_tolerance     = prm.get_double("relative tolerance");
    absolute_tolerance     = prm.get_double("absolute tolerance");
    prm.leave_subsection();
    if (end_time / output_interval > 1e6)
      throw InputError("Time/output interval",
                       "end time / output interval gives more than 1e6 "
                       "output times; at most 1e6 are allowed");
    if (scheme != TimeScheme::dopri5 && end_time / time_step > 1e10)
      throw InputError("Time/time step",
                       "end time / time step gives more than 1e10 steps");
    if (!(relative_tolerance > 0. || absolute_tolerance > 0.))
      throw InputError("Time/relative tolerance",
                       "relative and absolute tolerance are both 0; at least "
                       "one must be > 0");
  }



  void
  OutputParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Output");
    prm.declare_entry("directory",
                      "output",
                      Anything(),
                      "The run folder: tokens_NNNN.vtu/.csv, tokens.pvd, "
                      "density_NNNN.vtu, density.pvd, metrics.csv and "
                      "parameters.prm go here (created if missing; those "
                      "files of an earlier run in it are removed first).");
    prm.declare_entry("write vtu",
                      "true",
                      Bool(),
                      "Write the VTU/PVD files (false: metrics.csv and "
                      "parameters.prm only).");
    prm.declare_entry("write tokens csv",
                      "false",
                      Bool(),
                      "Also write tokens_NNNN.csv at every output time: one "
                      "token per line, all d coordinates (VTU files show "
                      "only the first three), full double precision; the "
                      "format of Initial condition/tokens file.");
    prm.leave_subsection();
  }



  void
  OutputParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Output");
    directory = prm.get("directory");
    write_vtu = prm.get_bool("write vtu");
    write_csv = prm.get_bool("write tokens csv");
    prm.leave_subsection();
    if (directory.empty())
      throw InputError("Output/directory", "must not be empty");
  }



  void
  ComparisonParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Comparison");
    prm.declare_entry("mmd bandwidth",
                      "0.1",
                      Double(0),
                      "With tokens and density: the bandwidth sigma of the "
                      "Gaussian kernel exp(-|x - y|^2 / (2 sigma^2)) of the "
                      "maximum mean discrepancy (column mmd). > 0.");
    prm.declare_entry("sliced directions",
                      "64",
                      Integer(1, 100000),
                      "The number of random directions of the sliced "
                      "Wasserstein distance (column sliced_w2; R^2, R^3, "
                      "S^2).");
    prm.declare_entry("seed",
                      "1",
                      Integer(0),
                      "Seed of the sliced Wasserstein directions.");
    prm.leave_subsection();
  }



  void
  ComparisonParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Comparison");
    mmd_bandwidth     = get_positive(prm, "Comparison", "mmd bandwidth");
    sliced_directions = prm.get_integer("sliced directions");
    seed              = prm.get_integer("seed");
    prm.leave_subsection();
  }



  void
  ParallelParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Parallel");
    prm.declare_entry("number of threads",
                      "0",
                      Integer(0),
                      "Threads of the kernel engine; 0: every core.");
    prm.leave_subsection();
  }



  void
  ParallelParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Parallel");
    n_threads = prm.get_integer("number of threads");
    prm.leave_subsection();
  }



  const char *const ConvergenceParameters::sweepable =
    "Density/refinements|Density/degree|Density/cfl number|Density/time step|"
    "Time/time step|Tokens/number of tokens";



  void
  ConvergenceParameters::declare_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Convergence");
    prm.declare_entry("sweep",
                      "Density/refinements",
                      Selection(std::string(sweepable)),
                      "attnflow --convergence only: the parameter swept. "
                      "Rates are measured against 1/h (refinements), 1/dt "
                      "(time step, cfl number) or n (number of tokens); a "
                      "degree sweep gives the reduction factor e_(i-1)/e_i.");
    prm.declare_entry("values",
                      "",
                      Anything(),
                      "attnflow --convergence only: the values of the swept "
                      "parameter, comma-separated, coarsest first (e.g. 2, 3, "
                      "4, 5); at least two.");
    prm.declare_entry("series",
                      "none",
                      Selection("none|" + std::string(sweepable)),
                      "attnflow --convergence only: a second parameter; the "
                      "table gets one error column (and rate) per value, "
                      "e.g. Density/degree for h^(k+1) at k = 1, 2, 3.");
    prm.declare_entry("series values",
                      "",
                      Anything(),
                      "attnflow --convergence only: the values of the series "
                      "parameter, comma-separated.");
    prm.declare_entry("error",
                      "density L1",
                      Selection("density L1|density moments|token positions|"
                                "token moments|w1|w2|sliced_w2|mmd"),
                      "attnflow --convergence only: the error at the end "
                      "time. density L1: int |rho_h - rho|; density/token "
                      "moments: max |mean - m| and max |covariance - S| "
                      "(entries); token positions: max_i |x_i - x_i^ref|; "
                      "w1, w2, sliced_w2, mmd: the distance between tokens "
                      "and density (the metrics.csv column; no reference).");
    prm.declare_entry("reference",
                      "exact",
                      Selection("exact|finest"),
                      "attnflow --convergence only: measure density L1 and "
                      "token positions against the exact solution (E1: "
                      "beta = 0 in R^d; E2: softmax from one Gaussian in "
                      "R^d) or against the run with the last (finest) value, "
                      "which then gets no row. Moments need exact.");
    prm.declare_entry("number of seeds",
                      "1",
                      Integer(1, 1000),
                      "attnflow --convergence only: runs per value, with "
                      "Initial condition/seed and Comparison/seed = seed, "
                      "seed + 1, ...; the table shows the mean error and "
                      "its standard deviation (spread).");
    prm.declare_entry("reference slopes",
                      "auto",
                      Anything(),
                      "attnflow --convergence only: the slopes p of the "
                      "reference lines C x^(-p) in the plot, comma-separated, "
                      "or auto (k + 1 for refinements, the order of the time "
                      "scheme for time steps, 1/2 for the number of tokens).");
    prm.declare_entry("plot",
                      "true",
                      Bool(),
                      "attnflow --convergence only: draw convergence.png and "
                      "convergence.svg with gnuplot (the script "
                      "convergence.gp is written in any case).");
    prm.leave_subsection();
  }



  void
  ConvergenceParameters::parse_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Convergence");
    sweep            = prm.get("sweep");
    values           = prm.get("values");
    series           = prm.get("series");
    series_values    = prm.get("series values");
    error            = prm.get("error");
    reference        = prm.get("reference");
    n_seeds          = prm.get_integer("number of seeds");
    reference_slopes = prm.get("reference slopes");
    plot             = prm.get_bool("plot");
    prm.leave_subsection();
  }



  void
  Parameters::declare_parameters(ParameterHandler &prm)
  {
    ModelParameters::declare_parameters(prm);
    InitialConditionParameters::declare_parameters(prm);
    TokenParameters::declare_parameters(prm);
    DensityParameters::declare_parameters(prm);
    TimeParameters::declare_parameters(prm);
    OutputParameters::declare_parameters(prm);
    ParallelParameters::declare_parameters(prm);
    ComparisonParameters::declare_parameters(prm);
    ConvergenceParameters::declare_parameters(prm);
  }



  void
  Parameters::parse_parameters(ParameterHandler &prm)
  {
    model.parse_parameters(prm);
    initial_condition.parse_parameters(prm);
    tokens.parse_parameters(prm);
    density.parse_parameters(prm);
    time.parse_parameters(prm);
    output.parse_parameters(prm);
    parallel.parse_parameters(prm);
    comparison.parse_parameters(prm);
    convergence.parse_parameters(prm);
    // Each implicit step is a linear solve: refuse what would never end.
    if (density.enabled && density.scheme != DensityScheme::ssp_rk3 &&
        time.end_time / density.time_step > 1e8)
      throw InputError("Density/time step",
                       "Time/end time / time step gives more than 1e8 "
                       "implicit steps");
    std::ostringstream out;
    prm.print_parameters(out, ParameterHandler::PRM);
    used_parameter_file = out.str();
  }



  Parameters
  read_parameters(const std::string              &file,
                  const std::vector<std::string> &overrides)
  {
    check_parameter_file(file);
    ParameterHandler prm;
    Parameters::declare_parameters(prm);
    try
      {
        prm.parse_input(file);
      }
    catch (const dealii::ExceptionBase &e)
      {
        throw InputError(file, message_of(e));
      }
    for (const std::string &assignment : overrides)
      try
        {
          prm.parse_input_from_string(override_as_input(assignment), "--set");
        }
      catch (const dealii::ExceptionBase &e)
        {
          throw InputError("--set \"" + assignment + "\"", message_of(e));
        }
    Parameters parameters;
    try
      {
        parameters.parse_parameters(prm);
      }
    catch (const dealii::ExceptionBase &e)
      {
        // E.g. a subnormal number that the pattern accepts but get_double()
        // cannot convert.
        throw InputError(file, message_of(e));
      }
    return parameters;
  }
} // namespace attnflow
