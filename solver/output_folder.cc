#include <attnflow/exceptions.h>
#include <attnflow/output.h>
#include <attnflow/output_folder.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace attnflow
{
  namespace
  {
    namespace fs = std::filesystem;

    /** The first line of every manifest. */
    const char *const manifest_header =
      "# attnflow manifest: the files attnflow wrote in this folder; a new "
      "run replaces exactly these";

    /** The entries of a folder's manifest. */
    struct Manifest
    {
      bool                     present = false;
      std::vector<std::string> files, folders;
    };

    /** The manifest of @p directory (present = false if it has none). */
    Manifest
    read_manifest(const fs::path &directory)
    {
      Manifest      manifest;
      std::ifstream in(directory / OutputFolder::manifest_name);
      std::string   line;
      if (!in || !std::getline(in, line) || line != manifest_header)
        return manifest;
      manifest.present = true;
      while (std::getline(in, line))
        if (line.rfind("file ", 0) == 0)
          manifest.files.push_back(line.substr(5));
        else if (line.rfind("folder ", 0) == 0)
          manifest.folders.push_back(line.substr(7));
      return manifest;
    }

    /** Whether @p path is one of @p inputs (the same file). */
    const OutputFolder::Input *
    input_at(const fs::path                         &path,
             const std::vector<OutputFolder::Input> &inputs)
    {
      for (const OutputFolder::Input &input : inputs)
        {
          std::error_code error;
          if (fs::equivalent(path, input.file, error))
            return &input;
        }
      return nullptr;
    }

    /** Whether @p path is a regular file holding nothing. */
    bool
    is_empty_file(const fs::path &path)
    {
      std::error_code error;
      return fs::is_regular_file(path, error) &&
             fs::file_size(path, error) == 0;
    }

    /** The manifest's temporary while it is written (output.h). */
    const std::string manifest_temporary_name =
      std::string(OutputFolder::manifest_name) + ".tmp";

    /**
     * Whether @p path is the temporary of a manifest that a kill left
     * before its rename: ".attnflow-manifest.tmp" whose text begins with the
     * manifest's header or is the start of it (cut short). A new folder
     * holds it alone until its first manifest is in place.
     */
    bool
    is_manifest_temporary(const fs::path &path)
    {
      if (path.filename() != manifest_temporary_name)
        return false;
      const std::string header(manifest_header);
      std::ifstream     in(path);
      std::string       head(header.size(), '\0');
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<std::size_t>(in.gcount()));
      return header.compare(0, head.size(), head) == 0;
    }

    /** "'a', 'b', 'c' and 2 more". */
    std::string
    list_of(const std::vector<std::string> &names)
    {
      std::string text;
      for (std::size_t i = 0; i < std::min<std::size_t>(names.size(), 3); ++i)
        text += (i ? ", '" : "'") + names[i] + "'";
      if (names.size() > 3)
        text += " and " + std::to_string(names.size() - 3) + " more";
      return text;
    }

    /**
     * What a folder holds for a new run: the earlier run's files that go,
     * the inputs that stay, and what attnflow did not write.
     */
    struct Survey
    {
      Manifest                 manifest;
      std::vector<std::string> removable, kept_inputs, foreign;
    };

    Survey
    survey(const fs::path                         &directory,
           const std::vector<OutputFolder::Input> &inputs)
    {
      Survey survey;
      survey.manifest   = read_manifest(directory);
      const Manifest &m = survey.manifest;
      for (const std::string &name : m.files)
        if (fs::exists(directory / name))
          (input_at(directory / name, inputs) ? survey.kept_inputs :
                                                survey.removable)
            .push_back(name);
      // Top-level entries that are neither the earlier run's nor inputs.
      for (const fs::directory_entry &entry : fs::directory_iterator(directory))
        {
          const std::string name = entry.path().filename().string();
          const auto        in   = [&](const std::vector<std::string> &list) {
            return std::find(list.begin(), list.end(), name) != list.end();
          };
          const bool holds_folder =
            std::any_of(m.folders.begin(),
                        m.folders.end(),
                        [&](const std::string &folder) {
                          return folder == name ||
                                 folder.rfind(name + "/", 0) == 0;
                        });
          // A temporary file of a killed run ("name.tmp").
          const std::string stem =
            fs::path(name).extension() == ".tmp" ? fs::path(name).stem() : "";
          const bool temporary =
            is_manifest_temporary(entry.path()) ||
            (m.present &&
             std::find(m.files.begin(), m.files.end(), stem) != m.files.end());
          if ((m.present && name == OutputFolder::manifest_name) ||
              in(m.files) || holds_folder || temporary ||
              input_at(entry.path(), inputs) || is_empty_file(entry.path()))
            continue;
          survey.foreign.push_back(name);
        }
      std::sort(survey.foreign.begin(), survey.foreign.end());
      return survey;
    }

    /**
     * Removes the files and sub-run folders of @p directory's manifest
     * except @p inputs, and the manifest; returns the kept inputs.
     */
    std::vector<std::string>
    remove_earlier_run(const fs::path                         &directory,
                       const std::vector<OutputFolder::Input> &inputs)
    {
      const Survey s = survey(directory, inputs);
      for (const std::string &name : s.removable)
        fs::remove(directory / name);
      for (const std::string &name : s.manifest.files)
        {
          std::error_code ignored;
          fs::remove(directory / (name + ".tmp"), ignored);
        }
      const fs::path manifest_temporary = directory / manifest_temporary_name;
      if (is_manifest_temporary(manifest_temporary))
        fs::remove(manifest_temporary);
      for (const std::string &folder : s.manifest.folders)
        {
          const fs::path sub = directory / folder;
          if (!fs::is_directory(sub) || !read_manifest(sub).present)
            continue;
          remove_earlier_run(sub, inputs);
          fs::remove(sub / OutputFolder::manifest_name);
          // The folder and its parents below directory, once empty.
          std::error_code ignored;
          for (fs::path p = fs::path(folder); !p.empty(); p = p.parent_path())
            if (!fs::remove(directory / p, ignored))
              break;
        }
      return s.kept_inputs;
    }
  } // namespace



  OutputError::OutputError(const std::filesystem::path &file,
                           const std::string           &cause)
      : std::runtime_error("cannot write '" + file.string() + "': " + cause)
  {}



  std::string
  io_failure_cause(const std::filesystem::path &file, const int error)
  {
    std::error_code ignored;
    const fs::path  folder =
      file.has_parent_path() ? file.parent_path() : fs::path(".");
    const fs::space_info space = fs::space(folder, ignored);
    if (error == ENOSPC || (!ignored && space.available == 0))
      return "the disk is full (no space left on the device of '" +
             folder.string() + "')";
    if (error == EACCES || error == EPERM || error == EROFS)
      return std::string(std::strerror(error)) +
             " (no permission to write in '" + folder.string() + "')";
    return error ? std::string(std::strerror(error)) :
                   std::string("the write failed");
  }



  void
  OutputFolder::check(const std::filesystem::path &directory,
                      const std::vector<Input>    &inputs,
                      const Plan                  &writes,
                      const std::string           &parameter)
  {
    const std::string folder = "'" + directory.string() + "'";
    std::string       other  = directory.lexically_normal().string();
    while (other.size() > 1 && other.back() == '/')
      other.pop_back();
    if (other == "." || other.empty())
      other = "run";
    const std::string new_folder = "set " + parameter +
                                   " to a new folder (e.g. --set \"" +
                                   parameter + "=" + other + "_2\")";
    std::error_code error;
    const bool      exists = fs::exists(directory, error);
    if (exists && !fs::is_directory(directory))
      throw InputError(parameter,
                       folder + " exists and is not a folder; " + new_folder);
    if (!exists)
      return;
    const Survey s = survey(directory, inputs);
    if (!s.manifest.present && !s.foreign.empty())
      throw InputError(parameter,
                       folder + " is not empty and holds no " +
                         std::string(manifest_name) +
                         " of an earlier attnflow run (it holds " +
                         list_of(s.foreign) +
                         "); attnflow writes only into a new or empty folder "
                         "or replaces one of its own runs, and never deletes "
                         "what it did not write: " +
                         new_folder);
    // The inputs in the folder and what attnflow did not write there must
    // not be files of the run (name or name.tmp).
    const auto written = [&](const std::string &name) {
      const fs::path file(name);
      return writes(name) || file.stem() == manifest_name ||
             (file.extension() == ".tmp" && writes(file.stem().string()));
    };
    for (const Input &input : inputs)
      {
        std::error_code ignored;
        const fs::path  in_folder = directory / input.file.filename();
        if (!fs::equivalent(in_folder, input.file, ignored) ||
            !written(input.file.filename().string()))
          continue;
        const std::string name = input.file.filename().string();
        throw InputError(parameter,
                         "'" + input.file.string() + "' is " + input.what +
                           " of this run, and the run would write its own " +
                           name + " over it in " + folder +
                           "; copy it out of the folder first (cp '" +
                           input.file.string() + "' restart_" + name +
                           ") and give the copy instead, or " + new_folder);
      }
    for (const std::string &name : s.foreign)
      if (written(name))
        throw InputError(parameter,
                         "'" + (directory / name).string() +
                           "' was not written by attnflow (it is not in " +
                           (directory / manifest_name).string() +
                           ") and this run would overwrite it; move it away, "
                           "or " +
                           new_folder);
  }



  OutputFolder::OutputFolder(const std::filesystem::path &directory,
                             const std::vector<Input>    &inputs,
                             const Plan                  &writes,
                             const std::string           &parameter)
      : directory(directory)
      , inputs(inputs)
      , parameter(parameter)
  {
    check(directory, inputs, writes, parameter);
    try
      {
        fs::create_directories(directory);
      }
    catch (const fs::filesystem_error &e)
      {
        throw InputError(parameter,
                         "cannot create '" + directory.string() + "': " +
                           io_failure_cause(directory, e.code().value()) +
                           "; choose a folder you can write");
      }
    const std::vector<std::string> kept = remove_earlier_run(directory, inputs);
    for (const std::string &name : kept)
      {
        files.insert(name);
        order.push_back(name);
        protected_names.insert(name);
      }
    try
      {
        write_manifest();
      }
    catch (const OutputError &e)
      {
        throw InputError(parameter,
                         std::string(e.what()) + "; choose a folder you can "
                                                 "write");
      }
  }



  OutputFolder::OutputFolder(const std::filesystem::path &directory,
                             const std::vector<Input>    &inputs,
                             const std::string           &parameter)
      : directory(directory)
      , inputs(inputs)
      , parameter(parameter)
  {}



  OutputFolder
  OutputFolder::reopen(const std::filesystem::path &directory,
                       const std::vector<Input>    &inputs,
                       const std::string           &parameter)
  {
    const Manifest manifest = read_manifest(directory);
    if (!manifest.present)
      throw InputError(parameter,
                       "'" + directory.string() + "' holds no " +
                         std::string(manifest_name) +
                         ": it is not the folder of an attnflow run");
    OutputFolder folder(directory, inputs, parameter);
    for (const std::string &name : manifest.files)
      if (folder.files.insert(name).second)
        folder.order.push_back(name);
    for (const Input &input : inputs)
      {
        const std::string name = input.file.filename().string();
        if (input_at(directory / name, inputs))
          folder.protected_names.insert(name);
      }
    folder.folders.insert(manifest.folders.begin(), manifest.folders.end());
    return folder;
  }



  std::filesystem::path
  OutputFolder::add(const std::string &name)
  {
    const fs::path path = directory / name;
    if (protected_names.count(name))
      throw InputError(parameter,
                       "'" + path.string() +
                         "' is an input of this run and is never overwritten");
    if (files.count(name))
      return path;
    if (fs::exists(path))
      {
        if (!is_empty_file(path))
          throw InputError(parameter,
                           "'" + path.string() +
                             "' was not written by attnflow and is never "
                             "overwritten");
        fs::remove(path);
      }
    files.insert(name);
    order.push_back(name);
    write_manifest();
    return path;
  }



  std::filesystem::path
  OutputFolder::add_folder(const std::string &name)
  {
    if (!folders.count(name))
      {
        folders.insert(name);
        write_manifest();
      }
    return directory / name;
  }



  void
  OutputFolder::remove_written()
  {
    remove_earlier_run(directory, inputs);
    std::error_code ignored;
    fs::remove(directory / manifest_name, ignored);
    fs::remove(directory, ignored); // only if empty
    files.clear();
    folders.clear();
    order.clear();
  }



  void
  OutputFolder::write_manifest() const
  {
    write_file_atomically(directory / manifest_name, [&](std::ostream &out) {
      out << manifest_header << '\n';
      for (const std::string &name : order)
        out << "file " << name << '\n';
      for (const std::string &name : folders)
        out << "folder " << name << '\n';
    });
  }
} // namespace attnflow
