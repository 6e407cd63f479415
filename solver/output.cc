#include <attnflow/exceptions.h>
#include <attnflow/output.h>
#include <attnflow/output_folder.h>

#include <deal.II/base/data_out_base.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace attnflow
{
  void
  write_file_atomically(const std::filesystem::path               &path,
                        const std::function<void(std::ostream &)> &write)
  {
    std::filesystem::path temporary = path;
    temporary += ".tmp";
    try
      {
        {
          errno = 0;
          std::ofstream out(temporary);
          if (!out)
            throw OutputError(path, io_failure_cause(temporary, errno));
          try
            {
              write(out);
            }
          catch (const dealii::ExceptionBase &)
            {
              // deal.II's writers throw ExcIO when the stream fails.
              if (out)
                throw;
            }
          out.close();
          if (!out)
            throw OutputError(path, io_failure_cause(temporary, errno));
        }
        std::error_code error;
        std::filesystem::rename(temporary, path, error);
        if (error)
          throw OutputError(path, io_failure_cause(path, error.value()));
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
    // deal.II's write_pvd_record, without its date: a run and its resumed
    // twin write the same bytes.
    write_file_atomically(path, [&](std::ostream &out) {
      out << "<?xml version=\"1.0\"?>\n"
          << "<VTKFile type=\"Collection\" version=\"0.1\" "
             "ByteOrder=\"LittleEndian\">\n"
          << "  <Collection>\n";
      for (const auto &[t, name] : entries)
        out << "    <DataSet timestep=\"" << t
            << "\" group=\"\" part=\"0\" file=\"" << name << "\"/>\n";
      out << "  </Collection>\n"
          << "</VTKFile>\n";
    });
  }



  TokenOutput::TokenOutput(OutputFolder &folder,
                           const bool    write_vtu,
                           const bool    write_csv)
      : folder(folder)
      , vtu(write_vtu)
      , csv(write_csv)
  {}



  std::string
  TokenOutput::file_name(const unsigned int index, const std::string &extension)
  {
    std::ostringstream name;
    name << "tokens_" << std::setw(4) << std::setfill('0') << index << '.'
         << extension;
    return name.str();
  }



  void
  TokenOutput::write(const unsigned int               index,
                     const double                     time,
                     const PointSet                  &tokens,
                     const PointSet                  &velocity,
                     const std::vector<unsigned int> &cluster)
  {
    if (vtu)
      write_vtu(file_name(index, "vtu"),
                index,
                time,
                tokens,
                velocity,
                cluster);
    if (csv)
      write_file_atomically(folder.add(file_name(index, "csv")),
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
    // No date in the file: a run and its resumed twin write the same bytes.
    dealii::DataOutBase::VtkFlags flags(time, index, false);

    write_file_atomically(folder.add(name), [&](std::ostream &out) {
      dealii::DataOutBase::write_vtu(patches, names, vectors, flags, out);
    });
    if (!record)
      record = std::make_unique<PvdRecord>(folder.add("tokens.pvd"));
    record->add(time, name);
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

  namespace
  {
    /** The gnuplot commands of the metrics panels, with "name" curves. */
    std::string
    metrics_panels(const std::vector<std::string> &columns)
    {
      const auto column_of = [&](const std::string &name) {
        const auto at = std::find(columns.begin(), columns.end(), name);
        return at == columns.end() ? 0 : int(at - columns.begin()) + 1;
      };
      struct Panel
      {
        const char                                        *title;
        std::vector<std::pair<const char *, const char *>> curves;
        bool                                               log_scale;
      };
      const std::vector<Panel> panels = {
        {"interaction energy",
         {{"energy_tokens", "tokens"}, {"energy_density", "density"}},
         false},
        {"order parameter |mean|",
         {{"order_tokens", "tokens"}, {"order_density", "density"}},
         false},
        {"clusters",
         {{"clusters_tokens", "tokens"}, {"clusters_density", "density"}},
         false},
        {"distance of tokens and density",
         {{"w1", "W1"},
          {"w2", "W2"},
          {"sliced_w2", "sliced W2"},
          {"mmd", "MMD"}},
         true}};
      std::ostringstream out;
      unsigned int       n_panels = 0;
      for (const Panel &panel : panels)
        n_panels +=
          std::any_of(panel.curves.begin(),
                      panel.curves.end(),
                      [&](const auto &c) { return column_of(c.first); });
      out << "set multiplot layout " << (n_panels > 2 ? 2 : 1) << ","
          << (n_panels > 1 ? 2 : 1) << " title 'attnflow: metrics against t'\n";
      for (const Panel &panel : panels)
        {
          std::string plot;
          for (const auto &[name, title] : panel.curves)
            if (const int c = column_of(name))
              plot += std::string(plot.empty() ? "plot " : ", ") +
                      "'metrics.csv' skip 1 using 1:" + std::to_string(c) +
                      " with linespoints title '" + title + "'";
          if (plot.empty())
            continue;
          out << "set title '" << panel.title << "'\n"
              << (panel.log_scale ? "set logscale y\n" : "unset logscale y\n")
              << plot << "\n";
        }
      out << "unset multiplot\n";
      return out.str();
    }
  } // namespace



  bool
  plot_metrics(OutputFolder                   &folder,
               const std::vector<std::string> &columns,
               std::ostream                   &log)
  {
    const std::string panels = metrics_panels(columns);
    write_file_atomically(folder.add("metrics.gp"), [&](std::ostream &out) {
      out << "# attnflow: the metrics of this run against t; redraw with\n"
          << "#   gnuplot metrics.gp   (in this folder)\n"
          << "set datafile separator ','\nset xlabel 't'\nset grid\n"
          << "set key bottom right\nset format y '%g'\n"
          << "set offsets 0, 0, graph 0.05, graph 0.05\n"
          << "set terminal pngcairo size 1000,700 enhanced font ',10'\n"
          << "set output 'metrics.png.tmp'\n"
          << panels << "set terminal svg size 1000,700 enhanced font ',10'\n"
          << "set output 'metrics.svg.tmp'\n"
          << panels << "set output\n";
    });
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0)
      {
        log << "note: no metrics.png (gnuplot is not installed; "
               "scripts/setup.sh installs gnuplot-nox, metrics.gp draws it)"
            << std::endl;
        return false;
      }
    const std::filesystem::path &directory = folder.path();
    for (const char *plot_file : {"metrics.png", "metrics.svg"})
      folder.add(plot_file);
    std::string quoted = "'";
    for (const char c : directory.string())
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    const std::string command =
      "cd " + quoted + "' && gnuplot metrics.gp > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0)
      {
        log << "note: gnuplot failed on " << (directory / "metrics.gp").string()
            << ": no metrics.png" << std::endl;
        for (const char *plot_file : {"metrics.png.tmp", "metrics.svg.tmp"})
          {
            std::error_code ignored;
            std::filesystem::remove(directory / plot_file, ignored);
          }
        return false;
      }
    for (const char *plot_file : {"metrics.png", "metrics.svg"})
      std::filesystem::rename(directory / (std::string(plot_file) + ".tmp"),
                              directory / plot_file);
    return true;
  }
} // namespace attnflow
