/**
 * @file
 * SIGINT and SIGTERM as a request to stop: with checkpoints on, the run
 * finishes the output interval it is in and writes a checkpoint; without,
 * it stops after the time step it is in; it says where it stopped and how
 * to resume, and exits with 128 + the signal number
 * (130, 143). A second signal ends the program at once.
 */
#ifndef attnflow_interruption_h
#define attnflow_interruption_h

#include <csignal>
#include <stdexcept>
#include <string>

namespace attnflow
{
  /**
   * While it lives, SIGINT and SIGTERM are caught and remembered instead of
   * ending the program (the handlers before it are restored when it goes).
   * A second signal while one is pending restores the default action and
   * raises it again: the program ends at once, as without the guard.
   */
  class InterruptionGuard
  {
  public:
    /** Installs the handlers. */
    InterruptionGuard();

    /** Restores the handlers that were installed before. */
    ~InterruptionGuard();

    InterruptionGuard(const InterruptionGuard &) = delete;
    InterruptionGuard &
    operator=(const InterruptionGuard &) = delete;

  private:
    struct sigaction previous_interrupt, previous_terminate;
  };

  /**
   * The signal (SIGINT, SIGTERM) caught by an InterruptionGuard since it was
   * installed; 0 if none.
   */
  int
  pending_interruption();

  /** The name of @p signal: "SIGINT", "SIGTERM". */
  const char *
  signal_name(const int signal);

  /**
   * A run stopped on a signal at an output time, after what it had to write
   * (the message says where, and how to resume). The program exits with
   * 128 + signal().
   */
  class Interrupted : public std::runtime_error
  {
  public:
    /** The stop on @p signal, described by @p message. */
    Interrupted(const int signal, const std::string &message)
        : std::runtime_error(message)
        , caught_signal(signal)
    {}

    /** The signal that stopped the run. */
    int
    signal() const
    {
      return caught_signal;
    }

  private:
    int caught_signal;
  };
} // namespace attnflow

#endif
