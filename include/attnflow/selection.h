/**
 * @file
 * Selections of the parameter file as enums: each selection is declared,
 * documented, defaulted and parsed from one table of (value, name) pairs, so
 * that no solver ever compares a selection as a string.
 */
#ifndef attnflow_selection_h
#define attnflow_selection_h

#include <attnflow/exceptions.h>

#include <deal.II/base/parameter_handler.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace attnflow
{
  /** The (value, name) pairs of a selection, in the order documented. */
  template <typename Enum>
  using SelectionTable = std::vector<std::pair<Enum, std::string>>;

  /** The names of @p table joined by '|' (a Patterns::Selection). */
  template <typename Enum>
  std::string
  selection_names(const SelectionTable<Enum> &table)
  {
    std::string names;
    for (const auto &[value, name] : table)
      names += (names.empty() ? "" : "|") + name;
    return names;
  }

  /** The name of @p value in @p table. */
  template <typename Enum>
  const std::string &
  selection_name(const SelectionTable<Enum> &table, const Enum value)
  {
    for (const auto &[v, name] : table)
      if (v == value)
        return name;
    throw std::logic_error("a selection value has no name in its table");
  }

  /**
   * The value named @p name in @p table; InputError naming @p parameter and
   * the allowed names otherwise.
   */
  template <typename Enum>
  Enum
  parse_selection(const SelectionTable<Enum> &table,
                  const std::string          &name,
                  const std::string          &parameter)
  {
    for (const auto &[value, n] : table)
      if (n == name)
        return value;
    throw InputError(parameter,
                     "'" + name + "' is not one of " + selection_names(table));
  }

  /**
   * Declares the entry @p entry of the current subsection of @p prm as the
   * selection of @p table, with the current value of @p member as its
   * default, and binds @p member to it (ParameterHandler::add_parameter for
   * an enum).
   */
  template <typename Enum>
  void
  add_selection(dealii::ParameterHandler   &prm,
                const std::string          &entry,
                Enum                       &member,
                const SelectionTable<Enum> &table,
                const std::string          &documentation)
  {
    prm.declare_entry(entry,
                      selection_name(table, member),
                      dealii::Patterns::Selection(selection_names(table)),
                      documentation);
    prm.add_action(entry, [&member, table, entry](const std::string &name) {
      member = parse_selection(table, name, entry);
    });
  }
} // namespace attnflow

#endif
