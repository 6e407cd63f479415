/**
 * @file
 * Checkpoint and restart (doc/theory.md section 11), with the attnflow
 * binary as a child process: a run killed by SIGKILL (during the run, during
 * a checkpoint write), or stopped by SIGTERM/SIGINT, and resumed once or
 * twice, ends with the files of the run never stopped, byte for byte
 * (metrics.csv, tokens_NNNN.csv/.vtu, density_NNNN.vtu, the .pvd records);
 * a finished run is left as it is; a folder without a checkpoint is a clear
 * error with exit code 1.
 */
#include <attnflow/checkpoint.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "test_helpers.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace attnflow
{
  namespace
  {
    namespace fs = std::filesystem;

    /** The bytes of a file (test_helpers.h). */
    const auto read = testing::read_text;

    /**
     * A token run on S^1 (and a density on an adaptive mesh of it if
     * @p density) to t = 4, output every 0.1, a checkpoint every 0.5 (none
     * if @p checkpoints is false), into @p directory.
     */
    std::string
    run_file(const fs::path &directory,
             const bool      density,
             const bool      checkpoints = true)
    {
      std::string text =
        "subsection Model\n set geometry = sphere\n set dimension = 2\n"
        " set beta = 4\nend\n"
        "subsection Tokens\n set number of tokens = 300\nend\n"
        "subsection Time\n set end time = 4\n set output interval = 0.1\n"
        "end\n"
        "subsection Output\n set directory = " +
        directory.string() +
        "\n set write tokens csv = true\n set checkpoint interval = " +
        (checkpoints ? "0.5" : "0") + "\nend\n";
      if (density)
        text += "subsection Density\n set enabled = true\n set degree = 1\n"
                " set refinements = 4\n set adaptive refinement = true\n"
                " set max refinement level = 6\n"
                " set adaptation interval = 5\nend\n";
      return text;
    }

    /** A child process running the attnflow binary. */
    class Child
    {
    public:
      /** Starts attnflow with @p arguments, its output into @p scratch. */
      Child(const std::vector<std::string> &arguments, const fs::path &scratch)
          : out(scratch / "out.txt")
          , err(scratch / "err.txt")
      {
        pid = fork();
        if (pid == 0)
          {
            const int out_fd =
              open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int err_fd =
              open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(out_fd, 1);
            dup2(err_fd, 2);
            std::vector<char *> argv{const_cast<char *>(ATTNFLOW_BINARY)};
            for (const std::string &argument : arguments)
              argv.push_back(const_cast<char *>(argument.c_str()));
            argv.push_back(nullptr);
            execv(ATTNFLOW_BINARY, argv.data());
            _exit(127);
          }
      }

      /** Whether the child has not ended yet. */
      bool
      running()
      {
        if (status >= 0)
          return false;
        int       raw = 0;
        const int got = waitpid(pid, &raw, WNOHANG);
        if (got == pid)
          status = decode(raw);
        return status < 0;
      }

      /**
       * Polls until @p ready() holds or the child ends; returns whether it
       * was still running then.
       */
      template <typename Ready>
      bool
      wait_for(const Ready &ready)
      {
        while (running())
          {
            if (ready())
              return true;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
          }
        return false;
      }

      /** Sends @p signal. */
      void
      send(const int signal)
      {
        kill(pid, signal);
      }

      /** Waits for the end; the exit code (128 + n if killed by signal n). */
      int
      wait()
      {
        if (status < 0)
          {
            int raw = 0;
            waitpid(pid, &raw, 0);
            status = decode(raw);
          }
        return status;
      }

      fs::path out, err;

    private:
      static int
      decode(const int raw)
      {
        return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      }

      pid_t pid    = -1;
      int   status = -1;
    };

    /** Runs attnflow with @p arguments to its end; the exit code. */
    int
    run_attnflow(const std::vector<std::string> &arguments,
                 const fs::path                 &scratch)
    {
      return Child(arguments, scratch).wait();
    }

    /**
     * The results of the run in @p folder: every file but the log, the
     * manifest, parameters.prm (it names the folder), the plots and the
     * checkpoints, by name.
     */
    std::map<std::string, std::string>
    results(const fs::path &folder)
    {
      std::map<std::string, std::string> files;
      for (const auto &entry : fs::directory_iterator(folder))
        {
          const std::string name = entry.path().filename().string();
          if (entry.is_directory() || name == "log.txt" ||
              name == OutputFolder::manifest_name || name == "parameters.prm" ||
              (name.rfind("metrics.", 0) == 0 && name != "metrics.csv"))
            continue;
          files[name] = read(entry.path());
        }
      return files;
    }

    /** Expects the results in @p folder to be those of @p reference. */
    void
    expect_same_results(const fs::path &reference, const fs::path &folder)
    {
      const auto expected = results(reference);
      const auto got      = results(folder);
      ASSERT_GT(expected.size(), 40u);
      EXPECT_EQ(got.size(), expected.size());
      for (const auto &[name, bytes] : expected)
        {
          const auto at = got.find(name);
          ASSERT_NE(at, got.end()) << name << " is missing";
          EXPECT_TRUE(at->second == bytes) << name << " differs";
        }
    }

    /** The number of rows of @p folder's metrics.csv (0 if none). */
    std::size_t
    n_metrics_rows(const fs::path &folder)
    {
      const std::string text = read(folder / "metrics.csv");
      return std::count(text.begin(), text.end(), '\n');
    }

    /** The run folder of a test and its parameter file. */
    struct RunFolder
    {
      fs::path scratch, folder, prm;
    };

    RunFolder
    prepare(const std::string &name, const bool density, const bool on = true)
    {
      RunFolder run;
      run.scratch = testing::scratch_directory("checkpoint_" + name);
      run.folder  = run.scratch / "out";
      run.prm     = run.scratch / "run.prm";
      testing::write_text(run.prm, run_file(run.folder, density, on));
      return run;
    }

    /** The folder of the uninterrupted run with or without density. */
    const fs::path &
    reference(const bool density)
    {
      static std::map<bool, fs::path> folders;
      if (!folders.count(density))
        {
          const RunFolder run =
            prepare(density ? "reference_density" : "reference", density);
          EXPECT_EQ(run_attnflow({run.prm.string()}, run.scratch), 0)
            << read(run.scratch / "err.txt");
          folders[density] = run.folder;
        }
      return folders[density];
    }

    /** Whether @p folder holds a complete checkpoint. */
    bool
    has_checkpoint(const fs::path &folder)
    {
      return fs::exists(folder / CheckpointFolder::current_name /
                        CheckpointFolder::summary_name);
    }

    /**
     * Starts the run @p arguments, kills it with SIGKILL as soon as
     * @p ready() holds, and expects that it was still running then.
     */
    template <typename Ready>
    void
    kill_when(const std::vector<std::string> &arguments,
              const RunFolder                &run,
              const Ready                    &ready)
    {
      Child child(arguments, run.scratch);
      ASSERT_TRUE(child.wait_for(ready))
        << "the run ended before it could be killed: "
        << read(run.scratch / "err.txt");
      child.send(SIGKILL);
      EXPECT_EQ(child.wait(), 128 + SIGKILL);
    }

    /** Resumes @p run to its end and expects success. */
    void
    resume(const RunFolder &run)
    {
      EXPECT_EQ(run_attnflow({"--resume", run.folder.string()}, run.scratch), 0)
        << read(run.scratch / "err.txt");
    }

    /** Kill after the first checkpoint, resume: the uninterrupted files. */
    void
    check_killed_and_resumed(const bool density)
    {
      const fs::path &expected = reference(density);
      const RunFolder run =
        prepare(density ? "killed_density" : "killed", density);
      kill_when({run.prm.string()}, run, [&] {
        return has_checkpoint(run.folder);
      });
      ASSERT_LT(n_metrics_rows(run.folder), n_metrics_rows(expected));
      resume(run);
      expect_same_results(expected, run.folder);
      EXPECT_NE(read(run.scratch / "out.txt").find("resumed from"),
                std::string::npos);
    }
  } // namespace

  TEST(Checkpoint, ATokenRunKilledAndResumedEndsAsIfNeverStopped)
  {
    check_killed_and_resumed(false);
  }

  TEST(Checkpoint, ADensityRunKilledAndResumedEndsAsIfNeverStopped)
  {
    check_killed_and_resumed(true);
  }

  TEST(Checkpoint, ResumedTwiceEndsAsIfNeverStopped)
  {
    const fs::path &expected = reference(true);
    const RunFolder run      = prepare("twice", true);
    kill_when({run.prm.string()}, run, [&] {
      return has_checkpoint(run.folder);
    });
    const CheckpointSummary first = CheckpointFolder::read_summary(
      run.folder / CheckpointFolder::current_name);
    // Killed again once the resumed run wrote a later checkpoint.
    kill_when({"--resume", run.folder.string()}, run, [&] {
      return has_checkpoint(run.folder) &&
             CheckpointFolder::read_summary(run.folder /
                                            CheckpointFolder::current_name)
                 .time > first.time;
    });
    resume(run);
    expect_same_results(expected, run.folder);
  }

  TEST(Checkpoint, AKillDuringACheckpointWriteLeavesTheLastOne)
  {
    const fs::path &expected = reference(false);
    const RunFolder run      = prepare("in_write", false);
    // checkpoint.new/ exists only while a checkpoint is written (and until
    // the old one in it is removed): killed when it is seen, the kill may
    // still come just after the write; then again.
    for (unsigned int attempt = 0;
         attempt < 5 && !fs::exists(run.folder / CheckpointFolder::new_name);
         ++attempt)
      kill_when({run.prm.string()}, run, [&] {
        return has_checkpoint(run.folder) &&
               fs::exists(run.folder / CheckpointFolder::new_name);
      });
    ASSERT_TRUE(fs::exists(run.folder / CheckpointFolder::new_name));
    resume(run);
    expect_same_results(expected, run.folder);
    EXPECT_FALSE(fs::exists(run.folder / CheckpointFolder::new_name));
  }

  TEST(Checkpoint, AWriteKilledBeforeItsFirstManifestIsCleared)
  {
    // What a kill just after checkpoint.new/ was made leaves, made by hand:
    // only the start of its manifest's temporary.
    const fs::path &expected = reference(false);
    const RunFolder run      = prepare("first_manifest", false);
    kill_when({run.prm.string()}, run, [&] {
      return has_checkpoint(run.folder);
    });
    const fs::path staging = run.folder / CheckpointFolder::new_name;
    fs::remove_all(staging);
    fs::create_directory(staging);
    const std::string manifest = read(run.folder / OutputFolder::manifest_name);
    testing::write_text(staging /
                          (std::string(OutputFolder::manifest_name) + ".tmp"),
                        manifest.substr(0, 20));
    resume(run);
    expect_same_results(expected, run.folder);
    EXPECT_FALSE(fs::exists(staging));
  }

  TEST(Checkpoint, AHalfWrittenCheckpointIsIgnored)
  {
    // What a kill during a write leaves, made by hand: checkpoint.new/ with
    // a manifest and a file cut short, but no summary.
    const fs::path &expected = reference(false);
    const RunFolder run      = prepare("half_written", false);
    kill_when({run.prm.string()}, run, [&] {
      return has_checkpoint(run.folder);
    });
    const fs::path staging = run.folder / CheckpointFolder::new_name;
    fs::remove_all(staging);
    fs::copy(run.folder / CheckpointFolder::current_name, staging);
    fs::remove(staging / CheckpointFolder::summary_name);
    fs::resize_file(staging / "run.state",
                    fs::file_size(staging / "run.state") / 2);
    resume(run);
    expect_same_results(expected, run.folder);
  }

  TEST(Checkpoint, SigtermStopsAtAnOutputTimeWithACheckpoint)
  {
    const fs::path &expected = reference(false);
    const RunFolder run      = prepare("sigterm", false);
    Child           child({run.prm.string()}, run.scratch);
    ASSERT_TRUE(child.wait_for([&] { return n_metrics_rows(run.folder) > 2; }));
    child.send(SIGTERM);
    EXPECT_EQ(child.wait(), 143);
    const std::string err = read(run.scratch / "err.txt");
    EXPECT_NE(err.find("stopped by SIGTERM at t = "), std::string::npos) << err;
    EXPECT_NE(err.find("attnflow --resume " + run.folder.string()),
              std::string::npos)
      << err;
    // The checkpoint is of the last output written.
    ASSERT_TRUE(has_checkpoint(run.folder));
    const CheckpointSummary summary = CheckpointFolder::read_summary(
      run.folder / CheckpointFolder::current_name);
    EXPECT_FALSE(summary.finished);
    EXPECT_EQ(n_metrics_rows(run.folder), summary.n_outputs_written + 1);
    resume(run);
    expect_same_results(expected, run.folder);
  }

  TEST(Checkpoint, SigintWithoutCheckpointsSaysThereIsNoneToResume)
  {
    const RunFolder run = prepare("sigint", false, false);
    Child           child({run.prm.string()}, run.scratch);
    ASSERT_TRUE(child.wait_for([&] { return n_metrics_rows(run.folder) > 2; }));
    child.send(SIGINT);
    EXPECT_EQ(child.wait(), 130);
    const std::string err = read(run.scratch / "err.txt");
    EXPECT_NE(err.find("stopped by SIGINT"), std::string::npos) << err;
    // Without checkpoints the run stops after the step it is in, or at the
    // output time it is writing when the signal came then.
    EXPECT_TRUE(err.find("stopped by SIGINT after the step of the") !=
                  std::string::npos ||
                err.find("stopped by SIGINT at t = ") != std::string::npos)
      << err;
    EXPECT_NE(err.find("no checkpoint"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(run.folder / CheckpointFolder::current_name));
  }

  TEST(Checkpoint, AFinishedRunIsLeftAsItIs)
  {
    const fs::path &folder = reference(false);
    std::map<std::string, std::pair<std::string, fs::file_time_type>> before;
    for (const auto &entry : fs::recursive_directory_iterator(folder))
      if (entry.is_regular_file())
        before[entry.path().string()] = {read(entry.path()),
                                         entry.last_write_time()};
    const fs::path scratch = testing::scratch_directory("checkpoint_finished");
    EXPECT_EQ(run_attnflow({"--resume", folder.string()}, scratch), 0);
    EXPECT_NE(read(scratch / "out.txt").find("finished"), std::string::npos);
    std::size_t n_files = 0;
    for (const auto &entry : fs::recursive_directory_iterator(folder))
      if (entry.is_regular_file())
        {
          ++n_files;
          const auto at = before.find(entry.path().string());
          ASSERT_NE(at, before.end()) << entry.path();
          EXPECT_TRUE(at->second.first == read(entry.path())) << entry.path();
          EXPECT_TRUE(at->second.second == entry.last_write_time())
            << entry.path();
        }
    EXPECT_EQ(n_files, before.size());
  }

  TEST(Checkpoint, AFolderWithoutACheckpointIsAClearError)
  {
    const RunFolder run = prepare("none", false, false);
    ASSERT_EQ(run_attnflow({run.prm.string()}, run.scratch), 0);
    EXPECT_EQ(run_attnflow({"--resume", run.folder.string()}, run.scratch), 1);
    const std::string err = read(run.scratch / "err.txt");
    EXPECT_NE(err.find("holds no checkpoint"), std::string::npos) << err;
    EXPECT_NE(err.find("Output/checkpoint interval"), std::string::npos) << err;
    EXPECT_EQ(run_attnflow({"--resume", (run.scratch / "nowhere").string()},
                           run.scratch),
              1);
    EXPECT_NE(read(run.scratch / "err.txt").find("is not a run folder"),
              std::string::npos);
  }



  TEST(OutputSafety, AStudysFirstLineReachesAFileBeforeItsFirstRunEnds)
  {
    // stdout a file: the study's header must be written when the runs
    // start, not held back until the first run's line (the finest run,
    // refinement 4 on S^2, runs first and takes seconds).
    const fs::path    scratch = testing::scratch_directory("study_first_line");
    const fs::path    study   = scratch / "study";
    Child             child({"--convergence",
                             std::string(ATTNFLOW_SOURCE_DIR) +
                               "/examples/convergence/sphere_h.prm",
                             "--set",
                             "Convergence/values=1, 2, 4",
                             "--set",
                             "Convergence/series values=1",
                             "--set",
                             "Output/directory=" + study.string()},
                scratch);
    const bool        first_run_started = child.wait_for([&] {
      return fs::exists(study / "runs" / "refinements_4_k_1" /
                        "parameters.prm");
    });
    const std::string out               = read(child.out);
    child.send(SIGKILL);
    child.wait();
    ASSERT_TRUE(first_run_started) << read(child.err);
    if (out.find("  run ") == std::string::npos) // still in the first run
      {
        EXPECT_EQ(out.rfind("attnflow convergence study: ", 0), 0u) << out;
      }
  }
} // namespace attnflow
