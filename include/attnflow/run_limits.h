/**
 * @file
 * What a run will need, checked before any work starts: the threads the
 * machine and TBB allow, and an estimate of the memory of the tokens, the
 * density and the metrics against the memory the machine has available.
 */
#ifndef attnflow_run_limits_h
#define attnflow_run_limits_h

#include <attnflow/parameters.h>

#include <cstddef>
#include <string>

namespace attnflow
{
  /**
   * The size of a run, from its parameters alone (nothing is built): the
   * counts, and the memory of each part in bytes (an estimate from the
   * arrays each solver keeps: coordinates, stages of the integrator, the
   * engine's transformed points; DoF vectors, inverse mass matrices, the
   * field at every quadrature point, the mesh; one table row and one time
   * per output).
   */
  struct RunSize
  {
    /** The tokens (for a tokens file an estimate from its size). */
    double n_tokens = 0.;
    /** Cells and DoFs of the density's initial mesh (0 without density). */
    double n_cells = 0., n_dofs = 0.;
    /** Output times. */
    double n_outputs = 0.;
    /**
     * Bytes of the weights (Q, K, V of every head and layer), the tokens,
     * the density, the metrics and the program.
     */
    double weights = 0., tokens = 0., density = 0., metrics = 0., program = 0.;

    /** All bytes. */
    double
    total() const
    {
      return weights + tokens + density + metrics + program;
    }
  };

  /** The size of the run of @p parameters (see RunSize). */
  RunSize
  estimate_run_size(const Parameters &parameters);

  /**
   * The memory available to a new program in bytes (MemAvailable of
   * /proc/meminfo), or 0 where unknown.
   */
  double
  available_memory();

  /**
   * The most threads a run can use: TBB's limit of parallelism, which is the
   * hardware threads available to this process.
   */
  unsigned int
  max_threads();

  /**
   * InputError if Parallel/number of threads exceeds max_threads(), or if
   * @p size needs more memory than available_memory(): the message gives
   * the estimate by part and the parameter to change.
   */
  void
  check_run_limits(const Parameters &parameters, const RunSize &size);

  /**
   * One line saying what a run of @p parameters sets up: geometry, tokens
   * and their integrator, the density's element, cells, DoFs and scheme,
   * output times, threads and the memory estimate.
   */
  std::string
  describe_setup(const Parameters &parameters, const RunSize &size);

  /** @p bytes as "12 MB", "3.4 GB". */
  std::string
  format_bytes(const double bytes);
} // namespace attnflow

#endif
