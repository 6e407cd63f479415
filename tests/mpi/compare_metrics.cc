/**
 * @file
 * compare_metrics SERIAL RANKS: whether the metrics.csv of a run under MPI
 * agrees with the serial run's: the same header and rows, every number
 * within 1e-12 relative to max(|a|, |b|, 1). The metrics are quantities of
 * size one (mass 1, coordinates on the unit sphere or in a box of a few
 * units, energies); one that is zero up to round-off, such as the mean of a
 * symmetric density (exactly 0, computed as noise of 1e-17 that the
 * clustering dynamics amplifies to 1e-12 over a run), is compared at the
 * scale of the terms it sums, not at its own. The column
 * linear_iterations_density is not compared: the GMRES iterations depend
 * on the preconditioner, which depends on the ranks (ILU on each rank's
 * block), the answer only to the solver's tolerance. Prints the largest
 * difference as a share of the tolerance and the first number out of it,
 * and exits 1 if there is one (doc/theory.md section 10).
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace
{
  /** The comma-separated fields of each line of @p file. */
  std::vector<std::vector<std::string>>
  read_rows(const char *file)
  {
    std::ifstream                         in(file);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);)
      {
        std::vector<std::string> fields;
        std::istringstream       text(line);
        for (std::string field; std::getline(text, field, ',');)
          fields.push_back(field);
        rows.push_back(fields);
      }
    if (!in.eof() || rows.empty())
      {
        std::cerr << "compare_metrics: cannot read " << file << "\n";
        std::exit(2);
      }
    return rows;
  }

  /** |@p a - @p b| over the tolerance of the file comment: agree if <= 1. */
  double
  share_of_tolerance(const double a, const double b)
  {
    return std::abs(a - b) / (1e-12 * std::max({std::abs(a), std::abs(b), 1.}));
  }
} // namespace



int
main(int argc, char **argv)
{
  if (argc != 3)
    {
      std::cerr << "usage: compare_metrics SERIAL.csv RANKS.csv\n";
      return 2;
    }
  const auto serial = read_rows(argv[1]), ranks = read_rows(argv[2]);
  if (serial.size() != ranks.size() || serial[0] != ranks[0])
    {
      std::cerr << "compare_metrics: the header or the number of rows "
                   "differs\n";
      return 1;
    }
  double      worst = 0.;
  std::string where = "", first_bad = "";
  for (std::size_t i = 1; i < serial.size(); ++i)
    for (std::size_t k = 0; k < serial[i].size() && k < ranks[i].size(); ++k)
      if (serial[0][k] != "linear_iterations_density")
        {
          char        *end_a = nullptr, *end_b = nullptr;
          const double a       = std::strtod(serial[i][k].c_str(), &end_a),
                       b       = std::strtod(ranks[i][k].c_str(), &end_b);
          const std::string at = "row " + std::to_string(i) + " " +
                                 serial[0][k] + ": " + serial[i][k] + " vs " +
                                 ranks[i][k];
          const bool   numbers    = *end_a == '\0' && *end_b == '\0';
          const double difference = numbers ? share_of_tolerance(a, b) : 0.;
          if (first_bad.empty() &&
              (numbers ? difference > 1. : serial[i][k] != ranks[i][k]))
            first_bad = at;
          if (difference > worst)
            {
              worst = difference;
              where = at;
            }
        }
  std::printf("compare_metrics: the largest difference is %.2g of the "
              "tolerance%s%s\n",
              worst,
              where.empty() ? "" : " at ",
              where.c_str());
  if (!first_bad.empty())
    std::printf("compare_metrics: out of tolerance at %s\n", first_bad.c_str());
  return first_bad.empty() ? 0 : 1;
}
