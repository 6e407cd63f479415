/**
 * @file
 * The checkpoints of a Simulator and its stop on a signal (doc/theory.md
 * section 11): what a run saves at an output time, and how it continues.
 */
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/interruption.h>
#include <attnflow/simulator.h>

#include <cstdio>
#include <fstream>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

namespace attnflow
{
  namespace
  {
    /** The file of the state of a Simulator in a checkpoint. */
    const char *const run_state_name = "run.state";

    /** "t = 0.5 (output 3 of 11)". */
    std::string
    where(const double t, const unsigned int index, const unsigned int n)
    {
      char text[96];
      std::snprintf(text,
                    sizeof(text),
                    "t = %.6g (output %u of %u)",
                    t,
                    index + 1,
                    n);
      return text;
    }
  } // namespace



  void
  Simulator::checkpoint_or_stop(const unsigned int         index,
                                const std::vector<double> &times,
                                std::ostream              &log)
  {
    const double interval = parameters.output.checkpoint_interval;
    const double t        = times[index];
    const bool   last     = index + 1 == times.size();
    int          signal   = last ? 0 : pending_interruption();
    // Every rank stops at the same output time, whichever saw the signal.
    if (n_ranks(communicator) > 1)
      MPI_Allreduce(MPI_IN_PLACE, &signal, 1, MPI_INT, MPI_MAX, communicator);
    if (interval > 0. && (last || signal != 0 ||
                          t - last_checkpoint_time >= interval * (1. - 1e-12)))
      {
        dealii::TimerOutput::Scope scope(timer, "checkpoints");
        write_checkpoint(index, times.size(), t, log);
      }
    if (signal != 0)
      stop(signal, "at " + where(t, index, times.size()), log);
  }



  void
  Simulator::stop(const int signal, const std::string &at, std::ostream &log)
  {
    const std::string directory = parameters.output.directory;
    std::string message = "stopped by " + std::string(signal_name(signal)) +
                          " " + at + "; the files so far are whole. ";
    if (parameters.output.checkpoint_interval > 0.)
      message += "Continue the run with\n  attnflow --resume " + directory;
    else
      message += "Output/checkpoint interval = 0: no checkpoint to continue "
                 "from; set it (e.g. --set \"Output/checkpoint interval=" +
                 std::to_string(parameters.time.output_interval) +
                 "\") to be able to resume a stopped run";
    print(log, "attnflow: " + message, false);
    throw Interrupted(signal, message);
  }



  void
  Simulator::write_checkpoint(const unsigned int index,
                              const unsigned int n_outputs,
                              const double       t,
                              std::ostream      &log)
  {
    CheckpointSummary summary;
    summary.time              = t;
    summary.n_outputs_written = index + 1;
    summary.n_outputs         = n_outputs;
    summary.finished          = index + 1 == n_outputs;
    // The density's files from every rank; rank 0 writes the checkpoint.
    const std::vector<std::pair<std::string, std::string>> density_files =
      density ? density->checkpoint_files() :
                std::vector<std::pair<std::string, std::string>>();
    on_root(communicator, [&]() {
      checkpoints->write(summary, [&](OutputFolder &checkpoint) {
        write_file_atomically(checkpoint.add(run_state_name),
                              [&](std::ostream &out) {
                                boost::archive::binary_oarchive archive(out);
                                const unsigned int next = index + 1;
                                const double spent = progress->seconds_spent();
                                archive << parameters.used_parameter_file
                                        << next << t << table
                                        << reported_overflows << spent;
                                if (tokens)
                                  archive << *tokens;
                                if (token_output)
                                  archive << *token_output;
                              });
        for (const auto &[name, bytes] : density_files)
          write_file_atomically(checkpoint.add(name),
                                [&](std::ostream &out) { out << bytes; });
      });
    });
    last_checkpoint_time = t;
    print(log,
          "checkpoint at " + where(t, index, n_outputs) + " in " +
            (std::filesystem::path(parameters.output.directory) /
             CheckpointFolder::current_name)
              .string(),
          false);
  }



  unsigned int
  Simulator::load_checkpoint(const std::filesystem::path &checkpoint)
  {
    const std::filesystem::path file = checkpoint / run_state_name;
    std::ifstream               in(file, std::ios::binary);
    if (!in)
      throw InputError(file.string(), "is missing from the checkpoint");
    unsigned int next = 0;
    double       t = 0., spent = 0.;
    try
      {
        boost::archive::binary_iarchive archive(in);
        std::string                     used_parameters;
        archive >> used_parameters;
        if (used_parameters != parameters.used_parameter_file)
          throw InputError(file.string(),
                           "was written by a run of other parameters than "
                           "those of " +
                             (std::filesystem::path(
                                parameters.output.directory) /
                              "parameters.prm")
                               .string() +
                             " (was the file edited?); a checkpoint continues "
                             "only the run that wrote it");
        archive >> next >> t >> table >> reported_overflows >> spent;
        if (tokens)
          archive >> *tokens;
        if (token_output)
          archive >> *token_output;
      }
    catch (const boost::archive::archive_exception &e)
      {
        throw InputError(file.string(),
                         std::string("is not a checkpoint of this run (") +
                           e.what() + ")");
      }
    if (density)
      density->load_checkpoint(checkpoint, parameters.output.directory);
    progress->resume(t, spent);
    last_checkpoint_time = t;
    return next;
  }



  void
  Simulator::resume(std::ostream &log, const std::filesystem::path &checkpoint)
  {
    std::vector<OutputFolder::Input> inputs;
    if (!parameter_file.empty())
      inputs.push_back({parameter_file, "the parameter file"});
    // The folder is rank 0's; every rank reads the checkpoint.
    on_root(communicator, [&]() {
      folder = std::make_unique<OutputFolder>(
        OutputFolder::reopen(parameters.output.directory, inputs));
      log_file.open(folder->add("log.txt"), std::ios::app);
    });
    start_output(log);
    const unsigned int        next  = load_checkpoint(checkpoint);
    const std::vector<double> times = output_times();
    print(log,
          "attnflow: resumed from " + checkpoint.string() + " at " +
            where(times[next - 1], next - 1, times.size()),
          true);
    advance_and_output(next, log);
  }
} // namespace attnflow
