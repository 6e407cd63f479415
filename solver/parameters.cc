#include <attnflow/exceptions.h>
#include <attnflow/parameter_file.h>
#include <attnflow/parameters.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <regex>
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
    /** @p value as the parameter file would write it. */
    std::string
    as_text(const double value)
    {
      std::ostringstream out;
      out << value;
      return out.str();
    }

    /** InputError naming @p parameter unless @p value > 0. */
    void
    require_positive(const double value, const std::string &parameter)
    {
      if (!(value > 0.))
        throw InputError(parameter, "must be > 0, got " + as_text(value));
    }

    /**
     * Declares the entry @p entry of the current subsection as a list of
     * comma-separated finite numbers bound to @p member (its current value
     * the default); a value that is not such a list raises InputError
     * naming @p parameter.
     */
    void
    add_numbers(ParameterHandler    &prm,
                const std::string   &entry,
                std::vector<double> &member,
                const std::string   &documentation,
                const std::string   &parameter)
    {
      std::string text;
      for (const double value : member)
        text += (text.empty() ? "" : ", ") + as_text(value);
      prm.declare_entry(entry, text, Anything(), documentation);
      prm.add_action(entry, [&member, parameter](const std::string &value) {
        member = parse_numbers(value, parameter);
      });
    }

    /**
     * What the deal.II pattern with description @p pattern allows, in
     * words: "a number >= 0", "an integer from 1 to 4096", "one of a|b",
     * "true or false".
     */
    std::string
    allowed_by(const std::string &pattern)
    {
      std::smatch range;
      if (std::regex_match(pattern,
                           range,
                           std::regex(R"(\[(Integer range|Double) (\S+)\.\.\.)"
                                      R"((\S+) \(inclusive\)\])")))
        {
          const bool        integer = range[1] == "Integer range";
          const std::string lower   = range[2];
          const std::string upper   = range[3];
          const bool        no_lower =
            lower == (integer ?
                        std::to_string(std::numeric_limits<int>::min()) :
                        "-MAX_DOUBLE");
          const bool no_upper =
            upper == (integer ?
                        std::to_string(std::numeric_limits<int>::max()) :
                        "MAX_DOUBLE");
          const std::string kind = integer ? "an integer" : "a number";
          if (no_lower && no_upper)
            return kind;
          if (no_upper)
            return kind + " >= " + lower;
          if (no_lower)
            return kind + " <= " + upper;
          return kind + " from " + lower + " to " + upper;
        }
      if (pattern == "[Bool]")
        return "true or false";
      std::smatch selection;
      if (std::regex_match(pattern,
                           selection,
                           std::regex(R"(\[Selection (.*?) *\])")))
        return "one of " + selection[1].str();
      return pattern;
    }

    /** @p text without leading and trailing blanks. */
    std::string
    trimmed(const std::string &text)
    {
      const std::size_t first = text.find_first_not_of(" \t\r");
      if (first == std::string::npos)
        return "";
      return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
    }

    /**
     * The subsection path ("Model/", "" at the top) in effect at line
     * @p line of the parameter-file text @p text.
     */
    std::string
    section_at(const std::string &text, const unsigned int line)
    {
      std::vector<std::string> path;
      std::istringstream       in(text);
      std::string              input;
      for (unsigned int n = 1; n < line && std::getline(in, input); ++n)
        {
          const std::string statement =
            trimmed(input.substr(0, input.find('#')));
          const std::string keyword = "subsection ";
          if (statement == "end" && !path.empty())
            path.pop_back();
          else if (statement.rfind(keyword, 0) == 0)
            path.push_back(trimmed(statement.substr(keyword.size())));
        }
      std::string section;
      for (const std::string &name : path)
        section += name + "/";
      return section;
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
     * The InputError for the deal.II exception @p e raised while parsing
     * @p text, read from @p where ("run.prm", or "--set ..."): for a value
     * that does not match its pattern, the entry "Section/name", the value,
     * its line and what is allowed in words; otherwise deal.II's message
     * about @p where.
     */
    InputError
    input_error(const dealii::ExceptionBase &e,
                const std::string           &text,
                const std::string           &where)
    {
      const std::string message = message_of(e);
      if (dynamic_cast<const ParameterHandler::ExcInvalidEntryForPattern *>(
            &e) == nullptr)
        return InputError(where, message);
      // "Line <n> of file <f>:", "The entry value", value, "for the entry
      // named", name, "does not match the given pattern:", pattern.
      std::vector<std::string> lines = split(message, '\n');
      if (lines.size() != 7)
        return InputError(where, message);
      const unsigned int line =
        std::atoi(lines[0].substr(lines[0].find('<') + 1).c_str());
      const std::string origin =
        where.rfind("--set", 0) == 0 ?
          where :
          "line " + std::to_string(line) + " of " + where;
      return InputError(section_at(text, line) + lines[4],
                        "'" + lines[2] + "' (" + origin +
                          ") is not allowed: it must be " +
                          allowed_by(lines[6]));
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



  Box
  parse_box(const std::string &lower_corner,
            const std::string &upper_corner,
            const unsigned int d,
            const std::string &section)
  {
    Box box{parse_coordinates(lower_corner, d, section + "/lower corner"),
            parse_coordinates(upper_corner, d, section + "/upper corner")};
    for (unsigned int k = 0; k < d; ++k)
      if (!(box.lower[k] < box.upper[k]))
        throw InputError(section + "/upper corner",
                         "must exceed the lower corner in every coordinate "
                         "(coordinate " +
                           std::to_string(k + 1) + ")");
    return box;
  }



  void
  ModelParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Model");
    add_selection(prm,
                  "geometry",
                  geometry,
                  geometry_names,
                  "Where tokens live: euclidean (R^d) or sphere (the unit "
                  "sphere S^{d-1} of R^d, i.e. with layer normalisation; "
                  "the field is projected on the tangent space).");
    prm.add_parameter("dimension",
                      dimension,
                      "d: tokens in R^d, or on S^{d-1} (then d >= 2), up to "
                      "4096; the finite-element density needs d <= 3.",
                      Integer(1, 4096));
    prm.add_parameter("beta",
                      beta,
                      "The inverse temperature beta >= 0 of the kernel "
                      "exp(beta <Q x, K y>).",
                      Double(0));
    add_selection(prm,
                  "normalization",
                  normalization,
                  normalization_names,
                  "softmax (SA): X(x) = int k(x,y) V y dmu / int k(x,y) "
                  "dmu; uniform (USA): X(x) = int k(x,y) V y dmu.");
    prm.add_parameter("number of heads",
                      n_heads,
                      "H: the field is the sum of H heads, each with its own "
                      "Q, K, V.",
                      Integer(1));
    const std::string matrix_doc =
      " matrix of every head and layer. A matrix is one of: identity | "
      "c*identity (e.g. -identity, 0.5*identity) | zero | random (entries "
      "i.i.d. N(0, 1/d), seeded by 'weights seed') | diagonal a1, ..., ad | "
      "its rows, entries separated by ',' and rows by ';' (e.g. '1, 0; 0, "
      "2'). Several heads: one matrix per head separated by '|' (one matrix "
      "alone serves every head). Several layers: one such list per layer "
      "separated by '/' (one list alone serves every layer).";
    prm.add_parameter("Q", Q, "The query" + matrix_doc, Anything());
    prm.add_parameter("K", K, "The key" + matrix_doc, Anything());
    prm.add_parameter("V", V, "The value" + matrix_doc, Anything());
    add_numbers(prm,
                "layer durations",
                layer_durations,
                "Time-dependent weights: the durations of consecutive "
                "layers, comma-separated positive numbers (e.g. '1, 1, "
                "2'); layer l uses the l-th '/'-separated entry of Q, "
                "K, V, and the last layer holds after its end. Empty: "
                "one layer for all time.",
                "Model/layer durations");
    prm.add_parameter("weights seed",
                      weights_seed,
                      "Seed of the 'random' matrices.",
                      Integer(0));
    prm.add_parameter(
      "head dimension",
      head_dimension,
      "d_k <= d: Q and K of every head are d_k x d (a transformer-shaped "
      "head; the exponent <Q x, K y> is evaluated in d_k dimensions), V is "
      "d x d. 0: d_k = d. With d_k < d, identity is the first d_k rows of "
      "the identity, diagonal has d_k entries, random has N(0, 1/d) "
      "entries, explicit rows are d_k rows of d entries.",
      Integer(0, 4096));
    prm.add_parameter(
      "weights file",
      weights_file,
      "A .npy, .npz or .safetensors file for the matrices written 'file' "
      "in Q, K, V, feed forward W and feed forward b: layer l, head h "
      "(from 0) read the tensors layers.{l}.heads.{h}.Q (d_k x d), "
      "layers.{l}.heads.{h}.K (d_k x d), layers.{l}.heads.{h}.V (d x d), "
      "layers.{l}.ff.W (d x d) and layers.{l}.ff.b (d), row-major as they "
      "act (y = A x); dtypes f64, f32, f16 (and bf16 in safetensors). "
      "scripts/make_gpt2_weights.py writes such files.",
      Anything());
    add_selection(prm,
                  "mask",
                  mask,
                  mask_names,
                  "none: every token attends to every token; causal: token "
                  "i attends to the tokens j <= i only (decoder-only "
                  "attention), in the order of the tokens file or the "
                  "order drawn. Tokens only: the density solver refuses a "
                  "mask (doc/theory.md section 1.4).");
    prm.add_parameter("alibi slope",
                      alibi_slope,
                      "lambda >= 0, with mask = causal: the ALiBi bias "
                      "-lambda (i - j) / n on the exponent of token i "
                      "attending to token j <= i.",
                      Double(0));
    prm.add_parameter("feed forward",
                      feed_forward,
                      "Adds the feed-forward flow sigma(W x + b) of every "
                      "layer to the attention field (projected on the "
                      "tangent space on the sphere): a whole transformer "
                      "block as one velocity, in both solvers.",
                      Bool());
    prm.add_parameter("feed forward W",
                      feed_forward_W,
                      "The d x d matrix W of the feed-forward flow, in the "
                      "matrix syntax of Q (or 'file'); one per layer "
                      "separated by '/' (one serves every layer).",
                      Anything());
    prm.add_parameter("feed forward b",
                      feed_forward_b,
                      "The bias b of the feed-forward flow: zero, d "
                      "comma-separated numbers or 'file'; one per layer "
                      "separated by '/' (one serves every layer).",
                      Anything());
    add_selection(prm,
                  "feed forward activation",
                  feed_forward_activation,
                  activation_names,
                  "sigma, entry by entry: identity, relu max(0, z), tanh, "
                  "gelu z (1 + erf(z / sqrt 2)) / 2.");
    prm.leave_subsection();
  }



  void
  ModelParameters::check() const
  {
    for (const double duration : layer_durations)
      if (!(duration > 0.))
        throw InputError("Model/layer durations",
                         "every duration must be > 0, got " +
                           as_text(duration));
    if (geometry == Geometry::sphere && dimension < 2)
      throw InputError("Model/dimension",
                       "geometry = sphere needs dimension >= 2 (S^{d-1} in "
                       "R^d), got " +
                         std::to_string(dimension));
    if (head_dimension > dimension)
      throw InputError("Model/head dimension",
                       "must be <= Model/dimension = " +
                         std::to_string(dimension) + " (0: d_k = d), got " +
                         std::to_string(head_dimension));
    if (alibi_slope > 0. && mask != AttentionMask::Kind::causal)
      throw InputError("Model/alibi slope",
                       "a slope > 0 needs Model/mask = causal (ALiBi biases "
                       "the causal sum), got mask = none");
  }



  void
  InitialConditionParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Initial condition");
    add_selection(
      prm,
      "type",
      type,
      initial_measure_names,
      "The initial measure mu0. uniform: on the sphere, or on the box "
      "[lower corner, upper corner] in R^d; gaussian: a mixture of normal "
      "distributions (means, covariances, mixture weights; euclidean only); "
      "von mises fisher: a mixture on the sphere (means, concentrations, "
      "mixture weights); function: the density 'density function' (on the "
      "box, or on the sphere), sampled by rejection; tokens file: the tokens "
      "of a CSV file.");
    prm.add_parameter(
      "density function",
      density_function,
      "With type = function: a non-negative deal.II FunctionParser "
      "expression (d <= 3) in x (d = 1), x, y (d = 2) or x, y, z (d = 3), "
      "and theta = atan2(y, x) on S^1, e.g. '1 + 0.1*cos(3*theta)'. It is "
      "normalised to mass 1; tokens are drawn from it by rejection sampling.",
      Anything());
    prm.add_parameter("seed",
                      seed,
                      "Seed of the token sampling: the same file and seed give "
                      "bit-identical tokens.",
                      Integer(0));
    prm.add_parameter("tokens file",
                      tokens_file,
                      "With type = tokens file: a CSV file, one token per "
                      "line, d comma-separated numbers; lines starting with "
                      "'#' are skipped. On the sphere each token is "
                      "normalised to unit length. Relative paths are taken "
                      "from the working directory.",
                      Anything());
    prm.add_parameter("lower corner",
                      lower_corner,
                      "Euclidean uniform and function measures: the lower "
                      "corner of the box, one number (every coordinate) or d "
                      "comma-separated numbers.",
                      Anything());
    prm.add_parameter("upper corner",
                      upper_corner,
                      "The upper corner of the box, as 'lower corner'.",
                      Anything());
    prm.add_parameter("means",
                      means,
                      "gaussian / von mises fisher: the mean of each mixture "
                      "component, components separated by '|', each one "
                      "number (every coordinate) or d comma-separated "
                      "numbers, e.g. '1, 0 | -1, 0'. On the sphere the mean "
                      "directions are normalised (and must not be 0).",
                      Anything());
    prm.add_parameter("covariances",
                      covariances,
                      "gaussian: the covariance matrix of each component, "
                      "separated by '|' (one serves all), in the matrix "
                      "syntax of Model/Q, e.g. '0.1*identity' or '1, 0.5; "
                      "0.5, 2'. Symmetric positive definite.",
                      Anything());
    prm.add_parameter("concentrations",
                      concentrations,
                      "von mises fisher: the concentration kappa >= 0 of each "
                      "component, comma-separated (one serves all).",
                      Anything());
    prm.add_parameter("mixture weights",
                      mixture_weights,
                      "gaussian / von mises fisher: the positive weights of "
                      "the components, comma-separated (normalised to sum "
                      "1); empty: equal weights.",
                      Anything());
    prm.add_parameter(
      "ordered by component",
      ordered_by_component,
      "gaussian / von mises fisher: false: each token from a component "
      "drawn at random by its weight; true: the tokens in blocks, component "
      "after component, token i (from 0) from the component c whose "
      "cumulative weight interval holds (i + 1/2) / n, so that component c "
      "gets about n w_c consecutive tokens (the token order matters under "
      "Model/mask = causal).",
      Bool());
    prm.leave_subsection();
  }



  void
  TokenParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Tokens");
    prm.add_parameter("number of tokens",
                      n_tokens,
                      "n, the number of tokens drawn from mu0; 0 switches the "
                      "token solver off. With type = tokens file, any n > 0 "
                      "takes all the file's tokens.",
                      Integer(0));
    prm.add_parameter("cluster radius",
                      cluster_radius,
                      "Clusters are the connected components of the graph "
                      "that links two tokens closer than this (Euclidean "
                      "distance in R^d: single linkage). > 0.",
                      Double(0));
    prm.add_parameter("minimum cluster fraction",
                      minimum_cluster_fraction,
                      "Only linked groups holding at least this fraction of "
                      "the tokens count as clusters (column clusters_tokens); "
                      "the others (stragglers between clusters) get the VTU "
                      "label clusters_tokens. 0: every group counts.",
                      Double(0, 1));
    prm.leave_subsection();
  }



  void
  TokenParameters::check() const
  {
    require_positive(cluster_radius, "Tokens/cluster radius");
  }



  void
  DensityParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Density");
    prm.add_parameter("enabled",
                      enabled,
                      "Solve the continuity equation d_t rho + div(rho X[rho]) "
                      "= 0 for the density with the finite-element solver "
                      "(discontinuous Galerkin). Needs d <= 3: boxes in R^1, "
                      "R^2, R^3, the circle S^1 (d = 2) and the sphere S^2 "
                      "(d = 3).",
                      Bool());
    prm.add_parameter("degree",
                      degree,
                      "The polynomial degree k of FE_DGQ(k), 0..3 (0: the "
                      "first-order finite-volume scheme).",
                      Integer(0, 3));
    prm.add_parameter("refinements",
                      refinements,
                      "Global refinements of the coarse mesh (the box of "
                      "'subdivisions' cells, or deal.II's hyper_sphere: 4 "
                      "cells on S^1, 6 on S^2).",
                      Integer(0, 12));
    prm.add_parameter("lower corner",
                      lower_corner,
                      "Euclidean geometry: the lower corner of the box "
                      "domain, one number (every coordinate) or d. Mass "
                      "that the field carries out of the box is measured "
                      "and reported (column mass_outflow).",
                      Anything());
    prm.add_parameter("upper corner",
                      upper_corner,
                      "The upper corner of the box domain, as 'lower "
                      "corner'.",
                      Anything());
    prm.add_parameter("subdivisions",
                      subdivisions,
                      "Coarse cells of the box per coordinate, one number or "
                      "d, before the global refinements.",
                      Anything());
    prm.add_parameter("mapping degree",
                      mapping_degree,
                      "Polynomial degree of the mapping of the curved cells "
                      "of S^1 and S^2 (MappingQ).",
                      Integer(1, 6));
    prm.add_parameter("cfl number",
                      cfl_number,
                      "Explicit steps: dt = cfl number * w * h_min / (dim * "
                      "max |X|), with w the Gauss–Lobatto end weight of "
                      "degree k (1/2, 1/2, 1/6, 1/6 for k = 0..3; for k = 0 "
                      "the upwind finite-volume bound of a cell that empties "
                      "through two faces), the bound under which the "
                      "positivity limiter keeps rho >= 0. In (0, 1].",
                      Double(0));
    add_selection(prm,
                  "time integrator",
                  scheme,
                  density_scheme_names,
                  "ssp rk3: explicit strong-stability-preserving "
                  "Runge–Kutta of order 3 (Shu–Osher) with the CFL step "
                  "and the positivity limiter after each stage. backward "
                  "euler / crank nicolson: the implicit theta scheme "
                  "with 'time step', the field frozen per step "
                  "and Picard-iterated, the sparse system solved with "
                  "Trilinos (GMRES and 'preconditioner'): for long, "
                  "slow runs.");
    prm.add_parameter("time step",
                      time_step,
                      "Implicit schemes: the step (intervals between output "
                      "times and layer switches are cut into equal steps no "
                      "longer than this). ssp rk3: the largest step, for "
                      "accuracy where the field is slow (the CFL step may be "
                      "smaller). > 0.",
                      Double(0));
    prm.add_parameter("picard iterations",
                      picard_iterations,
                      "Implicit schemes: the field X[rho] is recomputed from "
                      "the new iterate this many times per step (1: frozen at "
                      "the start of the step, first order in time; "
                      "Crank–Nicolson needs 2 or more for second order).",
                      Integer(1, 50));
    prm.add_parameter("linear solver tolerance",
                      solver_tolerance,
                      "Implicit schemes: the relative residual at which "
                      "GMRES stops. > 0.",
                      Double(0));
    add_selection(prm,
                  "preconditioner",
                  preconditioner,
                  preconditioner_names,
                  "Implicit schemes: Trilinos ILU (Ifpack) or algebraic "
                  "multigrid (ML).");
    prm.add_parameter("positivity limiter",
                      positivity_limiter,
                      "The Zhang–Shu limiter scales rho towards its cell "
                      "mean so that rho >= 0 at every quadrature point, "
                      "keeping the mass (after every stage of ssp rk3; after "
                      "every implicit step, where slightly negative cell "
                      "means, which the implicit schemes allow for k >= 1, "
                      "are set to zero and the mass restored).",
                      Bool());
    prm.add_parameter("adaptive refinement",
                      adaptive_refinement,
                      "Refine where the density concentrates and coarsen "
                      "where it vanishes, every 'adaptation interval' steps "
                      "(indicator: the mean density of each cell against "
                      "the average density mass/|domain|), the solution "
                      "transferred with its mass kept.",
                      Bool());
    prm.add_parameter("max refinement level",
                      max_refinement_level,
                      "Adaptive refinement: the finest level allowed.",
                      Integer(0, 14));
    prm.add_parameter("refine density ratio",
                      refine_ratio,
                      "Adaptive refinement: cells whose mean density exceeds "
                      "this multiple of the average density are refined.",
                      Double(0));
    prm.add_parameter("coarsen density ratio",
                      coarsen_ratio,
                      "Adaptive refinement: cells whose mean density is below "
                      "this multiple of the average density are coarsened "
                      "(not below two levels under 'refinements').",
                      Double(0));
    prm.add_parameter("adaptation interval",
                      adaptation_interval,
                      "Adaptive refinement: time steps between adaptations.",
                      Integer(1));
    prm.add_parameter("kde bandwidth",
                      kde_bandwidth,
                      "Initial condition type = tokens file: the density is "
                      "the kernel density estimate of the tokens, Gaussian "
                      "with this standard deviation h in R^d, von "
                      "Mises–Fisher with concentration 1/h^2 on the sphere. "
                      "0: Scott's rule h = n^(-1/(d+4)) times the tokens' "
                      "standard deviation (per coordinate, averaged).",
                      Double(0));
    prm.leave_subsection();
  }



  void
  DensityParameters::check() const
  {
    require_positive(cfl_number, "Density/cfl number");
    require_positive(time_step, "Density/time step");
    require_positive(solver_tolerance, "Density/linear solver tolerance");
    if (solver_tolerance < 1e-15)
      throw InputError("Density/linear solver tolerance",
                       "must be >= 1e-15 (round-off), got " +
                         as_text(solver_tolerance));
    if (cfl_number > 1.)
      throw InputError("Density/cfl number",
                       "must be in (0, 1], got " + as_text(cfl_number));
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
  TimeParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Time");
    prm.add_parameter("end time",
                      end_time,
                      "The final time T >= 0.",
                      Double(0));
    prm.add_parameter("output interval",
                      output_interval,
                      "Output (VTU, metrics, progress line) at t = 0, this "
                      "interval, twice it, ..., and at the end time, each hit "
                      "exactly. > 0.",
                      Double(0));
    add_selection(prm,
                  "integrator",
                  scheme,
                  time_scheme_names,
                  "The token integrator. dopri5: adaptive Dormand–Prince "
                  "5(4) with the tolerances below (the default: accurate "
                  "to about the tolerance); rk4: classical Runge–Kutta "
                  "with the fixed 'time step'; euler: explicit Euler with "
                  "the fixed 'time step' (what the published Python codes "
                  "use; first order, for comparison only).");
    prm.add_parameter("time step",
                      time_step,
                      "rk4 and euler: the step size (each interval between "
                      "output times and layer switches is cut into equal "
                      "steps no longer than this); dopri5: the first trial "
                      "step. > 0.",
                      Double(0));
    prm.add_parameter("relative tolerance",
                      relative_tolerance,
                      "dopri5: the relative tolerance of the local error.",
                      Double(0));
    prm.add_parameter("absolute tolerance",
                      absolute_tolerance,
                      "dopri5: the absolute tolerance of the local error.",
                      Double(0));
    prm.leave_subsection();
  }



  void
  TimeParameters::check() const
  {
    require_positive(output_interval, "Time/output interval");
    require_positive(time_step, "Time/time step");
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
  OutputParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Output");
    prm.add_parameter("directory",
                      directory,
                      "The run folder: tokens_NNNN.vtu/.csv, tokens.pvd, "
                      "density_NNNN.vtu, density.pvd, metrics.csv and "
                      "parameters.prm go here (created if missing; those "
                      "files of an earlier run in it are removed first).",
                      Anything());
    prm.add_parameter("write vtu",
                      write_vtu,
                      "Write the VTU/PVD files (false: metrics.csv and "
                      "parameters.prm only).",
                      Bool());
    prm.add_parameter("write tokens csv",
                      write_csv,
                      "Also write tokens_NNNN.csv at every output time: one "
                      "token per line, all d coordinates (VTU files show "
                      "only the first three), full double precision; the "
                      "format of Initial condition/tokens file.",
                      Bool());
    prm.add_parameter("checkpoint interval",
                      checkpoint_interval,
                      "Simulated time between checkpoints (0: none). A "
                      "checkpoint, the folder checkpoint/ of the run folder, "
                      "holds everything the run needs to continue: written "
                      "at the first output time at least this long after "
                      "the last one and at the end, whole or not at all. "
                      "`attnflow --resume RUN_FOLDER` continues from it, "
                      "with the results of a run never stopped.",
                      Double(0));
    prm.leave_subsection();
  }



  void
  OutputParameters::check() const
  {
    if (directory.empty())
      throw InputError("Output/directory", "must not be empty");
  }



  void
  ComparisonParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Comparison");
    prm.add_parameter("mmd bandwidth",
                      mmd_bandwidth,
                      "With tokens and density: the bandwidth sigma of the "
                      "Gaussian kernel exp(-|x - y|^2 / (2 sigma^2)) of the "
                      "maximum mean discrepancy (column mmd). > 0.",
                      Double(0));
    prm.add_parameter("sliced directions",
                      sliced_directions,
                      "The number of random directions of the sliced "
                      "Wasserstein distance (column sliced_w2; R^2, R^3, "
                      "S^2).",
                      Integer(1, 100000));
    prm.add_parameter("seed",
                      seed,
                      "Seed of the sliced Wasserstein directions.",
                      Integer(0));
    prm.leave_subsection();
  }



  void
  ComparisonParameters::check() const
  {
    require_positive(mmd_bandwidth, "Comparison/mmd bandwidth");
  }



  void
  FieldParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Field");
    add_selection(prm,
                  "method",
                  method,
                  field_method_names,
                  "How each head's nonlocal sums sum_j w_j exp(beta <Q x, "
                  "K y_j>) (1, V y_j) are computed, for tokens and density "
                  "alike. auto: per head the first of tensor product, sphere "
                  "pruned, circle fourier, sphere harmonics that serves it, "
                  "else direct (the log says which and why the others "
                  "refused); direct: the all-pairs engine; a method's name: "
                  "that method where it serves, else direct. circle fourier: "
                  "S^1, any Q^T K; sphere harmonics: S^2, Q^T K = c R (R "
                  "orthogonal); tensor product: boxes with diagonal Q^T K and "
                  "tensor grids of sources (uniform meshes); sphere pruned: "
                  "the sphere at large beta. Every fast method sums directly "
                  "the targets whose error bound exceeds Field/tolerance.");
    prm.add_parameter("tolerance",
                      tolerance,
                      "The error allowed to a fast method at each target, "
                      "relative to the normaliser sum_j w_j k(x, y_j) (for "
                      "the values: to the normaliser times max |V y|); "
                      "targets whose bound exceeds it are summed directly. "
                      "A number in (0, 1).",
                      Double(0, 1));
    prm.leave_subsection();
  }



  void
  FieldParameters::check() const
  {
    require_positive(tolerance, "Field/tolerance");
  }



  void
  ParallelParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Parallel");
    prm.add_parameter("number of threads",
                      n_threads,
                      "Threads of the kernel engine; 0: every core.",
                      Integer(0));
    prm.leave_subsection();
  }



  void
  ConvergenceParameters::add_parameters(ParameterHandler &prm)
  {
    prm.enter_subsection("Convergence");
    add_selection(prm,
                  "sweep",
                  sweep,
                  sweep_selection(false),
                  "attnflow --convergence only: the parameter swept. "
                  "Rates are measured against 1/h (refinements), 1/dt "
                  "(time step, cfl number) or n (number of tokens); a "
                  "degree sweep gives the reduction factor e_(i-1)/e_i.");
    prm.add_parameter("values",
                      values,
                      "attnflow --convergence only: the values of the swept "
                      "parameter, comma-separated, coarsest first (e.g. 2, 3, "
                      "4, 5); at least two.",
                      Anything());
    add_selection(prm,
                  "series",
                  series,
                  sweep_selection(true),
                  "attnflow --convergence only: a second parameter; the "
                  "table gets one error column (and rate) per value, "
                  "e.g. Density/degree for h^(k+1) at k = 1, 2, 3.");
    prm.add_parameter("series values",
                      series_values,
                      "attnflow --convergence only: the values of the series "
                      "parameter, comma-separated.",
                      Anything());
    add_selection(prm,
                  "error",
                  error,
                  convergence_errors,
                  "attnflow --convergence only: the error at the end "
                  "time. density L1: int |rho_h - rho|; density/token "
                  "moments: max |mean - m| and max |covariance - S| "
                  "(entries); token positions: max_i |x_i - x_i^ref|; "
                  "w1, w2, sliced_w2, mmd: the distance between tokens "
                  "and density (the metrics.csv column; no reference).");
    add_selection(prm,
                  "reference",
                  reference,
                  convergence_references,
                  "attnflow --convergence only: measure density L1 and "
                  "token positions against the exact solution (E1: "
                  "beta = 0 in R^d; E2: softmax from one Gaussian in "
                  "R^d) or against the run with the last (finest) value, "
                  "which then gets no row. Moments need exact.");
    prm.add_parameter("number of seeds",
                      n_seeds,
                      "attnflow --convergence only: runs per value, with "
                      "Initial condition/seed and Comparison/seed = seed, "
                      "seed + 1, ...; the table shows the mean error and "
                      "its standard deviation (spread).",
                      Integer(1, 1000));
    prm.add_parameter("reference slopes",
                      reference_slopes,
                      "attnflow --convergence only: the slopes p of the "
                      "reference lines C x^(-p) in the plot, comma-separated, "
                      "or auto (k + 1 for refinements, the order of the time "
                      "scheme for time steps, 1/2 for the number of tokens).",
                      Anything());
    prm.add_parameter("plot",
                      plot,
                      "attnflow --convergence only: draw convergence.png and "
                      "convergence.svg with gnuplot (the script "
                      "convergence.gp is written in any case).",
                      Bool());
    prm.leave_subsection();
  }



  void
  Parameters::add_parameters(ParameterHandler &prm)
  {
    model.add_parameters(prm);
    initial_condition.add_parameters(prm);
    tokens.add_parameters(prm);
    density.add_parameters(prm);
    time.add_parameters(prm);
    output.add_parameters(prm);
    parallel.add_parameters(prm);
    comparison.add_parameters(prm);
    field.add_parameters(prm);
    convergence.add_parameters(prm);
    ensemble.add_parameters(prm);
  }



  void
  Parameters::check() const
  {
    model.check();
    tokens.check();
    density.check();
    time.check();
    output.check();
    comparison.check();
    field.check();
    ensemble.check();
    if (density.enabled && model.mask != AttentionMask::Kind::none)
      throw InputError("Model/mask",
                       "the density solver (Density/enabled = true) cannot "
                       "apply a causal mask: under a mask the tokens are not "
                       "exchangeable and the mean-field limit is a density "
                       "on M x [0, 1], not on M (doc/theory.md section 1.4); "
                       "use mask = none or Density/enabled = false");
    // Each implicit step is a linear solve: refuse what would never end.
    if (density.enabled && density.scheme != DensityScheme::ssp_rk3 &&
        time.end_time / density.time_step > 1e8)
      throw InputError("Density/time step",
                       "Time/end time / time step gives more than 1e8 "
                       "implicit steps");
  }



  Parameters
  read_parameters(const std::string              &file,
                  const std::vector<std::string> &overrides)
  {
    Parameters parameters;
    check_parameter_file(file);
    ParameterHandler prm;
    parameters.add_parameters(prm);
    try
      {
        prm.parse_input(file);
      }
    catch (const dealii::ExceptionBase &e)
      {
        std::stringstream text;
        text << std::ifstream(file).rdbuf();
        throw input_error(e, text.str(), file);
      }
    for (const std::string &assignment : overrides)
      {
        const std::string text = override_as_input(assignment);
        try
          {
            prm.parse_input_from_string(text, "--set");
          }
        catch (const dealii::ExceptionBase &e)
          {
            throw input_error(e, text, "--set \"" + assignment + "\"");
          }
      }
    parameters.check();
    std::ostringstream out;
    prm.print_parameters(out, ParameterHandler::PRM);
    parameters.used_parameter_file = out.str();
    return parameters;
  }
} // namespace attnflow
