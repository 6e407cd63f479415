/**
 * @file
 * The folder a run (or a convergence study) writes into, and its manifest:
 * attnflow deletes or overwrites only files it wrote itself, and never an
 * input of the run.
 */
#ifndef attnflow_output_folder_h
#define attnflow_output_folder_h

#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * A file of the run could not be written during the run: the disk is full,
   * the folder became unwritable. The message names the file and the cause.
   * The program exits with code 3.
   */
  class OutputError : public std::runtime_error
  {
  public:
    /** The failure to write @p file, for the reason @p cause. */
    OutputError(const std::filesystem::path &file, const std::string &cause);
  };

  /**
   * The reason of the last failed system call (errno) in words, with "the
   * disk is full" when the file system of @p file has no space left.
   */
  std::string
  io_failure_cause(const std::filesystem::path &file, const int error);

  /**
   * A run folder that is recognisably attnflow's: its manifest
   * `.attnflow-manifest` lists, one a line, every file and sub-run folder
   * attnflow wrote there. A name is recorded before its file is created, so
   * that even a killed run leaves a folder a new run can replace.
   *
   * Claiming a folder for a new run:
   * - a missing folder is created;
   * - a folder holding nothing, or only this run's inputs and empty files,
   *   is used as it is;
   * - a folder with a manifest (an earlier run) loses exactly the files of
   *   its manifest, except this run's inputs, which are kept untouched;
   *   sub-run folders of the manifest are cleared by their own manifests and
   *   removed once empty;
   * - any other non-empty folder is refused (InputError naming the
   *   parameter, e.g. Output/directory, and the way out).
   * A name the run will write that is an input, or a file attnflow did not
   * write, is refused as well, before anything changes: nothing attnflow did
   * not write is ever deleted or overwritten.
   */
  class OutputFolder
  {
  public:
    /** The name of the manifest in every folder attnflow writes. */
    static constexpr const char *manifest_name = ".attnflow-manifest";

    /** Whether the run writes the file @p name (relative to the folder). */
    using Plan = std::function<bool(const std::string &name)>;

    /** A file the run reads, and what it is (e.g. "the parameter file"). */
    struct Input
    {
      std::filesystem::path file;
      std::string           what;
    };

    /**
     * Checks, without changing anything, that a run with @p inputs may write
     * the files @p writes into @p directory; InputError naming @p parameter
     * otherwise.
     */
    static void
    check(const std::filesystem::path &directory,
          const std::vector<Input>    &inputs,
          const Plan                  &writes,
          const std::string           &parameter = "Output/directory");

    /**
     * Claims @p directory (check(), then the earlier run's files are
     * removed) and writes a new manifest, which lists the kept inputs that
     * the earlier run wrote.
     */
    OutputFolder(const std::filesystem::path &directory,
                 const std::vector<Input>    &inputs,
                 const Plan                  &writes,
                 const std::string           &parameter = "Output/directory");

    /**
     * The folder @p directory of an earlier run, continued (attnflow
     * --resume): its manifest is kept and extended, nothing is removed, and
     * @p inputs in it are never written. InputError naming @p parameter if
     * it holds no manifest.
     */
    static OutputFolder
    reopen(const std::filesystem::path &directory,
           const std::vector<Input>    &inputs,
           const std::string           &parameter = "--resume");

    /**
     * The path of the file @p name (relative to the folder), recorded in the
     * manifest first. InputError if it is an input of the run or a file
     * attnflow did not write.
     */
    std::filesystem::path
    add(const std::string &name);

    /**
     * Records the sub-folder @p name (relative to the folder) of a run that
     * keeps its own manifest, e.g. a study's runs/h_3: an earlier one is
     * replaced by its manifest, never removed as a whole.
     */
    std::filesystem::path
    add_folder(const std::string &name);

    /**
     * Removes everything this run wrote (the files and sub-run folders of
     * its manifest, except the inputs, then the manifest, and the folder
     * itself once empty): for a run or study that stops on bad input and
     * leaves nothing behind.
     */
    void
    remove_written();

    /** The folder. */
    const std::filesystem::path &
    path() const
    {
      return directory;
    }

  private:
    /** An empty record of @p directory (reopen() fills it). */
    OutputFolder(const std::filesystem::path &directory,
                 const std::vector<Input>    &inputs,
                 const std::string           &parameter);

    /** Rewrites the manifest (atomically). */
    void
    write_manifest() const;

    std::filesystem::path    directory;
    std::vector<Input>       inputs;
    std::string              parameter;
    std::set<std::string>    files, folders;
    std::vector<std::string> order;
    /** Files in the folder that must not be written: inputs, foreign. */
    std::set<std::string> protected_names;
  };
} // namespace attnflow

#endif
