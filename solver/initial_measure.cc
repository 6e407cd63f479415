#include <attnflow/exceptions.h>
#include <attnflow/initial_measure.h>
#include <attnflow/random.h>

#include <deal.II/base/function_parser.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace attnflow
{
  namespace
  {
    const std::string section = "Initial condition/";

    /** Cumulative normalised weights for @p n_components components. */
    std::vector<double>
    parse_mixture_weights(const std::string &text,
                          const unsigned int n_components)
    {
      const std::string   parameter = section + "mixture weights";
      std::vector<double> weights   = parse_numbers(text, parameter);
      if (weights.empty())
        weights.assign(n_components, 1.);
      if (weights.size() != n_components)
        throw InputError(parameter,
                         "has " + std::to_string(weights.size()) +
                           " weights for " + std::to_string(n_components) +
                           " components (Initial condition/means)");
      double total = 0.;
      for (const double w : weights)
        {
          if (!(w > 0.))
            throw InputError(parameter, "every weight must be > 0");
          total += w;
        }
      std::vector<double> cumulative;
      double              sum = 0.;
      for (const double w : weights)
        cumulative.push_back((sum += w) / total);
      cumulative.back() = 1.;
      return cumulative;
    }

    /**
     * log of the von Mises–Fisher normalisation on S^{d-1} times e^kappa:
     * the density is exp(this + kappa (<mu, x> - 1)), which never
     * overflows. C_d(kappa) = kappa^{d/2-1} / ((2 pi)^{d/2} I_{d/2-1}(kappa)).
     */
    double
    log_von_mises_fisher_constant(const double kappa, const unsigned int d)
    {
      const double nu = 0.5 * d - 1.;
      if (kappa < 1e-8)
        return std::lgamma(0.5 * d) - std::log(2.) - 0.5 * d * std::log(M_PI);
      // log(I_nu(kappa) e^{-kappa}): directly, or by the asymptotic series
      // (relative error below 1e-15 for kappa >= 500 and d <= 20).
      double log_scaled_bessel;
      if (kappa < 500.)
        log_scaled_bessel = std::log(std::cyl_bessel_i(nu, kappa)) - kappa;
      else
        {
          const double mu   = 4. * nu * nu;
          double       term = 1., sum = 1.;
          for (unsigned int k = 1; k < 8; ++k)
            {
              term *= -(mu - (2. * k - 1.) * (2. * k - 1.)) / (8. * k * kappa);
              sum += term;
            }
          log_scaled_bessel = std::log(sum) - 0.5 * std::log(2. * M_PI * kappa);
        }
      return nu * std::log(kappa) - 0.5 * d * std::log(2. * M_PI) -
             log_scaled_bessel;
    }

    /** A uniform point of the unit sphere in R^d. */
    void
    draw_on_sphere(RandomGenerator &random, const unsigned int d, double *x)
    {
      double norm2 = 0.;
      do
        {
          norm2 = 0.;
          for (unsigned int k = 0; k < d; ++k)
            {
              x[k] = random.normal();
              norm2 += x[k] * x[k];
            }
      } while (norm2 < 1e-300);
      const double inverse = 1. / std::sqrt(norm2);
      for (unsigned int k = 0; k < d; ++k)
        x[k] *= inverse;
    }
  } // namespace



  InitialMeasure::InitialMeasure(const InitialConditionParameters &parameters,
                                 const Model                      &model,
                                 const double kde_bandwidth)
      : geometry(model.geometry)
      , dimension(model.dimension)
      , seed(parameters.seed)
      , ordered_by_component(parameters.ordered_by_component)
  {
    const unsigned int d = dimension;
    type                 = parameters.type;

    if (geometry == Geometry::euclidean &&
        (type == Type::uniform || type == Type::function))
      {
        const Box box = parse_box(parameters.lower_corner,
                                  parameters.upper_corner,
                                  d,
                                  "Initial condition");
        lower_corner  = box.lower;
        upper_corner  = box.upper;
      }

    if (type == Type::gaussian || type == Type::von_mises_fisher)
      {
        const bool on_sphere = type == Type::von_mises_fisher;
        if (on_sphere != (geometry == Geometry::sphere))
          throw InputError(section + "type",
                           on_sphere ?
                             "'von mises fisher' needs Model/geometry "
                             "= sphere (use gaussian in R^d)" :
                             "'gaussian' needs Model/geometry = "
                             "euclidean (use von mises fisher on "
                             "the sphere)");
        for (const std::string &mean : split(parameters.means, '|'))
          {
            std::vector<double> m =
              parse_coordinates(mean, d, section + "means");
            if (on_sphere)
              {
                double norm = 0.;
                for (const double c : m)
                  norm += c * c;
                if (!(norm > 0.))
                  throw InputError(section + "means",
                                   "a mean direction on the sphere must not "
                                   "be 0");
                for (double &c : m)
                  c /= std::sqrt(norm);
              }
            means.push_back(m);
          }
        if (means.empty())
          throw InputError(section + "means", "is empty");
        const unsigned int n_components = means.size();
        cumulative_weights =
          parse_mixture_weights(parameters.mixture_weights, n_components);
        if (on_sphere)
          {
            concentrations = parse_numbers(parameters.concentrations,
                                           section + "concentrations");
            if (concentrations.size() == 1)
              concentrations.assign(n_components, concentrations[0]);
            if (concentrations.size() != n_components)
              throw InputError(section + "concentrations",
                               "give 1 or " + std::to_string(n_components) +
                                 " (one per component of 'means')");
            for (const double kappa : concentrations)
              if (!(kappa >= 0.))
                throw InputError(section + "concentrations",
                                 "every kappa must be >= 0");
          }
        else
          {
            const std::vector<std::string> covariances =
              split(parameters.covariances, '|');
            if (covariances.size() != 1 && covariances.size() != n_components)
              throw InputError(section + "covariances",
                               "give 1 or " + std::to_string(n_components) +
                                 " matrices (one per component of 'means')");
            for (unsigned int c = 0; c < n_components; ++c)
              cholesky_factors.push_back(cholesky(
                parse_matrix(covariances[covariances.size() == 1 ? 0 : c],
                             d,
                             section + "covariances"),
                section + "covariances"));
          }
      }

    if (type == Type::function)
      {
        const std::string parameter = section + "density function";
        if (d > 3)
          throw InputError(section + "type",
                           "'function' needs Model/dimension <= 3");
        if (parameters.density_function.empty())
          throw InputError(parameter, "is empty, but type = function");
        density_expression = parameters.density_function;
        const std::map<std::string, double> constants = {{"pi", M_PI}};
        try
          {
            if (geometry == Geometry::sphere && d == 2)
              {
                auto f = std::make_unique<dealii::FunctionParser<3>>();
                f->initialize(variables(), density_expression, constants);
                function_3d = std::move(f);
              }
            else if (d == 1)
              {
                auto f = std::make_unique<dealii::FunctionParser<1>>();
                f->initialize(variables(), density_expression, constants);
                function_1d = std::move(f);
              }
            else if (d == 2)
              {
                auto f = std::make_unique<dealii::FunctionParser<2>>();
                f->initialize(variables(), density_expression, constants);
                function_2d = std::move(f);
              }
            else
              {
                auto f = std::make_unique<dealii::FunctionParser<3>>();
                f->initialize(variables(), density_expression, constants);
                function_3d = std::move(f);
              }
            // deal.II parses the expression at its first evaluation.
            if (function_1d)
              function_1d->value(dealii::Point<1>());
            else if (function_2d)
              function_2d->value(dealii::Point<2>());
            else
              function_3d->value(dealii::Point<3>());
          }
        catch (const dealii::ExceptionBase &e)
          {
            std::ostringstream info;
            e.print_info(info);
            throw InputError(parameter,
                             "cannot parse '" + density_expression +
                               "' (variables: " + variables() +
                               "; constant: pi): " + info.str());
          }
      }

    if (type == Type::tokens_file)
      {
        read_tokens_file(parameters.tokens_file);
        bandwidth = kde_bandwidth > 0. ? kde_bandwidth : scott_bandwidth();
      }
  }



  double
  InitialMeasure::scott_bandwidth() const
  {
    const std::size_t  n        = file_tokens.size();
    const unsigned int d        = dimension;
    double             variance = 0.;
    for (unsigned int k = 0; k < d; ++k)
      {
        double mean = 0., square = 0.;
        for (std::size_t i = 0; i < n; ++i)
          {
            mean += file_tokens[i][k] / n;
            square += file_tokens[i][k] * file_tokens[i][k] / n;
          }
        variance += std::max(0., square - mean * mean) / d;
      }
    if (!(variance > 0.))
      throw InputError(section + "tokens file",
                       "all tokens coincide: Scott's rule gives no kernel "
                       "density bandwidth; set Density/kde bandwidth");
    return std::sqrt(variance) * std::pow(double(n), -1. / (d + 4.));
  }



  InitialMeasure::~InitialMeasure() = default;



  std::string
  InitialMeasure::variables() const
  {
    if (geometry == Geometry::sphere && dimension == 2)
      return "x,y,theta";
    return std::vector<std::string>{"x", "x,y", "x,y,z"}.at(dimension - 1);
  }



  PointSet
  InitialMeasure::sample(const std::size_t n) const
  {
    if (type == Type::tokens_file)
      return file_tokens;
    RandomGenerator random(seed);
    if (type == Type::function)
      return sample_function(random, n);
    PointSet tokens(dimension, n);
    for (std::size_t i = 0; i < n; ++i)
      {
        if (type == Type::uniform)
          {
            draw_uniform(random, tokens[i]);
            continue;
          }
        unsigned int c = 0;
        if (!ordered_by_component)
          c = draw_component(random);
        else
          while (c + 1 < cumulative_weights.size() &&
                 (i + 0.5) / n >= cumulative_weights[c])
            ++c;
        if (type == Type::gaussian)
          draw_gaussian(random, c, tokens[i]);
        else
          draw_von_mises_fisher(random, c, tokens[i]);
      }
    return tokens;
  }



  void
  InitialMeasure::draw_uniform(RandomGenerator &random, double *x) const
  {
    if (geometry == Geometry::sphere)
      draw_on_sphere(random, dimension, x);
    else
      for (unsigned int k = 0; k < dimension; ++k)
        x[k] = lower_corner[k] +
               (upper_corner[k] - lower_corner[k]) * random.uniform();
  }



  unsigned int
  InitialMeasure::draw_component(RandomGenerator &random) const
  {
    const double u = random.uniform();
    unsigned int c = 0;
    while (c + 1 < cumulative_weights.size() && u >= cumulative_weights[c])
      ++c;
    return c;
  }



  void
  InitialMeasure::draw_gaussian(RandomGenerator   &random,
                                const unsigned int c,
                                double            *x) const
  {
    const SquareMatrix &L = cholesky_factors[c];
    std::vector<double> z(dimension);
    for (double &zk : z)
      zk = random.normal();
    for (unsigned int i = 0; i < dimension; ++i)
      {
        x[i] = means[c][i];
        for (unsigned int j = 0; j <= i; ++j)
          x[i] += L(i, j) * z[j];
      }
  }



  void
  InitialMeasure::draw_von_mises_fisher(RandomGenerator   &random,
                                        const unsigned int c,
                                        double            *x) const
  {
    const double       kappa = concentrations[c];
    const unsigned int d     = dimension;
    if (kappa == 0.)
      return draw_on_sphere(random, d, x);

    // Wood (1994): the cosine w = <x, mean> by rejection, then a uniform
    // direction orthogonal to the mean.
    const double m1 = d - 1.;
    const double b =
      m1 / (2. * kappa + std::sqrt(4. * kappa * kappa + m1 * m1));
    const double x0 = (1. - b) / (1. + b);
    const double cc = kappa * x0 + m1 * std::log(1. - x0 * x0);
    double       w  = 0.;
    while (true)
      {
        const double z = random.beta(m1 / 2., m1 / 2.);
        w              = (1. - (1. + b) * z) / (1. - (1. - b) * z);
        const double u = 1. - random.uniform();
        if (kappa * w + m1 * std::log(1. - x0 * w) - cc >= std::log(u))
          break;
      }
    std::vector<double> y(d);
    y[0]              = w;
    const double sine = std::sqrt(std::max(0., 1. - w * w));
    draw_on_sphere(random, d - 1, y.data() + 1);
    for (unsigned int k = 1; k < d; ++k)
      y[k] *= sine;

    // The Householder reflection that maps e_1 to the mean direction.
    const std::vector<double> &mean = means[c];
    std::vector<double>        u(mean.size());
    double                     u2 = 0., uy = 0.;
    for (unsigned int k = 0; k < d; ++k)
      {
        u[k] = (k == 0 ? 1. : 0.) - mean[k];
        u2 += u[k] * u[k];
        uy += u[k] * y[k];
      }
    for (unsigned int k = 0; k < d; ++k)
      x[k] = u2 > 1e-30 ? y[k] - 2. * uy / u2 * u[k] : y[k];
  }



  double
  gaussian_density(const double              *x,
                   const std::vector<double> &mean,
                   const SquareMatrix        &cholesky_factor)
  {
    // z = L^{-1} (x - m) by forward substitution.
    const unsigned int  d = mean.size();
    const SquareMatrix &L = cholesky_factor;
    std::vector<double> z(d);
    double              quadratic = 0., log_det = 0.;
    for (unsigned int i = 0; i < d; ++i)
      {
        double s = x[i] - mean[i];
        for (unsigned int j = 0; j < i; ++j)
          s -= L(i, j) * z[j];
        z[i] = s / L(i, i);
        quadratic += z[i] * z[i];
        log_det += std::log(L(i, i));
      }
    return std::exp(-0.5 * quadratic - log_det - 0.5 * d * std::log(2. * M_PI));
  }



  bool
  InitialMeasure::moments(std::vector<double> &mean,
                          SquareMatrix        &covariance) const
  {
    const unsigned int d = dimension;
    mean.assign(d, 0.);
    covariance = SquareMatrix(d);
    if (geometry != Geometry::euclidean || type == Type::function)
      return false;
    // Second moments E[x x^T] first, then the covariance.
    const auto add = [&](const double               weight,
                         const std::vector<double> &m,
                         const SquareMatrix        &c) {
      for (unsigned int i = 0; i < d; ++i)
        {
          mean[i] += weight * m[i];
          for (unsigned int j = 0; j < d; ++j)
            covariance(i, j) += weight * (c(i, j) + m[i] * m[j]);
        }
    };
    if (type == Type::uniform)
      {
        std::vector<double> center(d);
        SquareMatrix        c(d);
        for (unsigned int k = 0; k < d; ++k)
          {
            const double width = upper_corner[k] - lower_corner[k];
            center[k]          = 0.5 * (lower_corner[k] + upper_corner[k]);
            c(k, k)            = width * width / 12.;
          }
        add(1., center, c);
      }
    else if (type == Type::gaussian)
      for (unsigned int c = 0; c < means.size(); ++c)
        {
          const SquareMatrix &L = cholesky_factors[c];
          SquareMatrix        S(d);
          for (unsigned int i = 0; i < d; ++i)
            for (unsigned int j = 0; j < d; ++j)
              for (unsigned int k = 0; k < d; ++k)
                S(i, j) += L(i, k) * L(j, k);
          add(component_weight(c), means[c], S);
        }
    else // a tokens file with its Gaussian kernel density estimate
      {
        const SquareMatrix kernel =
          SquareMatrix::scaled_identity(d, bandwidth * bandwidth);
        const std::size_t n = file_tokens.size();
        for (std::size_t i = 0; i < n; ++i)
          add(1. / n,
              std::vector<double>(file_tokens[i], file_tokens[i] + d),
              kernel);
      }
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int j = 0; j < d; ++j)
        covariance(i, j) -= mean[i] * mean[j];
    return true;
  }



  double
  InitialMeasure::density(const double *x) const
  {
    const unsigned int d = dimension;
    switch (type)
      {
        case Type::uniform:
          {
            if (geometry == Geometry::sphere)
              return std::tgamma(0.5 * d) / (2. * std::pow(M_PI, 0.5 * d));
            double volume = 1.;
            for (unsigned int k = 0; k < d; ++k)
              {
                if (x[k] < lower_corner[k] || x[k] > upper_corner[k])
                  return 0.;
                volume *= upper_corner[k] - lower_corner[k];
              }
            return 1. / volume;
          }
        case Type::gaussian:
          {
            double value = 0.;
            for (unsigned int c = 0; c < means.size(); ++c)
              value += component_weight(c) *
                       gaussian_density(x, means[c], cholesky_factors[c]);
            return value;
          }
        case Type::von_mises_fisher:
          {
            double value = 0.;
            for (unsigned int c = 0; c < means.size(); ++c)
              {
                double cosine = 0.;
                for (unsigned int k = 0; k < d; ++k)
                  cosine += means[c][k] * x[k];
                value +=
                  component_weight(c) *
                  std::exp(log_von_mises_fisher_constant(concentrations[c], d) +
                           concentrations[c] * (cosine - 1.));
              }
            return value;
          }
        case Type::function:
          return density_function(x);
        default:
          return kernel_density_estimate(x);
      }
  }



  double
  InitialMeasure::kernel_density_estimate(const double *x) const
  {
    const unsigned int d  = dimension;
    const std::size_t  n  = file_tokens.size();
    const double       h2 = bandwidth * bandwidth;
    // Exponents <= 0: no overflow; far tokens underflow to 0, as they should.
    double sum = 0.;
    if (geometry == Geometry::sphere)
      {
        const double kappa = 1. / h2;
        for (std::size_t i = 0; i < n; ++i)
          {
            double cosine = 0.;
            for (unsigned int k = 0; k < d; ++k)
              cosine += file_tokens[i][k] * x[k];
            sum += std::exp(kappa * (cosine - 1.));
          }
        return std::exp(log_von_mises_fisher_constant(kappa, d)) * sum / n;
      }
    for (std::size_t i = 0; i < n; ++i)
      {
        double distance2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          distance2 += (x[k] - file_tokens[i][k]) * (x[k] - file_tokens[i][k]);
        sum += std::exp(-0.5 * distance2 / h2);
      }
    return sum / n / std::pow(2. * M_PI * h2, 0.5 * d);
  }



  double
  InitialMeasure::component_weight(const unsigned int c) const
  {
    return cumulative_weights[c] - (c == 0 ? 0. : cumulative_weights[c - 1]);
  }



  double
  InitialMeasure::density_function(const double *x) const
  {
    double value = 0.;
    if (function_1d)
      value = function_1d->value(dealii::Point<1>(x[0]));
    else if (function_2d)
      value = function_2d->value(dealii::Point<2>(x[0], x[1]));
    else if (geometry == Geometry::sphere && dimension == 2)
      value = function_3d->value(
        dealii::Point<3>(x[0], x[1], std::atan2(x[1], x[0])));
    else
      value = function_3d->value(dealii::Point<3>(x[0], x[1], x[2]));
    if (!(std::isfinite(value) && value >= 0.))
      {
        std::ostringstream point;
        for (unsigned int k = 0; k < dimension; ++k)
          point << (k ? ", " : "") << x[k];
        throw InputError(section + "density function",
                         "'" + density_expression + "' is " +
                           std::to_string(value) + " at x = (" + point.str() +
                           "); a density must be finite and >= 0");
      }
    return value;
  }



  PointSet
  InitialMeasure::sample_function(RandomGenerator  &random,
                                  const std::size_t n) const
  {
    // A bound of the density from probes, raised (and the sampling restarted)
    // whenever a proposal exceeds it.
    std::vector<double> x(dimension);
    double              bound = 0.;
    for (unsigned int probe = 0; probe < 20000; ++probe)
      {
        draw_uniform(random, x.data());
        bound = std::max(bound, density_function(x.data()));
      }
    if (bound == 0.)
      throw InputError(section + "density function",
                       "'" + density_expression +
                         "' vanishes at every probe point of the domain");
    bound *= 1.5;

    PointSet          tokens(dimension, n);
    std::size_t       accepted      = 0;
    const std::size_t max_proposals = 100000 * (n + 10);
    for (std::size_t proposals = 0; accepted < n; ++proposals)
      {
        if (proposals == max_proposals)
          throw InputError(section + "density function",
                           "rejection sampling accepts fewer than 1 in 1e5 "
                           "proposals; the density is too concentrated for "
                           "the domain");
        draw_uniform(random, x.data());
        const double f = density_function(x.data());
        if (f > bound)
          {
            bound    = 2. * f;
            accepted = 0;
            continue;
          }
        if (random.uniform() * bound < f)
          std::copy(x.begin(), x.end(), tokens[accepted++]);
      }
    return tokens;
  }



  void
  InitialMeasure::read_tokens_file(const std::string &file_name)
  {
    const std::string parameter = section + "tokens file";
    if (file_name.empty())
      throw InputError(parameter, "is empty, but type = tokens file");
    std::ifstream in(file_name);
    if (!in || !std::filesystem::is_regular_file(file_name))
      throw InputError(parameter, "cannot open '" + file_name + "' as a file");
    file_tokens = PointSet(dimension, 0);
    std::string line;
    for (unsigned int line_number = 1; std::getline(in, line); ++line_number)
      {
        if (line.find_first_not_of(" \t\r") == std::string::npos ||
            line[line.find_first_not_of(" \t\r")] == '#')
          continue;
        const std::string where = file_name + ":" + std::to_string(line_number);
        std::vector<double> token;
        try
          {
            token = parse_numbers(line, where);
          }
        catch (const InputError &)
          {
            throw InputError(where,
                             "cannot read '" + line +
                               "' as comma-separated finite numbers");
          }
        if (token.size() != dimension)
          throw InputError(where,
                           "has " + std::to_string(token.size()) +
                             " numbers, but Model/dimension = " +
                             std::to_string(dimension));
        if (geometry == Geometry::sphere)
          {
            double norm2 = 0.;
            for (const double c : token)
              norm2 += c * c;
            if (!(norm2 > 0.))
              throw InputError(where, "a token on the sphere must not be 0");
            for (double &c : token)
              c /= std::sqrt(norm2);
          }
        file_tokens.coordinates.insert(file_tokens.coordinates.end(),
                                       token.begin(),
                                       token.end());
      }
    if (file_tokens.size() == 0)
      throw InputError(parameter, "'" + file_name + "' holds no tokens");
  }
} // namespace attnflow
