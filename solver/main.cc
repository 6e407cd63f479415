/**
 * @file
 * The attnflow program: reads a parameter file (and --set overrides), runs,
 * and reports bad input or numerical failure with a clear message and a
 * non-zero exit code.
 */
#include <attnflow/convergence_study.h>
#include <attnflow/exceptions.h>
#include <attnflow/parameters.h>
#include <attnflow/simulator.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <iostream>
#include <string>
#include <vector>

namespace
{
  const char *const usage =
    "usage: attnflow RUN.prm [--set \"Section/name=value\" ...]\n"
    "       attnflow --convergence STUDY.prm [--dry-run] [--set ...]   a "
    "convergence study\n"
    "         (--dry-run: check the study and say what it would run)\n"
    "         (section Convergence: swept parameter, values, error, "
    "reference)\n"
    "       attnflow --print-parameters   every parameter, its documentation "
    "and default\n";
}

int
main(int argc, char **argv)
{
  using namespace attnflow;
  // MPI for Trilinos' linear algebra (the implicit density schemes).
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  try
    {
      std::string              file;
      std::vector<std::string> overrides;
      bool                     convergence = false, dry_run = false;
      for (int i = 1; i < argc; ++i)
        {
          const std::string argument = argv[i];
          if (argument == "--print-parameters")
            {
              dealii::ParameterHandler prm;
              Parameters               defaults;
              defaults.declare_parameters(prm);
              prm.print_parameters(std::cout, dealii::ParameterHandler::PRM);
              return 0;
            }
          if (argument == "--help" || argument == "-h")
            {
              std::cout << usage;
              return 0;
            }
          if (argument == "--convergence")
            convergence = true;
          else if (argument == "--dry-run")
            dry_run = true;
          else if (argument == "--set")
            {
              if (i + 1 == argc)
                throw InputError("--set", "needs \"Section/name=value\"");
              overrides.push_back(argv[++i]);
            }
          else if (argument.rfind("--", 0) == 0 || !file.empty())
            throw InputError(argument,
                             "unknown argument; " + std::string(usage));
          else
            file = argument;
        }
      if (file.empty())
        throw InputError("command line",
                         "no parameter file given\n" + std::string(usage));
      if (dry_run && !convergence)
        throw InputError("--dry-run", "goes with --convergence");
      if (convergence)
        {
          ConvergenceStudy study(file, overrides);
          if (dry_run)
            study.describe(std::cout);
          else
            study.run(std::cout);
          return 0;
        }
      const Parameters parameters = read_parameters(file, overrides);
      Simulator        simulator(parameters);
      simulator.run(std::cout);
      return 0;
    }
  catch (const InputError &e)
    {
      std::cerr << "attnflow: error: " << e.what() << std::endl;
      return 1;
    }
  catch (const NumericalError &e)
    {
      std::cerr << "attnflow: numerical failure: " << e.what() << std::endl;
      return 2;
    }
  catch (const std::exception &e)
    {
      std::cerr << "attnflow: error: " << e.what() << std::endl;
      return 3;
    }
}
