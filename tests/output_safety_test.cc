/**
 * @file
 * A run never deletes or overwrites what attnflow did not write, nor its own
 * inputs; limits of the machine are checked before work starts; failures to
 * write name the file and the cause with a documented exit code; the
 * parameter file is refused when it sets an entry twice or is not text; a
 * run's lines fit 100 columns, with the detail in log.txt.
 */
#include <attnflow/exceptions.h>
#include <attnflow/output_folder.h>
#include <attnflow/parameter_file.h>
#include <attnflow/progress.h>
#include <attnflow/run_limits.h>
#include <attnflow/simulator.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    namespace fs = std::filesystem;

    /** The bytes of a file (test_helpers.h). */
    const auto read = testing::read_text;

    /**
     * A small token run on S^1 into @p directory to @p end_time, output
     * every @p interval (CSV too if @p csv), with the sections @p more.
     */
    std::string
    run_file(const fs::path    &directory,
             const std::string &more     = "",
             const std::string &end_time = "1",
             const std::string &interval = "0.5",
             const bool         csv      = true)
    {
      return "subsection Model\n set beta = 4\nend\n"
             "subsection Time\n set end time = " +
             end_time + "\n set output interval = " + interval +
             "\nend\n"
             "subsection Output\n set directory = " +
             directory.string() +
             "\n set write tokens csv = " + (csv ? "true" : "false") +
             "\nend\n" + more;
    }

    /** The Tokens section with @p n tokens. */
    std::string
    tokens(const std::string &n)
    {
      return "subsection Tokens\n set number of tokens = " + n + "\nend\n";
    }

    /** The exit status and standard error of the program with @p arguments. */
    struct Outcome
    {
      int         status;
      std::string out, err;
    };

    Outcome
    run_program_with(const std::string &arguments,
                     const fs::path    &scratch,
                     const std::string &stdout_to = "")
    {
      const fs::path out =
        stdout_to.empty() ? scratch / "out.txt" : fs::path(stdout_to);
      const std::string command = std::string(ATTNFLOW_BINARY) + " " +
                                  arguments + " > " + out.string() + " 2> " +
                                  (scratch / "err.txt").string();
      const int status = std::system(command.c_str());
      return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
              stdout_to.empty() ? read(out) : "",
              read(scratch / "err.txt")};
    }

    /** Runs @p text as a parameter file (in-process), log discarded. */
    void
    run_text(const fs::path &prm, const std::string &text)
    {
      testing::write_text(prm, text);
      std::ostringstream log;
      Simulator(read_parameters(prm.string(), {}), prm.string()).run(log);
    }

    /** The message of the InputError that @p f throws ("" if none). */
    template <typename F>
    std::string
    input_error_of(const F &f)
    {
      try
        {
          f();
        }
      catch (const InputError &e)
        {
          return e.what();
        }
      return "";
    }
  } // namespace

  TEST(OutputSafety, AManifestListsEveryFileTheRunWrote)
  {
    const fs::path dir = testing::scratch_directory("safety_manifest");
    run_text(dir / "run.prm", run_file(dir / "out", tokens("40")));
    const std::string manifest = read(dir / "out" / ".attnflow-manifest");
    for (const auto &entry : fs::directory_iterator(dir / "out"))
      {
        const std::string name = entry.path().filename().string();
        if (name != ".attnflow-manifest")
          {
            EXPECT_NE(manifest.find("file " + name + "\n"), std::string::npos)
              << name;
          }
      }
    for (const char *name :
         {"parameters.prm", "log.txt", "metrics.csv", "tokens_0002.csv"})
      EXPECT_TRUE(fs::exists(dir / "out" / name)) << name;
  }

  TEST(OutputSafety, AFolderAttnflowDidNotWriteIsRefused)
  {
    const fs::path dir = testing::scratch_directory("safety_foreign");
    fs::create_directories(dir / "out");
    testing::write_text(dir / "out" / "notes.txt", "my notes");
    const std::string message = input_error_of(
      [&] { run_text(dir / "run.prm", run_file(dir / "out", tokens("40"))); });
    EXPECT_NE(message.find("Output/directory"), std::string::npos) << message;
    EXPECT_NE(message.find("notes.txt"), std::string::npos) << message;
    EXPECT_NE(message.find("new folder"), std::string::npos) << message;
    EXPECT_EQ(read(dir / "out" / "notes.txt"), "my notes");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir / "out"),
                            fs::directory_iterator()),
              1);

    // "." with the user's files: refused as well.
    const std::string here = input_error_of([&] {
      OutputFolder::check(dir, {}, [](const std::string &) { return true; });
    });
    EXPECT_NE(here.find("Output/directory"), std::string::npos) << here;
  }

  TEST(OutputSafety, AnEarlierRunIsReplacedButNotTheUsersFiles)
  {
    const fs::path dir = testing::scratch_directory("safety_replace");
    // Four outputs, then a run with two: the earlier run's later files go.
    run_text(dir / "run.prm", run_file(dir / "out", tokens("40"), "1", "0.3"));
    ASSERT_TRUE(fs::exists(dir / "out" / "tokens_0003.vtu"));
    testing::write_text(dir / "out" / "notes.txt", "my notes");
    testing::write_text(dir / "out" / "tokens_0009.vtu", "mine");
    run_text(dir / "run.prm",
             run_file(dir / "out", tokens("40"), "0.3", "0.3"));
    EXPECT_FALSE(fs::exists(dir / "out" / "tokens_0002.vtu"));
    EXPECT_FALSE(fs::exists(dir / "out" / "tokens_0003.csv"));
    EXPECT_TRUE(fs::exists(dir / "out" / "tokens_0001.vtu"));
    EXPECT_EQ(read(dir / "out" / "notes.txt"), "my notes");
    EXPECT_EQ(read(dir / "out" / "tokens_0009.vtu"), "mine");
    EXPECT_EQ(read(dir / "out" / "tokens.pvd").find("tokens_0002"),
              std::string::npos);

    // A file of the user with a name the run writes: refused, kept.
    testing::write_text(dir / "out" / "density_0000.vtu", "mine too");
    const std::string message = input_error_of([&] {
      run_text(dir / "run.prm",
               run_file(dir / "out",
                        tokens("40") +
                          "subsection Density\n set enabled = true\n set "
                          "refinements = 3\nend\n",
                        "0.3",
                        "0.3"));
    });
    EXPECT_NE(message.find("density_0000.vtu"), std::string::npos) << message;
    EXPECT_NE(message.find("not written by attnflow"), std::string::npos);
    EXPECT_EQ(read(dir / "out" / "density_0000.vtu"), "mine too");
    EXPECT_TRUE(fs::exists(dir / "out" / "tokens_0001.vtu"));
  }

  TEST(OutputSafety, RestartingFromTheRunsOwnTokensInPlace)
  {
    const fs::path dir = testing::scratch_directory("safety_restart");
    run_text(dir / "run.prm", run_file(dir / "out", tokens("40")));
    const fs::path    last  = dir / "out" / "tokens_0002.csv";
    const std::string saved = read(last);
    const std::string restart =
      "subsection Initial condition\n set type = tokens file\n set tokens "
      "file = " +
      last.string() + "\nend\n";

    // The new run would write its own tokens_0002.csv: refused, says how.
    const std::string message = input_error_of(
      [&] { run_text(dir / "restart.prm", run_file(dir / "out", restart)); });
    EXPECT_NE(message.find("Initial condition/tokens file"), std::string::npos)
      << message;
    EXPECT_NE(message.find("cp '" + last.string()), std::string::npos)
      << message;
    EXPECT_EQ(read(last), saved);
    EXPECT_TRUE(fs::exists(dir / "out" / "tokens_0001.csv"));

    // Without that file in its way the restart runs in place and keeps it.
    run_text(dir / "restart.prm",
             run_file(dir / "out", restart, "1", "0.5", false));
    EXPECT_EQ(read(last), saved);
    EXPECT_FALSE(fs::exists(dir / "out" / "tokens_0001.csv"));
    EXPECT_TRUE(fs::exists(dir / "out" / "tokens_0002.vtu"));
    // The kept input is attnflow's: listed in the new manifest.
    EXPECT_NE(
      read(dir / "out" / ".attnflow-manifest").find("file tokens_0002.csv\n"),
      std::string::npos);
    // And the restart's parameters.prm runs again in place.
    const std::string again = read(dir / "out" / "parameters.prm");
    run_text(dir / "out" / "parameters.prm", again);
    EXPECT_EQ(read(dir / "out" / "parameters.prm"), again);
    EXPECT_EQ(read(last), saved);
  }

  TEST(OutputSafety, RerunningTheFoldersParameterFileKeepsIt)
  {
    const fs::path dir = testing::scratch_directory("safety_rerun");
    testing::write_text(dir / "run.prm", run_file(dir / "out", tokens("40")));
    ASSERT_EQ(run_program_with((dir / "run.prm").string(), dir).status, 0);
    const fs::path    used    = dir / "out" / "parameters.prm";
    const std::string text    = read(used);
    const std::string metrics = read(dir / "out" / "metrics.csv");

    const Outcome again = run_program_with(used.string(), dir);
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(read(used), text);
    EXPECT_EQ(read(dir / "out" / "metrics.csv"), metrics);

    // Other parameters would overwrite the file it was started from.
    const Outcome changed =
      run_program_with(used.string() + " --set Model/beta=2", dir);
    EXPECT_EQ(changed.status, 1);
    EXPECT_NE(changed.err.find("the parameter file"), std::string::npos)
      << changed.err;
    EXPECT_NE(changed.err.find("cp '" + used.string()), std::string::npos)
      << changed.err;
    EXPECT_EQ(read(used), text);
  }

  TEST(OutputSafety, SubRunFoldersAreReplacedByTheirOwnManifests)
  {
    // A study's folder: its table and runs/<label> folders of runs.
    const fs::path dir         = testing::scratch_directory("safety_nested");
    const auto     study_files = [](const std::string &name) {
      return name.rfind("convergence.", 0) == 0;
    };
    {
      OutputFolder study(dir / "study", {}, study_files);
      testing::write_text(study.add("convergence.txt"), "table");
      run_text(dir / "run.prm",
               run_file(study.add_folder("runs/h_3"), tokens("40")));
    }
    testing::write_text(dir / "study" / "runs" / "mine.txt", "mine");
    testing::write_text(dir / "study" / "runs" / "h_3" / "mine.txt", "mine");
    ASSERT_TRUE(fs::exists(dir / "study" / "runs" / "h_3" / "metrics.csv"));
    OutputFolder again(dir / "study", {}, study_files);
    EXPECT_FALSE(fs::exists(dir / "study" / "convergence.txt"));
    EXPECT_FALSE(fs::exists(dir / "study" / "runs" / "h_3" / "metrics.csv"));
    EXPECT_EQ(read(dir / "study" / "runs" / "mine.txt"), "mine");
    EXPECT_EQ(read(dir / "study" / "runs" / "h_3" / "mine.txt"), "mine");

    // Output/directory = . of a study never removes a runs/ of the user.
    const fs::path user = testing::scratch_directory("safety_user_runs");
    fs::create_directories(user / "runs");
    testing::write_text(user / "runs" / "data.csv", "1,2");
    EXPECT_THROW(OutputFolder(user, {}, study_files), InputError);
    EXPECT_EQ(read(user / "runs" / "data.csv"), "1,2");
  }

  TEST(OutputSafety, AFolderKilledBeforeItsFirstManifestIsTheRunsOwn)
  {
    // A kill between the folder's creation and its first manifest's rename
    // leaves the manifest's temporary alone, cut short anywhere.
    const fs::path dir    = testing::scratch_directory("safety_first_manifest");
    const auto     any    = [](const std::string &) { return true; };
    const fs::path killed = dir / "killed";
    const fs::path temporary =
      killed / (std::string(OutputFolder::manifest_name) + ".tmp");
    OutputFolder(dir / "whole", {}, any).add("a.txt");
    const std::string manifest =
      read(dir / "whole" / OutputFolder::manifest_name);
    for (const std::size_t length :
         {std::size_t(1), manifest.find('\n') / 2, manifest.size()})
      {
        fs::create_directories(killed);
        testing::write_text(temporary, manifest.substr(0, length));
        OutputFolder claimed(killed, {}, any);
        EXPECT_FALSE(fs::exists(temporary)) << length;
        EXPECT_TRUE(fs::exists(killed / OutputFolder::manifest_name));
        claimed.remove_written();
        EXPECT_FALSE(fs::exists(killed)) << length;
      }

    // A file of that name that is not a manifest is the user's: kept, and
    // the folder refused, with or without a manifest beside it.
    for (const bool with_manifest : {false, true})
      {
        fs::create_directories(killed);
        if (with_manifest)
          fs::copy_file(dir / "whole" / OutputFolder::manifest_name,
                        killed / OutputFolder::manifest_name);
        testing::write_text(temporary, "my notes");
        const std::string message =
          input_error_of([&] { OutputFolder(killed, {}, any); });
        EXPECT_NE(message.find("Output/directory"), std::string::npos)
          << message;
        EXPECT_NE(message.find(".attnflow-manifest.tmp"), std::string::npos)
          << message;
        EXPECT_EQ(read(temporary), "my notes");
      }
  }

  TEST(OutputSafety, ThreadsAndMemoryAreCheckedBeforeWorkStarts)
  {
    const fs::path dir  = testing::scratch_directory("safety_limits");
    const auto     with = [&](const std::string &more) {
      return input_error_of([&] {
        testing::write_text(dir / "run.prm", run_file(dir / "out", more));
        Simulator(read_parameters((dir / "run.prm").string(), {}));
      });
    };
    const std::string threads =
      with(tokens("40") +
           "subsection Parallel\n set number of threads = 100000\nend\n");
    EXPECT_NE(threads.find("Parallel/number of threads"), std::string::npos)
      << threads;
    EXPECT_NE(threads.find("1 .. " + std::to_string(max_threads())),
              std::string::npos)
      << threads;
    EXPECT_EQ(with(tokens("40") +
                   "subsection Parallel\n set number of threads = " +
                   std::to_string(max_threads()) + "\nend\n"),
              "");

    const std::string memory = with(tokens("1000000000"));
    EXPECT_NE(memory.find("Tokens/number of tokens"), std::string::npos)
      << memory;
    EXPECT_NE(memory.find("GB"), std::string::npos) << memory;
    EXPECT_NE(memory.find("MemAvailable"), std::string::npos) << memory;
    const std::string mesh = with(
      tokens("40") +
      "subsection Density\n set enabled = true\n set refinements = 12\nend\n"
      "subsection Model\n set dimension = 3\nend\n");
    EXPECT_NE(mesh.find("Density/refinements"), std::string::npos) << mesh;
    EXPECT_FALSE(fs::exists(dir / "out"));

    // The estimate counts what a run holds: 1e9 tokens in R^2 hold at
    // least two coordinates of 8 bytes each.
    testing::write_text(dir / "run.prm",
                        run_file(dir / "out", tokens("1000000000")));
    const RunSize size =
      estimate_run_size(read_parameters((dir / "run.prm").string(), {}));
    EXPECT_GE(size.tokens, 1e9 * 2 * 8);
    EXPECT_EQ(size.n_outputs, 3.);
  }

  TEST(OutputSafety, WriteFailuresNameTheFileAndTheCause)
  {
    const fs::path dir = testing::scratch_directory("safety_io");
    // A file where the folder should be.
    testing::write_text(dir / "file", "x");
    testing::write_text(dir / "a.prm", run_file(dir / "file", tokens("40")));
    Outcome o = run_program_with((dir / "a.prm").string(), dir);
    EXPECT_EQ(o.status, 1);
    EXPECT_NE(o.err.find("Output/directory"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("not a folder"), std::string::npos) << o.err;
    // A folder nobody can create.
    testing::write_text(dir / "b.prm",
                        run_file("/proc/attnflow_run", tokens("40")));
    o = run_program_with((dir / "b.prm").string(), dir);
    EXPECT_EQ(o.status, 1);
    EXPECT_NE(o.err.find("Output/directory"), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("/proc/attnflow_run"), std::string::npos) << o.err;
    // A standard output that cannot be written.
    testing::write_text(dir / "c.prm", run_file(dir / "c", tokens("40")));
    o = run_program_with((dir / "c.prm").string(), dir, "/dev/full");
    EXPECT_EQ(o.status, 3);
    EXPECT_NE(o.err.find("standard output"), std::string::npos) << o.err;
    EXPECT_TRUE(fs::exists(dir / "c" / "metrics.csv"));

    // A full disk: a 300 kB tmpfs in a private mount namespace (util-linux's
    // unshare; the test machines allow one).
    ASSERT_EQ(std::system("unshare -rm true > /dev/null 2>&1"), 0)
      << "no private mount namespace here: the full disk cannot be tested";
    const fs::path disk = dir / "disk";
    fs::create_directories(disk);
    testing::write_text(dir / "d.prm", run_file(disk / "out", tokens("2000")));
    const std::string command =
      "unshare -rm sh -c 'mount -t tmpfs -o size=300k tmpfs " + disk.string() +
      " && " + ATTNFLOW_BINARY + " " + (dir / "d.prm").string() +
      "; echo $? > " + (dir / "status").string() + "' > /dev/null 2> " +
      (dir / "err.txt").string();
    ASSERT_EQ(std::system(command.c_str()), 0);
    const std::string err = read(dir / "err.txt");
    EXPECT_EQ(std::stoi(read(dir / "status")), 3) << err;
    EXPECT_NE(err.find("the disk is full"), std::string::npos) << err;
    EXPECT_NE(err.find(disk.string()), std::string::npos) << err;
    EXPECT_EQ(err.find("Stacktrace"), std::string::npos) << err;
  }

  TEST(OutputSafety, ParameterFilesSettingAnEntryTwiceOrNotTextAreRefused)
  {
    const fs::path dir = testing::scratch_directory("safety_prm");
    testing::write_text(dir / "twice.prm",
                        "subsection Model\n  set beta = 4\nend\n"
                        "# a comment\nsubsection Tokens\n set number of tokens "
                        "= 10\nend\nsubsection Model\n set  beta =  9 # "
                        "again\nend\n");
    const std::string twice = input_error_of(
      [&] { check_parameter_file((dir / "twice.prm").string()); });
    const std::string file = (dir / "twice.prm").string();
    EXPECT_NE(twice.find(file + ":9"), std::string::npos) << twice;
    EXPECT_NE(twice.find(file + ":2"), std::string::npos) << twice;
    EXPECT_NE(twice.find("Model/beta"), std::string::npos) << twice;
    // The same name in two sections is two entries.
    testing::write_text(dir / "two.prm",
                        "subsection Model\n set Q = identity\n set K = "
                        "identity\nend\nsubsection Initial condition\n set "
                        "seed = 2\nend\nsubsection Comparison\n set seed = "
                        "3\nend\n");
    EXPECT_EQ(input_error_of(
                [&] { check_parameter_file((dir / "two.prm").string()); }),
              "");

    std::string binary = "subsection Model\n";
    for (int c = 0; c < 256; ++c)
      binary += static_cast<char>(c);
    testing::write_text(dir / "binary.prm", binary);
    const Outcome o = run_program_with((dir / "binary.prm").string(), dir);
    EXPECT_EQ(o.status, 1);
    EXPECT_NE(o.err.find("not a text parameter file"), std::string::npos)
      << o.err;
    EXPECT_NE(o.err.find("binary.prm:2"), std::string::npos) << o.err;
    for (const char c : o.err)
      EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << int(c);
    // UTF-8 text (a comment in another language) is text.
    testing::write_text(dir / "utf8.prm",
                        "# \xc3\xa9t\xc3\xa9 \xe2\x86\x92 x\nsubsection "
                        "Model\n set beta = 4\nend\n");
    EXPECT_EQ(input_error_of(
                [&] { check_parameter_file((dir / "utf8.prm").string()); }),
              "");
  }

  TEST(OutputSafety, ProgressLinesFitAHundredColumnsAndTheDetailGoesToLog)
  {
    const fs::path dir = testing::scratch_directory("safety_progress");
    testing::write_text(
      dir / "run.prm",
      run_file(dir / "out",
               tokens("40") +
                 "subsection Density\n set enabled = true\n set refinements "
                 "= 4\nend\n"));
    const Outcome o = run_program_with((dir / "run.prm").string(), dir);
    ASSERT_EQ(o.status, 0) << o.err;
    std::istringstream lines(o.out);
    std::string        line;
    unsigned int       n_lines = 0, n_progress = 0;
    while (std::getline(lines, line))
      {
        ++n_lines;
        if (line.size() > 10 && line[10] == '|')
          {
            EXPECT_LE(line.size(), ProgressReport::max_width) << line;
            ++n_progress;
          }
      }
    EXPECT_EQ(n_progress, 4u) << o.out; // the header and t = 0, 0.5, 1
    EXPECT_EQ(o.out.rfind("attnflow: setting up S^1", 0), 0u) << o.out;
    // The setup line's estimate of the mesh is the mesh built.
    const auto dofs_after = [&](const std::string &text,
                                const std::string &key) {
      const std::size_t at = text.find(key);
      return at == std::string::npos ?
               std::string("none") :
               text.substr(at + key.size(),
                           text.find(" DoFs", at) - at - key.size());
    };
    EXPECT_EQ(dofs_after(o.out, " cells, "),
              dofs_after(o.out, "density: FE_DGQ(2), "))
      << o.out;
    // The table counts clusters as integers.
    EXPECT_NE(o.out.find("| clusters"), std::string::npos) << o.out;
    const std::size_t clusters = o.out.find("| clusters");
    const std::string row =
      o.out.substr(clusters, o.out.find('\n', clusters) - clusters);
    EXPECT_EQ(row.find('.'), std::string::npos) << row;
    // log.txt: the header and every line in full (mass to 15 digits).
    const std::string log = read(dir / "out" / "log.txt");
    EXPECT_NE(log.find("mass = "), std::string::npos) << log;
    EXPECT_NE(log.find("t =    1.0000"), std::string::npos) << log;
    if (std::system("command -v gnuplot > /dev/null") == 0)
      {
        EXPECT_GT(fs::file_size(dir / "out" / "metrics.png"), 1000u);
        EXPECT_GT(fs::file_size(dir / "out" / "metrics.svg"), 1000u);
      }
    EXPECT_EQ(ProgressReport::format_duration(42.4), "42s");
    EXPECT_EQ(ProgressReport::format_duration(725), "12m05s");
    EXPECT_EQ(ProgressReport::format_duration(3 * 3600 + 300), "3h05m");
  }



  TEST(OutputSafety, ALongOutputIntervalGetsLinesWithTheTimeLeft)
  {
    // Outputs at t = 0 and 10; tokens and density, a half each (no interval
    // measured yet). Lines come after 5 s of silence, then every 30 s.
    using Clock = ProgressReport::Clock;
    ProgressReport progress(10., true, true, "W1");
    progress.line(ProgressReport::Values{0.});
    const Clock::time_point start = Clock::now();
    progress.begin_interval(0., 10.);
    EXPECT_EQ(progress.step(false, 1., start + std::chrono::seconds(3)), "");
    // At 20 s the tokens are at t = 4 of 10: 0.4 of their half, so a fifth
    // of the run is done in 20 s and 80 s are left.
    const std::string first =
      progress.step(false, 4., start + std::chrono::seconds(20));
    EXPECT_NE(first.find("tokens at t = 4.0000"), std::string::npos) << first;
    EXPECT_NE(first.find("next output at t = 10.0000"), std::string::npos)
      << first;
    EXPECT_NE(first.find("1m20s left"), std::string::npos) << first;
    EXPECT_LE(first.size(), ProgressReport::max_width);
    EXPECT_EQ(progress.step(false, 5., start + std::chrono::seconds(40)), "");
    // At 60 s the density is at t = 5: 0.5 + 0.5 * 0.5 done, 20 s left.
    const std::string second =
      progress.step(true, 5., start + std::chrono::seconds(60));
    EXPECT_NE(second.find("density at t = 5.0000"), std::string::npos)
      << second;
    EXPECT_NE(second.find("20s left"), std::string::npos) << second;
  }
} // namespace attnflow
