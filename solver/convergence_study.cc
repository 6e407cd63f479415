#include <attnflow/convergence_study.h>
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/output.h>

#include <chrono>
#include <iomanip>

namespace attnflow
{
  ConvergenceStudy::ConvergenceStudy(const std::string              &file,
                                     const std::vector<std::string> &overrides,
                                     const MPI_Comm communicator)
      : plan(file, overrides)
      , communicator(communicator)
  {}



  void
  ConvergenceStudy::run(std::ostream &log)
  {
    const auto                   start     = std::chrono::steady_clock::now();
    const std::filesystem::path &directory = plan.directory();
    // Claims the folder: refuses one attnflow did not write, and replaces
    // only what an earlier study listed in its manifest. The folder and the
    // report are rank 0's; every rank runs the runs (each on all ranks).
    on_root(communicator, [&]() {
      folder = std::make_unique<OutputFolder>(
        directory,
        std::vector<OutputFolder::Input>{
          {plan.study_file(), "the study's parameter file"}},
        [](const std::string &name) {
          return name == "parameters.prm" || name == "gnuplot.log" ||
                 name.rfind("convergence.", 0) == 0;
        });
      write_file_atomically(folder->add("parameters.prm"),
                            [&](std::ostream &out) {
                              out << plan.get_parameters().used_parameter_file;
                            });
    });
    try
      {
        results = std::make_unique<ConvergenceResults>(
          ConvergenceRunner(plan, folder.get(), communicator).run(log));
      }
    catch (const InputError &)
      {
        // Bad input found only by a run: leave nothing behind.
        if (folder)
          folder->remove_written();
        throw;
      }
    bool plotted = false;
    on_root(communicator, [&]() {
      const ConvergenceReport report(plan, *results, *folder);
      report.write_tables(log);
      plotted = report.write_plot(log);
    });
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
    log << "convergence study: " << std::fixed << std::setprecision(1)
        << seconds << " s; convergence.txt, .tex, .csv, .gp, .dat"
        << (plotted ? ", .png, .svg" : "") << " in " << directory.string()
        << std::defaultfloat << "\n";
  }



  void
  ConvergenceStudy::describe(std::ostream &log) const
  {
    plan.describe(log);
  }



  double
  ConvergenceStudy::mean_error(const unsigned int s, const unsigned int v) const
  {
    return results->mean_error(s, v);
  }



  double
  ConvergenceStudy::rate(const unsigned int s, const unsigned int v) const
  {
    return results->rate(s, v);
  }



  double
  ConvergenceStudy::fitted_order(const unsigned int s) const
  {
    return results->fitted_order(s);
  }



  unsigned int
  ConvergenceStudy::n_rows() const
  {
    return plan.n_rows();
  }
} // namespace attnflow
