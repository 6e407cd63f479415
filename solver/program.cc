#include <attnflow/convergence_study.h>
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/output_folder.h>
#include <attnflow/parameters.h>
#include <attnflow/program.h>
#include <attnflow/run_limits.h>
#include <attnflow/simulator.h>

#include <deal.II/base/exceptions.h>
#include <deal.II/base/parameter_handler.h>

#include <new>
#include <sstream>

namespace attnflow
{
  namespace
  {
    const char *const usage =
      "usage: attnflow RUN.prm [--check] [--set \"Section/name=value\" ...]\n"
      "         (--check: check the parameters, the machine's limits and the "
      "run folder;\n"
      "          run nothing, write nothing)\n"
      "       attnflow --convergence STUDY.prm [--dry-run] [--set ...]   a "
      "convergence study\n"
      "         (--dry-run: check the study and say what it would run)\n"
      "         (section Convergence: swept parameter, values, error, "
      "reference)\n"
      "       attnflow --print-parameters   every parameter, its documentation "
      "and default\n"
      "exit codes: 0 done, 1 bad input, 2 numerical failure, 3 a file could "
      "not be\n"
      "written (disk full, permission) or memory ran out, 4 internal error; "
      "130/143\n"
      "interrupted (SIGINT/SIGTERM)\n";

    /** The program proper; exceptions are mapped by run_program(). */
    int
    run(const std::vector<std::string> &arguments,
        std::ostream                   &out,
        const MPI_Comm                  communicator)
    {
      std::string              file;
      std::vector<std::string> overrides;
      bool convergence = false, dry_run = false, check_only = false;
      for (std::size_t i = 0; i < arguments.size(); ++i)
        {
          const std::string &argument = arguments[i];
          if (argument == "--print-parameters")
            {
              dealii::ParameterHandler prm;
              Parameters               defaults;
              defaults.add_parameters(prm);
              prm.print_parameters(out, dealii::ParameterHandler::PRM);
              return exit_success;
            }
          if (argument == "--help" || argument == "-h")
            {
              out << usage;
              return exit_success;
            }
          if (argument == "--convergence")
            convergence = true;
          else if (argument == "--dry-run")
            dry_run = true;
          else if (argument == "--check")
            check_only = true;
          else if (argument == "--set")
            {
              if (i + 1 == arguments.size())
                throw InputError("--set", "needs \"Section/name=value\"");
              overrides.push_back(arguments[++i]);
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
        throw InputError("--dry-run",
                         "goes with --convergence (--check checks a run)");
      if (check_only && convergence)
        throw InputError("--check",
                         "checks a run; a study has --convergence --dry-run");
      if (convergence && n_ranks(communicator) > 1)
        throw InputError("--convergence",
                         "a convergence study runs on one process; run it "
                         "without mpirun (a run, attnflow RUN.prm, takes "
                         "mpirun -np P)");
      if (convergence)
        {
          ConvergenceStudy study(file, overrides);
          if (dry_run)
            study.describe(out);
          else
            study.run(out);
          return exit_success;
        }
      const Parameters parameters = read_parameters(file, overrides);
      // Said at once: what is set up, before the mesh and tokens are built.
      out << describe_setup(parameters, estimate_run_size(parameters))
          << std::endl;
      if (check_only)
        {
          Simulator::check(parameters, file, communicator);
          out << "attnflow: " << file << " is ready to run" << std::endl;
          return exit_success;
        }
      Simulator simulator(parameters, file, communicator);
      simulator.run(out);
      simulator.plot_metrics(out);
      return exit_success;
    }
  } // namespace



  int
  run_program(const std::vector<std::string> &arguments,
              std::ostream                   &out,
              std::ostream                   &err)
  {
    // Under mpirun every rank runs the program; rank 0 alone prints.
    const MPI_Comm     communicator = MPI_COMM_WORLD;
    const bool         root         = is_root(communicator);
    std::ostream       discarded(nullptr);
    std::ostream      &screen = root ? out : discarded;
    int                code   = exit_success;
    std::ostringstream message;
    try
      {
        code = run(arguments, screen, communicator);
        out.flush();
        if (root && !out)
          {
            message << "attnflow: output failure: cannot write the standard "
                       "output (disk full?); the run's files are complete\n";
            code = exit_io_failure;
          }
      }
    catch (const InputError &e)
      {
        message << "attnflow: error: " << e.what() << "\n";
        code = exit_input_error;
      }
    catch (const NumericalError &e)
      {
        message << "attnflow: numerical failure: " << e.what() << "\n";
        code = exit_numerical_failure;
      }
    catch (const OutputError &e)
      {
        message << "attnflow: output failure: " << e.what()
                << "; the files written so far are whole\n";
        code = exit_io_failure;
      }
    catch (const std::bad_alloc &)
      {
        message << "attnflow: out of memory: the run needs more memory than "
                   "the machine gave it; lower Tokens/number of tokens or "
                   "Density/refinements\n";
        code = exit_io_failure;
      }
    catch (const dealii::ExceptionBase &e)
      {
        // The message without deal.II's stack trace.
        const std::string text = e.what();
        message << "attnflow: internal error (please report it): "
                << text.substr(0, text.find("Stacktrace:")) << "\n";
        code = exit_internal_error;
      }
    catch (const std::exception &e)
      {
        message << "attnflow: internal error (please report it): " << e.what()
                << "\n";
        code = exit_internal_error;
      }
    return finish_on_every_rank(communicator, code, message.str(), err);
  }
} // namespace attnflow
