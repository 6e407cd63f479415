#include <attnflow/exceptions.h>
#include <attnflow/parameter_file.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace attnflow
{
  namespace
  {
    /**
     * @p text without leading and trailing blanks, each run of blanks inside
     * one space (as deal.II reads names).
     */
    std::string
    trimmed(const std::string &text)
    {
      std::string result;
      for (const char c : text)
        if (c == ' ' || c == '\t' || c == '\r')
          {
            if (!result.empty() && result.back() != ' ')
              result += ' ';
          }
        else
          result += c;
      if (!result.empty() && result.back() == ' ')
        result.pop_back();
      return result;
    }

    /**
     * The offset of the first byte of @p text that no text file holds (NUL,
     * control characters other than tab, CR, LF, FF, or invalid UTF-8), or
     * npos.
     */
    std::size_t
    first_binary_byte(const std::string &text)
    {
      for (std::size_t i = 0; i < text.size(); ++i)
        {
          const unsigned char c = text[i];
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
            return i;
          if (c == 0x7f)
            return i;
          if (c < 0x80)
            continue;
          // A UTF-8 sequence: a lead byte and 1..3 continuation bytes.
          const unsigned int n = (c & 0xe0) == 0xc0 ? 1 :
                                 (c & 0xf0) == 0xe0 ? 2 :
                                 (c & 0xf8) == 0xf0 ? 3 :
                                                      0;
          if (n == 0 || c == 0xc0 || c == 0xc1 || c > 0xf4 ||
              i + n >= text.size())
            return i;
          for (unsigned int k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80)
              return i;
          i += n;
        }
      return std::string::npos;
    }
  } // namespace



  void
  check_parameter_file(const std::string &file)
  {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      throw InputError(file, "cannot open the parameter file for reading");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text   = buffer.str();
    const std::size_t binary = first_binary_byte(text);
    if (binary != std::string::npos)
      {
        const std::size_t line =
          1 + std::count(text.begin(), text.begin() + binary, '\n');
        char byte[8];
        std::snprintf(byte,
                      sizeof(byte),
                      "0x%02x",
                      static_cast<unsigned char>(text[binary]));
        throw InputError(file + ":" + std::to_string(line),
                         "is not a text parameter file (byte " +
                           std::to_string(binary) + " is " + byte +
                           "); give a deal.II parameter file: lines "
                           "'subsection NAME', 'set NAME = VALUE' and 'end' "
                           "(attnflow --print-parameters lists them all)");
      }

    // Where each entry "Section/.../name" is set first.
    std::map<std::string, unsigned int> first_set;
    std::vector<std::string>            sections;
    std::istringstream                  lines(text);
    std::string                         line;
    unsigned int                        number = 0;
    while (std::getline(lines, line))
      {
        const unsigned int start = ++number;
        // A trailing backslash joins the next line.
        while (!line.empty() && trimmed(line).size() &&
               trimmed(line).back() == '\\')
          {
            std::string       next;
            const std::string current = trimmed(line);
            if (!std::getline(lines, next))
              break;
            ++number;
            line = current.substr(0, current.size() - 1) + next;
          }
        std::string        statement = trimmed(line.substr(0, line.find('#')));
        std::istringstream words(statement);
        std::string        keyword;
        words >> keyword;
        if (keyword == "subsection")
          sections.push_back(trimmed(statement.substr(10)));
        else if (keyword == "end")
          {
            if (!sections.empty())
              sections.pop_back();
          }
        else if (keyword == "set")
          {
            const std::size_t equals = statement.find('=');
            if (equals == std::string::npos)
              continue; // deal.II reports the malformed line
            std::string entry;
            for (const std::string &section : sections)
              entry += section + "/";
            entry += trimmed(statement.substr(3, equals - 3));
            const auto [at, inserted] = first_set.emplace(entry, start);
            if (!inserted)
              throw InputError(file + ":" + std::to_string(start),
                               "'" + entry + "' is set twice, first at " +
                                 file + ":" + std::to_string(at->second) +
                                 "; keep one of the two lines (--set "
                                 "overrides an entry on the command line)");
          }
      }
  }
} // namespace attnflow
