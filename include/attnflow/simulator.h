/**
 * @file
 * One run of attnflow: parameters -> model -> initial measure -> tokens ->
 * time loop with output (DESIGN.md section 2).
 */
#ifndef attnflow_simulator_h
#define attnflow_simulator_h

#include <attnflow/continuity_solver.h>
#include <attnflow/initial_measure.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/output.h>
#include <attnflow/parameters.h>
#include <attnflow/token_solver.h>

#include <deal.II/base/timer.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>

namespace attnflow
{
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

    /** The parameters of the run. */
    const Parameters &
    get_parameters() const
    {
      return parameters;
    }

    /** The model of the run. */
    const Model &
    get_model() const
    {
      return model;
    }

    /** The initial measure mu0 of the run (tokens and density). */
    const InitialMeasure &
    get_initial_measure() const
    {
      return initial_measure;
    }

    /** The metrics of the output times so far. */
    const MetricsTable &
    metrics() const
    {
      return table;
    }

    /** The density solver (null when Density/enabled = false). */
    const DensitySolver *
    density_solver() const
    {
      return density.get();
    }

    /** The token solver (null when Tokens/number of tokens = 0). */
    const TokenSolver *
    token_solver() const
    {
      return tokens.get();
    }

  private:
    /**
     * Removes the series files (tokens_*, density_*, the .pvd records,
     * metrics.csv) that an earlier run left in @p directory.
     */
    static void
    remove_earlier_output(const std::filesystem::path &directory);

    /**
     * The final comparison of a run with both solvers: the last output's
     * energy, order parameter, covariance trace and clusters of tokens and
     * density side by side, and their distances.
     */
    void
    print_final_comparison(std::ostream &log) const;

    /**
     * Warns once per @p column (on stderr) when its @p value at time @p t
     * is not finite: an energy beyond the double range.
     */
    void
    report_overflow(const std::string &column,
                    const double       value,
                    const double       t);

    /** The output times: 0, dt_out, 2 dt_out, ..., and the end time. */
    std::vector<double>
    output_times() const;

    /** Metrics, progress line and files of output number @p index. */
    void
    output(const unsigned int index, std::ostream &log);

    /** The token metrics and files of output @p index; progress text. */
    std::string
    output_tokens(const unsigned int index);

    /** The density metrics and files of output @p index; progress text. */
    std::string
    output_density(const unsigned int index);

    /**
     * The distances between density and tokens (DESIGN.md section 4): exact
     * W1 and W2 in 1-D, exact W1 on S^1, sliced W2 otherwise, and the MMD;
     * progress text.
     */
    std::string
    output_comparison();

    Parameters                     parameters;
    KernelEngine                   engine;
    Model                          model;
    AttentionField                 field;
    InitialMeasure                 initial_measure;
    std::ostringstream             timing_summary; /**< what timer prints */
    dealii::TimerOutput            timer; /**< held by the solvers below */
    std::unique_ptr<TokenSolver>   tokens;
    std::unique_ptr<DensitySolver> density;
    std::unique_ptr<TokenOutput>   token_output;
    MetricsTable                   table;
    std::set<std::string>          reported_overflows;
  };
} // namespace attnflow

#endif
