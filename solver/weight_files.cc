/**
 * @file
 * Readers of .npy, .npz and .safetensors weight files: the byte layouts,
 * a Python-literal parser for the .npy header, a JSON parser for the
 * safetensors header and a zip directory reader for .npz.
 */
#include <attnflow/exceptions.h>
#include <attnflow/weight_files.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>

#include <zlib.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the weight readers copy little-endian arrays as they are");

namespace attnflow
{
  namespace
  {
    /** The whole of @p file as bytes; InputError if it cannot be read. */
    std::string
    read_bytes(const std::string &file)
    {
      std::ifstream in(file, std::ios::binary);
      if (!in)
        throw InputError(file, "cannot open this weight file for reading");
      return std::string(std::istreambuf_iterator<char>(in),
                         std::istreambuf_iterator<char>());
    }

    /** The little-endian unsigned integer of @p n_bytes at @p p. */
    std::uint64_t
    little_endian(const char *p, const unsigned int n_bytes)
    {
      std::uint64_t value = 0;
      for (unsigned int b = 0; b < n_bytes; ++b)
        value |= std::uint64_t(static_cast<unsigned char>(p[b])) << (8 * b);
      return value;
    }

    /** An IEEE binary16 number as double (subnormals, inf and NaN too). */
    double
    half_to_double(const std::uint16_t bits)
    {
      const int    sign     = bits >> 15;
      const int    exponent = (bits >> 10) & 0x1f;
      const int    mantissa = bits & 0x3ff;
      const double magnitude =
        exponent == 0  ? std::ldexp(mantissa, -24) :
        exponent == 31 ? (mantissa == 0 ?
                            std::numeric_limits<double>::infinity() :
                            std::numeric_limits<double>::quiet_NaN()) :
                         std::ldexp(mantissa + 1024, exponent - 25);
      return sign ? -magnitude : magnitude;
    }

    /** The element types of the files, as bytes per element. */
    enum class ElementType
    {
      f64,
      f32,
      f16,
      bf16
    };

    unsigned int
    element_size(const ElementType type)
    {
      return type == ElementType::f64 ? 8 : type == ElementType::f32 ? 4 : 2;
    }

    /** @p n elements of @p type at @p data, converted exactly to double. */
    std::vector<double>
    to_doubles(const char *data, const std::size_t n, const ElementType type)
    {
      std::vector<double> values(n);
      for (std::size_t i = 0; i < n; ++i)
        switch (type)
          {
            case ElementType::f64:
              std::memcpy(&values[i], data + 8 * i, 8);
              break;
            case ElementType::f32:
              {
                float f;
                std::memcpy(&f, data + 4 * i, 4);
                values[i] = f;
                break;
              }
            case ElementType::f16:
              values[i] = half_to_double(little_endian(data + 2 * i, 2));
              break;
            case ElementType::bf16:
              {
                // The upper half of a binary32.
                const std::uint32_t bits = little_endian(data + 2 * i, 2) << 16;
                float               f;
                std::memcpy(&f, &bits, 4);
                values[i] = f;
                break;
              }
          }
      return values;
    }

    /**
     * The number of elements of @p shape; InputError (@p what) if the
     * product overflows.
     */
    std::size_t
    n_elements(const std::vector<std::size_t> &shape, const std::string &what)
    {
      std::size_t n = 1;
      for (const std::size_t extent : shape)
        {
          if (extent != 0 &&
              n > std::numeric_limits<std::size_t>::max() / 16 / extent)
            throw InputError(what,
                             "the shape " + shape_to_string(shape) +
                               " is too large");
          n *= extent;
        }
      return n;
    }

    /** "file, tensor 'name'" for messages. */
    std::string
    tensor_label(const std::string &file, const std::string &name)
    {
      return file + ", tensor '" + name + "'";
    }

    /**
     * A cursor over a header text (a Python literal or JSON) that raises
     * InputError naming the header and the offending position.
     */
    class HeaderParser
    {
    public:
      HeaderParser(const std::string &text, const std::string &what)
          : text(text)
          , what(what)
      {}

      /** Skips blanks and tells whether the next character is @p c. */
      bool
      next_is(const char c)
      {
        skip_blanks();
        return position < text.size() && text[position] == c;
      }

      /** Consumes @p c or fails saying so. */
      void
      expect(const char c)
      {
        if (!next_is(c))
          fail(std::string("expected '") + c + "'");
        ++position;
      }

      /** A quoted string ('...' or "..."; JSON escapes in "..."). */
      std::string
      string()
      {
        skip_blanks();
        if (position >= text.size() ||
            (text[position] != '\'' && text[position] != '"'))
          fail("expected a quoted string");
        const char  quote = text[position++];
        std::string s;
        while (position < text.size() && text[position] != quote)
          {
            char c = text[position++];
            if (c == '\\')
              {
                if (position >= text.size())
                  break;
                c = text[position++];
                if (c == 'n')
                  c = '\n';
                else if (c == 't')
                  c = '\t';
                else if (c == 'u')
                  fail("\\u escapes are not supported in names");
              }
            s += c;
          }
        if (position >= text.size())
          fail("unterminated string");
        ++position;
        return s;
      }

      /** A non-negative integer. */
      std::uint64_t
      integer()
      {
        skip_blanks();
        const std::size_t start = position;
        std::uint64_t     value = 0;
        while (position < text.size() && text[position] >= '0' &&
               text[position] <= '9')
          {
            if (value > (std::numeric_limits<std::uint64_t>::max() - 9) / 10)
              fail("integer too large");
            value = 10 * value + (text[position++] - '0');
          }
        if (position == start)
          fail("expected a non-negative integer");
        return value;
      }

      /** A bare word: True, False, true, false, null. */
      std::string
      word()
      {
        skip_blanks();
        const std::size_t start = position;
        while (position < text.size() &&
               std::isalpha(static_cast<unsigned char>(text[position])))
          ++position;
        if (position == start)
          fail("expected a value");
        return text.substr(start, position - start);
      }

      /**
       * Skips one JSON value of any kind (safetensors' __metadata__).
       */
      void
      skip_value()
      {
        if (next_is('"'))
          string();
        else if (next_is('{') || next_is('['))
          {
            const char close = text[position] == '{' ? '}' : ']';
            ++position;
            if (next_is(close))
              {
                ++position;
                return;
              }
            while (true)
              {
                if (close == '}')
                  {
                    string();
                    expect(':');
                  }
                skip_value();
                if (!next_is(','))
                  break;
                expect(',');
              }
            expect(close);
          }
        else if (next_is('-') ||
                 (position < text.size() &&
                  std::isdigit(static_cast<unsigned char>(text[position]))))
          {
            while (position < text.size() &&
                   std::strchr("+-.eE0123456789", text[position]) != nullptr)
              ++position;
          }
        else
          word();
      }

      /** Fails unless only blanks are left. */
      void
      expect_end()
      {
        skip_blanks();
        if (position != text.size())
          fail("unexpected text after the end");
      }

      /** InputError: @p message at the current position. */
      [[noreturn]] void
      fail(const std::string &message) const
      {
        throw InputError(what,
                         "malformed header: " + message + " at character " +
                           std::to_string(position) + " of '" +
                           text.substr(0, 200) + "'");
      }

    private:
      void
      skip_blanks()
      {
        while (position < text.size() &&
               std::isspace(static_cast<unsigned char>(text[position])))
          ++position;
      }

      const std::string &text;
      const std::string &what;
      std::size_t        position = 0;
    };

    /** C order from Fortran order (first index fastest) of @p shape. */
    std::vector<double>
    fortran_to_c(const std::vector<double>      &fortran,
                 const std::vector<std::size_t> &shape)
    {
      const std::size_t rank = shape.size();
      if (rank < 2)
        return fortran; // the same order
      std::vector<double>      c(fortran.size());
      std::vector<std::size_t> index(rank, 0), stride(rank, 1);
      for (std::size_t k = 1; k < rank; ++k)
        stride[k] = stride[k - 1] * shape[k - 1];
      for (std::size_t i = 0; i < c.size(); ++i)
        {
          std::size_t offset = 0;
          for (std::size_t k = 0; k < rank; ++k)
            offset += index[k] * stride[k];
          c[i] = fortran[offset];
          // The next C index: the last axis runs fastest.
          for (std::size_t k = rank; k-- > 0;)
            if (++index[k] < shape[k])
              break;
            else
              index[k] = 0;
        }
      return c;
    }

    /**
     * The array of the .npy bytes @p bytes (a file, or an entry of an .npz
     * archive), @p what naming it in messages.
     */
    Tensor
    parse_npy(const std::string &bytes, const std::string &what)
    {
      const std::string magic = "\x93NUMPY";
      if (bytes.size() < 10 || bytes.compare(0, 6, magic) != 0)
        throw InputError(what,
                         "not a .npy array: it does not start with the magic "
                         "\"\\x93NUMPY\"" +
                           std::string(bytes.size() < 10 ?
                                         " (the file is truncated)" :
                                         ""));
      const int major = static_cast<unsigned char>(bytes[6]);
      const int minor = static_cast<unsigned char>(bytes[7]);
      if ((major != 1 && major != 2 && major != 3) || minor != 0)
        throw InputError(what,
                         ".npy format version " + std::to_string(major) + "." +
                           std::to_string(minor) +
                           " is not supported; allowed: 1.0, 2.0, 3.0");
      const unsigned int length_bytes = major == 1 ? 2 : 4;
      if (bytes.size() < 8 + length_bytes)
        throw InputError(what, "truncated .npy header");
      const std::size_t header_length =
        little_endian(bytes.data() + 8, length_bytes);
      const std::size_t data_start = 8 + length_bytes + header_length;
      if (bytes.size() < data_start)
        throw InputError(what,
                         "truncated .npy header: " +
                           std::to_string(header_length) +
                           " bytes announced, " +
                           std::to_string(bytes.size() - 8 - length_bytes) +
                           " present");
      const std::string header = bytes.substr(8 + length_bytes, header_length);

      // {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
      HeaderParser             parser(header, what);
      std::string              descr;
      bool                     fortran_order = false;
      std::vector<std::size_t> shape;
      std::set<std::string>    keys;
      parser.expect('{');
      while (!parser.next_is('}'))
        {
          const std::string key = parser.string();
          if (!keys.insert(key).second)
            parser.fail("the key '" + key + "' appears twice");
          parser.expect(':');
          if (key == "descr")
            descr = parser.string();
          else if (key == "fortran_order")
            {
              const std::string value = parser.word();
              if (value != "True" && value != "False")
                parser.fail("fortran_order must be True or False");
              fortran_order = value == "True";
            }
          else if (key == "shape")
            {
              parser.expect('(');
              while (!parser.next_is(')'))
                {
                  shape.push_back(parser.integer());
                  if (!parser.next_is(','))
                    break;
                  parser.expect(',');
                }
              parser.expect(')');
            }
          else
            parser.fail("unknown key '" + key +
                        "' (allowed: descr, fortran_order, shape)");
          if (!parser.next_is(','))
            break;
          parser.expect(',');
        }
      parser.expect('}');
      parser.expect_end();
      for (const char *key : {"descr", "fortran_order", "shape"})
        if (keys.count(key) == 0)
          parser.fail(std::string("the key '") + key + "' is missing");

      ElementType type;
      if (descr == "<f8")
        type = ElementType::f64;
      else if (descr == "<f4")
        type = ElementType::f32;
      else if (descr == "<f2")
        type = ElementType::f16;
      else
        throw InputError(what,
                         "dtype '" + descr +
                           "' is not supported; allowed: '<f8', '<f4', '<f2' "
                           "(little-endian floats; convert with "
                           "array.astype('<f8'))");

      const std::size_t n             = n_elements(shape, what);
      const std::size_t expected_size = n * element_size(type);
      const std::size_t found_size    = bytes.size() - data_start;
      if (found_size != expected_size)
        throw InputError(what,
                         "shape " + shape_to_string(shape) + " of dtype '" +
                           descr + "' needs " + std::to_string(expected_size) +
                           " bytes of data, but the file has " +
                           std::to_string(found_size) +
                           (found_size < expected_size ? " (truncated)" :
                                                         " (trailing bytes)"));
      Tensor tensor{shape, to_doubles(bytes.data() + data_start, n, type)};
      if (fortran_order)
        tensor.values = fortran_to_c(tensor.values, shape);
      return tensor;
    }

    /** The data of one entry of a zip archive, uncompressed. */
    std::string
    zip_entry_data(const std::string  &bytes,
                   const std::string  &what,
                   const unsigned int  method,
                   const std::uint64_t local_offset,
                   const std::uint64_t compressed_size,
                   const std::uint64_t size,
                   const std::uint32_t crc)
    {
      if (local_offset + 30 > bytes.size() ||
          little_endian(bytes.data() + local_offset, 4) != 0x04034b50)
        throw InputError(what, "the local zip header is missing or truncated");
      const char       *local = bytes.data() + local_offset;
      const std::size_t start = local_offset + 30 +
                                little_endian(local + 26, 2) +
                                little_endian(local + 28, 2);
      if (start + compressed_size > bytes.size())
        throw InputError(what,
                         "truncated zip entry: " +
                           std::to_string(compressed_size) +
                           " bytes announced past the end of the file");
      std::string data;
      if (method == 0)
        data = bytes.substr(start, compressed_size);
      else if (method == 8)
        {
          data.resize(size);
          z_stream stream{};
          stream.next_in =
            reinterpret_cast<Bytef *>(const_cast<char *>(bytes.data() + start));
          stream.avail_in  = compressed_size;
          stream.next_out  = reinterpret_cast<Bytef *>(data.data());
          stream.avail_out = size;
          if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
            throw InputError(what, "zlib cannot start inflating");
          const int  status = inflate(&stream, Z_FINISH);
          const bool complete =
            status == Z_STREAM_END && stream.total_out == size;
          inflateEnd(&stream);
          if (!complete)
            throw InputError(what,
                             "the deflated zip entry is corrupt or does not "
                             "inflate to the announced " +
                               std::to_string(size) + " bytes");
        }
      else
        throw InputError(what,
                         "zip compression method " + std::to_string(method) +
                           " is not supported; allowed: 0 (stored, "
                           "numpy.savez), 8 (deflated, savez_compressed)");
      if (data.size() != size)
        throw InputError(what, "the zip entry's sizes disagree");
      if (::crc32(0L,
                  reinterpret_cast<const Bytef *>(data.data()),
                  data.size()) != crc)
        throw InputError(what, "CRC-32 mismatch: the zip entry is corrupt");
      return data;
    }

    /**
     * The arrays of the .npz archive @p bytes, entry "NAME.npy" as NAME;
     * the zip central directory gives names, sizes and offsets (Zip64
     * extra fields included, as numpy writes them).
     */
    std::map<std::string, Tensor>
    parse_npz(const std::string &bytes, const std::string &file)
    {
      // The end-of-central-directory record: 22 bytes, then a comment of
      // at most 65535 bytes.
      std::size_t end = std::string::npos;
      if (bytes.size() >= 22)
        for (std::size_t p = bytes.size() - 22;; --p)
          {
            if (little_endian(bytes.data() + p, 4) == 0x06054b50)
              {
                end = p;
                break;
              }
            if (p == 0 || bytes.size() - p > 22 + 65535)
              break;
          }
      if (end == std::string::npos)
        throw InputError(file,
                         "not an .npz (zip) archive: no end of central "
                         "directory record (truncated or not a zip file)");
      const std::uint64_t n_entries = little_endian(bytes.data() + end + 10, 2);
      const std::uint64_t directory = little_endian(bytes.data() + end + 16, 4);
      if (n_entries == 0xffff || directory == 0xffffffff)
        throw InputError(file,
                         "Zip64 archives of more than 65535 entries or 4 GiB "
                         "are not supported");

      std::map<std::string, Tensor> tensors;
      std::size_t                   p = directory;
      for (std::uint64_t e = 0; e < n_entries; ++e)
        {
          if (p + 46 > bytes.size() ||
              little_endian(bytes.data() + p, 4) != 0x02014b50)
            throw InputError(file,
                             "the zip central directory is truncated or "
                             "corrupt (entry " +
                               std::to_string(e) + ")");
          const char         *entry           = bytes.data() + p;
          const unsigned int  method          = little_endian(entry + 10, 2);
          const std::uint32_t crc             = little_endian(entry + 16, 4);
          std::uint64_t       compressed_size = little_endian(entry + 20, 4);
          std::uint64_t       size            = little_endian(entry + 24, 4);
          const std::size_t   name_length     = little_endian(entry + 28, 2);
          const std::size_t   extra_length    = little_endian(entry + 30, 2);
          const std::size_t   comment_length  = little_endian(entry + 32, 2);
          std::uint64_t       offset          = little_endian(entry + 42, 4);
          if (p + 46 + name_length + extra_length > bytes.size())
            throw InputError(file, "the zip central directory is truncated");
          const std::string entry_name = bytes.substr(p + 46, name_length);
          // Zip64: the 64-bit values of the fields set to 0xffffffff, in
          // the order size, compressed size, offset.
          for (std::size_t x = p + 46 + name_length;
               x + 4 <= p + 46 + name_length + extra_length;)
            {
              const unsigned int id    = little_endian(bytes.data() + x, 2);
              const std::size_t length = little_endian(bytes.data() + x + 2, 2);
              if (id == 0x0001)
                {
                  std::size_t y = x + 4;
                  for (std::uint64_t *field :
                       {&size, &compressed_size, &offset})
                    if (*field == 0xffffffff && y + 8 <= x + 4 + length)
                      {
                        *field = little_endian(bytes.data() + y, 8);
                        y += 8;
                      }
                }
              x += 4 + length;
            }
          p += 46 + name_length + extra_length + comment_length;

          const std::string suffix = ".npy";
          if (entry_name.size() <= suffix.size() ||
              entry_name.compare(entry_name.size() - suffix.size(),
                                 suffix.size(),
                                 suffix) != 0)
            throw InputError(file,
                             "the entry '" + entry_name +
                               "' is not a .npy array (an .npz holds only "
                               "NAME.npy entries)");
          const std::string name =
            entry_name.substr(0, entry_name.size() - suffix.size());
          const std::string what = tensor_label(file, name);
          if (tensors.count(name) != 0)
            throw InputError(what, "the name appears twice in the archive");
          if (offset > bytes.size())
            throw InputError(what, "the zip entry's offset is out of range");
          tensors[name] = parse_npy(zip_entry_data(bytes,
                                                   what,
                                                   method,
                                                   offset,
                                                   compressed_size,
                                                   size,
                                                   crc),
                                    what);
        }
      return tensors;
    }

    /** The arrays of the safetensors file @p bytes. */
    std::map<std::string, Tensor>
    parse_safetensors(const std::string &bytes, const std::string &file)
    {
      if (bytes.size() < 8)
        throw InputError(file,
                         "truncated safetensors file: fewer than the 8 bytes "
                         "of the header length");
      const std::uint64_t header_length = little_endian(bytes.data(), 8);
      if (header_length > bytes.size() - 8)
        throw InputError(
          file,
          "truncated safetensors file, or not one: a header of " +
            std::to_string(header_length) + " bytes announced, " +
            std::to_string(bytes.size() - 8) + " present");
      const std::string header      = bytes.substr(8, header_length);
      const std::size_t data_start  = 8 + header_length;
      const std::size_t buffer_size = bytes.size() - data_start;

      struct Entry
      {
        std::string              name;
        ElementType              type;
        std::vector<std::size_t> shape;
        std::uint64_t            begin, end;
      };
      std::vector<Entry>    entries;
      std::set<std::string> names;
      HeaderParser          parser(header, file);
      parser.expect('{');
      while (!parser.next_is('}'))
        {
          const std::string name = parser.string();
          if (!names.insert(name).second)
            throw InputError(tensor_label(file, name),
                             "the name appears twice in the header");
          parser.expect(':');
          if (name == "__metadata__")
            parser.skip_value();
          else
            {
              const std::string     what = tensor_label(file, name);
              Entry                 entry{name, ElementType::f64, {}, 0, 0};
              std::set<std::string> fields;
              parser.expect('{');
              while (!parser.next_is('}'))
                {
                  const std::string field = parser.string();
                  if (!fields.insert(field).second)
                    parser.fail("the field '" + field + "' appears twice");
                  parser.expect(':');
                  if (field == "dtype")
                    {
                      const std::string dtype = parser.string();
                      if (dtype == "F64")
                        entry.type = ElementType::f64;
                      else if (dtype == "F32")
                        entry.type = ElementType::f32;
                      else if (dtype == "F16")
                        entry.type = ElementType::f16;
                      else if (dtype == "BF16")
                        entry.type = ElementType::bf16;
                      else
                        throw InputError(what,
                                         "dtype '" + dtype +
                                           "' is not supported; allowed: "
                                           "F64, F32, F16, BF16");
                    }
                  else if (field == "shape" || field == "data_offsets")
                    {
                      std::vector<std::uint64_t> numbers;
                      parser.expect('[');
                      while (!parser.next_is(']'))
                        {
                          numbers.push_back(parser.integer());
                          if (!parser.next_is(','))
                            break;
                          parser.expect(',');
                        }
                      parser.expect(']');
                      if (field == "shape")
                        entry.shape.assign(numbers.begin(), numbers.end());
                      else if (numbers.size() != 2)
                        throw InputError(what,
                                         "data_offsets must be [begin, end]");
                      else
                        {
                          entry.begin = numbers[0];
                          entry.end   = numbers[1];
                        }
                    }
                  else
                    parser.fail("unknown field '" + field +
                                "' (allowed: dtype, shape, data_offsets)");
                  if (!parser.next_is(','))
                    break;
                  parser.expect(',');
                }
              parser.expect('}');
              for (const char *required : {"dtype", "shape", "data_offsets"})
                if (fields.count(required) == 0)
                  throw InputError(what,
                                   std::string("the field '") + required +
                                     "' is missing");
              entries.push_back(entry);
            }
          if (!parser.next_is(','))
            break;
          parser.expect(',');
        }
      parser.expect('}');
      parser.expect_end();

      std::map<std::string, Tensor> tensors;
      for (const Entry &entry : entries)
        {
          const std::string what = tensor_label(file, entry.name);
          const std::size_t n    = n_elements(entry.shape, what);
          if (entry.end < entry.begin || entry.end > buffer_size)
            throw InputError(what,
                             "data_offsets [" + std::to_string(entry.begin) +
                               ", " + std::to_string(entry.end) +
                               "] are out of range: the data has " +
                               std::to_string(buffer_size) + " bytes");
          if (entry.end - entry.begin != n * element_size(entry.type))
            throw InputError(what,
                             "data_offsets [" + std::to_string(entry.begin) +
                               ", " + std::to_string(entry.end) + "] hold " +
                               std::to_string(entry.end - entry.begin) +
                               " bytes, but the shape " +
                               shape_to_string(entry.shape) + " needs " +
                               std::to_string(n * element_size(entry.type)));
          tensors[entry.name] = Tensor{
            entry.shape,
            to_doubles(bytes.data() + data_start + entry.begin, n, entry.type)};
        }
      // Tensors must not share bytes.
      std::vector<const Entry *> sorted;
      for (const Entry &entry : entries)
        sorted.push_back(&entry);
      std::sort(sorted.begin(),
                sorted.end(),
                [](const Entry *a, const Entry *b) {
                  return a->begin < b->begin;
                });
      for (std::size_t k = 1; k < sorted.size(); ++k)
        if (sorted[k]->begin < sorted[k - 1]->end)
          throw InputError(tensor_label(file, sorted[k]->name),
                           "its data_offsets overlap those of '" +
                             sorted[k - 1]->name + "'");
      return tensors;
    }

    /** Whether @p file ends with @p extension. */
    bool
    has_extension(const std::string &file, const std::string &extension)
    {
      return file.size() >= extension.size() &&
             file.compare(file.size() - extension.size(),
                          extension.size(),
                          extension) == 0;
    }
  } // namespace



  std::string
  shape_to_string(const std::vector<std::size_t> &shape)
  {
    std::ostringstream out;
    out << '(';
    for (std::size_t k = 0; k < shape.size(); ++k)
      out << (k > 0 ? ", " : "") << shape[k];
    out << ')';
    return out.str();
  }



  std::map<std::string, Tensor>
  read_tensors(const std::string &file)
  {
    if (has_extension(file, ".npy"))
      {
        const std::size_t slash = file.find_last_of('/');
        const std::string name =
          file.substr(slash == std::string::npos ? 0 : slash + 1);
        const std::string stem = name.substr(0, name.size() - 4);
        return {{stem, parse_npy(read_bytes(file), file)}};
      }
    if (has_extension(file, ".npz"))
      return parse_npz(read_bytes(file), file);
    if (has_extension(file, ".safetensors"))
      return parse_safetensors(read_bytes(file), file);
    throw InputError(file,
                     "unknown weight file type; allowed extensions: .npy, "
                     ".npz, .safetensors");
  }



  WeightFile::WeightFile(const std::string &file)
      : file(file)
      , tensors(read_tensors(file))
  {}



  const Tensor &
  WeightFile::tensor(const std::string &name) const
  {
    const auto found = tensors.find(name);
    if (found == tensors.end())
      {
        std::string  available;
        unsigned int listed = 0;
        for (const auto &entry : tensors)
          if (listed++ < 5)
            available += (available.empty() ? "" : ", ") + entry.first;
        if (tensors.size() > 5)
          available += ", ... (" + std::to_string(tensors.size()) + " in all)";
        throw InputError(tensor_label(file, name),
                         "no such tensor in the file; it has: " +
                           (available.empty() ? std::string("none") :
                                                available));
      }
    return found->second;
  }



  const Tensor &
  WeightFile::tensor(const std::string              &name,
                     const std::vector<std::size_t> &expected_shape) const
  {
    const Tensor &found = tensor(name);
    if (found.shape != expected_shape)
      throw InputError(tensor_label(file, name),
                       "expected shape " + shape_to_string(expected_shape) +
                         ", found " + shape_to_string(found.shape));
    return found;
  }



  Tensor
  read_tensor(const std::string &file, const std::string &name)
  {
    return WeightFile(file).tensor(name);
  }



  Tensor
  read_tensor(const std::string              &file,
              const std::string              &name,
              const std::vector<std::size_t> &expected_shape)
  {
    return WeightFile(file).tensor(name, expected_shape);
  }



  namespace WeightNames
  {
    std::string
    head(const unsigned int layer,
         const unsigned int head,
         const std::string &matrix)
    {
      return "layers." + std::to_string(layer) + ".heads." +
             std::to_string(head) + "." + matrix;
    }



    std::string
    feed_forward(const unsigned int layer, const std::string &part)
    {
      return "layers." + std::to_string(layer) + ".ff." + part;
    }
  } // namespace WeightNames
} // namespace attnflow
