/**
 * @file
 * Small helpers shared by the tests: parameters from a string, scratch
 * folders, random points and the lines of a method report.
 */
#ifndef attnflow_test_helpers_h
#define attnflow_test_helpers_h

#include <attnflow/parameters.h>
#include <attnflow/point_sets.h>
#include <attnflow/random.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace attnflow::testing
{
  /** Whether some line of @p report (a method report) contains @p text. */
  inline bool
  mentions(const std::vector<std::string> &report, const std::string &text)
  {
    for (const std::string &line : report)
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  }

  /**
   * A fresh, empty scratch folder named @p name, private to this process
   * (ctest -j runs tests in parallel processes).
   */
  inline std::filesystem::path
  scratch_directory(const std::string &name)
  {
    const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("attnflow_test_" + std::to_string(getpid()) + "_" + name);
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path;
  }

  /** The bytes of the file @p path ("" if it cannot be read). */
  inline std::string
  read_text(const std::filesystem::path &path)
  {
    std::stringstream s;
    s << std::ifstream(path, std::ios::binary).rdbuf();
    return s.str();
  }

  /** Writes @p text to @p path. */
  inline void
  write_text(const std::filesystem::path &path, const std::string &text)
  {
    std::ofstream(path) << text;
  }

  /**
   * The parameters of the parameter file @p text (with @p overrides), the
   * output folder set to a scratch folder named @p name.
   */
  inline Parameters
  parameters_from(const std::string              &text,
                  const std::string              &name      = "run",
                  const std::vector<std::string> &overrides = {})
  {
    const std::filesystem::path directory = scratch_directory(name);
    write_text(directory / "run.prm", text);
    std::vector<std::string> all = overrides;
    all.push_back("Output/directory=" + (directory / "output").string());
    return read_parameters((directory / "run.prm").string(), all);
  }

  /** Points with i.i.d. N(0, 1) coordinates, optionally normalised. */
  inline PointSet
  random_points(const unsigned int  d,
                const std::size_t   n,
                const std::uint64_t seed,
                const bool          on_sphere = false)
  {
    RandomGenerator random(seed);
    PointSet        points(d, n);
    for (std::size_t i = 0; i < n; ++i)
      {
        double norm2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          {
            points[i][k] = random.normal();
            norm2 += points[i][k] * points[i][k];
          }
        if (on_sphere)
          for (unsigned int k = 0; k < d; ++k)
            points[i][k] /= std::sqrt(norm2);
      }
    return points;
  }
} // namespace attnflow::testing

#endif
