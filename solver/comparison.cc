#include <attnflow/comparison.h>
#include <attnflow/field_method.h>
#include <attnflow/random.h>

#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace attnflow
{
  namespace
  {
    /** Atoms (position, weight) sorted by position, weights summing to 1. */
    std::vector<std::pair<double, double>>
    sorted_atoms(const std::vector<double> &x, const std::vector<double> &w)
    {
      if (x.size() != w.size() || x.empty())
        throw std::invalid_argument("a measure needs as many weights as "
                                    "atoms, and at least one atom");
      const double total = std::accumulate(w.begin(), w.end(), 0.);
      if (!(total > 0.))
        throw std::invalid_argument("a measure needs positive mass");
      std::vector<std::pair<double, double>> atoms(x.size());
      for (std::size_t i = 0; i < x.size(); ++i)
        atoms[i] = {x[i], w[i] / total};
      std::sort(atoms.begin(), atoms.end());
      return atoms;
    }

    /**
     * log of sum_i sum_j a_i b_j exp(-|x_i - y_j|^2 / (2 sigma^2)), a and b
     * normalised to mass 1.
     */
    double
    log_kernel_sum(const WeightedPoints &mu,
                   const WeightedPoints &nu,
                   const double          sigma,
                   const KernelEngine   &engine)
    {
      const unsigned int d       = mu.points.dimension;
      const double       inverse = 1. / (sigma * sigma);
      const double       log_a =
        -std::log(std::accumulate(mu.weights.begin(), mu.weights.end(), 0.));
      const double log_b =
        -std::log(std::accumulate(nu.weights.begin(), nu.weights.end(), 0.));
      PointSet            queries = mu.points;
      std::vector<double> log_weights(nu.points.size());
      for (double &c : queries.coordinates)
        c *= inverse;
      for (std::size_t j = 0; j < nu.points.size(); ++j)
        {
          double norm2 = 0.;
          for (unsigned int k = 0; k < d; ++k)
            norm2 += nu.points[j][k] * nu.points[j][k];
          log_weights[j] =
            std::log(nu.weights[j]) + log_b - 0.5 * inverse * norm2;
        }
      KernelSums sums;
      engine.evaluate_log_weights(queries,
                                  nu.points,
                                  log_weights,
                                  PointSet(0, nu.points.size()),
                                  sums);
      std::vector<double> terms;
      for (std::size_t i = 0; i < mu.points.size(); ++i)
        {
          if (!(mu.weights[i] > 0.))
            continue;
          double norm2 = 0.;
          for (unsigned int k = 0; k < d; ++k)
            norm2 += mu.points[i][k] * mu.points[i][k];
          terms.push_back(std::log(mu.weights[i]) + log_a -
                          0.5 * inverse * norm2 + sums.shift[i] +
                          std::log(sums.normaliser[i]));
        }
      return log_sum_exp(terms);
    }

    /**
     * The kernel sums of the MMD lose no range as the weights of a
     * KernelSumProblem when the factors exp(-|y_j|^2 / (2 sigma^2)) of the
     * sources span at most e^600 (doc/theory.md section 6.6).
     */
    constexpr double max_log_weight_range = 600.;

    /** |x|^2. */
    double
    norm2(const double *x, const unsigned int d)
    {
      double s = 0.;
      for (unsigned int k = 0; k < d; ++k)
        s += x[k] * x[k];
      return s;
    }

    /** Whether every point of @p measure is within 1e-9 of the unit sphere. */
    bool
    on_unit_sphere(const WeightedPoints &measure)
    {
      for (std::size_t i = 0; i < measure.points.size(); ++i)
        if (std::abs(norm2(measure.points[i], measure.points.dimension) - 1.) >
            2e-9)
          return false;
      return true;
    }

    /**
     * log k(mu, nu) as log_kernel_sum(), with the atoms of @p mu as targets
     * and those of @p nu as sources, into @p result, by the first method of
     * @p methods that serves the kernel sum problem
     *
     *   S_i = sum_j w'_j exp(<x_i, y_j> / sigma^2),
     *   w'_j = b_j exp(-|y_j|^2 / (2 sigma^2) - m),
     *
     * with m the largest exponent (doc/theory.md section 6.6), its guard
     * handing the targets it cannot certify to @p tolerance to the direct
     * sum. False (and nothing computed) where no method serves, or where the
     * weights w'_j would lose range.
     */
    bool
    fast_log_kernel_sum(const WeightedPoints    &mu,
                        const WeightedPoints    &nu,
                        const double             sigma,
                        const KernelEngine      &engine,
                        const FieldMethodChoice &methods,
                        const double             tolerance,
                        const std::string       &label,
                        double                  &result)
    {
      const unsigned int d       = mu.points.dimension;
      const double       inverse = 1. / (sigma * sigma);
      const std::size_t  n_s     = nu.points.size();

      std::vector<double> weights(n_s);
      double              top      = -std::numeric_limits<double>::infinity();
      bool                in_range = true;
      for (std::size_t j = 0; j < n_s; ++j)
        {
          in_range = in_range && nu.weights[j] >= 0.;
          weights[j] =
            std::log(nu.weights[j]) - 0.5 * inverse * norm2(nu.points[j], d);
          top = std::max(top, weights[j]);
        }
      in_range = in_range && std::isfinite(top);
      for (std::size_t j = 0; j < n_s; ++j)
        {
          // Zero weights stay zero; the others must stay normal numbers.
          in_range   = in_range && (nu.weights[j] == 0. ||
                                  weights[j] - top >= -max_log_weight_range);
          weights[j] = std::exp(weights[j] - top);
        }
      if (!in_range)
        return false;
      std::vector<double> A(std::size_t(d) * d, 0.);
      for (unsigned int k = 0; k < d; ++k)
        A[k * d + k] = inverse;
      const PointSet         no_values(0, n_s);
      const KernelSumProblem problem{mu.points,
                                     nu.points,
                                     weights,
                                     no_values,
                                     A,
                                     tolerance};
      const FieldMethod     *method = methods.choose(problem, label);
      if (method == nullptr)
        return false;

      KernelSums        sums;
      const std::size_t n_rejected =
        evaluate_guarded(*method, problem, engine, sums);
      methods.count(label, mu.points.size(), n_rejected);
      const double log_a =
        -std::log(std::accumulate(mu.weights.begin(), mu.weights.end(), 0.));
      const double log_b =
        -std::log(std::accumulate(nu.weights.begin(), nu.weights.end(), 0.));
      std::vector<double> terms;
      for (std::size_t i = 0; i < mu.points.size(); ++i)
        if (mu.weights[i] > 0.)
          terms.push_back(std::log(mu.weights[i]) + log_a -
                          0.5 * inverse * norm2(mu.points[i], d) + top + log_b +
                          sums.shift[i] + std::log(sums.normaliser[i]));
      result = log_sum_exp(terms);
      return true;
    }

    /**
     * log k(mu, nu) by fast_log_kernel_sum(), the larger measure's atoms as
     * targets first (a target the guard rejects then costs a direct sum
     * over the smaller one), then the other way round (the tensor product
     * needs its sources on a grid); by log_kernel_sum() if neither serves.
     */
    double
    log_kernel_sum(const WeightedPoints    &mu,
                   const WeightedPoints    &nu,
                   const double             sigma,
                   const KernelEngine      &engine,
                   const FieldMethodChoice &methods,
                   const double             tolerance,
                   const std::string       &label)
    {
      const bool            larger_nu = nu.points.size() > mu.points.size();
      const WeightedPoints &first     = larger_nu ? nu : mu;
      const WeightedPoints &second    = larger_nu ? mu : nu;
      double                result    = 0.;
      if (fast_log_kernel_sum(first,
                              second,
                              sigma,
                              engine,
                              methods,
                              tolerance,
                              label,
                              result))
        return result;
      if (&mu != &nu && fast_log_kernel_sum(second,
                                            first,
                                            sigma,
                                            engine,
                                            methods,
                                            tolerance,
                                            label,
                                            result))
        return result;
      return log_kernel_sum(mu, nu, sigma, engine);
    }
  } // namespace



  std::string
  column_name(const Distance distance)
  {
    // In the order of the enumerators.
    const char *const names[] = {"w1", "w2", "sliced_w2", "mmd"};
    return names[static_cast<unsigned int>(distance)];
  }



  std::vector<Distance>
  measured_distances(const Geometry geometry, const unsigned int dimension)
  {
    if (geometry == Geometry::euclidean && dimension == 1)
      return {Distance::w1, Distance::w2, Distance::mmd};
    if (geometry == Geometry::sphere && dimension == 2)
      return {Distance::w1, Distance::mmd};
    return {Distance::sliced_w2, Distance::mmd};
  }



  double
  wasserstein_1d(const std::vector<double> &x,
                 const std::vector<double> &a,
                 const std::vector<double> &y,
                 const std::vector<double> &b,
                 const double               p)
  {
    const auto  mu = sorted_atoms(x, a), nu = sorted_atoms(y, b);
    std::size_t i = 0, j = 0;
    double      left_mu = mu[0].second, left_nu = nu[0].second, cost = 0.;
    while (i < mu.size() && j < nu.size())
      {
        // Transport the smaller remainder between the current quantiles,
        // then move on past the atom that is used up.
        const double m = std::min(left_mu, left_nu);
        cost += m * std::pow(std::abs(mu[i].first - nu[j].first), p);
        left_mu -= m;
        left_nu -= m;
        if (left_mu <= left_nu)
          {
            if (++i < mu.size())
              left_mu = mu[i].second;
          }
        else if (++j < nu.size())
          left_nu = nu[j].second;
      }
    return std::pow(cost, 1. / p);
  }



  PiecewisePolynomialDensity::PiecewisePolynomialDensity(
    std::vector<double>              vertices,
    std::vector<double>              nodes,
    std::vector<std::vector<double>> values)
      : vertices(std::move(vertices))
      , nodes(std::move(nodes))
      , values(std::move(values))
      , denominators(this->nodes.size(), 1.)
  {
    const unsigned int n_nodes = this->nodes.size();
    for (unsigned int i = 0; i < n_nodes; ++i)
      for (unsigned int j = 0; j < n_nodes; ++j)
        if (j != i)
          denominators[i] *= this->nodes[i] - this->nodes[j];
    const dealii::QGauss<1> gauss(n_nodes + 2);
    for (unsigned int q = 0; q < gauss.size(); ++q)
      {
        gauss_points.push_back(gauss.point(q)[0]);
        gauss_weights.push_back(gauss.weight(q));
      }
    cumulative_mass.assign(1, 0.);
    for (unsigned int c = 0; c + 1 < this->vertices.size(); ++c)
      cumulative_mass.push_back(cumulative_mass.back() + partial_mass(c, 1.));
  }



  double
  PiecewisePolynomialDensity::value(const unsigned int c, const double xi) const
  {
    double sum = 0.;
    for (unsigned int i = 0; i < nodes.size(); ++i)
      {
        double basis = values[c][i] / denominators[i];
        for (unsigned int j = 0; j < nodes.size(); ++j)
          if (j != i)
            basis *= xi - nodes[j];
        sum += basis;
      }
    return sum;
  }



  double
  PiecewisePolynomialDensity::partial_mass(const unsigned int c,
                                           const double       xi) const
  {
    double sum = 0.;
    for (unsigned int q = 0; q < gauss_points.size(); ++q)
      sum += gauss_weights[q] * value(c, xi * gauss_points[q]);
    return sum * xi * (vertices[c + 1] - vertices[c]);
  }



  unsigned int
  PiecewisePolynomialDensity::cell_of(const double x) const
  {
    const auto upper = std::upper_bound(vertices.begin(), vertices.end(), x);
    const long c     = (upper - vertices.begin()) - 1;
    return std::clamp<long>(c, 0, vertices.size() - 2);
  }



  double
  PiecewisePolynomialDensity::cumulative(const double x) const
  {
    if (x <= vertices.front())
      return 0.;
    if (x >= vertices.back())
      return mass();
    const unsigned int c = cell_of(x);
    return cumulative_mass[c] +
           partial_mass(c, (x - vertices[c]) / (vertices[c + 1] - vertices[c]));
  }



  double
  PiecewisePolynomialDensity::quantile(const double m) const
  {
    // The cell where the cumulative mass reaches m, then bisection on the
    // (monotone) partial mass in it, to round-off.
    const auto upper =
      std::upper_bound(cumulative_mass.begin(), cumulative_mass.end(), m);
    const unsigned int c =
      std::clamp<long>((upper - cumulative_mass.begin()) - 1,
                       0,
                       vertices.size() - 2);
    const double target = m - cumulative_mass[c];
    double       lower = 0., higher = 1.;
    for (unsigned int iteration = 0; iteration < 60; ++iteration)
      {
        const double middle = 0.5 * (lower + higher);
        (partial_mass(c, middle) < target ? lower : higher) = middle;
      }
    return vertices[c] +
           0.5 * (lower + higher) * (vertices[c + 1] - vertices[c]);
  }



  double
  PiecewisePolynomialDensity::cell_cost(const unsigned int c,
                                        const double       a,
                                        const double       b,
                                        const double       y,
                                        const double       p) const
  {
    const double h = vertices[c + 1] - vertices[c], length = b - a;
    double       sum = 0.;
    for (unsigned int q = 0; q < gauss_points.size(); ++q)
      {
        const double x = a + length * gauss_points[q];
        sum += gauss_weights[q] * std::pow(std::abs(x - y), p) *
               value(c, (x - vertices[c]) / h);
      }
    return sum * length;
  }



  double
  PiecewisePolynomialDensity::transport_cost(const double a,
                                             const double b,
                                             const double y,
                                             const double p) const
  {
    double cost = 0.;
    for (unsigned int c = cell_of(a); c + 1 < vertices.size(); ++c)
      {
        const double from = std::max(a, vertices[c]);
        const double to   = std::min(b, vertices[c + 1]);
        if (from >= b)
          break;
        if (from < y && y < to)
          cost += cell_cost(c, from, y, y, p) + cell_cost(c, y, to, y, p);
        else if (from < to)
          cost += cell_cost(c, from, to, y, p);
      }
    return cost;
  }



  double
  wasserstein_1d(const PiecewisePolynomialDensity &rho,
                 const std::vector<double>        &y,
                 const std::vector<double>        &b,
                 const double                      p)
  {
    const auto atoms      = sorted_atoms(y, b); // weights sum to 1
    double     cumulative = 0., lower = rho.quantile(0.), cost = 0.;
    for (const auto &[position, weight] : atoms)
      {
        cumulative += weight;
        const double upper =
          rho.quantile(std::min(cumulative, 1.) * rho.mass());
        cost += rho.transport_cost(lower, upper, position, p);
        lower = upper;
      }
    return std::pow(cost / rho.mass(), 1. / p);
  }



  double
  wasserstein1_circle(const std::vector<double> &x,
                      const std::vector<double> &a,
                      const std::vector<double> &y,
                      const std::vector<double> &b)
  {
    const double        two_pi = 2. * M_PI;
    std::vector<double> x_wrapped(x.size()), y_wrapped(y.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      x_wrapped[i] = x[i] - two_pi * std::floor(x[i] / two_pi);
    for (std::size_t j = 0; j < y.size(); ++j)
      y_wrapped[j] = y[j] - two_pi * std::floor(y[j] / two_pi);
    // Events along [0, 2 pi): +a at the atoms of mu, -b at those of nu.
    std::vector<std::pair<double, double>> events;
    for (const auto &atom : sorted_atoms(x_wrapped, a))
      events.push_back(atom);
    for (const auto &atom : sorted_atoms(y_wrapped, b))
      events.emplace_back(atom.first, -atom.second);
    std::sort(events.begin(), events.end());
    // D = F - G is constant between events, 0 before the first and after
    // the last; W1 = min_c sum_k L_k |D_k - c|, c the weighted median.
    std::vector<std::pair<double, double>> pieces; // (D_k, L_k)
    double                                 difference = 0.;
    for (std::size_t k = 0; k < events.size(); ++k)
      {
        difference += events[k].second;
        const double end = k + 1 < events.size() ? events[k + 1].first : two_pi;
        pieces.emplace_back(difference, end - events[k].first);
      }
    pieces.emplace_back(0., events.front().first);
    std::vector<std::pair<double, double>> sorted = pieces;
    std::sort(sorted.begin(), sorted.end());
    double median = sorted.front().first, covered = 0.;
    for (const auto &[value, length] : sorted)
      {
        covered += length;
        median = value;
        if (covered >= M_PI)
          break;
      }
    double distance = 0.;
    for (const auto &[value, length] : pieces)
      distance += length * std::abs(value - median);
    return distance;
  }



  namespace
  {
    /**
     * The pieces of the circle between consecutive atoms: [a, b] with
     * F(a), F(b) (cumulative mass of rho, normalised) and G (the atoms'
     * cumulative weight on the piece).
     */
    struct CirclePiece
    {
      double a, b, F_a, F_b, G;
    };

    /**
     * The measure of {theta in the piece: F(theta) - G < c}: F - G is
     * increasing on a piece.
     */
    double
    measure_below(const PiecewisePolynomialDensity &rho,
                  const CirclePiece                &piece,
                  const double                      c)
    {
      if (piece.F_b - piece.G <= c)
        return piece.b - piece.a;
      if (piece.F_a - piece.G >= c)
        return 0.;
      const double root = rho.quantile((piece.G + c) * rho.mass());
      return std::clamp(root, piece.a, piece.b) - piece.a;
    }

    /** int_a^b (F - G - c) over [a, b] inside a piece. */
    double
    signed_integral(const PiecewisePolynomialDensity &rho,
                    const double                      a,
                    const double                      b,
                    const double                      F_b,
                    const double                      G,
                    const double                      c)
    {
      // int_a^b F = (b - a) F(b) - int_a^b (theta - a) rho.
      const double integral_F =
        (b - a) * F_b - rho.transport_cost(a, b, a, 1.) / rho.mass();
      return integral_F - (G + c) * (b - a);
    }
  } // namespace



  double
  wasserstein1_circle(const PiecewisePolynomialDensity &rho,
                      const std::vector<double>        &y,
                      const std::vector<double>        &b)
  {
    const double        two_pi = 2. * M_PI, start = rho.start();
    std::vector<double> wrapped(y.size());
    for (std::size_t j = 0; j < y.size(); ++j)
      wrapped[j] = y[j] - two_pi * std::floor((y[j] - start) / two_pi);
    const auto atoms = sorted_atoms(wrapped, b);
    double     total = 0.;
    for (const auto &atom : atoms)
      total += atom.second;

    const double             mass = rho.mass();
    std::vector<CirclePiece> pieces;
    double                   a = start, F_a = 0., G = 0.;
    for (std::size_t j = 0; j <= atoms.size(); ++j)
      {
        const double end   = j < atoms.size() ? atoms[j].first : start + two_pi;
        const double F_end = j < atoms.size() ? rho.cumulative(end) / mass : 1.;
        pieces.push_back({a, end, F_a, F_end, G});
        if (j < atoms.size())
          G += atoms[j].second / total;
        a   = end;
        F_a = F_end;
      }

    // c: the measure of {F - G < c} is pi (half the circle), by bisection
    // on [min (F - G), max (F - G)].
    double lower = 0., upper = 0.;
    for (const CirclePiece &piece : pieces)
      {
        lower = std::min(lower, piece.F_a - piece.G);
        upper = std::max(upper, piece.F_b - piece.G);
      }
    for (unsigned int iteration = 0; iteration < 60; ++iteration)
      {
        const double middle = 0.5 * (lower + upper);
        double       below  = 0.;
        for (const CirclePiece &piece : pieces)
          below += measure_below(rho, piece, middle);
        (below < M_PI ? lower : upper) = middle;
      }
    const double c = 0.5 * (lower + upper);

    double distance = 0.;
    for (const CirclePiece &piece : pieces)
      {
        if (piece.b <= piece.a)
          continue;
        if (piece.F_a - piece.G < c && c < piece.F_b - piece.G)
          {
            const double root =
              std::clamp(rho.quantile((piece.G + c) * mass), piece.a, piece.b);
            distance -=
              signed_integral(rho, piece.a, root, piece.G + c, piece.G, c);
            distance +=
              signed_integral(rho, root, piece.b, piece.F_b, piece.G, c);
          }
        else
          distance += std::abs(
            signed_integral(rho, piece.a, piece.b, piece.F_b, piece.G, c));
      }
    return distance;
  }



  PointSet
  sliced_directions(const unsigned int  d,
                    const unsigned int  n,
                    const std::uint64_t seed)
  {
    RandomGenerator random(seed, 0x51ced);
    PointSet        directions(d, n);
    for (unsigned int i = 0; i < n; ++i)
      {
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          {
            directions[i][k] = random.normal();
            norm2 += directions[i][k] * directions[i][k];
          }
        for (unsigned int k = 0; k < d; ++k)
          directions[i][k] /= std::sqrt(norm2);
      }
    return directions;
  }



  double
  sliced_wasserstein2(const WeightedPoints &mu,
                      const WeightedPoints &nu,
                      const PointSet       &directions)
  {
    const unsigned int  d = directions.dimension;
    std::vector<double> x(mu.points.size()), y(nu.points.size());
    double              sum = 0.;
    for (std::size_t l = 0; l < directions.size(); ++l)
      {
        for (std::size_t i = 0; i < x.size(); ++i)
          {
            x[i] = 0.;
            for (unsigned int k = 0; k < d; ++k)
              x[i] += directions[l][k] * mu.points[i][k];
          }
        for (std::size_t j = 0; j < y.size(); ++j)
          {
            y[j] = 0.;
            for (unsigned int k = 0; k < d; ++k)
              y[j] += directions[l][k] * nu.points[j][k];
          }
        const double w2 = wasserstein_1d(x, mu.weights, y, nu.weights, 2.);
        sum += w2 * w2;
      }
    return std::sqrt(sum / directions.size());
  }



  double
  maximum_mean_discrepancy(const WeightedPoints &mu,
                           const WeightedPoints &nu,
                           const double          sigma,
                           const KernelEngine   &engine)
  {
    return maximum_mean_discrepancy(mu,
                                    nu,
                                    sigma,
                                    engine,
                                    FieldMethodChoice({}),
                                    0.);
  }



  double
  maximum_mean_discrepancy(const WeightedPoints    &mu,
                           const WeightedPoints    &nu,
                           const double             sigma,
                           const KernelEngine      &engine,
                           const FieldMethodChoice &methods,
                           const double             tolerance)
  {
    // The kernel is translation invariant: centre both measures at the mean
    // of mu, so that the exponents (|x|^2 / sigma^2) stay small; on the unit
    // sphere, where they are at most 1 / sigma^2, the fast methods need the
    // points where they are.
    const unsigned int d = mu.points.dimension;
    const double       total =
      std::accumulate(mu.weights.begin(), mu.weights.end(), 0.);
    std::vector<double> centre(d, 0.);
    const bool          keep_sphere =
      methods.has_candidates() && on_unit_sphere(mu) && on_unit_sphere(nu);
    if (!keep_sphere)
      for (std::size_t i = 0; i < mu.points.size(); ++i)
        for (unsigned int k = 0; k < d; ++k)
          centre[k] += mu.weights[i] * mu.points[i][k] / total;
    WeightedPoints a = mu, b = nu;
    for (WeightedPoints *measure : {&a, &b})
      for (std::size_t i = 0; i < measure->points.size(); ++i)
        for (unsigned int k = 0; k < d; ++k)
          measure->points[i][k] -= centre[k];
    const auto sum =
      [&](const WeightedPoints &p, const WeightedPoints &q, const char *label) {
        return methods.has_candidates() ?
                 std::exp(log_kernel_sum(p,
                                         q,
                                         sigma,
                                         engine,
                                         methods,
                                         tolerance,
                                         label)) :
                 std::exp(log_kernel_sum(p, q, sigma, engine));
      };
    const double mm = sum(a, a, "MMD k(mu, mu)");
    const double nn = sum(b, b, "MMD k(nu, nu)");
    const double mn = sum(a, b, "MMD k(mu, nu)");
    return std::sqrt(std::max(0., mm + nn - 2. * mn));
  }
} // namespace attnflow
