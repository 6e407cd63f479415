/**
 * @file
 * The attnflow program as a function: the command line, the run or study,
 * and the exit code of every outcome (documented in README.md, "Exit
 * codes").
 */
#ifndef attnflow_program_h
#define attnflow_program_h

#include <ostream>
#include <string>
#include <vector>

namespace attnflow
{
  /** The exit codes of attnflow. */
  enum ExitCode : int
  {
    /** The run or study finished. */
    exit_success = 0,
    /** Bad input (parameter, parameter file, tokens file, run folder, a
     *  limit of the machine); nothing was written. */
    exit_input_error = 1,
    /** A numerical failure during the run (non-finite field, overflow,
     *  step size below round-off). */
    exit_numerical_failure = 2,
    /** A file could not be written (disk full, permission), or memory ran
     *  out. */
    exit_io_failure = 3,
    /** An internal error of attnflow (a bug: please report it). */
    exit_internal_error = 4
  };

  /**
   * Runs attnflow with the command line @p arguments (without the program
   * name), printing to @p out and messages to @p err; returns the exit code.
   * No exception leaves it. Under MPI every rank of MPI_COMM_WORLD calls
   * it: rank 0 alone prints to @p out, an error is printed once, and every
   * rank returns the same code (finish_on_every_rank()).
   */
  int
  run_program(const std::vector<std::string> &arguments,
              std::ostream                   &out,
              std::ostream                   &err);
} // namespace attnflow

#endif
