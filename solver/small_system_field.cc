/**
 * @file
 * The small-system kernel: per target one pass over the (padded) sources
 * for the exponents and their maximum, one for the exponentials and the
 * sums, vectorised over sources with the engine's exponential.
 */
#include <attnflow/exceptions.h>
#include <attnflow/small_system_field.h>
#include <attnflow/vector_exp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace attnflow
{
  using namespace simd;

  SmallSystemField::SmallSystemField(const Model &model)
      : geometry(model.geometry)
      , normalization(model.normalization)
      , dimension(model.dimension)
      , beta(model.beta)
  {}



  std::vector<SmallHead>
  SmallSystemField::prepare(const Layer &layer) const
  {
    const unsigned int     d = dimension;
    std::vector<SmallHead> heads;
    for (const AttentionHead &head : layer.heads)
      {
        SmallHead small{std::vector<double>(std::size_t(d) * d, 0.),
                        std::vector<double>(std::size_t(d) * d, 0.)};
        // B = beta Q^T K: <Q x, K y> = x^T Q^T K y (Q, K of d_k rows).
        for (unsigned int r = 0; r < d; ++r)
          for (unsigned int k = 0; k < head.Q.rows; ++k)
            for (unsigned int c = 0; c < d; ++c)
              small.B[r * d + c] += beta * head.Q(k, r) * head.K(k, c);
        for (unsigned int r = 0; r < d; ++r)
          for (unsigned int c = 0; c < d; ++c)
            small.V[r * d + c] = head.V(r, c);
        heads.push_back(std::move(small));
      }
    return heads;
  }



  void
  SmallSystemField::evaluate(const std::vector<SmallHead> &heads,
                             const std::vector<double>    &y,
                             std::vector<double>          &velocity,
                             Workspace                    &work) const
  {
    const unsigned int d = dimension;
    const std::size_t  n = y.size() / d;
    // Sources padded to whole vectors; padded exponents are -inf.
    const std::size_t n_padded = (n + lanes - 1) / lanes * lanes;
    work.x.assign(y.begin(), y.end());
    if (geometry == Geometry::sphere)
      for (std::size_t i = 0; i < n; ++i)
        {
          double norm2 = 0.;
          for (unsigned int k = 0; k < d; ++k)
            norm2 += work.x[i * d + k] * work.x[i * d + k];
          const double inverse = 1. / std::sqrt(norm2);
          for (unsigned int k = 0; k < d; ++k)
            work.x[i * d + k] *= inverse;
        }
    velocity.assign(n * d, 0.);
    work.keys.resize(n_padded * d);
    work.values.resize(n_padded * d);
    work.exponents.resize(n_padded);
    const double *x = work.x.data();

    for (const SmallHead &head : heads)
      {
        // keys b_j = B x_j and values V x_j, component-major (SoA).
        for (unsigned int r = 0; r < d; ++r)
          {
            double *key   = work.keys.data() + r * n_padded;
            double *value = work.values.data() + r * n_padded;
            for (std::size_t j = 0; j < n; ++j)
              {
                double b = 0., v = 0.;
                for (unsigned int c = 0; c < d; ++c)
                  {
                    b += head.B[r * d + c] * x[j * d + c];
                    v += head.V[r * d + c] * x[j * d + c];
                  }
                key[j]   = b;
                value[j] = v;
              }
            for (std::size_t j = n; j < n_padded; ++j)
              key[j] = value[j] = 0.;
          }
        for (std::size_t i = 0; i < n; ++i)
          {
            // e_j = <x_i, b_j> and its maximum.
            vdouble maximum = broadcast(-std::numeric_limits<double>::max());
            for (std::size_t j = 0; j < n_padded; j += lanes)
              {
                vdouble e = broadcast(0.);
                for (unsigned int k = 0; k < d; ++k)
                  e += x[i * d + k] * load(work.keys.data() + k * n_padded + j);
                store(work.exponents.data() + j, e);
                if (j + lanes > n)
                  {
                    std::fill(work.exponents.data() + n,
                              work.exponents.data() + j + lanes,
                              -std::numeric_limits<double>::infinity());
                    e = load(work.exponents.data() + j);
                  }
                maximum = select(e > maximum, e, maximum);
              }
            double shift = maximum[0];
            for (unsigned int l = 1; l < lanes; ++l)
              shift = std::max(shift, maximum[l]);
            // Z = sum_j exp(e_j - shift), s = sum_j exp(e_j - shift) v_j.
            vdouble normaliser = broadcast(0.);
            for (std::size_t j = 0; j < n_padded; j += lanes)
              {
                const vdouble p =
                  exp_nonpositive(load(work.exponents.data() + j) - shift);
                store(work.exponents.data() + j, p);
                normaliser += p;
              }
            double z = 0.;
            for (unsigned int l = 0; l < lanes; ++l)
              z += normaliser[l];
            for (unsigned int c = 0; c < d; ++c)
              {
                vdouble       sum   = broadcast(0.);
                const double *value = work.values.data() + c * n_padded;
                for (std::size_t j = 0; j < n_padded; j += lanes)
                  sum += load(work.exponents.data() + j) * load(value + j);
                double s = 0.;
                for (unsigned int l = 0; l < lanes; ++l)
                  s += sum[l];
                velocity[i * d + c] +=
                  normalization == Normalization::softmax ?
                    s / z :
                    std::exp(shift - std::log(double(n))) * s;
              }
          }
      }
    for (const double v : velocity)
      if (!std::isfinite(v))
        {
          std::ostringstream message;
          message << "the attention field of an ensemble system is not "
                     "finite";
          if (normalization == Normalization::uniform)
            message << ": uniform (USA) attention overflows the double range "
                       "(beta = "
                    << beta
                    << "); use normalization = softmax or a smaller "
                       "beta";
          throw NumericalError(message.str());
        }
    if (geometry == Geometry::sphere)
      for (std::size_t i = 0; i < n; ++i)
        {
          double dot = 0.;
          for (unsigned int k = 0; k < d; ++k)
            dot += x[i * d + k] * velocity[i * d + k];
          for (unsigned int k = 0; k < d; ++k)
            velocity[i * d + k] -= dot * x[i * d + k];
        }
  }
} // namespace attnflow
