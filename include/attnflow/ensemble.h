/**
 * @file
 * Ensembles and phase diagrams: `attnflow --ensemble FILE.prm`
 * (doc/theory.md section 9). An EnsemblePlan says which systems run with
 * which parameters and is checked before anything runs; the EnsembleRunner
 * advances M independent token systems per swept value, batched over
 * threads through the SmallSystemField, and measures each at every output
 * time with the EnsembleStatistics; the EnsembleResults hold mean and
 * spread over the systems; the EnsembleReport writes ensemble.csv and the
 * heat map; the Ensemble does it all in its output folder.
 */
#ifndef attnflow_ensemble_h
#define attnflow_ensemble_h

#include <attnflow/model.h>
#include <attnflow/output_folder.h>
#include <attnflow/parameters.h>
#include <attnflow/point_sets.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace attnflow
{
  /** The number of statistics (EnsembleStatistic). */
  constexpr unsigned int n_ensemble_statistics = 4;

  /** One value of every statistic, indexed by EnsembleStatistic. */
  using StatisticValues = std::array<double, n_ensemble_statistics>;

  /**
   * The seed of system @p system of an ensemble whose run has the seed
   * @p seed: a SplitMix-decorrelated 32-bit draw of RandomGenerator(seed,
   * system), so that systems are independent and every system can be rerun
   * alone (Initial condition/seed = system_seed(seed, m)).
   */
  std::uint32_t
  system_seed(const std::uint32_t seed, const unsigned int system);

  /**
   * The layers of a system with random weights: one layer per
   * @p regeneration_interval of [0, @p end_time] (one for all time if the
   * interval is 0), each with one head Q = B, K = I, V = @p value_sign B,
   * B = K^T Q drawn as @p kind says (gaussian: i.i.d. N(0, 1/d); goe:
   * (G + G^T) / sqrt(2 d) with G i.i.d. N(0, 1); wigner: symmetric with
   * i.i.d. entries +-1/sqrt(d) on and above the diagonal) from the stream
   * of @p seed. @p kind must not be model.
   */
  std::vector<Layer>
  random_layers(const EnsembleWeights kind,
                const unsigned int    dimension,
                const int             value_sign,
                const double          regeneration_interval,
                const double          end_time,
                const std::uint32_t   seed);

  /**
   * What an ensemble runs: for every value of Ensemble/sweep the run of the
   * parameter file with that value, repeated for Ensemble/number of systems
   * independent systems. The constructor checks section "Ensemble" and
   * every value's parameters (InputError naming the entry) before anything
   * runs.
   */
  class EnsemblePlan
  {
  public:
    /** The plan of @p file with the --set @p overrides. */
    EnsemblePlan(const std::string              &file,
                 const std::vector<std::string> &overrides);

    /** The parameters of the ensemble file (with its section "Ensemble"). */
    const Parameters &
    get_parameters() const
    {
      return parameters;
    }

    /** Section "Ensemble". */
    const EnsembleParameters &
    settings() const
    {
      return parameters.ensemble;
    }

    /** The ensemble's parameter file. */
    const std::string &
    ensemble_file() const
    {
      return file;
    }

    /** The folder of the ensemble (Output/directory). */
    const std::filesystem::path &
    directory() const
    {
      return ensemble_directory;
    }

    /** The number of values swept. */
    unsigned int
    n_values() const
    {
      return values.size();
    }

    /** Value @p v of the swept entry, as written. */
    const std::string &
    value(const unsigned int v) const
    {
      return values[v];
    }

    /** The parameters of every system of value @p v. */
    const Parameters &
    value_parameters(const unsigned int v) const
    {
      return runs[v];
    }

    /** The output times 0, dt, ..., end time (as a plain run writes them). */
    const std::vector<double> &
    output_times() const
    {
      return times;
    }

    /** One line on @p log: what is swept, how many systems, where to. */
    void
    describe(std::ostream &log) const;

  private:
    /**
     * InputError unless @p run suits an ensemble: tokens on the sphere, at
     * least two of them, no density, random weights with one head and one
     * layer, a regeneration interval only with random weights.
     */
    void
    check_run(const Parameters &run) const;

    std::string              file;
    Parameters               parameters;
    std::filesystem::path    ensemble_directory;
    std::vector<std::string> values;
    std::vector<Parameters>  runs;
    std::vector<double>      times;
  };



  /**
   * The statistics of one token configuration on the sphere (the Gram
   * matrix G_ij = <x_i, x_j> computed once): the fraction of pairs i != j
   * with G_ij >= 1 - delta, whether G_12 >= 1 - delta (0 or 1), the cluster
   * count, and the order parameter |(1/n) sum_i x_i|.
   */
  class EnsembleStatistics
  {
  public:
    /**
     * The statistics with delta, the cluster count and Gram threshold of
     * @p ensemble, and the single-linkage radius and minimum cluster
     * fraction of @p tokens.
     */
    EnsembleStatistics(const EnsembleParameters &ensemble,
                       const TokenParameters    &tokens);

    /** Every statistic of @p tokens (at least two). */
    StatisticValues
    measure(const PointSet &tokens) const;

  private:
    double       delta;
    ClusterCount cluster_count;
    double       gram_threshold;
    double       cluster_radius;
    double       minimum_cluster_fraction;
  };

  /**
   * The rank of the n x n 0/1 matrix A_ij = [<x_i, x_j> >= @p threshold]
   * of @p gram (n x n, row-major): equal rows are merged first (tight
   * clusters give equal rows), then Gaussian elimination with partial
   * pivoting on the distinct rows. For well separated clusters A is block
   * diagonal with blocks of ones and its rank is the number of clusters.
   */
  unsigned int
  thresholded_gram_rank(const std::vector<double> &gram,
                        const std::size_t          n,
                        const double               threshold);

  /**
   * Mean and spread over the systems of every statistic at every output
   * time and swept value, and optionally every system's final tokens.
   */
  class EnsembleResults
  {
  public:
    /** Nothing yet, for @p n_values values and @p n_times output times. */
    EnsembleResults(const unsigned int n_values, const unsigned int n_times);

    /**
     * Sets value @p v from @p samples[m][t] (system m, time t): the mean
     * and the sample standard deviation (0 for one system), summed over
     * the systems in order (independent of the threads).
     */
    void
    set(const unsigned int                               v,
        const std::vector<std::vector<StatisticValues>> &samples);

    /** The mean of statistic @p s over the systems, value @p v, time @p t. */
    double
    mean(const unsigned int v, const unsigned int t, const unsigned int s) const
    {
      return means[v][t][s];
    }

    /** The sample standard deviation of the same. */
    double
    standard_deviation(const unsigned int v,
                       const unsigned int t,
                       const unsigned int s) const
    {
      return deviations[v][t][s];
    }

    /** The final tokens of every system of value @p v (if recorded). */
    std::vector<PointSet> &
    final_tokens(const unsigned int v)
    {
      return tokens[v];
    }

    /** The final tokens of every system of value @p v (if recorded). */
    const std::vector<PointSet> &
    final_tokens(const unsigned int v) const
    {
      return tokens[v];
    }

  private:
    /** means[v][t][statistic], deviations[v][t][statistic] */
    std::vector<std::vector<StatisticValues>> means, deviations;
    /** tokens[v][m] */
    std::vector<std::vector<PointSet>> tokens;
  };



  /**
   * Runs every system of a plan: per value, the systems are spread over
   * Parallel/number of threads threads (TBB), each with its own tokens
   * (drawn from system_seed(Initial condition/seed, m)), weights, and
   * TimeIntegrator of section Time, its field evaluated by the
   * SmallSystemField and renormalised on the sphere after every step (as
   * TokenSolver does); statistics at every output time.
   */
  class EnsembleRunner
  {
  public:
    /** The runner of @p plan. */
    explicit EnsembleRunner(const EnsemblePlan &plan);

    /** Runs every value, one line each to @p log. */
    EnsembleResults
    run(std::ostream &log) const;

  private:
    /**
     * Runs the systems of value @p v into @p results; returns the mean
     * number of steps per system.
     */
    double
    run_value(const unsigned int v, EnsembleResults &results) const;

    const EnsemblePlan &plan;
  };



  /**
   * The files of a finished ensemble in its folder: ensemble.csv in long
   * format (value, t, statistic, mean, std), the heat map of one statistic
   * over (swept value, t) (ensemble.dat, .gp; with gnuplot .png, .svg), and
   * on request final_tokens.csv.
   */
  class EnsembleReport
  {
  public:
    /** The report of @p results of @p plan, written into @p folder. */
    EnsembleReport(const EnsemblePlan    &plan,
                   const EnsembleResults &results,
                   OutputFolder          &folder);

    /** ensemble.csv, and final_tokens.csv if asked for. */
    void
    write_tables() const;

    /**
     * ensemble.dat, .gp, and with Ensemble/plot .png and .svg; whether the
     * heat map was drawn (a warning on @p log if gnuplot failed).
     */
    bool
    write_heat_map(std::ostream &log) const;

  private:
    const EnsemblePlan    &plan;
    const EnsembleResults &results;
    OutputFolder          &folder;
  };



  /**
   * An ensemble in its folder Output/directory: the plan, checked at
   * construction; run() claims the folder, runs, and writes the report.
   */
  class Ensemble
  {
  public:
    /**
     * The ensemble of @p file with the --set @p overrides; InputError
     * naming the entry if the plan is bad, before anything runs.
     */
    Ensemble(const std::string              &file,
             const std::vector<std::string> &overrides);

    /** Runs every system, one line per value to @p log, then the report. */
    void
    run(std::ostream &log);

    /** The first line of run() (alone for a dry run). */
    void
    describe(std::ostream &log) const;

    /** The results, after run() (for tests). */
    const EnsembleResults &
    results() const
    {
      return *ensemble_results;
    }

  private:
    EnsemblePlan                     plan;
    std::unique_ptr<OutputFolder>    folder;
    std::unique_ptr<EnsembleResults> ensemble_results;
  };
} // namespace attnflow

#endif
