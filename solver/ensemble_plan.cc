#include <attnflow/ensemble.h>
#include <attnflow/exceptions.h>
#include <attnflow/initial_measure.h>
#include <attnflow/random.h>

#include <cmath>
#include <limits>

namespace attnflow
{
  namespace
  {
    const std::string section = "Ensemble/";

    /** An upper bound of the memory the samples and tokens take (bytes). */
    double
    estimated_memory(const Parameters  &run,
                     const unsigned int n_values,
                     const std::size_t  n_times)
    {
      const EnsembleParameters &ensemble = run.ensemble;
      const double              samples = double(ensemble.n_systems) * n_times *
                             n_ensemble_statistics * sizeof(double);
      const double tokens = ensemble.write_final_tokens ?
                              double(n_values) * ensemble.n_systems *
                                run.tokens.n_tokens * run.model.dimension *
                                sizeof(double) :
                              0.;
      return samples + tokens;
    }
  } // namespace



  std::uint32_t
  system_seed(const std::uint32_t seed, const unsigned int system)
  {
    RandomGenerator random(seed, system);
    return static_cast<std::uint32_t>(random.uniform() * 4294967296.);
  }



  std::vector<Layer>
  random_layers(const EnsembleWeights kind,
                const unsigned int    d,
                const int             value_sign,
                const double          regeneration_interval,
                const double          end_time,
                const std::uint32_t   seed)
  {
    const unsigned int n_layers =
      regeneration_interval > 0. ?
        std::max(1.,
                 std::ceil(end_time / regeneration_interval * (1. - 1e-12))) :
        1;
    RandomGenerator    random(seed);
    const double       scale = 1. / std::sqrt(double(d));
    std::vector<Layer> layers;
    for (unsigned int l = 0; l < n_layers; ++l)
      {
        SquareMatrix B(d);
        for (unsigned int r = 0; r < d; ++r)
          for (unsigned int c = 0; c < d; ++c)
            switch (kind)
              {
                case EnsembleWeights::gaussian:
                  B(r, c) = scale * random.normal();
                  break;
                case EnsembleWeights::goe:
                  B(r, c) = random.normal();
                  break;
                case EnsembleWeights::wigner:
                  if (c >= r)
                    B(r, c) = random.uniform() < 0.5 ? -scale : scale;
                  break;
                case EnsembleWeights::model:
                  throw std::logic_error("random_layers: weights = model");
              }
        if (kind == EnsembleWeights::goe)
          {
            const SquareMatrix G = B;
            for (unsigned int r = 0; r < d; ++r)
              for (unsigned int c = 0; c < d; ++c)
                B(r, c) = (G(r, c) + G(c, r)) * scale / std::sqrt(2.);
          }
        if (kind == EnsembleWeights::wigner)
          for (unsigned int r = 0; r < d; ++r)
            for (unsigned int c = 0; c < r; ++c)
              B(r, c) = B(c, r);
        SquareMatrix V = B;
        for (double &entry : V.entries)
          entry *= value_sign;
        // The last layer holds after the end time (as Model's last layer).
        const double duration = l + 1 == n_layers ?
                                  std::numeric_limits<double>::infinity() :
                                  regeneration_interval;
        layers.push_back(
          {duration,
           {{Matrix(B), Matrix(SquareMatrix::scaled_identity(d, 1.)), V}}});
      }
    return layers;
  }



  EnsemblePlan::EnsemblePlan(const std::string              &file,
                             const std::vector<std::string> &overrides)
      : file(file)
      , parameters(read_parameters(file, overrides))
      , ensemble_directory(parameters.output.directory)
  {
    const EnsembleParameters &ensemble = settings();
    const std::string        &sweep    = ensemble.sweep;
    const std::size_t         slash    = sweep.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == sweep.size())
      throw InputError(section + "sweep",
                       "give the swept entry as \"Section/name\" (e.g. "
                       "Model/beta), got '" +
                         sweep + "'");
    const std::string swept_section = sweep.substr(0, slash);
    if (swept_section == "Ensemble" || swept_section == "Output" ||
        swept_section == "Parallel")
      throw InputError(section + "sweep",
                       "sweep a parameter of the systems (Model, Initial "
                       "condition, Tokens, Time, ...), not of section " +
                         swept_section);
    parse_numbers(ensemble.values, section + "values");
    values = split(ensemble.values, ',');
    if (values.empty())
      throw InputError(section + "values",
                       "give at least one value of " + sweep +
                         ", comma-separated");

    const double end      = parameters.time.end_time;
    const double interval = parameters.time.output_interval;
    for (unsigned long k = 0; k * interval < end * (1. - 1e-12); ++k)
      times.push_back(k * interval);
    times.push_back(end);

    for (const std::string &value : values)
      {
        std::vector<std::string> o = overrides;
        o.push_back(sweep + "=" + value);
        try
          {
            runs.push_back(read_parameters(file, o));
          }
        catch (const InputError &error)
          {
            throw InputError(section + "sweep",
                             "cannot set " + sweep + " = " + value + " (" +
                               error.what() + ")");
          }
        check_run(runs.back());
      }
    if (estimated_memory(parameters, values.size(), times.size()) > 8e9)
      throw InputError(section + "number of systems",
                       "the statistics (and final tokens) of " +
                         std::to_string(ensemble.n_systems) +
                         " systems would take more than 8 GB; run fewer "
                         "systems, output times or values");
  }



  void
  EnsemblePlan::check_run(const Parameters &run) const
  {
    const EnsembleParameters &ensemble = run.ensemble;
    if (run.model.geometry != Geometry::sphere)
      throw InputError("Model/geometry",
                       "ensembles run tokens on the sphere (their statistics "
                       "compare <x_i, x_j> with 1 - delta); set sphere");
    if (run.density.enabled)
      throw InputError("Density/enabled",
                       "ensembles run tokens only; set false");
    if (ensemble.weights != EnsembleWeights::model)
      {
        if (run.model.n_heads != 1)
          throw InputError("Model/number of heads",
                           "random ensemble weights make one head; set 1 "
                           "or Ensemble/weights = model");
        if (!run.model.layer_durations.empty())
          throw InputError("Model/layer durations",
                           "random ensemble weights make their own layers "
                           "(Ensemble/regeneration interval); leave empty");
      }
    else if (ensemble.regeneration_interval > 0.)
      throw InputError(section + "regeneration interval",
                       "redraws random weights: set Ensemble/weights = "
                       "gaussian, goe or wigner, or the interval to 0");
    // The small-system kernel sums attention alone over all pairs
    // (doc/theory.md section 9.3).
    if (run.model.mask != AttentionMask::Kind::none)
      throw InputError("Model/mask",
                       "ensembles sum all pairs; set none (a causal run is "
                       "attnflow RUN.prm)");
    if (run.model.feed_forward)
      throw InputError("Model/feed forward",
                       "ensembles run attention alone; set false");
    const Model          model(run.model);
    const InitialMeasure mu0(run.initial_condition,
                             model,
                             run.density.kde_bandwidth);
    const std::size_t    n =
      run.initial_condition.type == InitialMeasureType::tokens_file ?
           mu0.sample(0).size() :
           run.tokens.n_tokens;
    if (n < 2)
      throw InputError("Tokens/number of tokens",
                       "an ensemble's statistics need at least two tokens "
                       "per system, got " +
                         std::to_string(n));
  }



  void
  EnsemblePlan::describe(std::ostream &log) const
  {
    const EnsembleParameters &ensemble = settings();
    log << "attnflow ensemble: " << ensemble.sweep << " = " << ensemble.values
        << "; " << ensemble.n_systems << " system(s) per value, weights "
        << selection_name(ensemble_weight_names, ensemble.weights)
        << ", integrator "
        << selection_name(time_scheme_names, parameters.time.scheme) << ", "
        << times.size() << " output times; into " << ensemble_directory.string()
        << "\n";
  }
} // namespace attnflow
