#include <attnflow/ensemble.h>
#include <attnflow/output.h>

#include <cstdlib>
#include <iomanip>

namespace attnflow
{
  EnsembleReport::EnsembleReport(const EnsemblePlan    &plan,
                                 const EnsembleResults &results,
                                 OutputFolder          &folder)
      : plan(plan)
      , results(results)
      , folder(folder)
  {}



  void
  EnsembleReport::write_tables() const
  {
    const std::vector<double> &times = plan.output_times();
    write_file_atomically(folder.add("ensemble.csv"), [&](std::ostream &out) {
      out << "value,t,statistic,mean,std\n" << std::setprecision(10);
      for (unsigned int v = 0; v < plan.n_values(); ++v)
        for (unsigned int t = 0; t < times.size(); ++t)
          for (const auto &[statistic, name] : ensemble_statistic_names)
            out << plan.value(v) << "," << times[t] << "," << name << ","
                << results.mean(v, t, int(statistic)) << ","
                << results.standard_deviation(v, t, int(statistic)) << "\n";
    });
    if (!plan.settings().write_final_tokens)
      return;
    const unsigned int d = plan.get_parameters().model.dimension;
    write_file_atomically(folder.add("final_tokens.csv"),
                          [&](std::ostream &out) {
                            out << "value,system,token";
                            for (unsigned int k = 0; k < d; ++k)
                              out << ",x" << k + 1;
                            out << "\n" << std::setprecision(17);
                            for (unsigned int v = 0; v < plan.n_values(); ++v)
                              {
                                const std::vector<PointSet> &tokens =
                                  results.final_tokens(v);
                                for (std::size_t m = 0; m < tokens.size(); ++m)
                                  for (std::size_t i = 0; i < tokens[m].size();
                                       ++i)
                                    {
                                      out << plan.value(v) << "," << m << ","
                                          << i;
                                      for (unsigned int k = 0; k < d; ++k)
                                        out << "," << tokens[m][i][k];
                                      out << "\n";
                                    }
                              }
                          });
  }



  bool
  EnsembleReport::write_heat_map(std::ostream &log) const
  {
    const EnsembleParameters  &ensemble  = plan.settings();
    const std::vector<double> &times     = plan.output_times();
    const unsigned int         statistic = int(ensemble.heat_map);
    const std::string         &name =
      selection_name(ensemble_statistic_names, ensemble.heat_map);
    write_file_atomically(folder.add("ensemble.dat"), [&](std::ostream &out) {
      out << "# " << ensemble.sweep << ", t, mean " << name
          << " over the systems (one block per value)\n"
          << std::setprecision(10);
      for (unsigned int v = 0; v < plan.n_values(); ++v)
        {
          for (unsigned int t = 0; t < times.size(); ++t)
            out << plan.value(v) << " " << times[t] << " "
                << results.mean(v, t, statistic) << "\n";
          out << "\n";
        }
    });
    const bool one_value = plan.n_values() == 1;
    write_file_atomically(folder.add("ensemble.gp"), [&](std::ostream &out) {
      out << "# gnuplot ensemble.gp (in this folder) draws ensemble.png and "
             ".svg\n"
          << "set title 'attnflow ensemble: " << name << ", mean over "
          << ensemble.n_systems << " systems'\n";
      std::string plot;
      if (one_value)
        {
          out << "set xlabel 't'\nset ylabel '" << name << "'\nset grid\n";
          plot = "plot 'ensemble.dat' using 2:3 with lines lw 2 title '" +
                 ensemble.sweep + " = " + plan.value(0) + "'";
        }
      else
        {
          out << "set view map\nset pm3d map\nset palette rgb 33,13,10\n"
              << "set xlabel '" << ensemble.sweep << "'\nset ylabel 't'\n"
              << "set cblabel '" << name << "'\n"
              << "set xrange [" << plan.value(0) << ":"
              << plan.value(plan.n_values() - 1) << "]\n"
              << "set yrange [0:" << times.back() << "]\n";
          plot = "splot 'ensemble.dat' using 1:2:3 with pm3d notitle";
        }
      out << "set terminal pngcairo size 900,600 noenhanced font ',11'\n"
          << "set output 'ensemble.png.tmp'\n"
          << plot << "\n"
          << "set terminal svg size 900,600 noenhanced font ',11'\n"
          << "set output 'ensemble.svg.tmp'\nreplot\nset output\n";
    });
    if (!ensemble.plot)
      return false;
    const std::filesystem::path &directory = plan.directory();
    // The folder in single quotes for sh, each ' written as '\''.
    std::string quoted = "'";
    for (const char c : directory.string())
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    for (const char *plot_file :
         {"ensemble.png", "ensemble.svg", "gnuplot.log"})
      folder.add(plot_file);
    const std::string command =
      "cd " + quoted + "' && gnuplot ensemble.gp > gnuplot.log 2>&1";
    if (std::system(command.c_str()) != 0)
      {
        log << "attnflow: warning: gnuplot failed (see "
            << (directory / "gnuplot.log").string()
            << "; scripts/setup.sh installs gnuplot-nox): no heat map\n";
        for (const char *plot_file : {"ensemble.png.tmp", "ensemble.svg.tmp"})
          std::filesystem::remove(directory / plot_file);
        return false;
      }
    for (const char *plot_file : {"ensemble.png", "ensemble.svg"})
      std::filesystem::rename(directory / (std::string(plot_file) + ".tmp"),
                              directory / plot_file);
    std::filesystem::remove(directory / "gnuplot.log");
    return true;
  }
} // namespace attnflow
