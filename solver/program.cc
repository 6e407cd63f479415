#include <attnflow/checkpoint.h>
#include <attnflow/convergence_study.h>
#include <attnflow/distributed.h>
#include <attnflow/ensemble.h>
#include <attnflow/exceptions.h>
#include <attnflow/interruption.h>
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
      "       attnflow --ensemble FILE.prm [--dry-run] [--set ...]   an "
      "ensemble:\n"
      "         M systems per swept value, statistics in ensemble.csv and a "
      "heat map\n"
      "         (section Ensemble: number of systems, sweep, values, "
      "weights)\n"
      "       attnflow --resume RUN_FOLDER   continue a stopped run from its "
      "checkpoint\n"
      "         (Output/checkpoint interval; the results are those of a run "
      "never\n"
      "          stopped; a finished run is left as it is)\n"
      "       attnflow --print-parameters   every parameter, its documentation "
      "and default\n"
      "SIGINT/SIGTERM (Ctrl-C, kill): the run stops after the current step, "
      "or with\n"
      "checkpoints on at the next output time after a checkpoint; a second "
      "signal\n"
      "stops it at once.\n"
      "exit codes: 0 done, 1 bad input (also: --resume of a folder without "
      "a\n"
      "checkpoint), 2 numerical failure, 3 a file could not be written (disk "
      "full,\n"
      "permission) or memory ran out, 4 internal error; 130/143 stopped by "
      "SIGINT/SIGTERM\n";

    /**
     * Continues the run in @p run_folder from its checkpoint (--resume) on
     * the ranks of @p communicator, as many as wrote it or not; says so and
     * changes nothing if the run had finished.
     */
    int
    resume(const std::filesystem::path &run_folder,
           std::ostream                &out,
           const MPI_Comm               communicator)
    {
      const std::filesystem::path checkpoint =
        CheckpointFolder::find(run_folder);
      const CheckpointSummary summary =
        CheckpointFolder::read_summary(checkpoint);
      if (summary.finished)
        {
          out << "attnflow: the run in " << run_folder.string()
              << " finished (t = " << summary.time << ", all "
              << summary.n_outputs
              << " output times): nothing to resume; its files are unchanged"
              << std::endl;
          return exit_success;
        }
      const std::string file       = (run_folder / "parameters.prm").string();
      const Parameters  parameters = read_parameters(file, {});
      std::error_code   error;
      if (!std::filesystem::equivalent(parameters.output.directory,
                                       run_folder,
                                       error))
        throw InputError("--resume",
                         file + " sets Output/directory = '" +
                           parameters.output.directory +
                           "', which from here is not '" + run_folder.string() +
                           "': resume from the folder the run was started in");
      out << describe_setup(parameters, estimate_run_size(parameters))
          << std::endl;
      const InterruptionGuard guard;
      Simulator               simulator(parameters, file, communicator);
      simulator.resume(out, checkpoint);
      simulator.plot_metrics(out);
      return exit_success;
    }

    /** The program proper; exceptions are mapped by run_program(). */
    int
    run(const std::vector<std::string> &arguments,
        std::ostream                   &out,
        const MPI_Comm                  communicator)
    {
      std::string              file, run_folder;
      std::vector<std::string> overrides;
      bool convergence = false, ensemble = false, dry_run = false,
           check_only = false;
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
          else if (argument == "--ensemble")
            ensemble = true;
          else if (argument == "--dry-run")
            dry_run = true;
          else if (argument == "--check")
            check_only = true;
          else if (argument == "--resume")
            {
              if (i + 1 == arguments.size())
                throw InputError("--resume", "needs the run folder");
              run_folder = arguments[++i];
            }
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
      if (!run_folder.empty())
        {
          if (!file.empty() || !overrides.empty() || convergence || ensemble ||
              dry_run || check_only)
            throw InputError("--resume",
                             "takes the run folder alone: the run continues "
                             "with the parameters.prm it was started with");
          return resume(run_folder, out, communicator);
        }
      if (file.empty())
        throw InputError("command line",
                         "no parameter file given\n" + std::string(usage));
      if (dry_run && !convergence && !ensemble)
        throw InputError("--dry-run",
                         "goes with --convergence or --ensemble (--check "
                         "checks a run)");
      if (check_only && (convergence || ensemble))
        throw InputError("--check",
                         "checks a run; a study or ensemble has --dry-run");
      if (convergence && ensemble)
        throw InputError("--ensemble", "give --convergence or --ensemble");
      if (ensemble && n_ranks(communicator) > 1)
        throw InputError("--ensemble",
                         "an ensemble runs on one process; run it without "
                         "mpirun (a run, attnflow RUN.prm, and a convergence "
                         "study take mpirun -np P)");
      if (ensemble)
        {
          Ensemble runs(file, overrides);
          if (dry_run)
            runs.describe(out);
          else
            runs.run(out);
          return exit_success;
        }
      if (convergence)
        {
          ConvergenceStudy study(file, overrides, communicator);
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
      const InterruptionGuard guard;
      Simulator               simulator(parameters, file, communicator);
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
    catch (const Interrupted &e)
      {
        // Every rank stops at the same output time; rank 0 says so.
        if (root)
          err << "attnflow: " << e.what() << std::endl;
        return 128 + e.signal();
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
