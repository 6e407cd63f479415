/**
 * @file
 * The weight-file readers on files written byte by byte here (every dtype,
 * both orders, every .npy version, .npz stored and deflated, safetensors),
 * read back exactly; one malformed file per error, each refused with an
 * InputError naming the file and what is wrong; and files written by
 * NumPy itself (numpy.save, savez, savez_compressed) and by
 * scripts/make_gpt2_weights.py through python3.
 */
#include <attnflow/exceptions.h>
#include <attnflow/weight_files.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "test_helpers.h"

#include <zlib.h>

namespace attnflow
{
  namespace
  {
    /** @p value as @p n_bytes little-endian bytes. */
    std::string
    le(const std::uint64_t value, const unsigned int n_bytes)
    {
      std::string bytes;
      for (unsigned int b = 0; b < n_bytes; ++b)
        bytes += static_cast<char>((value >> (8 * b)) & 0xff);
      return bytes;
    }

    /** IEEE binary16 bits of @p x, which must be exactly representable. */
    std::uint16_t
    half_bits(const double x)
    {
      if (x == 0.)
        return std::signbit(x) ? 0x8000 : 0;
      const std::uint16_t sign = x < 0 ? 0x8000 : 0;
      int                 e;
      const double        m = std::frexp(std::abs(x), &e); // [0.5, 1)
      if (e - 1 < -14) // subnormal: |x| = mantissa 2^-24
        return sign | static_cast<std::uint16_t>(std::abs(x) * 16777216.);
      return sign | static_cast<std::uint16_t>((e - 1 + 15) << 10) |
             static_cast<std::uint16_t>((2. * m - 1.) * 1024.);
    }

    /** The bytes of @p values in one of the dtypes f8, f4, f2, bf16. */
    std::string
    encode(const std::vector<double> &values, const std::string &dtype)
    {
      std::string bytes;
      for (const double x : values)
        if (dtype == "f8")
          {
            std::uint64_t bits;
            std::memcpy(&bits, &x, 8);
            bytes += le(bits, 8);
          }
        else if (dtype == "f4" || dtype == "bf16")
          {
            const float   f = x;
            std::uint32_t bits;
            std::memcpy(&bits, &f, 4);
            bytes += dtype == "f4" ? le(bits, 4) : le(bits >> 16, 2);
          }
        else
          bytes += le(half_bits(x), 2);
      return bytes;
    }

    /** A .npy file of format version @p major with the header @p dict. */
    std::string
    npy(const std::string &dict, const std::string &data, const int major = 1)
    {
      const unsigned int length_bytes = major == 1 ? 2 : 4;
      std::string        header       = dict;
      // Padded with blanks and a newline to a multiple of 64 bytes.
      while ((8 + length_bytes + header.size() + 1) % 64 != 0)
        header += ' ';
      header += '\n';
      return std::string("\x93NUMPY") + char(major) + char(0) +
             le(header.size(), length_bytes) + header + data;
    }

    /** The header dict of a .npy array. */
    std::string
    npy_dict(const std::string &descr,
             const bool         fortran,
             const std::string &shape)
    {
      return "{'descr': '" + descr +
             "', 'fortran_order': " + (fortran ? "True" : "False") +
             ", 'shape': " + shape + ", }";
    }

    /** One entry of a zip archive: name, stored or deflated. */
    struct ZipEntry
    {
      std::string name, data;
      bool        deflate;
    };

    /** Raw deflate of @p data (zip method 8). */
    std::string
    deflated(const std::string &data)
    {
      z_stream stream{};
      deflateInit2(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      std::string out(deflateBound(&stream, data.size()), '\0');
      stream.next_in =
        reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
      stream.avail_in  = data.size();
      stream.next_out  = reinterpret_cast<Bytef *>(out.data());
      stream.avail_out = out.size();
      deflate(&stream, Z_FINISH);
      out.resize(stream.total_out);
      deflateEnd(&stream);
      return out;
    }

    /** A zip archive of @p entries (local headers, directory, end). */
    std::string
    zip(const std::vector<ZipEntry> &entries)
    {
      std::string archive, directory;
      for (const ZipEntry &e : entries)
        {
          const std::string   stored = e.deflate ? deflated(e.data) : e.data;
          const std::uint32_t crc =
            crc32(0L,
                  reinterpret_cast<const Bytef *>(e.data.data()),
                  e.data.size());
          const std::string common =
            le(20, 2) + le(0, 2) + le(e.deflate ? 8 : 0, 2) + le(0, 4) +
            le(crc, 4) + le(stored.size(), 4) + le(e.data.size(), 4) +
            le(e.name.size(), 2) + le(0, 2);
          directory += le(0x02014b50, 4) + le(20, 2) + common + le(0, 2) +
                       le(0, 2) + le(0, 2) + le(0, 4) + le(archive.size(), 4) +
                       e.name;
          archive += le(0x04034b50, 4) + common + e.name + stored;
        }
      return archive + directory + le(0x06054b50, 4) + le(0, 2) + le(0, 2) +
             le(entries.size(), 2) + le(entries.size(), 2) +
             le(directory.size(), 4) + le(archive.size(), 4) + le(0, 2);
    }

    /** A safetensors tensor: name, dtype, shape, values. */
    struct SafeTensor
    {
      std::string              name, dtype;
      std::vector<std::size_t> shape;
      std::vector<double>      values;
    };

    /** A safetensors file of @p tensors, with a __metadata__ entry. */
    std::string
    safetensors(const std::vector<SafeTensor> &tensors)
    {
      std::string json = "{\"__metadata__\": {\"format\": \"pt\"}", data;
      for (const SafeTensor &t : tensors)
        {
          const std::string code  = t.dtype == "F64" ? "f8" :
                                    t.dtype == "F32" ? "f4" :
                                    t.dtype == "F16" ? "f2" :
                                                       "bf16";
          const std::string bytes = encode(t.values, code);
          json += ", \"" + t.name + "\": {\"dtype\": \"" + t.dtype +
                  "\", \"shape\": [";
          for (std::size_t k = 0; k < t.shape.size(); ++k)
            json += (k > 0 ? ", " : "") + std::to_string(t.shape[k]);
          json += "], \"data_offsets\": [" + std::to_string(data.size()) +
                  ", " + std::to_string(data.size() + bytes.size()) + "]}";
          data += bytes;
        }
      json += "}";
      while (json.size() % 8 != 0)
        json += ' ';
      return le(json.size(), 8) + json + data;
    }

    /** Writes @p bytes to @p name in a scratch folder; returns the path. */
    std::string
    write_file(const std::string &name, const std::string &bytes)
    {
      static const std::filesystem::path directory =
        testing::scratch_directory("weight_files");
      const std::string path = (directory / name).string();
      std::ofstream(path, std::ios::binary) << bytes;
      return path;
    }

    /** A 2 x 3 matrix exactly representable in every dtype, C order. */
    const std::vector<double> matrix = {0.5, -1.25, 3., 65504., -0.0, 0.375};
    /** The same matrix, Fortran (column-major) order. */
    const std::vector<double> matrix_fortran =
      {0.5, 65504., -1.25, -0.0, 3., 0.375};

    /** Expects read_tensors(@p file) to fail naming the file and @p text. */
    void
    expect_refused(const std::string &file, const std::string &text)
    {
      try
        {
          read_tensors(file);
          ADD_FAILURE() << file << " was accepted";
        }
      catch (const InputError &error)
        {
          const std::string message = error.what();
          EXPECT_NE(message.find(file), std::string::npos) << message;
          EXPECT_NE(message.find(text), std::string::npos)
            << "'" << text << "' not in: " << message;
        }
    }

    /** Expects @p values to equal @p expected bit for bit (signed zeros). */
    void
    expect_exact(const std::vector<double> &values,
                 const std::vector<double> &expected)
    {
      ASSERT_EQ(values.size(), expected.size());
      for (std::size_t i = 0; i < values.size(); ++i)
        {
          EXPECT_EQ(values[i], expected[i]) << "entry " << i;
          EXPECT_EQ(std::signbit(values[i]), std::signbit(expected[i]));
        }
    }
  } // namespace

  TEST(WeightFiles, ReadsNpyOfEveryVersionDtypeAndOrder)
  {
    for (const int major : {1, 2, 3})
      for (const std::string dtype : {"f8", "f4", "f2"})
        for (const bool fortran : {false, true})
          {
            const std::string name =
              "m_v" + std::to_string(major) + dtype + (fortran ? "F" : "C");
            const std::string file =
              write_file(name + ".npy",
                         npy(npy_dict("<" + dtype, fortran, "(2, 3)"),
                             encode(fortran ? matrix_fortran : matrix, dtype),
                             major));
            const std::map<std::string, Tensor> tensors = read_tensors(file);
            ASSERT_EQ(tensors.size(), 1u);
            const Tensor &t = tensors.at(name);
            EXPECT_EQ(t.shape, (std::vector<std::size_t>{2, 3}));
            expect_exact(t.values, matrix);
            EXPECT_EQ(t(1, 0), 65504.);
          }
  }

  TEST(WeightFiles, ReadsNpyOfAnyRankInFortranOrder)
  {
    // Entry (i, j, k) = 100 i + 10 j + k of shape (2, 3, 4): Fortran
    // order runs i fastest.
    std::vector<double> c, fortran;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 4; ++k)
          c.push_back(100 * i + 10 * j + k);
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 3; ++j)
        for (int i = 0; i < 2; ++i)
          fortran.push_back(100 * i + 10 * j + k);
    const Tensor t =
      read_tensor(write_file("cube.npy",
                             npy(npy_dict("<f8", true, "(2, 3, 4)"),
                                 encode(fortran, "f8"))),
                  "cube",
                  {2, 3, 4});
    expect_exact(t.values, c);

    const Tensor scalar =
      read_tensor(write_file("scalar.npy",
                             npy(npy_dict("<f8", false, "()"),
                                 encode({-7.5}, "f8"))),
                  "scalar");
    EXPECT_TRUE(scalar.shape.empty());
    expect_exact(scalar.values, {-7.5});
    // A subnormal and a negative half; shape written as (5,).
    const std::vector<double> halves = {std::ldexp(1., -24),
                                        -2.,
                                        0.25,
                                        1024.,
                                        -0.0};
    const Tensor              v      = read_tensor(write_file("vector.npy",
                                            npy(npy_dict("<f2", false, "(5,)"),
                                                encode(halves, "f2"))),
                                 "vector",
                                 {5});
    expect_exact(v.values, halves);
  }

  TEST(WeightFiles, ReadsNpzStoredAndDeflated)
  {
    const std::string q =
      npy(npy_dict("<f8", false, "(2, 3)"), encode(matrix, "f8"));
    const std::string k =
      npy(npy_dict("<f4", true, "(2, 3)"), encode(matrix_fortran, "f4"), 2);
    const std::string file =
      write_file("weights.npz",
                 zip({{"layers.0.heads.0.Q.npy", q, false},
                      {"layers.0.heads.0.K.npy", k, true}}));
    const std::map<std::string, Tensor> tensors = read_tensors(file);
    ASSERT_EQ(tensors.size(), 2u);
    expect_exact(tensors.at(WeightNames::head(0, 0, "Q")).values, matrix);
    expect_exact(tensors.at(WeightNames::head(0, 0, "K")).values, matrix);
    EXPECT_EQ(tensors.at("layers.0.heads.0.K").shape,
              (std::vector<std::size_t>{2, 3}));
  }

  TEST(WeightFiles, ReadsSafetensorsOfEveryDtype)
  {
    const std::vector<double> bf = {1.5, -2., 3.140625, 0., -0.0, 256.};
    const std::string         file =
      write_file("weights.safetensors",
                 safetensors({{"layers.0.heads.1.Q", "F64", {2, 3}, matrix},
                              {"layers.0.heads.1.K", "F32", {3, 2}, matrix},
                              {"layers.1.ff.b", "F16", {6}, matrix},
                              {"layers.1.ff.W", "BF16", {2, 3}, bf}}));
    const std::map<std::string, Tensor> tensors = read_tensors(file);
    ASSERT_EQ(tensors.size(), 4u);
    expect_exact(tensors.at("layers.0.heads.1.Q").values, matrix);
    expect_exact(tensors.at("layers.0.heads.1.K").values, matrix);
    EXPECT_EQ(tensors.at("layers.0.heads.1.K").shape,
              (std::vector<std::size_t>{3, 2}));
    expect_exact(tensors.at(WeightNames::feed_forward(1, "b")).values, matrix);
    expect_exact(tensors.at(WeightNames::feed_forward(1, "W")).values, bf);
  }

  TEST(WeightFiles, NamesTheTensorAndShapeThatDoNotFit)
  {
    const std::string file =
      write_file("named.safetensors",
                 safetensors({{"layers.0.heads.0.Q", "F64", {2, 3}, matrix}}));
    try
      {
        read_tensor(file, "layers.0.heads.0.Q", {3, 2});
        ADD_FAILURE() << "a wrong shape was accepted";
      }
    catch (const InputError &error)
      {
        EXPECT_NE(std::string(error.what())
                    .find(file + ", tensor 'layers.0.heads.0.Q': expected "
                                 "shape (3, 2), found (2, 3)"),
                  std::string::npos)
          << error.what();
      }
    try
      {
        read_tensor(file, "layers.0.heads.0.V");
        ADD_FAILURE() << "a missing tensor was accepted";
      }
    catch (const InputError &error)
      {
        EXPECT_NE(std::string(error.what())
                    .find("'layers.0.heads.0.V': no such tensor in the file; "
                          "it has: layers.0.heads.0.Q"),
                  std::string::npos)
          << error.what();
      }
    EXPECT_EQ(WeightNames::head(11, 3, "V"), "layers.11.heads.3.V");
  }

  TEST(WeightFiles, RefusesMalformedNpy)
  {
    const std::string good_data = encode(matrix, "f8");
    const std::string dict      = npy_dict("<f8", false, "(2, 3)");
    const std::string good      = npy(dict, good_data);
    expect_refused(write_file("truncated.npy", good.substr(0, good.size() - 3)),
                   "needs 48 bytes of data, but the file has 45 (truncated)");
    expect_refused(write_file("trailing.npy", good + "x"), "(trailing bytes)");
    expect_refused(write_file("short.npy", good.substr(0, 7)), "truncated");
    expect_refused(write_file("magic.npy", "\x93NUMPZ" + good.substr(6)),
                   "does not start with the magic");
    expect_refused(write_file("version.npy", npy(dict, good_data, 4)),
                   "version 4.0 is not supported");
    expect_refused(write_file("header.npy", good.substr(0, 40)),
                   "truncated .npy header");
    expect_refused(write_file("syntax.npy",
                              npy("{'descr': '<f8', 'shape': (2 3)}",
                                  good_data)),
                   "malformed header");
    expect_refused(write_file("missing.npy",
                              npy("{'descr': '<f8', 'shape': (2, 3)}",
                                  good_data)),
                   "'fortran_order' is missing");
    expect_refused(write_file("key.npy",
                              npy("{'descr': '<f8', 'fortran_order': False, "
                                  "'shape': (6,), 'units': 'm'}",
                                  good_data)),
                   "unknown key 'units'");
    expect_refused(
      write_file("big.npy", npy(npy_dict(">f8", false, "(2, 3)"), good_data)),
      "dtype '>f8' is not supported; allowed: '<f8', '<f4', '<f2'");
    expect_refused(write_file("int.npy",
                              npy(npy_dict("<i8", false, "(2, 3)"), good_data)),
                   "dtype '<i8' is not supported");
  }

  TEST(WeightFiles, RefusesMalformedNpz)
  {
    const std::string q =
      npy(npy_dict("<f8", false, "(2, 3)"), encode(matrix, "f8"));
    const std::string good = zip({{"Q.npy", q, false}});
    expect_refused(write_file("notzip.npz", q), "no end of central directory");
    expect_refused(write_file("cut.npz", good.substr(0, 60)),
                   "no end of central directory");
    std::string corrupt = good;
    corrupt[30 + 5 + 100] ^= 1; // a byte of the array data
    expect_refused(write_file("crc.npz", corrupt), "CRC-32 mismatch");
    expect_refused(write_file("twice.npz",
                              zip({{"Q.npy", q, false}, {"Q.npy", q, true}})),
                   "tensor 'Q': the name appears twice");
    expect_refused(write_file("text.npz", zip({{"notes.txt", "hello", false}})),
                   "'notes.txt' is not a .npy array");
    expect_refused(write_file("inner.npz",
                              zip(
                                {{"Q.npy", q.substr(0, q.size() - 8), true}})),
                   "tensor 'Q': shape (2, 3) of dtype '<f8' needs 48 bytes");
    std::string method                     = good;
    method[8]                              = 12; // bzip2 in the local header
    method[good.size() - 22 - 5 - 46 + 10] = 12; // and in the directory
    expect_refused(write_file("method.npz", method),
                   "compression method 12 is not supported");
  }

  TEST(WeightFiles, RefusesMalformedSafetensors)
  {
    const std::string good =
      safetensors({{"Q", "F64", {2, 3}, matrix}, {"K", "F32", {6}, matrix}});
    expect_refused(write_file("tiny.safetensors", good.substr(0, 5)),
                   "fewer than the 8 bytes");
    expect_refused(write_file("cut.safetensors", good.substr(0, 40)),
                   "truncated safetensors file");
    expect_refused(write_file("short.safetensors",
                              good.substr(0, good.size() - 1)),
                   "tensor 'K': data_offsets [48, 72] are out of range");
    const auto with_header = [](const std::string &json) {
      return le(json.size(), 8) + json + std::string(48, '\0');
    };
    expect_refused(write_file("json.safetensors",
                              with_header(
                                "{\"Q\": {\"dtype\": \"F64\", \"shape\": [6] "
                                "\"data_offsets\": [0, 48]}}")),
                   "malformed header");
    expect_refused(
      write_file("dtype.safetensors",
                 with_header("{\"Q\": {\"dtype\": \"I32\", \"shape\": [12], "
                             "\"data_offsets\": [0, 48]}}")),
      "tensor 'Q': dtype 'I32' is not supported; allowed: F64, F32, F16, BF16");
    expect_refused(write_file("size.safetensors",
                              with_header(
                                "{\"Q\": {\"dtype\": \"F64\", \"shape\": [5], "
                                "\"data_offsets\": [0, 48]}}")),
                   "hold 48 bytes, but the shape (5) needs 40");
    expect_refused(
      write_file("overlap.safetensors",
                 with_header("{\"Q\": {\"dtype\": \"F64\", \"shape\": [3], "
                             "\"data_offsets\": [0, 24]}, \"K\": {\"dtype\": "
                             "\"F64\", \"shape\": [3], \"data_offsets\": [16, "
                             "40]}}")),
      "overlap those of 'Q'");
    expect_refused(
      write_file("twice.safetensors",
                 with_header("{\"Q\": {\"dtype\": \"F64\", \"shape\": [3], "
                             "\"data_offsets\": [0, 24]}, \"Q\": {\"dtype\": "
                             "\"F64\", \"shape\": [3], \"data_offsets\": [24, "
                             "48]}}")),
      "tensor 'Q': the name appears twice");
    expect_refused(write_file("field.safetensors",
                              with_header("{\"Q\": {\"dtype\": \"F64\", "
                                          "\"shape\": [3]}}")),
                   "the field 'data_offsets' is missing");
    expect_refused(write_file("weights.pt", good), "allowed extensions");
    expect_refused("/nonexistent/weights.npz", "cannot open");
  }

  TEST(WeightFiles, ReadsWhatNumPyWrites)
  {
    // a = arange(12).reshape(3, 4) / 7 (float64, C order), b = (arange(6)
    // - 2.5).reshape(2, 3) as float32 in Fortran order, c = arange(5) / 4 as
    // float16: the same numbers here, exactly.
    std::vector<double> a, b, c;
    for (int i = 0; i < 12; ++i)
      a.push_back(i / 7.);
    for (int i = 0; i < 6; ++i)
      b.push_back(i - 2.5);
    for (int i = 0; i < 5; ++i)
      c.push_back(i / 4.);
    const std::filesystem::path directory =
      testing::scratch_directory("weight_files_numpy");
    const std::string script =
      "import numpy as np, sys\n"
      "d = sys.argv[1]\n"
      "a = np.arange(12).reshape(3, 4) / 7\n"
      "b = np.asfortranarray((np.arange(6) - 2.5).reshape(2, 3), dtype='<f4')\n"
      "c = (np.arange(5) / 4).astype('<f2')\n"
      "np.save(d + '/a.npy', a)\n"
      "np.save(d + '/b.npy', b)\n"
      "np.savez(d + '/stored.npz', a=a, b=b, c=c)\n"
      "np.savez_compressed(d + '/compressed.npz', a=a, b=b, c=c)\n";
    testing::write_text(directory / "write.py", script);
    // The python3 first on the PATH may lack NumPy; Debian's has it.
    std::string python;
    for (const std::string candidate : {"python3", "/usr/bin/python3"})
      if (python.empty() &&
          std::system((candidate + " " + (directory / "write.py").string() +
                       " " + directory.string() + " 2> /dev/null")
                        .c_str()) == 0)
        python = candidate;
    if (!python.empty())
      {
        // The generator's two files hold the same tensors, in the
        // documented names and shapes (d = 8, 2 heads of d_k = 2).
        const std::string out = (directory / "gpt2").string();
        ASSERT_EQ(std::system((python +
                               " " ATTNFLOW_SOURCE_DIR
                               "/scripts/make_gpt2_weights.py --out " +
                               out +
                               " --layers 2 --heads 2 --dimension 8 "
                               "--head-dimension 2 > /dev/null")
                                .c_str()),
                  0);
        const auto npz  = read_tensors(out + ".npz");
        const auto safe = read_tensors(out + ".safetensors");
        EXPECT_EQ(npz.size(), 2u * (2 * 3 + 2));
        for (const auto &[name, tensor] : npz)
          {
            EXPECT_EQ(safe.at(name).values, tensor.values) << name;
            EXPECT_EQ(safe.at(name).shape, tensor.shape) << name;
          }
        for (unsigned int l = 0; l < 2; ++l)
          {
            for (unsigned int h = 0; h < 2; ++h)
              {
                read_tensor(out + ".npz", WeightNames::head(l, h, "Q"), {2, 8});
                read_tensor(out + ".npz", WeightNames::head(l, h, "K"), {2, 8});
                read_tensor(out + ".npz", WeightNames::head(l, h, "V"), {8, 8});
              }
            read_tensor(out + ".safetensors",
                        WeightNames::feed_forward(l, "W"),
                        {8, 8});
            read_tensor(out + ".safetensors",
                        WeightNames::feed_forward(l, "b"),
                        {8});
          }

        expect_exact(
          read_tensor((directory / "a.npy").string(), "a", {3, 4}).values,
          a);
        expect_exact(
          read_tensor((directory / "b.npy").string(), "b", {2, 3}).values,
          b);
        for (const std::string archive : {"stored.npz", "compressed.npz"})
          {
            const auto tensors = read_tensors((directory / archive).string());
            ASSERT_EQ(tensors.size(), 3u) << archive;
            expect_exact(tensors.at("a").values, a);
            expect_exact(tensors.at("b").values, b);
            expect_exact(tensors.at("c").values, c);
            EXPECT_EQ(tensors.at("c").shape, std::vector<std::size_t>{5});
          }
      }
    else
      {
        // No python3 with NumPy: the same arrays written here instead.
        const std::string file =
          write_file("like_numpy.npz",
                     zip(
                       {{"a.npy",
                         npy(npy_dict("<f8", false, "(3, 4)"), encode(a, "f8")),
                         true},
                        {"c.npy",
                         npy(npy_dict("<f2", false, "(5,)"), encode(c, "f2")),
                         false}}));
        expect_exact(read_tensor(file, "a", {3, 4}).values, a);
        expect_exact(read_tensor(file, "c", {5}).values, c);
      }
  }
} // namespace attnflow
