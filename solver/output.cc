#include <attnflow/exceptions.h>
#include <attnflow/output.h>

#include <deal.II/base/data_out_base.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace attnflow
{
  void
  create_output_directory(const std::filesystem::path &directory)
  {
    try
      {
        std::filesystem::create_directories(directory);
      }
    catch (const std::filesystem::filesystem_error &e)
      {
        throw InputError("Output/directory",
                         "cannot create '" + directory.string() +
                           "': " + e.code().message());
      }
  }



  void
  write_file_atomically(const std::filesystem::path               &path,
                        const std::function<void(std::ostream &)> &write)
  {
    std::filesystem::path temporary = path;
    temporary += ".tmp";
    try
      {
        {
          std::ofstream out(temporary);
          if (!out)
            throw std::runtime_error("cannot open '" + temporary.string() +
                                     "' for writing");
          write(out);
          out.flush();
          if (!out)
            throw std::runtime_error("writing '" + temporary.string() +
                                     "' failed (disk full?)");
        }
        std::filesystem::rename(temporary, path);
      }
    catch (...)
      {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
      }
  }



  PvdRecord::PvdRecord(const std::filesystem::path &path)
      : path(path)
  {}



  void
  PvdRecord::add(const double time, const std::string &file_name)
  {
    entries.emplace_back(time, file_name);
    write_file_atomically(path, [&](std::ostream &out) {
      dealii::DataOutBase::write_pvd_record(out, entries);
    });
  }



  TokenOutput::TokenOutput(const std::filesystem::path &directory,
                           const bool                   write_vtu,
                           const bool                   write_csv)
      : directory(directory)
      , vtu(write_vtu)
      , csv(write_csv)
      , record(directory / "tokens.pvd")
  {}



  void
  TokenOutput::write(const unsigned int               index,
                     const double                     time,
                     const PointSet                  &tokens,
                     const PointSet                  &velocity,
                     const std::vector<unsigned int> &cluster)
  {
    std::ostringstream name;
    name << "tokens_" << std::setw(4) << std::setfill('0') << index;
    if (vtu)
      write_vtu(name.str() + ".vtu", index, time, tokens, velocity, cluster);
    if (csv)
      write_file_atomically(directory / (name.str() + ".csv"),
                            [&](std::ostream &out) {
                              out << std::setprecision(17);
                              for (std::size_t i = 0; i < tokens.size(); ++i)
                                for (unsigned int k = 0; k < tokens.dimension;
                                     ++k)
                                  out
                                    << tokens[i][k]
                                    << (k + 1 < tokens.dimension ? ',' : '\n');
                            });
  }



  void
  TokenOutput::write_vtu(const std::string               &name,
                         const unsigned int               index,
                         const double                     time,
                         const PointSet                  &tokens,
                         const PointSet                  &velocity,
                         const std::vector<unsigned int> &cluster)
  {
    using Patch                 = dealii::DataOutBase::Patch<0, 3>;
    const unsigned int d        = tokens.dimension;
    const unsigned int n_fields = 6; // id, speed, cluster, velocity (3)
    std::vector<Patch> patches(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i)
      {
        Patch &patch  = patches[i];
        double speed2 = 0.;
        for (unsigned int k = 0; k < d; ++k)
          speed2 += velocity[i][k] * velocity[i][k];
        for (unsigned int k = 0; k < std::min(d, 3u); ++k)
          patch.vertices[0][k] = tokens[i][k];
        patch.patch_index = i;
        patch.data.reinit(n_fields, 1);
        patch.data(0, 0) = i;
        patch.data(1, 0) = std::sqrt(speed2);
        patch.data(2, 0) = cluster[i];
        for (unsigned int k = 0; k < std::min(d, 3u); ++k)
          patch.data(3 + k, 0) = velocity[i][k];
      }
    const std::vector<std::string> names =
      {"id", "speed", "cluster", "velocity", "velocity", "velocity"};
    const std::vector<std::tuple<
      unsigned int,
      unsigned int,
      std::string,
      dealii::DataComponentInterpretation::DataComponentInterpretation>>
      vectors = {
        {3,
         5,
         "velocity",
         dealii::DataComponentInterpretation::component_is_part_of_vector}};
    dealii::DataOutBase::VtkFlags flags(time, index);

    write_file_atomically(directory / name, [&](std::ostream &out) {
      dealii::DataOutBase::write_vtu(patches, names, vectors, flags, out);
    });
    record.add(time, name);
  }



  void
  MetricsTable::set(const std::string &column, const double value)
  {
    const auto position =
      std::find(column_names.begin(), column_names.end(), column);
    const std::size_t index = position - column_names.begin();
    if (position == column_names.end())
      {
        if (!finished_rows.empty())
          throw std::logic_error("MetricsTable: new column '" + column +
                                 "' after the first row");
        column_names.push_back(column);
      }
    current_row.resize(column_names.size(), std::nan(""));
    current_row[index] = value;
  }



  void
  MetricsTable::finish_row()
  {
    if (current_row.size() != column_names.size())
      throw std::logic_error("MetricsTable: a row misses columns");
    finished_rows.push_back(current_row);
    current_row.clear();
  }



  void
  MetricsTable::write(const std::filesystem::path &path) const
  {
    write_file_atomically(path, [&](std::ostream &out) {
      for (std::size_t c = 0; c < column_names.size(); ++c)
        out << (c ? "," : "") << column_names[c];
      out << '\n' << std::setprecision(17);
      for (const std::vector<double> &row : finished_rows)
        {
          for (std::size_t c = 0; c < row.size(); ++c)
            out << (c ? "," : "") << row[c];
          out << '\n';
        }
    });
  }
} // namespace attnflow
