/**
 * @file
 * A whole run: the run folder holds tokens.pvd, its VTU files with the
 * fields of the contract, metrics.csv with its columns, log.txt with the
 * full line of every output time, and parameters.prm that reproduces the
 * run.
 */
#include <attnflow/simulator.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    std::string
    read(const std::filesystem::path &path)
    {
      std::stringstream s;
      s << std::ifstream(path).rdbuf();
      return s.str();
    }

    const char *const run_file =
      "subsection Model\n set dimension = 4\n set beta = 9\nend\n"
      "subsection Initial condition\n set seed = 7\nend\n"
      "subsection Tokens\n set number of tokens = 64\nend\n"
      "subsection Time\n set end time = 1\n set output interval = 0.4\nend\n";
  } // namespace

  TEST(Output, RunFolderHoldsTheContractFiles)
  {
    const Parameters   p = testing::parameters_from(run_file, "output_run");
    std::ostringstream log;
    Simulator(p).run(log);
    const std::filesystem::path dir = p.output.directory;

    // Output at 0, 0.4, 0.8 and the end time 1.
    const std::string pvd = read(dir / "tokens.pvd");
    for (const char *name : {"tokens_0000.vtu",
                             "tokens_0001.vtu",
                             "tokens_0002.vtu",
                             "tokens_0003.vtu"})
      {
        EXPECT_NE(pvd.find(name), std::string::npos) << name;
        const std::string vtu = read(dir / name);
        for (const char *field : {"Name=\"id\"",
                                  "Name=\"speed\"",
                                  "Name=\"cluster\"",
                                  "Name=\"velocity\""})
          EXPECT_NE(vtu.find(field), std::string::npos) << field;
        EXPECT_NE(vtu.find("NumberOfPoints=\"64\""), std::string::npos);
      }
    EXPECT_NE(pvd.find("timestep=\"0.8"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir / "tokens_0004.vtu"));

    std::istringstream csv(read(dir / "metrics.csv"));
    std::string        header, line;
    std::getline(csv, header);
    for (const char *column : {"t,",
                               "energy_tokens",
                               "order_tokens",
                               "covariance_trace_tokens",
                               "clusters_tokens"})
      EXPECT_NE(header.find(column), std::string::npos) << column;
    unsigned int n_rows = 0;
    double       t      = 0.;
    while (std::getline(csv, line))
      {
        ++n_rows;
        t = std::stod(line.substr(0, line.find(',')));
      }
    EXPECT_EQ(n_rows, 4u);
    EXPECT_EQ(t, 1.);
    for (const auto &entry : std::filesystem::directory_iterator(dir))
      EXPECT_NE(entry.path().extension(), ".tmp");
    // The screen has the short lines, log.txt every step count in full.
    EXPECT_NE(log.str().find("order  cl"), std::string::npos) << log.str();
    EXPECT_NE(read(dir / "log.txt").find("step"), std::string::npos);
  }

  TEST(Output, ParameterFileReproducesTheRun)
  {
    const Parameters   p = testing::parameters_from(run_file, "reproduce_a");
    std::ostringstream log;
    Simulator          first(p);
    first.run(log);
    const std::filesystem::path used =
      std::filesystem::path(p.output.directory) / "parameters.prm";
    const std::string text = read(used);
    EXPECT_NE(text.find("set seed"), std::string::npos);
    EXPECT_NE(text.find("= 7"), std::string::npos);

    const std::filesystem::path dir = testing::scratch_directory("reproduce_b");
    const Parameters            again =
      read_parameters(used.string(),
                      {"Output/directory=" + (dir / "output").string()});
    Simulator second(again);
    second.run(log);
    EXPECT_EQ(first.token_solver()->tokens().coordinates,
              second.token_solver()->tokens().coordinates);
    EXPECT_EQ(first.metrics().rows(), second.metrics().rows());
  }

  TEST(Output, DensityAndTokensShareOneTimeAxis)
  {
    const Parameters p = testing::parameters_from(
      "subsection Model\n set dimension = 2\n set beta = 4\nend\n"
      "subsection Tokens\n set number of tokens = 50\nend\n"
      "subsection Density\n set enabled = true\n set refinements = 3\nend\n"
      "subsection Time\n set end time = 0.6\n set output interval = "
      "0.25\nend\n",
      "output_density");
    std::ostringstream log;
    Simulator(p).run(log);
    const std::filesystem::path dir = p.output.directory;
    EXPECT_EQ(read(dir / "tokens.pvd")
                .substr(read(dir / "tokens.pvd").find("<DataSet")),
              [&] {
                // The same records with the other series' file names.
                std::string density = read(dir / "density.pvd");
                density             = density.substr(density.find("<DataSet"));
                std::size_t at;
                while ((at = density.find("density_")) != std::string::npos)
                  density.replace(at, 8, "tokens_");
                return density;
              }());
    for (const char *name : {"density_0000.vtu",
                             "density_0001.vtu",
                             "density_0002.vtu",
                             "density_0003.vtu"})
      {
        const std::string vtu = read(dir / name);
        EXPECT_NE(vtu.find("Name=\"density\""), std::string::npos) << name;
        EXPECT_NE(vtu.find("Name=\"velocity\""), std::string::npos) << name;
      }
    std::string header = read(dir / "metrics.csv");
    header             = header.substr(0, header.find('\n'));
    for (const char *column : {"mass_density",
                               "min_density",
                               "energy_density",
                               "order_density",
                               "covariance_trace_density",
                               "energy_tokens"})
      EXPECT_NE(header.find(column), std::string::npos) << column;
    // One full line per output time in log.txt, with both sides.
    std::istringstream lines(read(dir / "log.txt"));
    std::string        line;
    unsigned int       n_progress = 0;
    while (std::getline(lines, line))
      if (line.rfind("t = ", 0) == 0)
        {
          ++n_progress;
          EXPECT_NE(line.find("tokens:"), std::string::npos) << line;
          EXPECT_NE(line.find("mass = "), std::string::npos) << line;
          EXPECT_NE(line.find("min rho = "), std::string::npos) << line;
        }
    EXPECT_EQ(n_progress, 4u);
    // The final table of a run with both solvers.
    EXPECT_NE(log.str().find("tokens against density"), std::string::npos);
    EXPECT_NE(log.str().find("| energy "), std::string::npos);
    EXPECT_NE(log.str().find("distances:  w1 = "), std::string::npos);
  }
} // namespace attnflow
