/**
 * @file
 * The callback a solver calls after every accepted time step, so that a run
 * can report progress (and stop cleanly) between two output times.
 */
#ifndef attnflow_step_observer_h
#define attnflow_step_observer_h

#include <functional>

namespace attnflow
{
  /**
   * Called with the time reached after every accepted step of a solver; an
   * empty function observes nothing. It must not change the solver's state:
   * runs with and without an observer take the same steps.
   */
  using StepObserver = std::function<void(const double t)>;
} // namespace attnflow

#endif
