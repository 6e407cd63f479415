/**
 * @file
 * Fuzzing the parameter files: every example .prm is mutated (lines
 * dropped, duplicated, swapped, values replaced by random tokens, garbage
 * lines, cut short) a few thousand times in total and checked by the
 * program itself (`attnflow --check`, in this process, and for studies
 * `--convergence --dry-run`); a few mutants run the real binary for one
 * output step (`Time/end time = 0`). The program must never crash (signal),
 * never hang (the ctest timeout; each binary run under `timeout`), never
 * fail internally (exit code 4), and always exit with a documented code.
 */
#include <attnflow/program.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    namespace fs = std::filesystem;

    std::vector<std::string>
    lines_of(const fs::path &file)
    {
      std::ifstream            in(file);
      std::vector<std::string> lines;
      std::string              line;
      while (std::getline(in, line))
        lines.push_back(line);
      return lines;
    }

    /** A random value: numbers at every scale, words, list syntax, junk. */
    std::string
    random_token(std::mt19937_64 &random)
    {
      static const std::vector<std::string>      tokens = {"",
                                                           "0",
                                                           "-1",
                                                           "1",
                                                           "2",
                                                           "3",
                                                           "1e308",
                                                           "-1e308",
                                                           "1e-320",
                                                           "nan",
                                                           "inf",
                                                           "-inf",
                                                           "4294967296",
                                                           "2147483647",
                                                           "-2147483648",
                                                           "99999999999999999999",
                                                           "0.5",
                                                           "-0.5",
                                                           "abc",
                                                           "true",
                                                           "false",
                                                           "identity",
                                                           "random",
                                                           "zero",
                                                           "1, 2, 3",
                                                           "1;2",
                                                           "|",
                                                           "/",
                                                           "1, 0; 0",
                                                           "x*y",
                                                           "sin(x)",
                                                           "exp(1000*x)",
                                                           "'",
                                                           "\"",
                                                           "\\",
                                                           "= =",
                                                           "tokens file",
                                                           "function",
                                                           "gaussian",
                                                           "sphere",
                                                           "euclidean",
                                                           "uniform",
                                                           "softmax",
                                                           "crank nicolson",
                                                           "ssp rk3",
                                                           "finest",
                                                           "exact",
                                                           "w1",
                                                           "mmd",
                                                           "Density/refinements",
                                                           "Tokens/number of tokens",
                                                           "1, 2, 3, 4, 5, 6, 7, 8",
                                                           "diagonal 1, 2",
                                                           "2*identity | zero",
                                                           "identity / identity",
                                                           "/dev/null",
                                                           "/nonexistent/file.csv",
                                                           std::string(300, '9'),
                                                           std::string(2000, 'x')};
      std::uniform_int_distribution<std::size_t> pick(0, tokens.size() + 2);
      const std::size_t                          k = pick(random);
      if (k < tokens.size())
        return tokens[k];
      if (k == tokens.size())
        return std::to_string(
          std::uniform_int_distribution<int>(0, 100)(random));
      std::ostringstream number;
      number << std::uniform_real_distribution<double>(-10., 10.)(random);
      return number.str();
    }

    /** @p lines with one random mutation. */
    void
    mutate(std::vector<std::string> &lines, std::mt19937_64 &random)
    {
      if (lines.empty())
        {
          lines.push_back("set beta = " + random_token(random));
          return;
        }
      std::uniform_int_distribution<std::size_t> line(0, lines.size() - 1);
      const std::size_t                          i = line(random);
      switch (std::uniform_int_distribution<int>(0, 6)(random))
        {
          case 0: // drop
            lines.erase(lines.begin() + i);
            break;
          case 1: // duplicate
            lines.insert(lines.begin() + i, lines[i]);
            break;
          case 2: // swap
            std::swap(lines[i], lines[line(random)]);
            break;
          case 6: // garbage line
            lines.insert(lines.begin() + i, random_token(random));
            break;
          default: // a value replaced (three times as often)
            {
              std::vector<std::size_t> sets;
              for (std::size_t k = 0; k < lines.size(); ++k)
                if (lines[k].find('=') != std::string::npos)
                  sets.push_back(k);
              if (sets.empty())
                break;
              std::string &set = lines[sets[std::uniform_int_distribution<
                std::size_t>(0, sets.size() - 1)(random)]];
              set =
                set.substr(0, set.find('=') + 1) + " " + random_token(random);
            }
        }
    }
  } // namespace

  TEST(Fuzz, MutatedExampleParameterFilesGiveDocumentedExitCodes)
  {
    std::vector<fs::path> examples;
    for (const auto &folder :
         fs::directory_iterator(fs::path(ATTNFLOW_SOURCE_DIR) / "examples"))
      if (folder.is_directory())
        for (const auto &file : fs::directory_iterator(folder.path()))
          if (file.path().extension() == ".prm")
            examples.push_back(file.path());
    std::sort(examples.begin(), examples.end());
    ASSERT_GE(examples.size(), 5u);

    const fs::path              dir = testing::scratch_directory("fuzz");
    std::mt19937_64             random(20261201);
    std::map<int, unsigned int> codes;
    const auto                  start    = std::chrono::steady_clock::now();
    const unsigned int          n_cases  = 3000;
    unsigned int                n_tested = 0;
    for (unsigned int c = 0; c < n_cases; ++c)
      {
        const fs::path          &example = examples[c % examples.size()];
        std::vector<std::string> lines   = lines_of(example);
        const int                n_mutations =
          std::uniform_int_distribution<int>(1, 4)(random);
        for (int m = 0; m < n_mutations; ++m)
          mutate(lines, random);
        if (c % 17 == 0 && !lines.empty()) // cut short
          lines.resize(std::uniform_int_distribution<std::size_t>(0,
                                                                  lines.size() -
                                                                    1)(random));
        const fs::path file = dir / "mutant.prm";
        {
          std::ofstream out(file);
          for (const std::string &line : lines)
            out << line << '\n';
        }
        const bool study =
          std::any_of(lines.begin(), lines.end(), [](const std::string &line) {
            return line.find("subsection Convergence") != std::string::npos;
          });
        std::vector<std::string> arguments = {file.string(),
                                              "--set",
                                              "Output/directory=" +
                                                (dir / "out").string()};
        arguments.push_back(study && c % 2 ? "--convergence" : "--check");
        if (study && c % 2)
          arguments.push_back("--dry-run");
        std::ostringstream out, err;
        const int          code = run_program(arguments, out, err);
        ++codes[code];
        ++n_tested;
        EXPECT_TRUE(code == exit_success || code == exit_input_error ||
                    code == exit_numerical_failure || code == exit_io_failure)
          << "exit code " << code << " for a mutant of " << example << ":\n"
          << err.str() << "\n---\n"
          << [&] {
               std::string text;
               for (const std::string &line : lines)
                 text += line + "\n";
               return text;
             }();
        EXPECT_EQ(err.str().find("Stacktrace"), std::string::npos) << err.str();
        fs::remove_all(dir / "out");
        // Bounded: the count reached stays in the report below.
        if (std::chrono::steady_clock::now() - start > std::chrono::seconds(40))
          break;
      }

    // A few mutants run for one output step by the real binary.
    std::mt19937_64 run_random(7);
    for (unsigned int c = 0; c < 6; ++c)
      {
        std::vector<std::string> lines =
          lines_of(examples[(3 * c) % examples.size()]);
        mutate(lines, run_random);
        {
          std::ofstream out(dir / "run.prm");
          for (const std::string &line : lines)
            out << line << '\n';
        }
        const std::string command =
          "timeout 60 " + std::string(ATTNFLOW_BINARY) + " " +
          (dir / "run.prm").string() + " --set 'Time/end time=0' --set " +
          "'Output/directory=" + (dir / "run").string() +
          "' --set 'Output/write vtu=false' > /dev/null 2> " +
          (dir / "err.txt").string();
        const int status = std::system(command.c_str());
        ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal";
        const int code = WEXITSTATUS(status);
        EXPECT_NE(code, 124) << "hung: " << command;
        EXPECT_TRUE(code <= exit_io_failure)
          << "exit code " << code << ": "
          << std::ifstream(dir / "err.txt").rdbuf();
        ++codes[code];
        fs::remove_all(dir / "run");
      }

    std::ostringstream report;
    report << "fuzz: " << n_tested << " checked mutants + 6 runs; exit codes:";
    for (const auto &[code, count] : codes)
      report << "  " << code << ": " << count;
    std::cout << report.str() << std::endl;
    EXPECT_GE(n_tested, 1000u) << report.str();
  }
} // namespace attnflow
