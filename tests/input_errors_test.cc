/**
 * @file
 * Bad input: every case gives an InputError whose message names the
 * parameter (or file and line), and no run folder is created. The program
 * itself exits with a non-zero code and prints the message.
 */
#include <attnflow/exceptions.h>
#include <attnflow/simulator.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /**
     * Reads @p text (with @p overrides) and builds the run; expects an
     * InputError mentioning every string of @p expected, and no output
     * folder.
     */
    void
    expect_input_error(const std::string              &text,
                       const std::vector<std::string> &expected,
                       const std::vector<std::string> &overrides = {})
    {
      const std::filesystem::path dir = testing::scratch_directory("bad");
      testing::write_text(dir / "run.prm", text);
      std::vector<std::string> all = overrides;
      all.push_back("Output/directory=" + (dir / "output").string());
      try
        {
          const Parameters p = read_parameters((dir / "run.prm").string(), all);
          Simulator        simulator(p);
          ADD_FAILURE() << "no error for:\n" << text;
        }
      catch (const InputError &e)
        {
          for (const std::string &word : expected)
            EXPECT_NE(std::string(e.what()).find(word), std::string::npos)
              << "'" << word << "' missing in: " << e.what();
        }
      EXPECT_FALSE(std::filesystem::exists(dir / "output"));
    }

    /**
     * The message of the InputError that reading @p text (with
     * @p overrides) and building the run raises; a test failure if none.
     */
    std::string
    input_error_message(const std::string              &text,
                        const std::vector<std::string> &overrides = {})
    {
      const std::filesystem::path dir = testing::scratch_directory("message");
      testing::write_text(dir / "run.prm", text);
      std::vector<std::string> all = overrides;
      all.push_back("Output/directory=" + (dir / "output").string());
      try
        {
          const Parameters p = read_parameters((dir / "run.prm").string(), all);
          Simulator        simulator(p);
        }
      catch (const InputError &e)
        {
          return e.what();
        }
      ADD_FAILURE() << "no error for:\n" << text;
      return "";
    }

    /**
     * Expects the message of input_error_message() to contain every string
     * of @p expected and none of @p unexpected.
     */
    void
    expect_message(const std::string              &text,
                   const std::vector<std::string> &expected,
                   const std::vector<std::string> &unexpected,
                   const std::vector<std::string> &overrides = {})
    {
      const std::string message = input_error_message(text, overrides);
      for (const std::string &word : expected)
        EXPECT_NE(message.find(word), std::string::npos)
          << "'" << word << "' missing in: " << message;
      for (const std::string &word : unexpected)
        EXPECT_EQ(message.find(word), std::string::npos)
          << "'" << word << "' in: " << message;
    }

    std::string
    model(const std::string &lines)
    {
      return "subsection Model\n" + lines + "\nend\n";
    }

    std::string
    initial(const std::string &lines)
    {
      return "subsection Initial condition\n" + lines + "\nend\n";
    }
  } // namespace

  TEST(InputErrors, UnknownSectionOrParameter)
  {
    expect_input_error("subsection Modle\n set beta = 1\nend\n", {"Modle"});
    expect_input_error(model("set betta = 1"), {"betta"});
    expect_input_error("", {"nothing"}, {"Model/nothing=1"});
    expect_input_error("", {"Section/name"}, {"beta=1"});
  }

  TEST(InputErrors, ValuesOutOfRange)
  {
    expect_input_error(model("set beta = -1"), {"beta", "-1"});
    expect_input_error(model("set dimension = 0"), {"dimension"});
    expect_input_error(model("set dimension = 1"),
                       {"Model/dimension", "sphere"});
    expect_input_error(model("set geometry = torus"),
                       {"geometry", "euclidean|sphere"});
    expect_input_error("subsection Time\n set output interval = 0\nend\n",
                       {"Time/output interval", "> 0"});
    expect_input_error("subsection Tokens\n set number of tokens = 0\nend\n",
                       {"Tokens/number of tokens"});
    expect_input_error(initial("set type = von mises fisher"),
                       {"Initial condition/type"},
                       {"Model/geometry=euclidean"});
  }

  TEST(InputErrors, NonFiniteNumbers)
  {
    expect_input_error(model("set beta = nan"), {"beta"});
    expect_input_error(model("set beta = inf"), {"beta"});
    expect_input_error("subsection Time\n set end time = 1e999\nend\n",
                       {"end time"});
    expect_input_error(model("set V = 1, nan; 0, 1"), {"Model/V"});
    expect_input_error(initial("set type = gaussian\n set means = 0, inf"),
                       {"Initial condition/means"},
                       {"Model/geometry=euclidean"});
  }

  TEST(InputErrors, MalformedOrMissizedMatrices)
  {
    expect_input_error(model("set dimension = 3\n set Q = 1, 0; 0, 1"),
                       {"Model/Q", "3 x 3"});
    expect_input_error(model("set K = 1, 0; 0"), {"Model/K"});
    expect_input_error(model("set V = 1, zwei; 3, 4"), {"Model/V", "zwei"});
    expect_input_error(model("set V = identiti"), {"Model/V", "identity"});
    expect_input_error(model("set number of heads = 2\n set Q = identity | "
                             "identity | identity"),
                       {"Model/Q", "heads"});
  }

  TEST(InputErrors, UnreadableOrRaggedTokensFile)
  {
    expect_input_error(initial("set type = tokens file\n set tokens file = "
                               "/nonexistent/tokens.csv"),
                       {"Initial condition/tokens file",
                        "/nonexistent/tokens.csv"});
    const std::filesystem::path dir = testing::scratch_directory("ragged");
    testing::write_text(dir / "t.csv", "1, 0\n0, 1\n1, 1, 1\n");
    expect_input_error(initial("set type = tokens file\n set tokens file = " +
                               (dir / "t.csv").string()),
                       {"t.csv:3", "Model/dimension = 2"});
    testing::write_text(dir / "u.csv", "1, 0\n0, x\n");
    expect_input_error(initial("set type = tokens file\n set tokens file = " +
                               (dir / "u.csv").string()),
                       {"u.csv:2"});
  }

  TEST(InputErrors, BadDensityFunction)
  {
    expect_input_error(initial("set type = function\n set density function = "
                               "1 + cos(3*theta"),
                       {"Initial condition/density function", "cannot parse"});
    expect_input_error(initial("set type = function\n set density function = "
                               "cos(theta)"),
                       {"Initial condition/density function", ">= 0"});
    expect_input_error(initial("set type = function\n set density function = "
                               "1 + w"),
                       {"Initial condition/density function"});
  }

  TEST(InputErrors, DensityDomainAndSteps)
  {
    const std::string on = "subsection Density\n set enabled = true\n";
    expect_input_error(on + " set refinements = 1\nend\n",
                       {"Density/enabled", "dimension <= 3"},
                       {"Model/dimension=4"});
    expect_input_error(on + " set lower corner = 0, 1, 2\nend\n",
                       {"Density/lower corner"},
                       {"Model/geometry=euclidean"});
    expect_input_error(on + " set upper corner = -2\nend\n",
                       {"Density/upper corner"},
                       {"Model/geometry=euclidean"});
    expect_input_error(on + " set subdivisions = 0\nend\n",
                       {"Density/subdivisions"},
                       {"Model/geometry=euclidean"});
    expect_input_error(on + " set cfl number = 2\nend\n",
                       {"Density/cfl number", "(0, 1]"});
    expect_input_error(on + " set time integrator = leapfrog\nend\n",
                       {"time integrator",
                        "ssp rk3|backward euler|crank nicolson"});
    expect_input_error(on + " set time integrator = backward euler\n"
                            " set time step = 1e-9\nend\n",
                       {"Density/time step", "1e8"});
  }

  TEST(InputErrors, PatternsAreExplainedInWords)
  {
    // deal.II's pattern text ("[Double 0...MAX_DOUBLE (inclusive)]") never
    // reaches the user: the entry with its section, the value, its line and
    // what is allowed.
    const std::vector<std::string> raw = {"[", "MAX_", "inclusive"};
    expect_message(model("set beta = -1"),
                   {"Model/beta", "'-1'", "line 2", "a number >= 0"},
                   raw);
    expect_message(model("set dimension = 0"),
                   {"Model/dimension", "an integer from 1 to 4096"},
                   raw);
    expect_message(model("set number of heads = 0"),
                   {"Model/number of heads", "an integer >= 1"},
                   raw);
    expect_message(model("set geometry = torus"),
                   {"Model/geometry", "'torus'", "one of euclidean|sphere"},
                   raw);
    expect_message("subsection Tokens\n set minimum cluster fraction = 2\n"
                   "end\n",
                   {"Tokens/minimum cluster fraction", "a number from 0 to 1"},
                   raw);
    expect_message("subsection Output\n set write vtu = maybe\nend\n",
                   {"Output/write vtu", "true or false"},
                   raw);
    // The section is the one the line is in, also after earlier sections
    // and for names that several sections use.
    expect_message(model("set beta = 1") + "# a comment\n" +
                     "subsection Density\n set enabled = true\n"
                     " set degree = 7\n set time step = x\nend\n",
                   {"Density/degree", "line 7", "an integer from 0 to 3"},
                   raw);
    expect_message("subsection Time\n set time step = -1\nend\n",
                   {"Time/time step", "a number >= 0"},
                   {"Density"});
    expect_message("",
                   {"Model/beta", "'-2'", "--set", "a number >= 0"},
                   raw,
                   {"Model/beta=-2"});
  }

  TEST(InputErrors, HeadAndLayerCountsSayWhatToGive)
  {
    // One head: never "give 1 or 1".
    expect_message(model("set Q = identity | identity"),
                   {"Model/Q",
                    "2 matrices",
                    "Model/number of heads = 1",
                    "give one matrix",
                    "set Model/number of heads = 2"},
                   {"or 1"});
    expect_message(model("set number of heads = 3\n set K = identity | zero"),
                   {"Model/K", "2 matrices", "or 3 (one per head)"},
                   {});
    expect_message(model("set V = identity / zero"),
                   {"Model/V",
                    "2 layers",
                    "one layer",
                    "2 durations in Model/layer durations"},
                   {"or 1"});
    expect_message(model("set layer durations = 1, 2\n"
                         " set V = identity / zero / identity"),
                   {"Model/V", "3 layers", "or 2 (one per layer)"},
                   {});
  }

  TEST(InputErrors, MisspeltMatrixKeywordsAreNotRows)
  {
    expect_message(model("set Q = randomx"),
                   {"Model/Q", "'randomx' is not a matrix", "random"},
                   {"has 1 row"});
    expect_message(model("set dimension = 3\n set Q = 1, 0, 0"),
                   {"Model/Q", "has 1 row ", "3 x 3"},
                   {"1 rows"});
  }

  TEST(ParameterFile, AnEmptyFileGivesTheInClassDefaults)
  {
    // The entries are declared from the members: reading them back changes
    // no default, not even in the last bit.
    const Parameters defaults;
    const Parameters read = testing::parameters_from("", "defaults");
    EXPECT_EQ(read.model.beta, defaults.model.beta);
    EXPECT_EQ(read.model.geometry, defaults.model.geometry);
    EXPECT_EQ(read.model.layer_durations, defaults.model.layer_durations);
    EXPECT_EQ(read.initial_condition.type, defaults.initial_condition.type);
    EXPECT_EQ(read.tokens.cluster_radius, defaults.tokens.cluster_radius);
    EXPECT_EQ(read.density.cfl_number, defaults.density.cfl_number);
    EXPECT_EQ(read.density.solver_tolerance, defaults.density.solver_tolerance);
    EXPECT_EQ(read.density.preconditioner, defaults.density.preconditioner);
    EXPECT_EQ(read.density.coarsen_ratio, defaults.density.coarsen_ratio);
    EXPECT_EQ(read.time.relative_tolerance, defaults.time.relative_tolerance);
    EXPECT_EQ(read.time.absolute_tolerance, defaults.time.absolute_tolerance);
    EXPECT_EQ(read.time.scheme, defaults.time.scheme);
    EXPECT_EQ(read.comparison.mmd_bandwidth, defaults.comparison.mmd_bandwidth);
  }

  TEST(ParameterFile, EveryEntryIsDocumentedAndReadBack)
  {
    // What --print-parameters prints: a comment above every entry, and the
    // text reads back into the same values.
    Parameters               defaults;
    dealii::ParameterHandler prm;
    defaults.add_parameters(prm);
    std::ostringstream out;
    prm.print_parameters(out, dealii::ParameterHandler::PRM);
    std::istringstream lines(out.str());
    std::string        line, previous;
    unsigned int       n_entries = 0;
    while (std::getline(lines, line))
      {
        const std::size_t first = line.find_first_not_of(' ');
        if (first != std::string::npos && line.compare(first, 4, "set ") == 0)
          {
            ++n_entries;
            EXPECT_EQ(previous.find_first_not_of(' '), previous.find('#'))
              << "undocumented: " << line;
          }
        previous = line;
      }
    EXPECT_GE(n_entries, 60u);
    const Parameters read =
      testing::parameters_from(out.str(), "printed defaults");
    EXPECT_EQ(read.density.solver_tolerance, defaults.density.solver_tolerance);
    EXPECT_EQ(read.time.relative_tolerance, defaults.time.relative_tolerance);
  }

  TEST(InputErrors, TheProgramExitsNonZeroWithTheMessage)
  {
    const std::filesystem::path dir = testing::scratch_directory("cli");
    testing::write_text(dir / "run.prm",
                        "subsection Model\n set beta = -2\nend\n"
                        "subsection Output\n set directory = " +
                          (dir / "output").string() + "\nend\n");
    const std::string command =
      std::string(ATTNFLOW_BINARY) + " " + (dir / "run.prm").string() + " > " +
      (dir / "out.txt").string() + " 2> " + (dir / "err.txt").string();
    const int status = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::stringstream err;
    err << std::ifstream(dir / "err.txt").rdbuf();
    EXPECT_NE(err.str().find("beta"), std::string::npos) << err.str();
    EXPECT_FALSE(std::filesystem::exists(dir / "output"));
  }
} // namespace attnflow
