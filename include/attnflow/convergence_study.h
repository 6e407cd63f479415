/**
 * @file
 * Convergence studies: `attnflow --convergence STUDY.prm` (DESIGN.md
 * section 3, expected rates).
 */
#ifndef attnflow_convergence_study_h
#define attnflow_convergence_study_h

#include <attnflow/parameters.h>
#include <attnflow/simulator.h>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * A convergence study: the run of a parameter file repeated for every
   * value of one swept parameter (section "Convergence"), optionally for
   * every value of a second, "series" parameter and for several seeds. Each
   * run is a Simulator run in the folder Output/directory/runs/LABEL
   * (metrics.csv, parameters.prm, log.txt; no VTU). At the end time an
   * error is measured, against the exact solution (E1, E2) or the run with
   * the finest value, or as the distance between tokens and density. The
   * study folder gets deal.II ConvergenceTable output with the observed
   * rates (convergence.txt, .tex), the same as convergence.csv, and a
   * log-log plot with reference slopes (convergence.gp, .dat, .png, .svg;
   * gnuplot).
   *
   * Rates are orders p with error ~ x^(-p) against x = 1/h (refinements),
   * 1/dt (time step, cfl number) or n (number of tokens): ~ k + 1, the
   * order of the time scheme, 1/2. A degree sweep gives the reduction
   * factor e_(i-1) / e_i instead.
   */
  class ConvergenceStudy
  {
  public:
    /**
     * The study of @p file with the --set @p overrides: checks section
     * "Convergence" and one run's parameters (InputError naming the entry
     * otherwise) before anything runs.
     */
    ConvergenceStudy(const std::string              &file,
                     const std::vector<std::string> &overrides);

    /**
     * Does every run, printing one line each to @p log, then writes the
     * table (also to @p log), the CSV and the plot.
     */
    void
    run(std::ostream &log);

    /**
     * One line on @p log: what is swept, the error, the reference, where
     * the runs go (the first line of run(); alone for a dry run).
     */
    void
    describe(std::ostream &log) const;

    /** The mean error of series @p s at value @p v (after run()). */
    double
    mean_error(const unsigned int s, const unsigned int v) const;

    /**
     * The observed rate of series @p s between values @p v - 1 and @p v
     * (the reduction factor for a degree sweep).
     */
    double
    rate(const unsigned int s, const unsigned int v) const;

    /**
     * The order p of the least-squares fit error ~ C x^(-p) over all rows
     * of series @p s (for noisy studies over seeds).
     */
    double
    fitted_order(const unsigned int s) const;

    /** The number of values with an error (the finest run has none). */
    unsigned int
    n_rows() const;

  private:
    /**
     * Reads Convergence/values and series values: numbers, coarsest first,
     * strictly ordered, series values distinct; InputError otherwise.
     */
    void
    check_values();

    /**
     * InputError unless @p run suits the study: the solvers the error
     * needs, a sweep that can change the error, a metric measured in the
     * run's geometry, an exact solution where one is asked for.
     */
    void
    check_run(const Parameters &run) const;

    /** One run's overrides: the swept and series values and the seed. */
    std::vector<std::string>
    overrides_of(const unsigned int s,
                 const unsigned int v,
                 const unsigned int seed) const;

    /** The folder name of a run. */
    std::string
    label_of(const unsigned int s,
             const unsigned int v,
             const unsigned int seed) const;

    /**
     * Removes what an earlier study left in the folder: runs/ and the
     * convergence.* files.
     */
    void
    remove_earlier_output() const;

    /** Every run and its error, one line each to @p log. */
    void
    run_all(std::ostream &log);

    /**
     * With an exact reference: InputError if the box of @p run (the finest
     * of a series) misses more than 1e-3 of the mass of mu(t) (cut off at
     * t = 0, or lost through the boundary), a warning on @p log (once) if
     * more than 1e-12.
     */
    void
    check_captured_mass(const Simulator &run, std::ostream &log);

    /**
     * Whether the error is measured against @p reference ("exact" or
     * "finest"): never for the distances between tokens and density.
     */
    bool
    against(const std::string &reference) const;

    /** Runs value @p v of series @p s with @p seed; one line to @p log. */
    std::unique_ptr<Simulator>
    run_one(const unsigned int s,
            const unsigned int v,
            const unsigned int seed,
            std::ostream      &log) const;

    /** The error of @p run, against @p finest when the reference is it. */
    double
    error_of(const Simulator &run, const Simulator *finest) const;

    /** The abscissa of @p run: 1/h, 1/dt, n or the degree. */
    double
    abscissa_of(const Simulator &run, const unsigned int v) const;

    /** The slopes of the reference lines, one per series (NaN: none). */
    std::vector<double>
    reference_slopes() const;

    /** Name of the abscissa column: 1/h, 1/dt, n or k. */
    std::string
    abscissa_name() const;

    /** Name of the error column of series @p s. */
    std::string
    error_name(const unsigned int s) const;

    /** convergence.txt, .tex and .csv, and the table on @p log. */
    void
    write_tables(std::ostream &log) const;

    /**
     * convergence.dat, .gp, and with Convergence/plot .png and .svg;
     * whether the plot was drawn (a warning on @p log if gnuplot failed).
     */
    bool
    write_plot(std::ostream &log) const;

    std::string                  file;
    std::vector<std::string>     base_overrides;
    Parameters                   parameters;
    const ConvergenceParameters &study;
    std::filesystem::path        directory;
    std::vector<std::string>     values, series_values;
    /** abscissae[s][v], errors[s][v][seed] (mean over seeds in tables). */
    std::vector<std::vector<double>>              abscissae;
    std::vector<std::vector<std::vector<double>>> errors;
    /** Whether the warning of check_captured_mass() was given. */
    bool warned_about_the_box = false;
  };
} // namespace attnflow

#endif
