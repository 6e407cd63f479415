#include <attnflow/comparison.h>
#include <attnflow/convergence_study.h>
#include <attnflow/exact_solution.h>
#include <attnflow/exceptions.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnflow
{
  namespace
  {
    const std::string section = "Convergence/";

    /** Whether @p error reads the density. */
    bool
    reads_density(const ConvergenceError error)
    {
      return error != ConvergenceError::token_moments &&
             error != ConvergenceError::token_positions;
    }

    /** Whether @p error reads the tokens. */
    bool
    reads_tokens(const ConvergenceError error)
    {
      return error != ConvergenceError::density_l1 &&
             error != ConvergenceError::density_moments;
    }

    /** Whether sweeping @p sweep can change @p error. */
    bool
    changes(const Sweep &sweep, const ConvergenceError error)
    {
      return sweep.changes == Sweep::Changes::density ? reads_density(error) :
                                                        reads_tokens(error);
    }

    /**
     * Whether the distance @p error is measured in the geometry of @p model
     * (measured_distances(); any error that is no distance is).
     */
    bool
    measured_in(const ConvergenceError error, const ModelParameters &model)
    {
      const std::vector<Distance> measured =
        measured_distances(model.geometry, model.dimension);
      const auto has = [&](const Distance distance) {
        return std::find(measured.begin(), measured.end(), distance) !=
               measured.end();
      };
      switch (error)
        {
          case ConvergenceError::w1:
            return has(Distance::w1);
          case ConvergenceError::w2:
            return has(Distance::w2);
          case ConvergenceError::sliced_w2:
            return has(Distance::sliced_w2);
          case ConvergenceError::mmd:
            return has(Distance::mmd);
          default:
            return true;
        }
    }

    /** The column name of @p error: L1, moments, positions, w1, ... */
    std::string
    column_of(const ConvergenceError error)
    {
      switch (error)
        {
          case ConvergenceError::density_l1:
            return "L1";
          case ConvergenceError::density_moments:
            return "moments";
          case ConvergenceError::token_positions:
            return "positions";
          default:
            return selection_name(convergence_errors, error);
        }
    }

    /** The slope @p rule gives for the runs of @p p (NaN: none). */
    double
    slope_of(const Sweep::ReferenceSlope rule, const Parameters &p)
    {
      switch (rule)
        {
          case Sweep::ReferenceSlope::degree_plus_one:
            return p.density.degree + 1;
          case Sweep::ReferenceSlope::one_half:
            return 0.5;
          case Sweep::ReferenceSlope::token_scheme_order:
            return p.time.scheme == TimeScheme::rk4 ? 4 : 1;
          case Sweep::ReferenceSlope::density_scheme_order:
            // Crank–Nicolson is second order with two Picard iterations.
            return p.density.scheme == DensityScheme::ssp_rk3 ? 3 :
                   p.density.scheme == DensityScheme::crank_nicolson &&
                       p.density.picard_iterations >= 2 ?
                                                                2 :
                                                                1;
          case Sweep::ReferenceSlope::none:
            break;
        }
      return std::numeric_limits<double>::quiet_NaN();
    }

    /** InputError unless @p run meets the requirement of @p sweep. */
    void
    check_requirement(const Sweep &sweep, const Parameters &run)
    {
      if (sweep.changes == Sweep::Changes::number_of_tokens &&
          run.initial_condition.type == InitialMeasureType::tokens_file)
        throw InputError(section + "sweep",
                         "with a tokens file every run takes all its tokens: " +
                           sweep.parameter + " changes nothing");
      if (sweep.requirement == Sweep::Requirement::fixed_token_steps &&
          run.time.scheme == TimeScheme::dopri5)
        throw InputError("Time/integrator",
                         "dopri5 chooses its own steps; sweep " +
                           sweep.parameter + " with rk4 or euler");
      if (sweep.requirement == Sweep::Requirement::explicit_density_scheme &&
          run.density.scheme != DensityScheme::ssp_rk3)
        throw InputError("Density/time integrator",
                         "the implicit schemes take Density/time step, not "
                         "the cfl number; sweep Density/time step");
    }
  } // namespace



  ConvergencePlan::ConvergencePlan(const std::string              &file,
                                   const std::vector<std::string> &overrides)
      : file(file)
      , base_overrides(overrides)
      , parameters(read_parameters(file, overrides))
      , study_directory(parameters.output.directory)
  {
    check_values();
    const ConvergenceParameters &study = settings();
    if (against(ConvergenceReference::finest))
      {
        if (study.error == ConvergenceError::density_moments ||
            study.error == ConvergenceError::token_moments)
          throw InputError(section + "reference",
                           "moments are measured against the exact solution "
                           "only; use reference = exact");
        if (values.size() < 3)
          throw InputError(section + "values",
                           "against the finest run (the last value) give at "
                           "least three values, for two rows and a rate");
        if (study.error == ConvergenceError::token_positions &&
            sweep().changes == Sweep::Changes::number_of_tokens)
          throw InputError(section + "error",
                           "token positions of runs with different numbers "
                           "of tokens cannot be compared; use w1, mmd, ... "
                           "or an exact reference with token moments");
      }

    // Every run's parameters parse (errors name the --set of the value) and
    // suit the study.
    for (unsigned int s = 0; s < n_series(); ++s)
      for (unsigned int v = 0; v < n_values(); ++v)
        check_run(run_parameters(s, v, 0));
    reference_slopes = slopes_of_reference_lines();
  }



  void
  ConvergencePlan::check_values()
  {
    const ConvergenceParameters &study = settings();
    const std::vector<double>    x =
      parse_numbers(study.values, section + "values");
    values = split(study.values, ',');
    if (values.size() < 2)
      throw InputError(section + "values",
                       "give at least two values of " + sweep().parameter +
                         ", comma-separated, coarsest first");
    // Coarsest first: refinements, degrees and n increase, steps decrease.
    const bool increasing = sweep().direction == Sweep::Direction::increasing;
    for (std::size_t v = 1; v < x.size(); ++v)
      if (increasing ? !(x[v] > x[v - 1]) : !(x[v] < x[v - 1]))
        throw InputError(section + "values",
                         "give the values coarsest first, each finer than "
                         "the one before (" +
                           std::string(increasing ? "increasing" :
                                                    "decreasing") +
                           " for " + sweep().parameter + "), got " +
                           study.values);
    if (study.series == nullptr)
      {
        series_values = {""};
        return;
      }
    if (study.series == study.sweep)
      throw InputError(section + "series",
                       "must differ from Convergence/sweep");
    std::vector<double> y =
      parse_numbers(study.series_values, section + "series values");
    series_values = split(study.series_values, ',');
    if (series_values.empty())
      throw InputError(section + "series values",
                       "give the values of " + study.series->parameter);
    std::sort(y.begin(), y.end());
    if (std::adjacent_find(y.begin(), y.end()) != y.end())
      throw InputError(section + "series values",
                       "values must differ, got " + study.series_values);
  }



  void
  ConvergencePlan::check_run(const Parameters &run) const
  {
    const ConvergenceParameters &study = settings();
    const ConvergenceError       error = study.error;
    const std::string         &name = selection_name(convergence_errors, error);
    std::vector<const Sweep *> swept = {study.sweep};
    if (study.series != nullptr)
      swept.push_back(study.series);
    const bool density_swept =
      std::any_of(swept.begin(), swept.end(), [](const Sweep *sweep) {
        return sweep->changes == Sweep::Changes::density;
      });

    if ((reads_density(error) || density_swept) && !run.density.enabled)
      throw InputError("Density/enabled",
                       "must be true for Convergence/error = " + name +
                         " and sweep " + sweep().parameter);
    if (reads_tokens(error) && run.tokens.n_tokens == 0)
      throw InputError("Tokens/number of tokens",
                       "must be > 0 in every run for Convergence/error = " +
                         name);
    for (const Sweep *sweep : swept)
      if (!changes(*sweep, error))
        throw InputError(section + "sweep",
                         study.sweep->parameter +
                           (study.series == nullptr ?
                              "" :
                              " (series " + study.series->parameter + ")") +
                           " does not change Convergence/error = " + name);
    for (const Sweep *sweep : swept)
      check_requirement(*sweep, run);
    if (measures_distance() && !measured_in(error, run.model))
      throw InputError(section + "error",
                       "'" + name +
                         "' is not measured here: w1 and w2 in R^1, w1 on "
                         "S^1, sliced_w2 in R^2, R^3 and on S^2, mmd "
                         "everywhere");
    if (against(ConvergenceReference::exact))
      {
        const Model          model(run.model);
        const InitialMeasure mu0(run.initial_condition,
                                 model,
                                 run.density.kde_bandwidth);
        const ExactSolution  exact(model, mu0, section + "reference");
        if (error == ConvergenceError::token_positions &&
            !exact.is_translation())
          throw InputError(section + "reference",
                           "exact token positions are known for beta = 0 "
                           "(E1) only; use reference = finest or error = "
                           "token moments");
      }
  }



  std::vector<double>
  ConvergencePlan::slopes_of_reference_lines() const
  {
    const std::string        &text = settings().reference_slopes;
    const std::vector<double> given =
      text == "auto" ? std::vector<double>() :
                       parse_numbers(text, section + "reference slopes");
    std::vector<double> slopes(n_series());
    if (!given.empty())
      {
        if (given.size() != 1 && given.size() != slopes.size())
          throw InputError(section + "reference slopes",
                           "give auto, one slope, or one per series value");
        for (unsigned int s = 0; s < slopes.size(); ++s)
          slopes[s] = given[given.size() == 1 ? 0 : s];
        return slopes;
      }
    for (unsigned int s = 0; s < slopes.size(); ++s)
      slopes[s] = slope_of(sweep().reference_slope, run_parameters(s, 0, 0));
    return slopes;
  }



  std::vector<std::string>
  ConvergencePlan::overrides_of(const unsigned int s,
                                const unsigned int v,
                                const unsigned int seed) const
  {
    std::vector<std::string> o = base_overrides;
    o.push_back(sweep().parameter + "=" + values[v]);
    if (settings().series != nullptr)
      o.push_back(settings().series->parameter + "=" + series_values[s]);
    o.push_back("Initial condition/seed=" +
                std::to_string(parameters.initial_condition.seed + seed));
    o.push_back("Comparison/seed=" +
                std::to_string(parameters.comparison.seed + seed));
    o.push_back("Output/directory=" + run_directory(s, v, seed).string());
    o.push_back("Output/write vtu=false");
    o.push_back("Output/write tokens csv=false");
    return o;
  }



  Parameters
  ConvergencePlan::run_parameters(const unsigned int s,
                                  const unsigned int v,
                                  const unsigned int seed) const
  {
    return read_parameters(file, overrides_of(s, v, seed));
  }



  std::string
  ConvergencePlan::label(const unsigned int s,
                         const unsigned int v,
                         const unsigned int seed) const
  {
    std::string label = sweep().short_name + "_" + values[v];
    if (settings().series != nullptr)
      label += "_" + settings().series->short_name + "_" + series_values[s];
    if (settings().n_seeds > 1)
      label +=
        "_seed_" + std::to_string(parameters.initial_condition.seed + seed);
    return label;
  }



  std::filesystem::path
  ConvergencePlan::run_directory(const unsigned int s,
                                 const unsigned int v,
                                 const unsigned int seed) const
  {
    return study_directory / "runs" / label(s, v, seed);
  }



  std::string
  ConvergencePlan::error_name(const unsigned int s) const
  {
    std::string name = column_of(settings().error);
    if (settings().series != nullptr)
      name += " " + settings().series->short_name + "=" + series_values[s];
    return name;
  }



  unsigned int
  ConvergencePlan::n_rows() const
  {
    return values.size() - (against(ConvergenceReference::finest) ? 1 : 0);
  }



  bool
  ConvergencePlan::measures_distance() const
  {
    return reads_density(settings().error) && reads_tokens(settings().error);
  }



  bool
  ConvergencePlan::against(const ConvergenceReference reference) const
  {
    return !measures_distance() && settings().reference == reference;
  }



  void
  ConvergencePlan::describe(std::ostream &log) const
  {
    const ConvergenceParameters &study = settings();
    log << "attnflow convergence study: " << sweep().parameter << " = "
        << study.values;
    if (study.series != nullptr)
      log << " for " << study.series->parameter << " = " << study.series_values;
    log << ", " << study.n_seeds << " seed(s); error: "
        << selection_name(convergence_errors, study.error)
        << (measures_distance() ?
              " (tokens against density)" :
              " against the " +
                selection_name(convergence_references, study.reference) +
                " solution")
        << "; runs in " << (study_directory / "runs").string() << std::endl;
  }
} // namespace attnflow
