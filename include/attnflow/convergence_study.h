/**
 * @file
 * Convergence studies: `attnflow --convergence STUDY.prm` (doc/theory.md
 * sections 5.5 and 7). A ConvergencePlan says what runs with which
 * parameters and is checked before anything runs; the ConvergenceRunner
 * runs and measures, giving ConvergenceResults; the ConvergenceReport writes
 * them; the ConvergenceStudy does the three in its output folder.
 */
#ifndef attnflow_convergence_study_h
#define attnflow_convergence_study_h

#include <attnflow/convergence_sweep.h>
#include <attnflow/output_folder.h>
#include <attnflow/parameters.h>
#include <attnflow/simulator.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <mpi.h>

namespace attnflow
{
  /**
   * What a convergence study runs: the run of a parameter file repeated for
   * every value of the swept parameter (section "Convergence"), optionally
   * for every value of a second, "series" parameter and for several seeds,
   * each run in the folder Output/directory/runs/LABEL. The constructor
   * checks section "Convergence" and every run's parameters (InputError
   * naming the entry otherwise) before anything runs.
   */
  class ConvergencePlan
  {
  public:
    /** The plan of @p file with the --set @p overrides. */
    ConvergencePlan(const std::string              &file,
                    const std::vector<std::string> &overrides);

    /** The parameters of the study file (with its section "Convergence"). */
    const Parameters &
    get_parameters() const
    {
      return parameters;
    }

    /** Section "Convergence". */
    const ConvergenceParameters &
    settings() const
    {
      return parameters.convergence;
    }

    /** The swept parameter. */
    const Sweep &
    sweep() const
    {
      return *parameters.convergence.sweep;
    }

    /** The folder of the study (Output/directory). */
    const std::filesystem::path &
    directory() const
    {
      return study_directory;
    }

    /** The number of values swept. */
    unsigned int
    n_values() const
    {
      return values.size();
    }

    /** The number of series (1 without a series parameter). */
    unsigned int
    n_series() const
    {
      return series_values.size();
    }

    /** The number of values with an error (the finest run has none). */
    unsigned int
    n_rows() const;

    /** The study's parameter file. */
    const std::string &
    study_file() const
    {
      return file;
    }

    /** Value @p v of the swept parameter, as written. */
    const std::string &
    value(const unsigned int v) const
    {
      return values[v];
    }

    /**
     * Whether the error is a distance between tokens and density (w1, w2,
     * sliced_w2, mmd): measured in each run alone, against no reference.
     */
    bool
    measures_distance() const;

    /** Whether the error is measured against @p reference. */
    bool
    against(const ConvergenceReference reference) const;

    /** The parameters of the run of series @p s, value @p v and @p seed. */
    Parameters
    run_parameters(const unsigned int s,
                   const unsigned int v,
                   const unsigned int seed) const;

    /** The folder name of that run, e.g. refinements_4_k_1. */
    std::string
    label(const unsigned int s,
          const unsigned int v,
          const unsigned int seed) const;

    /** The folder of that run: runs/LABEL in the study's folder. */
    std::filesystem::path
    run_directory(const unsigned int s,
                  const unsigned int v,
                  const unsigned int seed) const;

    /** The name of the error column of series @p s, e.g. "L1 k=1". */
    std::string
    error_name(const unsigned int s) const;

    /** The slope of the reference line of series @p s (NaN: none). */
    double
    reference_slope(const unsigned int s) const
    {
      return reference_slopes[s];
    }

    /**
     * One line on @p log: what is swept, the error, the reference, where
     * the runs go.
     */
    void
    describe(std::ostream &log) const;

  private:
    /**
     * Reads Convergence/values and series values: numbers, coarsest first,
     * strictly ordered, series values distinct; InputError otherwise.
     */
    void
    check_values();

    /**
     * InputError unless @p run suits the study: the solvers the error
     * needs, swept parameters that change the error and whose requirements
     * the run meets, a distance measured in the run's geometry, an exact
     * solution where one is asked for.
     */
    void
    check_run(const Parameters &run) const;

    /**
     * The slopes of the reference lines, one per series: Convergence/
     * reference slopes, or by the sweep's rule; InputError if given badly.
     */
    std::vector<double>
    slopes_of_reference_lines() const;

    /** One run's overrides: the swept and series values and the seed. */
    std::vector<std::string>
    overrides_of(const unsigned int s,
                 const unsigned int v,
                 const unsigned int seed) const;

    std::string              file;
    std::vector<std::string> base_overrides;
    Parameters               parameters;
    std::filesystem::path    study_directory;
    std::vector<std::string> values, series_values;
    std::vector<double>      reference_slopes;
  };



  /**
   * The abscissae and errors of a study's runs, and the rates they give:
   * orders p with error ~ x^(-p), or reduction factors e_(i-1) / e_i for a
   * degree sweep.
   */
  class ConvergenceResults
  {
  public:
    /**
     * No errors yet for @p n_series series of @p n_rows values, whose rate
     * is @p rate.
     */
    ConvergenceResults(const unsigned int n_series,
                       const unsigned int n_rows,
                       const Sweep::Rate  rate);

    /** Records the @p error of one seed of series @p s, value @p v. */
    void
    add_error(const unsigned int s, const unsigned int v, const double error);

    /** Sets the abscissa x of series @p s, value @p v. */
    void
    set_abscissa(const unsigned int s,
                 const unsigned int v,
                 const double       abscissa);

    /** The abscissa x of series @p s at value @p v. */
    double
    abscissa(const unsigned int s, const unsigned int v) const
    {
      return abscissae[s][v];
    }

    /** The number of values with an error. */
    unsigned int
    n_rows() const
    {
      return errors[0].size();
    }

    /** The mean error over the seeds of series @p s at value @p v. */
    double
    mean_error(const unsigned int s, const unsigned int v) const;

    /** The sample standard deviation of those errors (0 for one seed). */
    double
    standard_deviation(const unsigned int s, const unsigned int v) const;

    /**
     * The observed rate of series @p s between values @p v - 1 and @p v:
     * log(e_(v-1) / e_v) / log(x_v / x_(v-1)), or the reduction factor
     * e_(v-1) / e_v.
     */
    double
    rate(const unsigned int s, const unsigned int v) const;

    /**
     * The order p of the least-squares fit error ~ C x^(-p) over all rows
     * of series @p s (for noisy studies over seeds).
     */
    double
    fitted_order(const unsigned int s) const;

  private:
    Sweep::Rate kind;
    /** abscissae[s][v] */
    std::vector<std::vector<double>> abscissae;
    /** errors[s][v][seed] */
    std::vector<std::vector<std::vector<double>>> errors;
  };



  /**
   * Runs every run of a plan (a Simulator each, in its run folder:
   * metrics.csv, parameters.prm, log.txt; no VTU) and measures at the end
   * time its error, against the exact solution (E1, E2) or the run with the
   * finest value, or as the distance between tokens and density, and its
   * abscissa: 1/h, 1/dt, n, k.
   */
  class ConvergenceRunner
  {
  public:
    /**
     * The runner of @p plan, its run folders claimed in @p folder (rank 0's;
     * null on the other ranks), each run on the ranks of @p communicator.
     */
    ConvergenceRunner(const ConvergencePlan &plan,
                      OutputFolder          *folder,
                      const MPI_Comm         communicator = MPI_COMM_SELF);

    /** Does every run, printing one line each to @p log. */
    ConvergenceResults
    run(std::ostream &log);

  private:
    /** Runs value @p v of series @p s with @p seed; one line to @p log. */
    std::unique_ptr<Simulator>
    run_one(const unsigned int s,
            const unsigned int v,
            const unsigned int seed,
            std::ostream      &log) const;

    /** The error of @p run, against @p finest when the reference is it. */
    double
    error_of(const Simulator &run, const Simulator *finest) const;

    /** The abscissa of @p run, value @p v: 1/h, 1/dt, n or k. */
    double
    abscissa_of(const Simulator &run, const unsigned int v) const;

    /**
     * With an exact reference: InputError if the box of @p run (the finest
     * of a series) misses more than 1e-3 of the mass of mu(t) (cut off at
     * t = 0, or lost through the boundary), a warning on @p log (once) if
     * more than 1e-12 or if the box cuts off more than 1e-12 of the tilted
     * measures the field averages (tilted_mass_outside()).
     */
    void
    check_captured_mass(const Simulator &run, std::ostream &log);

    /**
     * The larger of ExactSolution::tilted_mass_outside() at t = 0 and at the
     * end time for the box of @p run: what the box cuts off of the measures
     * the field averages.
     */
    static double
    tilted_mass_outside(const Simulator &run);

    const ConvergencePlan &plan;
    OutputFolder *const    folder;
    /** The ranks of each run. */
    const MPI_Comm communicator;
    /** Whether the warning of check_captured_mass() was given. */
    bool warned_about_the_box = false;
  };



  /**
   * The files of a finished study in its folder: deal.II ConvergenceTable
   * output with the observed rates (convergence.txt, .tex), the same as
   * convergence.csv, and a log-log plot with reference slopes
   * (convergence.gp, .dat, with gnuplot .png, .svg).
   */
  class ConvergenceReport
  {
  public:
    /** The report of @p results of @p plan, written into @p folder. */
    ConvergenceReport(const ConvergencePlan    &plan,
                      const ConvergenceResults &results,
                      OutputFolder             &folder);

    /** convergence.txt, .tex and .csv, and the table on @p log. */
    void
    write_tables(std::ostream &log) const;

    /**
     * convergence.dat, .gp, and with Convergence/plot .png and .svg;
     * whether the plot was drawn (a warning on @p log if gnuplot failed).
     */
    bool
    write_plot(std::ostream &log) const;

  private:
    const ConvergencePlan    &plan;
    const ConvergenceResults &results;
    OutputFolder             &folder;
  };



  /**
   * A convergence study in its folder Output/directory: the plan, checked
   * at construction; run() clears what an earlier study left, runs, and
   * writes the report.
   */
  class ConvergenceStudy
  {
  public:
    /**
     * The study of @p file with the --set @p overrides, each run on the
     * ranks of @p communicator (`mpirun -np P attnflow --convergence`; rank
     * 0 writes the study's folder); InputError naming the entry if the plan
     * is bad, before anything runs.
     */
    ConvergenceStudy(const std::string              &file,
                     const std::vector<std::string> &overrides,
                     const MPI_Comm communicator = MPI_COMM_SELF);

    /**
     * Does every run, printing one line each to @p log, then writes the
     * table (also to @p log), the CSV and the plot.
     */
    void
    run(std::ostream &log);

    /** The first line of run() (alone for a dry run). */
    void
    describe(std::ostream &log) const;

    /** The mean error of series @p s at value @p v, after run() (for tests). */
    double
    mean_error(const unsigned int s, const unsigned int v) const;

    /** The rate of series @p s at value @p v, after run() (for tests). */
    double
    rate(const unsigned int s, const unsigned int v) const;

    /** The least-squares order of series @p s, after run() (for tests). */
    double
    fitted_order(const unsigned int s) const;

    /** The number of values with an error (for tests). */
    unsigned int
    n_rows() const;

  private:
    ConvergencePlan plan;
    /** The ranks of each run. */
    const MPI_Comm communicator;
    /** The study's folder (rank 0's): what it writes, in its manifest. */
    std::unique_ptr<OutputFolder>       folder;
    std::unique_ptr<ConvergenceResults> results;
  };
} // namespace attnflow

#endif
