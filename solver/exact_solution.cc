#include <attnflow/exact_solution.h>
#include <attnflow/exceptions.h>

#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <cmath>

namespace attnflow
{
  namespace
  {
    /** A B for square matrices. */
    SquareMatrix
    product(const SquareMatrix &A, const SquareMatrix &B)
    {
      const unsigned int d = A.dimension;
      SquareMatrix       C(d);
      for (unsigned int i = 0; i < d; ++i)
        for (unsigned int k = 0; k < d; ++k)
          for (unsigned int j = 0; j < d; ++j)
            C(i, j) += A(i, k) * B(k, j);
      return C;
    }

    /** y + h dy, entry by entry. */
    Moments
    axpy(const Moments &y, const double h, const Moments &dy)
    {
      Moments z = y;
      for (std::size_t i = 0; i < z.mean.size(); ++i)
        z.mean[i] += h * dy.mean[i];
      for (std::size_t i = 0; i < z.covariance.entries.size(); ++i)
        z.covariance.entries[i] += h * dy.covariance.entries[i];
      return z;
    }

    /**
     * (m', S') of the moment equations under @p layer, with the linear
     * feed-forward flow W x + b where @p feed_forward (doc/theory.md 1.3).
     */
    Moments
    derivative(const Moments &y,
               const Layer   &layer,
               const double   beta,
               const bool     feed_forward)
    {
      const unsigned int d = y.mean.size();
      SquareMatrix       A(d);
      Moments            dy{std::vector<double>(d, 0.), SquareMatrix(d)};
      for (const AttentionHead &head : layer.heads)
        {
          const SquareMatrix VSKQ = product(product(head.V, y.covariance),
                                            transpose_product(head.K, head.Q));
          for (std::size_t i = 0; i < A.entries.size(); ++i)
            A.entries[i] += beta * VSKQ.entries[i];
          for (unsigned int i = 0; i < d; ++i)
            for (unsigned int j = 0; j < d; ++j)
              dy.mean[i] += head.V(i, j) * y.mean[j];
        }
      if (feed_forward)
        for (unsigned int i = 0; i < d; ++i)
          {
            dy.mean[i] += layer.feed_forward.b[i];
            for (unsigned int j = 0; j < d; ++j)
              A(i, j) += layer.feed_forward.W(i, j);
          }
      const SquareMatrix AS = product(A, y.covariance);
      for (unsigned int i = 0; i < d; ++i)
        for (unsigned int j = 0; j < d; ++j)
          {
            dy.mean[i] += A(i, j) * y.mean[j];
            dy.covariance(i, j) = AS(i, j) + AS(j, i);
          }
      return dy;
    }

    /**
     * The integral of @p f over the box [@p lower, @p upper] by the tensor
     * product of 64-point Gauss rules.
     */
    double
    integrate_over_box(const std::vector<double>                   &lower,
                       const std::vector<double>                   &upper,
                       const std::function<double(const double *)> &f)
    {
      const dealii::QGauss<1> rule(64);
      const std::size_t       n        = rule.size();
      const unsigned int      d        = lower.size();
      std::size_t             n_points = 1;
      for (unsigned int k = 0; k < d; ++k)
        n_points *= n;
      std::vector<double> x(d);
      double              integral = 0.;
      for (std::size_t index = 0; index < n_points; ++index)
        {
          double      weight = 1.;
          std::size_t rest   = index;
          for (unsigned int k = 0; k < d; ++k, rest /= n)
            {
              const double width = upper[k] - lower[k];
              x[k]               = lower[k] + width * rule.point(rest % n)[0];
              weight *= width * rule.weight(rest % n);
            }
          integral += weight * f(x.data());
        }
      return integral;
    }
  } // namespace



  ExactSolution::ExactSolution(const Model          &model,
                               const InitialMeasure &initial_measure,
                               const std::string    &parameter)
      : model(model)
      , initial_measure(initial_measure)
      , parameter(parameter)
  {
    const std::string use_finest = "; use the finest run as the reference";
    if (model.geometry != Geometry::euclidean)
      throw InputError(parameter,
                       "no exact solution is known on the sphere" + use_finest);
    if (model.mask.kind != AttentionMask::Kind::none)
      throw InputError(parameter,
                       "no exact solution is known under a causal mask" +
                         use_finest);
    if (model.feed_forward && model.activation != Activation::identity)
      throw InputError(parameter,
                       "an exact solution needs a linear feed-forward flow "
                       "(Model/feed forward activation = identity)" +
                         use_finest);
    // With W != 0 the flow is affine, no translation: from a Gaussian only.
    const bool translation = model.beta == 0. && !model.feed_forward;
    if (!translation && !(model.normalization == Normalization::softmax &&
                          initial_measure.is_gaussian()))
      throw InputError(parameter,
                       "an exact solution needs beta = 0 without "
                       "feed-forward flow (E1) or softmax attention from one "
                       "Gaussian (E2)" +
                         use_finest);
    if (!initial_measure.moments(initial_moments.mean,
                                 initial_moments.covariance))
      throw InputError(parameter,
                       "the mean of a density function is not known in "
                       "closed form" +
                         use_finest);
  }



  Moments
  ExactSolution::integrate(Moments y, const double t) const
  {
    for (const Model::Interval &interval : model.intervals(0., t))
      {
        const double length = interval.end - interval.start;
        const auto   n_steps =
          static_cast<unsigned int>(std::max(1., std::ceil(length / 1e-3)));
        const double h = length / n_steps;
        const auto   f = [&](const Moments &z) {
          return derivative(z, *interval.layer, model.beta, model.feed_forward);
        };
        for (unsigned int step = 0; step < n_steps; ++step)
          {
            const Moments k1 = f(y);
            const Moments k2 = f(axpy(y, h / 2, k1));
            const Moments k3 = f(axpy(y, h / 2, k2));
            const Moments k4 = f(axpy(y, h, k3));
            y = axpy(axpy(axpy(axpy(y, h / 6, k1), h / 3, k2), h / 3, k3),
                     h / 6,
                     k4);
          }
      }
    return y;
  }



  Moments
  ExactSolution::moments(const double t) const
  {
    return integrate(initial_moments, t);
  }



  std::function<double(const double *)>
  ExactSolution::density(const double t) const
  {
    const Moments now = moments(t);
    if (!is_translation())
      return [now, L = cholesky(now.covariance, parameter)](const double *x) {
        return gaussian_density(x, now.mean, L);
      };
    std::vector<double> shift(model.dimension);
    for (unsigned int k = 0; k < model.dimension; ++k)
      shift[k] = now.mean[k] - initial_moments.mean[k];
    return [this, shift](const double *x) {
      std::vector<double> shifted(x, x + shift.size());
      for (std::size_t k = 0; k < shift.size(); ++k)
        shifted[k] -= shift[k];
      return initial_measure.density(shifted.data());
    };
  }



  double
  ExactSolution::tilted_mass_outside(const double               t,
                                     const std::vector<double> &lower,
                                     const std::vector<double> &upper) const
  {
    if (is_translation())
      return 0.;
    const unsigned int        d     = model.dimension;
    const Moments             now   = moments(t);
    const auto                rho   = density(t);
    const Layer              &layer = model.layers[model.layer_index(t)];
    std::vector<SquareMatrix> tilts; // beta S K_h^T Q_h
    std::vector<double>       mean(d);
    for (const AttentionHead &head : layer.heads)
      {
        tilts.push_back(
          product(now.covariance, transpose_product(head.K, head.Q)));
        for (double &entry : tilts.back().entries)
          entry *= model.beta;
      }
    // The mass of N(mean, S) outside the box, summed over the coordinates.
    const auto outside = [&](const std::vector<double> &centre) {
      double mass = 0.;
      for (unsigned int k = 0; k < d; ++k)
        {
          const double scale = std::sqrt(2. * now.covariance(k, k));
          mass += 0.5 * (std::erfc((centre[k] - lower[k]) / scale) +
                         std::erfc((upper[k] - centre[k]) / scale));
        }
      return std::min(mass, 1.);
    };

    return integrate_over_box(lower, upper, [&](const double *x) {
      double largest = 0.;
      for (const SquareMatrix &tilt : tilts)
        {
          for (unsigned int i = 0; i < d; ++i)
            {
              mean[i] = now.mean[i];
              for (unsigned int j = 0; j < d; ++j)
                mean[i] += tilt(i, j) * x[j];
            }
          largest = std::max(largest, outside(mean));
        }
      return rho(x) * largest;
    });
  }



  PointSet
  ExactSolution::translated_tokens(const PointSet &initial_tokens,
                                   const double    t) const
  {
    if (!is_translation())
      throw InputError(parameter,
                       "exact token positions are known for beta = 0 (E1) "
                       "only; use the finest run as the reference");
    const std::size_t n = initial_tokens.size();
    const Moments     start =
      weighted_moments(initial_tokens, std::vector<double>(n, 1. / n));
    const Moments end    = integrate(start, t);
    PointSet      tokens = initial_tokens;
    for (std::size_t i = 0; i < n; ++i)
      for (unsigned int k = 0; k < model.dimension; ++k)
        tokens[i][k] += end.mean[k] - start.mean[k];
    return tokens;
  }
} // namespace attnflow
