/**
 * @file
 * The checks of a parameter file before deal.II's ParameterHandler reads
 * it: that it is text, and that no entry is set twice.
 */
#ifndef attnflow_parameter_file_h
#define attnflow_parameter_file_h

#include <string>

namespace attnflow
{
  /**
   * Reads @p file and throws InputError
   * - naming the file if it cannot be read or is not text (a NUL byte,
   *   invalid UTF-8 or control characters), without echoing its bytes;
   * - naming both lines ("file:line") if one entry "Section/name" is set
   *   twice (deal.II would silently take the last value).
   * Lines follow deal.II's PRM format: `subsection NAME` ... `end`,
   * `set NAME = VALUE`, `#` comments, a trailing `\` continues a line.
   */
  void
  check_parameter_file(const std::string &file);
} // namespace attnflow

#endif
