#include <attnflow/checkpoint.h>
#include <attnflow/exceptions.h>
#include <attnflow/output.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <fcntl.h>

namespace attnflow
{
  namespace
  {
    namespace fs = std::filesystem;

    /** The first line of every summary.txt. */
    const char *const summary_header = "attnflow checkpoint";

    /** Every name may be written into a checkpoint folder. */
    bool
    any_name(const std::string &)
    {
      return true;
    }

    /**
     * Removes the checkpoint folder @p folder by its manifest (the folder
     * goes once empty; nothing attnflow did not write is touched).
     */
    void
    remove_checkpoint(const fs::path &folder)
    {
      if (!fs::is_directory(folder))
        return;
      OutputFolder(folder, {}, any_name).remove_written();
    }

    /** Renames @p from to @p to; OutputError if it fails. */
    void
    rename_or_throw(const fs::path &from, const fs::path &to)
    {
      std::error_code error;
      fs::rename(from, to, error);
      if (error)
        throw OutputError(to, io_failure_cause(to, error.value()));
    }
  } // namespace



  CheckpointFolder::CheckpointFolder(OutputFolder &run_folder)
      : run_folder(run_folder)
  {
    for (const char *name : {current_name, new_name, old_name})
      run_folder.add_folder(name);
  }



  void
  CheckpointFolder::write(
    const CheckpointSummary                   &summary,
    const std::function<void(OutputFolder &)> &write_files)
  {
    const fs::path current = run_folder.path() / current_name;
    const fs::path staging = run_folder.path() / new_name;
    const fs::path old     = run_folder.path() / old_name;
    {
      // Claiming checkpoint.new/ clears what a killed write left there.
      OutputFolder folder(staging, {}, any_name);
      write_files(folder);
      // The summary last: a folder with a summary is complete.
      write_file_atomically(folder.add(summary_name), [&](std::ostream &out) {
        out << summary_header << '\n'
            << "time = " << std::setprecision(17) << summary.time << '\n'
            << "outputs written = " << summary.n_outputs_written << '\n'
            << "outputs = " << summary.n_outputs << '\n'
            << "finished = " << (summary.finished ? "true" : "false") << '\n';
      });
    }
    if (!fs::exists(current))
      rename_or_throw(staging, current);
    else if (renameat2(AT_FDCWD,
                       staging.c_str(),
                       AT_FDCWD,
                       current.c_str(),
                       RENAME_EXCHANGE) != 0)
      {
        if (errno != EINVAL && errno != ENOSYS)
          throw OutputError(current, io_failure_cause(current, errno));
        // No exchange on this file system: the old one steps aside first;
        // find() takes checkpoint.old/ while checkpoint/ is missing.
        remove_checkpoint(old);
        rename_or_throw(current, old);
        rename_or_throw(staging, current);
        remove_checkpoint(old);
        return;
      }
    // The old checkpoint is now checkpoint.new/.
    remove_checkpoint(staging);
  }



  fs::path
  CheckpointFolder::find(const fs::path &run_folder)
  {
    if (!fs::is_directory(run_folder))
      throw InputError("--resume",
                       "'" + run_folder.string() + "' is not a run folder");
    for (const char *name : {current_name, old_name})
      if (fs::is_regular_file(run_folder / name / summary_name))
        return run_folder / name;
    throw InputError("--resume",
                     "'" + run_folder.string() + "' holds no checkpoint (no " +
                       current_name + "/" + summary_name +
                       "): the run was made with Output/checkpoint interval "
                       "= 0, or stopped before its first checkpoint; start "
                       "it anew with `attnflow " +
                       (run_folder / "parameters.prm").string() +
                       " --set \"Output/checkpoint interval=...\"`");
  }



  CheckpointSummary
  CheckpointFolder::read_summary(const fs::path &checkpoint)
  {
    const fs::path    file = checkpoint / summary_name;
    std::ifstream     in(file);
    std::string       line;
    CheckpointSummary summary;
    unsigned int      n_read = 0;
    if (!std::getline(in, line) || line != summary_header)
      throw InputError(file.string(), "is not the summary of a checkpoint");
    while (std::getline(in, line))
      {
        const std::size_t equal = line.find(" = ");
        if (equal == std::string::npos)
          continue;
        const std::string  key = line.substr(0, equal);
        std::istringstream value(line.substr(equal + 3));
        if (key == "time")
          n_read += static_cast<bool>(value >> summary.time);
        else if (key == "outputs written")
          n_read += static_cast<bool>(value >> summary.n_outputs_written);
        else if (key == "outputs")
          n_read += static_cast<bool>(value >> summary.n_outputs);
        else if (key == "finished")
          {
            summary.finished = value.str() == "true";
            ++n_read;
          }
      }
    if (n_read != 4)
      throw InputError(file.string(),
                       "is incomplete: it needs time, outputs written, "
                       "outputs and finished");
    return summary;
  }
} // namespace attnflow
