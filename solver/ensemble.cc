#include <attnflow/ensemble.h>
#include <attnflow/exceptions.h>
#include <attnflow/output.h>

#include <chrono>
#include <iomanip>

namespace attnflow
{
  Ensemble::Ensemble(const std::string              &file,
                     const std::vector<std::string> &overrides)
      : plan(file, overrides)
  {}



  void
  Ensemble::run(std::ostream &log)
  {
    const auto start = std::chrono::steady_clock::now();
    describe(log);
    // Claims the folder: refuses one attnflow did not write, and replaces
    // only what an earlier run listed in its manifest.
    std::vector<OutputFolder::Input> inputs = {
      {plan.ensemble_file(), "the ensemble's parameter file"}};
    const InitialConditionParameters &initial =
      plan.get_parameters().initial_condition;
    if (initial.type == InitialMeasureType::tokens_file)
      inputs.push_back({initial.tokens_file, "Initial condition/tokens file"});
    folder =
      std::make_unique<OutputFolder>(plan.directory(),
                                     inputs,
                                     [](const std::string &name) {
                                       return name == "parameters.prm" ||
                                              name == "gnuplot.log" ||
                                              name == "final_tokens.csv" ||
                                              name.rfind("ensemble.", 0) == 0;
                                     });
    write_file_atomically(folder->add("parameters.prm"),
                          [&](std::ostream &out) {
                            out << plan.get_parameters().used_parameter_file;
                          });
    ensemble_results =
      std::make_unique<EnsembleResults>(EnsembleRunner(plan).run(log));
    const EnsembleReport report(plan, *ensemble_results, *folder);
    report.write_tables();
    const bool   plotted = report.write_heat_map(log);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
        .count();
    log << "ensemble: " << std::fixed << std::setprecision(1) << seconds
        << " s; ensemble.csv, .dat, .gp" << (plotted ? ", .png, .svg" : "")
        << (plan.settings().write_final_tokens ? ", final_tokens.csv" : "")
        << " in " << plan.directory().string() << std::defaultfloat << "\n";
  }



  void
  Ensemble::describe(std::ostream &log) const
  {
    plan.describe(log);
  }
} // namespace attnflow
