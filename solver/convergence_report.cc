#include <attnflow/convergence_study.h>
#include <attnflow/output.h>

#include <deal.II/base/convergence_table.h>

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <numeric>
#include <sstream>

namespace attnflow
{
  namespace
  {
    /** The mean of @p x. */
    double
    mean(const std::vector<double> &x)
    {
      return std::accumulate(x.begin(), x.end(), 0.) / x.size();
    }

    /** @p text with LaTeX's special character _ escaped. */
    std::string
    tex_escaped(const std::string &text)
    {
      std::string escaped;
      for (const char c : text)
        escaped += c == '_' ? std::string("\\_") : std::string(1, c);
      return escaped;
    }
  } // namespace



  ConvergenceResults::ConvergenceResults(const unsigned int n_series,
                                         const unsigned int n_rows,
                                         const Sweep::Rate  rate)
      : kind(rate)
      , abscissae(n_series, std::vector<double>(n_rows, 0.))
      , errors(n_series, std::vector<std::vector<double>>(n_rows))
  {}



  void
  ConvergenceResults::add_error(const unsigned int s,
                                const unsigned int v,
                                const double       error)
  {
    errors[s][v].push_back(error);
  }



  void
  ConvergenceResults::set_abscissa(const unsigned int s,
                                   const unsigned int v,
                                   const double       abscissa)
  {
    abscissae[s][v] = abscissa;
  }



  double
  ConvergenceResults::mean_error(const unsigned int s,
                                 const unsigned int v) const
  {
    return mean(errors[s][v]);
  }



  double
  ConvergenceResults::standard_deviation(const unsigned int s,
                                         const unsigned int v) const
  {
    const std::vector<double> &x = errors[s][v];
    if (x.size() < 2)
      return 0.;
    const double m   = mean(x);
    double       sum = 0.;
    for (const double value : x)
      sum += (value - m) * (value - m);
    return std::sqrt(sum / (x.size() - 1));
  }



  double
  ConvergenceResults::rate(const unsigned int s, const unsigned int v) const
  {
    const double reduction = mean_error(s, v - 1) / mean_error(s, v);
    if (kind == Sweep::Rate::reduction_factor)
      return reduction;
    return std::log(reduction) /
           std::log(abscissae[s][v] / abscissae[s][v - 1]);
  }



  double
  ConvergenceResults::fitted_order(const unsigned int s) const
  {
    // The slope of log e against log x by least squares, negated.
    double mean_x = 0., mean_y = 0.;
    for (unsigned int v = 0; v < n_rows(); ++v)
      {
        mean_x += std::log(abscissae[s][v]) / n_rows();
        mean_y += std::log(mean_error(s, v)) / n_rows();
      }
    double covariance = 0., variance = 0.;
    for (unsigned int v = 0; v < n_rows(); ++v)
      {
        const double dx = std::log(abscissae[s][v]) - mean_x;
        covariance += dx * (std::log(mean_error(s, v)) - mean_y);
        variance += dx * dx;
      }
    return -covariance / variance;
  }



  ConvergenceReport::ConvergenceReport(const ConvergencePlan    &plan,
                                       const ConvergenceResults &results,
                                       OutputFolder             &folder)
      : plan(plan)
      , results(results)
      , folder(folder)
  {}



  void
  ConvergenceReport::write_tables(std::ostream &log) const
  {
    const Sweep             &sweep = plan.sweep();
    dealii::ConvergenceTable table;
    const std::string        x = sweep.abscissa_name();
    // The swept values get a column of their own when x is not them.
    const bool         own_x    = sweep.inverse();
    const bool         spread   = plan.settings().n_seeds > 1;
    const bool         orders   = sweep.rate == Sweep::Rate::order;
    const unsigned int n_rows   = results.n_rows();
    const unsigned int n_series = plan.n_series();
    for (unsigned int v = 0; v < n_rows; ++v)
      {
        if (own_x)
          table.add_value(sweep.short_name, plan.value(v));
        table.add_value(x, results.abscissa(0, v));
        for (unsigned int s = 0; s < n_series; ++s)
          {
            table.add_value(plan.error_name(s), results.mean_error(s, v));
            if (spread)
              table.add_value("sd " + plan.error_name(s),
                              results.standard_deviation(s, v));
          }
      }
    // Counts (n, k) as integers, 1/h in scientific notation.
    table.set_precision(x, sweep.inverse() ? 4 : 0);
    table.set_scientific(x,
                         sweep.abscissa == Sweep::Abscissa::inverse_mesh_size);
    for (unsigned int s = 0; s < n_series; ++s)
      {
        const std::string name = plan.error_name(s);
        table.set_precision(name, 3);
        table.set_scientific(name, true);
        if (spread)
          {
            table.set_precision("sd " + name, 2);
            table.set_scientific("sd " + name, true);
          }
        table.set_tex_caption(name, tex_escaped(name));
        if (spread)
          table.set_tex_caption("sd " + name, tex_escaped("sd " + name));
        if (orders)
          table.evaluate_convergence_rates(
            name,
            x,
            dealii::ConvergenceTable::reduction_rate_log2,
            1);
        else
          table.evaluate_convergence_rates(
            name,
            dealii::ConvergenceTable::reduction_rate);
        table.set_tex_supercaption(name, tex_escaped(name));
      }

    log << "\n";
    table.write_text(log, dealii::TableHandler::table_with_headers);
    if (orders && n_rows > 2)
      for (unsigned int s = 0; s < n_series; ++s)
        log << "least-squares order over all rows, " << plan.error_name(s)
            << ": " << std::fixed << std::setprecision(2)
            << results.fitted_order(s) << std::defaultfloat << "\n";
    log << "\n";
    write_file_atomically(
      folder.add("convergence.txt"),
      [&](std::ostream &out) {
        table.write_text(out, dealii::TableHandler::table_with_headers);
      });
    write_file_atomically(folder.add("convergence.tex"),
                          [&](std::ostream &out) { table.write_tex(out); });
    write_file_atomically(folder.add("convergence.csv"),
                          [&](std::ostream &out) {
                            out << (own_x ? sweep.short_name + "," : "") << x;
                            for (unsigned int s = 0; s < n_series; ++s)
                              out << "," << plan.error_name(s)
                                  << (spread ? ",sd " + plan.error_name(s) : "")
                                  << ",rate " << plan.error_name(s);
                            out << "\n" << std::setprecision(10);
                            for (unsigned int v = 0; v < n_rows; ++v)
                              {
                                out << (own_x ? plan.value(v) + "," : "")
                                    << results.abscissa(0, v);
                                for (unsigned int s = 0; s < n_series; ++s)
                                  {
                                    out << "," << results.mean_error(s, v);
                                    if (spread)
                                      out << ","
                                          << results.standard_deviation(s, v);
                                    out << ",";
                                    if (v > 0)
                                      out << results.rate(s, v);
                                  }
                                out << "\n";
                              }
                          });
  }



  bool
  ConvergenceReport::write_plot(std::ostream &log) const
  {
    const Sweep                 &sweep     = plan.sweep();
    const std::filesystem::path &directory = plan.directory();
    const unsigned int           n_rows    = results.n_rows();
    // The natural abscissa: h, dt, cfl (error falls with it) or n, k.
    const bool         inverse = sweep.inverse();
    const std::string &name    = sweep.variable;
    const auto plotted_x = [&](const unsigned int s, const unsigned int v) {
      return inverse ? 1. / results.abscissa(s, v) : results.abscissa(s, v);
    };
    write_file_atomically(folder.add("convergence.dat"),
                          [&](std::ostream &out) {
                            out << std::setprecision(10);
                            for (unsigned int s = 0; s < plan.n_series(); ++s)
                              {
                                out << "# " << plan.error_name(s) << ": "
                                    << name << ", mean error, "
                                    << "standard deviation over seeds\n";
                                for (unsigned int v = 0; v < n_rows; ++v)
                                  out << plotted_x(s, v) << " "
                                      << results.mean_error(s, v) << " "
                                      << results.standard_deviation(s, v)
                                      << "\n";
                                out << "\n\n";
                              }
                          });

    const ConvergenceParameters &study = plan.settings();
    write_file_atomically(folder.add("convergence.gp"), [&](std::ostream &out) {
      out << "# gnuplot convergence.gp (in this folder) draws convergence.png "
             "and .svg\n"
          << "set logscale y\n"
          << (sweep.rate == Sweep::Rate::order ? "set logscale x\n" : "")
          << "set format y '10^{%L}'\nset grid\nset key outside right\n"
          << "set xlabel '" << name << "'\nset ylabel '"
          << selection_name(convergence_errors, study.error)
          << (plan.measures_distance() ?
                " (tokens vs density)" :
                " error vs " +
                  selection_name(convergence_references, study.reference))
          << "'\nset title 'attnflow convergence study: " << sweep.parameter
          << "'\n";
      out << std::setprecision(10);
      std::string plot = "plot ";
      for (unsigned int s = 0; s < plan.n_series(); ++s)
        {
          out << "set linetype " << s + 1 << " lw 2 pt " << 5 + 2 * s << "\n";
          plot += std::string(s ? ", \\\n     " : "") +
                  "'convergence.dat' index " + std::to_string(s) +
                  " using 1:2:3 with yerrorlines lt " + std::to_string(s + 1) +
                  " title '" + plan.error_name(s) + "'";
          const double slope = plan.reference_slope(s);
          if (std::isnan(slope))
            continue;
          // The reference line C x^(+-p) through the last point.
          const unsigned int last = n_rows - 1;
          const double       p    = inverse ? slope : -slope;
          out << "ref" << s << "(x) = " << results.mean_error(s, last)
              << " * (x / " << plotted_x(s, last) << ")**(" << p << ")\n";
          std::ostringstream title;
          title << name << "^{" << p << "}";
          plot += ", \\\n     ref" + std::to_string(s) + "(x) lt " +
                  std::to_string(s + 1) + " dt 2 lw 1 title '" + title.str() +
                  "'";
        }
      out << "set terminal pngcairo size 900,600 enhanced font ',11'\n"
          << "set output 'convergence.png.tmp'\n"
          << plot << "\n"
          << "set terminal svg size 900,600 enhanced font ',11'\n"
          << "set output 'convergence.svg.tmp'\nreplot\nset output\n";
    });
    if (!study.plot)
      return false;
    // The folder in single quotes for sh, each ' written as '\''.
    std::string quoted = "'";
    for (const char c : directory.string())
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    for (const char *plot_file :
         {"convergence.png", "convergence.svg", "gnuplot.log"})
      folder.add(plot_file);
    const std::string command =
      "cd " + quoted + "' && gnuplot convergence.gp > gnuplot.log 2>&1";
    if (std::system(command.c_str()) != 0)
      {
        log << "attnflow: warning: gnuplot failed (see "
            << (directory / "gnuplot.log").string()
            << "; scripts/setup.sh installs gnuplot-nox): no plot\n";
        for (const char *plot_file :
             {"convergence.png.tmp", "convergence.svg.tmp"})
          std::filesystem::remove(directory / plot_file);
        return false;
      }
    for (const char *plot_file : {"convergence.png", "convergence.svg"})
      std::filesystem::rename(directory / (std::string(plot_file) + ".tmp"),
                              directory / plot_file);
    std::filesystem::remove(directory / "gnuplot.log");
    return true;
  }
} // namespace attnflow
