/**
 * @file
 * The checkpoint of a run (Output/checkpoint interval): the folder
 * checkpoint/ of the run folder, written as checkpoint.new/ and then
 * exchanged with the old one in one rename, so that a kill at any moment
 * leaves the last complete checkpoint (doc/theory.md section 11).
 */
#ifndef attnflow_checkpoint_h
#define attnflow_checkpoint_h

#include <attnflow/output_folder.h>

#include <filesystem>
#include <functional>
#include <string>

namespace attnflow
{
  /**
   * What a checkpoint says of itself in its summary.txt: enough to tell the
   * user where the run stands without loading it.
   */
  struct CheckpointSummary
  {
    /** The simulated time of the checkpoint. */
    double time = 0.;
    /** The output times written before it (indices 0 .. n - 1). */
    unsigned int n_outputs_written = 0;
    /** The output times of the whole run. */
    unsigned int n_outputs = 0;
    /** Whether the run had reached its end time. */
    bool finished = false;
  };

  /**
   * The checkpoints of one run folder. The files of a checkpoint are
   * written into checkpoint.new/ (an OutputFolder with its own manifest,
   * recorded as a sub-run folder of the run), then checkpoint.new/ and
   * checkpoint/ are exchanged atomically (Linux renameat2 RENAME_EXCHANGE;
   * where the file system has no exchange, checkpoint/ is renamed to
   * checkpoint.old/ first) and the old one is removed. A kill before the
   * exchange leaves checkpoint/ as it was, a kill after it the new one.
   */
  class CheckpointFolder
  {
  public:
    /** The folder of the last complete checkpoint. */
    static constexpr const char *current_name = "checkpoint";
    /** The folder being written. */
    static constexpr const char *new_name = "checkpoint.new";
    /** The previous checkpoint while it is renamed (no exchange). */
    static constexpr const char *old_name = "checkpoint.old";
    /** The file of CheckpointSummary; written last. */
    static constexpr const char *summary_name = "summary.txt";

    /**
     * The checkpoints of the run in @p run_folder, whose manifest then
     * lists the checkpoint folders.
     */
    explicit CheckpointFolder(OutputFolder &run_folder);

    /**
     * Writes a checkpoint: @p write_files writes its files into the
     * OutputFolder it is given (claimed as checkpoint.new/), the summary
     * @p summary is added, and the folder becomes checkpoint/. OutputError
     * if a file cannot be written (checkpoint/ then stays as it was).
     */
    void
    write(const CheckpointSummary                   &summary,
          const std::function<void(OutputFolder &)> &write_files);

    /**
     * The folder of the last complete checkpoint in @p run_folder;
     * InputError naming @p run_folder if it holds none.
     */
    static std::filesystem::path
    find(const std::filesystem::path &run_folder);

    /** The summary of the checkpoint in @p checkpoint; InputError if bad. */
    static CheckpointSummary
    read_summary(const std::filesystem::path &checkpoint);

  private:
    OutputFolder &run_folder;
  };
} // namespace attnflow

#endif
