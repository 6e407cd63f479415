#include <attnflow/interruption.h>

namespace attnflow
{
  namespace
  {
    /** The signal caught, written by the handler only. */
    volatile std::sig_atomic_t caught_signal = 0;

    /**
     * Remembers the first signal; a second one ends the program by the
     * default action (async-signal-safe: only sigaction and raise).
     */
    extern "C" void
    remember_signal(const int signal)
    {
      if (caught_signal != 0)
        {
          struct sigaction default_action = {};
          default_action.sa_handler       = SIG_DFL;
          sigaction(signal, &default_action, nullptr);
          raise(signal);
          return;
        }
      caught_signal = signal;
    }
  } // namespace



  InterruptionGuard::InterruptionGuard()
  {
    caught_signal           = 0;
    struct sigaction action = {};
    action.sa_handler       = remember_signal;
    sigemptyset(&action.sa_mask);
    // Interrupted system calls (a write in progress) continue.
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &previous_interrupt);
    sigaction(SIGTERM, &action, &previous_terminate);
  }



  InterruptionGuard::~InterruptionGuard()
  {
    sigaction(SIGINT, &previous_interrupt, nullptr);
    sigaction(SIGTERM, &previous_terminate, nullptr);
    caught_signal = 0;
  }



  int
  pending_interruption()
  {
    return caught_signal;
  }



  const char *
  signal_name(const int signal)
  {
    switch (signal)
      {
        case SIGINT:
          return "SIGINT";
        case SIGTERM:
          return "SIGTERM";
        default:
          return "a signal";
      }
  }
} // namespace attnflow
