/**
 * @file
 * A seeded random number generator whose every draw is specified here, so
 * that the same seed gives bit-identical tokens with any standard library.
 */
#ifndef attnflow_random_h
#define attnflow_random_h

#include <cstdint>
#include <random>

namespace attnflow
{
  /**
   * Random numbers for initial measures and random weights. The engine is
   * std::mt19937_64, whose sequence the C++ standard fixes; the
   * distributions are written out here (the standard library's are
   * implementation-defined), so a seed reproduces its tokens bit for bit.
   */
  class RandomGenerator
  {
  public:
    /** A generator seeded with @p seed. */
    explicit RandomGenerator(const std::uint64_t seed);

    /** A generator for sub-stream @p stream of @p seed (e.g. per matrix). */
    RandomGenerator(const std::uint64_t seed, const std::uint64_t stream);

    /** Uniform on [0, 1), 53 random bits. */
    double
    uniform();

    /** Standard normal N(0, 1) (Box–Muller). */
    double
    normal();

    /** Gamma(shape, 1) (Marsaglia–Tsang, with the boost for shape < 1). */
    double
    gamma(const double shape);

    /** Beta(a, b) as a ratio of Gamma variables. */
    double
    beta(const double a, const double b);

  private:
    std::mt19937_64 engine;
    double          spare_normal;
    bool            has_spare_normal;
  };
} // namespace attnflow

#endif
