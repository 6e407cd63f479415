/**
 * @file
 * The two kinds of error a user can cause, each with a message that says
 * what went wrong and what is allowed.
 */
#ifndef attnflow_exceptions_h
#define attnflow_exceptions_h

#include <stdexcept>
#include <string>

namespace attnflow
{
  /**
   * Bad input: a parameter value, a matrix, a file. The message names the
   * parameter ("Section/name") or the file and line, and the allowed values.
   * Raised before anything is written.
   */
  class InputError : public std::runtime_error
  {
  public:
    /** An error about @p what, e.g. "Model/Q", saying @p message. */
    InputError(const std::string &what, const std::string &message)
        : std::runtime_error(what + ": " + message)
    {}
  };

  /**
   * A numerical failure during a run: a non-finite value, an overflow, a
   * step size that fell below round-off. Detected and reported, never
   * written out.
   */
  class NumericalError : public std::runtime_error
  {
  public:
    /** An error saying @p message. */
    explicit NumericalError(const std::string &message)
        : std::runtime_error(message)
    {}
  };
} // namespace attnflow

#endif
