#include <attnflow/random.h>

#include <cmath>

namespace attnflow
{
  namespace
  {
    /** SplitMix64 finaliser: decorrelates seeds of neighbouring streams. */
    std::uint64_t
    mix(std::uint64_t z)
    {
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      return z ^ (z >> 31);
    }
  } // namespace



  RandomGenerator::RandomGenerator(const std::uint64_t seed)
      : engine(seed)
      , spare_normal(0.)
      , has_spare_normal(false)
  {}



  RandomGenerator::RandomGenerator(const std::uint64_t seed,
                                   const std::uint64_t stream)
      : RandomGenerator(mix(seed + 0x9e3779b97f4a7c15ULL * (stream + 1)))
  {}



  double
  RandomGenerator::uniform()
  {
    return static_cast<double>(engine() >> 11) * 0x1.0p-53;
  }



  double
  RandomGenerator::normal()
  {
    if (has_spare_normal)
      {
        has_spare_normal = false;
        return spare_normal;
      }
    const double u1     = 1. - uniform(); // in (0, 1]
    const double u2     = uniform();
    const double radius = std::sqrt(-2. * std::log(u1));
    const double angle  = 2. * M_PI * u2;
    spare_normal        = radius * std::sin(angle);
    has_spare_normal    = true;
    return radius * std::cos(angle);
  }



  double
  RandomGenerator::gamma(const double shape)
  {
    if (shape < 1.)
      return gamma(shape + 1.) * std::pow(1. - uniform(), 1. / shape);
    const double d = shape - 1. / 3.;
    const double c = 1. / std::sqrt(9. * d);
    while (true)
      {
        double x, v;
        do
          {
            x = normal();
            v = 1. + c * x;
        } while (v <= 0.);
        v              = v * v * v;
        const double u = 1. - uniform();
        if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v))
          return d * v;
      }
  }



  double
  RandomGenerator::beta(const double a, const double b)
  {
    const double x = gamma(a);
    const double y = gamma(b);
    return x / (x + y);
  }
} // namespace attnflow
