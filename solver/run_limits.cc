#include <attnflow/exceptions.h>
#include <attnflow/run_limits.h>

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace attnflow
{
  namespace
  {
    /** The cells per axis of Density/subdivisions ("4" or "4, 2"), at least 1.
     */
    double
    coarse_box_cells(const std::string &subdivisions, const unsigned int dim)
    {
      std::istringstream in(subdivisions);
      std::string        item;
      double             cells = 1., last = 1.;
      unsigned int       n = 0;
      while (std::getline(in, item, ','))
        {
          char        *end   = nullptr;
          const double value = std::strtod(item.c_str(), &end);
          last               = std::isfinite(value) && value >= 1. ? value : 1.;
          cells *= last;
          ++n;
        }
      // One number is used for every axis.
      return n == 1 ? std::pow(last, dim) : cells;
    }

    /** The output times 0, dt_out, 2 dt_out, ..., and the end time. */
    double
    n_output_times(const TimeParameters &time)
    {
      if (!(time.output_interval > 0.) || !(time.end_time > 0.))
        return 1.;
      return std::ceil(time.end_time / time.output_interval * (1. - 1e-12)) +
             1.;
    }
  } // namespace



  RunSize
  estimate_run_size(const Parameters &parameters)
  {
    RunSize            size;
    const unsigned int d     = parameters.model.dimension;
    const double       heads = parameters.model.n_heads;
    const std::string &file  = parameters.initial_condition.tokens_file;
    std::error_code    error;
    // Q, K, V and the products the field uses, per head and layer.
    size.weights =
      5. * 8. * d * double(d) * heads *
      std::max<std::size_t>(1, parameters.model.layer_durations.size());
    size.n_tokens = parameters.tokens.n_tokens;
    if (parameters.initial_condition.type == InitialMeasureType::tokens_file &&
        std::filesystem::is_regular_file(file, error))
      // At least "x," per coordinate; attnflow writes about 24 characters.
      size.n_tokens = std::filesystem::file_size(file, error) / (8. * d);
    // Coordinates, velocity, the integrator's stages and error estimate,
    // the engine's transformed points of every head; weights, labels.
    size.tokens = size.n_tokens * (8. * d * (14. + 2. * heads) + 64.);

    if (parameters.density.enabled)
      {
        const DensityParameters &p = parameters.density;
        const bool   sphere = parameters.model.geometry == Geometry::sphere;
        const double dim = sphere ? d - 1. : d, spacedim = d;
        const double coarse =
          sphere ? (d == 2 ? 4. : 6.) : coarse_box_cells(p.subdivisions, d);
        size.n_cells               = coarse * std::pow(2., dim * p.refinements);
        const double k             = p.degree;
        const double dofs_per_cell = std::pow(k + 1., dim);
        const double q_per_cell    = std::pow(k + 2., dim);
        const double q_per_face    = std::pow(k + 2., dim - 1.);
        const double output_points =
          std::pow(std::max(k, sphere ? double(p.mapping_degree) : 1.) + 1.,
                   dim);
        double per_cell =
          8. * dofs_per_cell * 12.                 // DoF vectors
          + 8. * dofs_per_cell * dofs_per_cell     // inverse mass matrix
          + 8. * q_per_cell * (2. * spacedim + 2.) // field, quadrature measure
          + 16. * 2. * dim * q_per_face * spacedim // field on both face sides
          + 8. * output_points * (3. * spacedim + 2) // VTU patches
          + 1500.; // mesh, DoF handler, mapping
        if (p.scheme != DensityScheme::ssp_rk3)
          // The upwind matrix and its preconditioner (Trilinos, 12 B/entry).
          per_cell += 24. * dofs_per_cell * dofs_per_cell * (1. + 2. * dim);
        size.n_dofs  = size.n_cells * dofs_per_cell;
        size.density = size.n_cells * per_cell;
      }
    size.n_outputs = n_output_times(parameters.time);
    // A time, one table row of about 40 numbers, the .pvd entries.
    size.metrics = size.n_outputs * (8. + 40. * 8. + 3. * 48.);
    size.program = 150e6; // deal.II, Trilinos, MPI
    return size;
  }



  double
  available_memory()
  {
    std::ifstream meminfo("/proc/meminfo");
    std::string   key, unit;
    double        value;
    while (meminfo >> key >> value >> unit)
      if (key == "MemAvailable:")
        return value * 1024.;
    return 0.;
  }



  unsigned int
  max_threads()
  {
    return std::max<std::size_t>(
      1,
      tbb::global_control::active_value(
        tbb::global_control::max_allowed_parallelism));
  }



  std::string
  format_bytes(const double bytes)
  {
    char text[32];
    if (bytes < 1e9)
      std::snprintf(text, sizeof(text), "%.0f MB", std::ceil(bytes / 1e6));
    else if (bytes < 1e15)
      std::snprintf(text, sizeof(text), "%.1f GB", bytes / 1e9);
    else
      std::snprintf(text, sizeof(text), "%.1e GB", bytes / 1e9);
    return text;
  }



  void
  check_run_limits(const Parameters &parameters, const RunSize &size)
  {
    const unsigned int threads = parameters.parallel.n_threads;
    if (threads > max_threads())
      throw InputError("Parallel/number of threads",
                       "is " + std::to_string(threads) +
                         ", but this machine "
                         "runs at most " +
                         std::to_string(max_threads()) +
                         " threads (the hardware threads TBB may use here); "
                         "give 0 (all of them) or 1 .. " +
                         std::to_string(max_threads()));

    const double available = available_memory();
    if (available <= 0. || size.total() <= available)
      return;
    std::string  parameter, advice;
    char         fit[64];
    const double rest = available - size.program;
    if (size.weights >= size.tokens && size.weights >= size.density &&
        size.weights >= size.metrics)
      {
        parameter = "Model/dimension";
        advice    = " (the weight matrices of every head and layer are d x d)";
      }
    else if (size.tokens >= size.density && size.tokens >= size.metrics)
      {
        const double per_token = size.tokens / std::max(size.n_tokens, 1.);
        std::snprintf(fit,
                      sizeof(fit),
                      "%.3g",
                      std::max(0., rest - size.density - size.metrics) /
                        per_token);
        parameter =
          parameters.initial_condition.type == InitialMeasureType::tokens_file ?
            "Initial condition/tokens file" :
            "Tokens/number of tokens";
        advice = "; fewer tokens (about " + std::string(fit) +
                 " fit) or a machine with more memory";
      }
    else if (size.density >= size.metrics)
      {
        parameter = "Density/refinements";
        // 2^(mesh dimension) children per cell; the dimension is not yet
        // checked against the density's (1..3) here, so no integer shift.
        const unsigned int mesh_dimension =
          parameters.model.geometry == Geometry::sphere ?
            parameters.model.dimension - 1 :
            parameters.model.dimension;
        std::snprintf(fit, sizeof(fit), "%.3g", std::ldexp(1., mesh_dimension));
        advice = "; fewer refinements (each one less divides the cells by " +
                 std::string(fit) + "), a lower Density/degree, or more memory";
      }
    else
      {
        parameter = "Time/output interval";
        std::snprintf(fit, sizeof(fit), "%.3g", size.n_outputs);
        advice =
          ": " + std::string(fit) + " output times; a longer output interval";
      }
    throw InputError(parameter,
                     "the run would need about " + format_bytes(size.total()) +
                       " of memory (weights " + format_bytes(size.weights) +
                       ", tokens " + format_bytes(size.tokens) + ", density " +
                       format_bytes(size.density) + ", metrics " +
                       format_bytes(size.metrics) + ", program " +
                       format_bytes(size.program) + "), but this machine has " +
                       format_bytes(available) +
                       " available (MemAvailable in /proc/meminfo)" + advice);
  }



  std::string
  describe_setup(const Parameters &parameters, const RunSize &size)
  {
    const ModelParameters &m = parameters.model;
    std::ostringstream     line;
    line << "attnflow: setting up "
         << (m.geometry == Geometry::sphere ? "S^" : "R^")
         << (m.geometry == Geometry::sphere ? m.dimension - 1 : m.dimension);
    if (parameters.tokens.n_tokens > 0 ||
        parameters.initial_condition.type == InitialMeasureType::tokens_file)
      {
        const char *schemes[] = {"euler", "rk4", "dopri5"};
        line << ": "
             << (parameters.initial_condition.type ==
                     InitialMeasureType::tokens_file ?
                   "the tokens of " + parameters.initial_condition.tokens_file :
                   std::to_string(parameters.tokens.n_tokens) + " tokens")
             << " (" << schemes[static_cast<int>(parameters.time.scheme)]
             << ")";
      }
    if (parameters.density.enabled)
      {
        const char *schemes[] = {"ssp rk3", "backward euler", "crank nicolson"};
        line << "; density FE_DGQ(" << parameters.density.degree << "), "
             << size.n_cells << " cells, " << size.n_dofs << " DoFs ("
             << schemes[static_cast<int>(parameters.density.scheme)]
             << (parameters.density.adaptive_refinement ? ", adaptive" : "")
             << ")";
      }
    line << "\n          " << size.n_outputs << " output times, "
         << (parameters.parallel.n_threads ? parameters.parallel.n_threads :
                                             max_threads())
         << " threads, memory about " << format_bytes(size.total());
    if (available_memory() > 0.)
      line << " of " << format_bytes(available_memory()) << " available";
    return line.str();
  }
} // namespace attnflow
