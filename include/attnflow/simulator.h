/**
 * @file
 * One run of attnflow: parameters -> model -> initial measure -> tokens ->
 * time loop with output (doc/theory.md section 2).
 */
#ifndef attnflow_simulator_h
#define attnflow_simulator_h

#include <attnflow/checkpoint.h>
#include <attnflow/continuity_solver.h>
#include <attnflow/field_method_choice.h>
#include <attnflow/initial_measure.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/output.h>
#include <attnflow/output_folder.h>
#include <attnflow/parameters.h>
#include <attnflow/progress.h>
#include <attnflow/token_solver.h>

#include <deal.II/base/timer.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>

#include <mpi.h>

namespace attnflow
{
  /**
   * A run: builds everything from the parameters (all input is checked
   * there, before anything is written: the values, the limits of the
   * machine, and that the run folder may be written, see OutputFolder), then
   * steps the solvers on one time axis, writing VTU/PVD, metrics.csv, a
   * progress line and a line of log.txt at every output time, and a timing
   * summary at the end.
   */
  class Simulator
  {
  public:
    /**
     * Prepares the run of @p parameters, read from @p parameter_file (an
     * input of the run, never overwritten; "" if none); InputError if they
     * are bad, the machine cannot run them, or Output/directory may not be
     * written.
     *
     * Under MPI every rank of @p communicator builds the same Simulator:
     * the tokens and the density are held by every rank, each rank computes
     * the field at its block of the targets and the blocks are all-gathered
     * (AttentionField), so every rank takes the same steps; rank 0 alone
     * writes the run folder and the screen (doc/theory.md, section 10).
     */
    explicit Simulator(const Parameters  &parameters,
                       const std::string &parameter_file = "",
                       const MPI_Comm     communicator   = MPI_COMM_SELF);

    /**
     * Everything the constructor checks short of building the solvers: the
     * limits of the machine (threads, memory), that the run folder may be
     * written, the model and the initial measure (`attnflow --check`).
     * InputError if anything is wrong; nothing is written. The limits and
     * the folder are checked by rank 0 of @p communicator, and its error is
     * thrown on every rank.
     */
    static void
    check(const Parameters  &parameters,
          const std::string &parameter_file = "",
          const MPI_Comm     communicator   = MPI_COMM_SELF);

    /**
     * Claims the run folder (replacing an earlier run there, see
     * OutputFolder), writes parameters.prm, and runs to the end time,
     * printing progress lines (at most 100 columns) to @p log and the full
     * detail to log.txt in the folder.
     */
    void
    run(std::ostream &log);

    /**
     * Continues the run in the folder Output/directory from its checkpoint
     * @p checkpoint (CheckpointFolder::find()) to the end time, with the
     * results of a run never stopped (doc/theory.md section 11); the
     * folder's files are kept and the lines appended to its log.txt.
     * InputError if the checkpoint is not one of these parameters.
     */
    void
    resume(std::ostream &log, const std::filesystem::path &checkpoint);

    /**
     * Plots the metrics of the finished run against t into metrics.png and
     * metrics.svg of the run folder (gnuplot; a note on @p log if it is
     * missing).
     */
    void
    plot_metrics(std::ostream &log);

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
     * What the output needs once the folder is open: the token files, the
     * checkpoints, the header lines on @p log and log.txt, the progress.
     */
    void
    start_output(std::ostream &log);

    /**
     * Advances to every output time from number @p first_index on, with
     * the output and the checkpoints there; then the final comparison and
     * the timing summary on @p log.
     */
    void
    advance_and_output(const unsigned int first_index, std::ostream &log);

    /**
     * After output @p index of @p times: a checkpoint if one is due (its
     * interval passed, the end, or a signal), and the stop on a signal
     * (Interrupted, with where the run stopped and how to resume).
     */
    void
    checkpoint_or_stop(const unsigned int         index,
                       const std::vector<double> &times,
                       std::ostream              &log);

    /**
     * Stops the run on @p signal (Interrupted), saying where (@p at) and how
     * to resume, on @p log and in log.txt.
     */
    [[noreturn]] void
    stop(const int signal, const std::string &at, std::ostream &log);

    /**
     * Writes the checkpoint after output @p index of @p n_outputs at time
     * @p t: run.state (the tokens, their integrator, the metrics rows, the
     * PVD record, the progress) and the density's files; a line in log.txt
     * (through print(@p log)).
     */
    void
    write_checkpoint(const unsigned int index,
                     const unsigned int n_outputs,
                     const double       t,
                     std::ostream      &log);

    /**
     * Restores the state of @p checkpoint; returns the number of the next
     * output.
     */
    unsigned int
    load_checkpoint(const std::filesystem::path &checkpoint);

    /**
     * Claims the run folder and opens log.txt and parameters.prm (rank 0
     * only).
     */
    void
    open_folder();

    /**
     * Writes @p text to the screen @p log (if @p on_screen) and log.txt, on
     * rank 0; its failure is thrown on every rank.
     */
    void
    print(std::ostream &log, const std::string &text, const bool on_screen);

    /**
     * The final comparison of a run with both solvers: the last output's
     * energy, order parameter, covariance trace and clusters of tokens and
     * density side by side, and their distances.
     */
    void
    print_final_comparison(std::ostream &log);

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

    /**
     * Metrics, files and the lines of output number @p index: a progress
     * line on @p log, the full detail in log.txt.
     */
    void
    output(const unsigned int index, std::ostream &log);

    /** The token metrics and files of output @p index; log.txt text. */
    std::string
    output_tokens(const unsigned int index);

    /** The density metrics and files of output @p index; log.txt text. */
    std::string
    output_density(const unsigned int index);

    /**
     * The distance @p distance between the density and the tokens
     * (doc/theory.md section 5), as measured_distances() lists it.
     */
    double
    distance_between(const Distance        distance,
                     const WeightedPoints &density_measure,
                     const WeightedPoints &token_measure) const;

    /**
     * The distances between density and tokens (doc/theory.md section 5): exact
     * W1 and W2 in 1-D, exact W1 on S^1, sliced W2 otherwise, and the MMD;
     * log.txt text.
     */
    std::string
    output_comparison();

    /**
     * One line per head of each solver's field: the method that summed it,
     * the targets its guard handed to the direct sum, what was refused.
     */
    void
    print_field_methods(std::ostream &log) const;

    Parameters  parameters;
    std::string parameter_file;
    /** The ranks of the run; rank 0 writes the folder and the screen. */
    MPI_Comm communicator;
    /** The parameter file is the folder's parameters.prm, unchanged. */
    bool                            keeps_parameter_file = false;
    KernelEngine                    engine;
    Model                           model;
    AttentionField                  field;
    FieldMethodChoice               mmd_methods; /**< the MMD's fast methods */
    InitialMeasure                  initial_measure;
    std::ostringstream              timing_summary; /**< what timer prints */
    dealii::TimerOutput             timer; /**< held by the solvers below */
    std::unique_ptr<TokenSolver>    tokens;
    std::unique_ptr<DensitySolver>  density;
    std::unique_ptr<TokenOutput>    token_output;
    MetricsTable                    table;
    std::set<std::string>           reported_overflows;
    std::unique_ptr<OutputFolder>   folder;
    std::ofstream                   log_file;
    std::unique_ptr<ProgressReport> progress;
    /** The values of the progress line being assembled. */
    ProgressReport::Values progress_values;
    /** The distance on the progress line (w1 or sliced_w2; "" if none). */
    std::string distance_column;
    /** The checkpoints (null when Output/checkpoint interval = 0). */
    std::unique_ptr<CheckpointFolder> checkpoints;
    /** The time of the last checkpoint (0 before the first). */
    double last_checkpoint_time = 0.;
  };
} // namespace attnflow

#endif
