/**
 * @file
 * One run of attnflow: parameters -> model -> initial measure -> tokens ->
 * time loop with output (DESIGN.md section 2).
 */
#ifndef attnflow_simulator_h
#define attnflow_simulator_h

#include <attnflow/initial_measure.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/output.h>
#include <attnflow/parameters.h>
#include <attnflow/token_solver.h>

#include <memory>
#include <ostream>

namespace attnflow {
  /**
   * A run: builds everything from the parameters (all input is checked
   * there, before anything is written), then steps the solvers on one time
   * axis, writing VTU/PVD, metrics.csv and a progress line at every output
   * time, and a timing summary at the end.
   */
  class Simulator
  {
  public:
    /** Prepares the run of @p parameters; InputError if they are bad. */
    explicit Simulator(const Parameters &parameters);

    /**
     * Creates the run folder, writes parameters.prm, and runs to the end
     * time, printing progress to @p log.
     */
    void
    run(std::ostream &log);

    /** The metrics of the output times so far. */
    const MetricsTable &
    metrics() const
    {
      return table;
    }

    /** The token solver (null when Tokens/number of tokens = 0). */
    const TokenSolver *
    token_solver() const
    {
      return tokens.get();
    }

  private:
    /** The output times: 0, dt_out, 2 dt_out, ..., and the end time. */
    std::vector<double>
    output_times() const;

    /** Metrics, progress line and files of output number @p index. */
    void
    output(const unsigned int index, std::ostream &log);

    Parameters                   parameters;
    KernelEngine                 engine;
    Model                        model;
    AttentionField               field;
    InitialMeasure               initial_measure;
    std::unique_ptr<TokenSolver> tokens;
    std::unique_ptr<TokenOutput> token_output;
    MetricsTable                 table;
  };
} // namespace attnflow

#endif
