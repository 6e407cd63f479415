/**
 * @file
 * Weight files: the arrays of trained (or generated) transformers, read
 * from NumPy's .npy / .npz files and from safetensors files into doubles.
 *
 * Formats (chosen by the file's extension):
 * - `.npy`: NumPy's format, versions 1.0, 2.0 and 3.0 (magic "\x93NUMPY",
 *   a Python dict literal header with 'descr', 'fortran_order' and
 *   'shape'); dtypes '<f8', '<f4' and '<f2', C or Fortran order. One
 *   array, named by the file name without its extension.
 * - `.npz`: a zip archive of .npy entries (numpy.savez: stored;
 *   numpy.savez_compressed: deflated, read through zlib), entry
 *   "NAME.npy" giving the tensor NAME; CRC-32 checked.
 * - `.safetensors`: an 8-byte little-endian header length N, N bytes of
 *   JSON {"NAME": {"dtype": ..., "shape": [...], "data_offsets": [b, e]},
 *   "__metadata__": {...}}, then the little-endian arrays in C order, byte
 *   offsets relative to the end of the header; dtypes F64, F32, F16, BF16.
 *
 * Every malformed input (a truncated file, a bad magic, a header that does
 * not parse, an unsupported dtype, offsets out of range or overlapping, a
 * size that does not match the shape, duplicate names, a missing tensor or
 * a wrong shape) raises InputError naming the file, the tensor and what was
 * expected against what was found.
 *
 * Naming of a model's weights (see WeightNames): layer l = 0, 1, ...,
 * head h = 0, 1, ..., model dimension d, head dimension d_k:
 *
 *   layers.{l}.heads.{h}.Q    d_k x d   queries  q_i = Q x_i
 *   layers.{l}.heads.{h}.K    d_k x d   keys     k_j = K x_j
 *   layers.{l}.heads.{h}.V    d   x d   values   v_j = V x_j
 *   layers.{l}.ff.W           d   x d   feed-forward sigma(W x + b)
 *   layers.{l}.ff.b           d         its bias
 *
 * Matrices are stored row by row (C order) as they act, y = A x; from
 * PyTorch, numpy.save(f, linear.weight.detach().numpy()) writes this
 * layout (a torch.nn.Linear's weight is out x in; GPT-2's own Conv1D
 * stores in x out, the transpose). scripts/make_gpt2_weights.py writes
 * GPT-2-shaped files in this naming.
 */
#ifndef attnflow_weight_files_h
#define attnflow_weight_files_h

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace attnflow
{
  /**
   * An n-dimensional array of doubles in C (row-major) order: entry
   * (i_0, ..., i_{r-1}) at sum_k i_k prod_{m > k} shape[m]. A scalar has
   * an empty shape and one value.
   */
  struct Tensor
  {
    /** The extent of each axis. */
    std::vector<std::size_t> shape;

    /** The entries, converted to double exactly, in C order. */
    std::vector<double> values;

    /** Entry (i, j) of a matrix (rank 2). */
    double
    operator()(const std::size_t i, const std::size_t j) const
    {
      return values[i * shape[1] + j];
    }
  };

  /** @p shape as "(2, 3)", for messages. */
  std::string
  shape_to_string(const std::vector<std::size_t> &shape);

  /**
   * Every tensor of @p file (.npy, .npz or .safetensors) by name;
   * InputError naming the file (and the tensor) for anything malformed.
   */
  std::map<std::string, Tensor>
  read_tensors(const std::string &file);

  /**
   * The tensor @p name of @p file; InputError if it is missing (listing a
   * few names that the file has) or malformed.
   */
  Tensor
  read_tensor(const std::string &file, const std::string &name);

  /**
   * The tensor @p name of @p file, which must have the shape
   * @p expected_shape: otherwise InputError naming the file, the tensor
   * and the expected against the found shape.
   */
  Tensor
  read_tensor(const std::string              &file,
              const std::string              &name,
              const std::vector<std::size_t> &expected_shape);

  /**
   * The tensors of one weight file, read once: a model takes dozens of
   * matrices from one file, which read_tensor() would read every time.
   */
  class WeightFile
  {
  public:
    /** Reads every tensor of @p file (read_tensors()). */
    explicit WeightFile(const std::string &file);

    /**
     * The tensor @p name; InputError naming the file and the tensor if it
     * is missing, listing a few names that the file has.
     */
    const Tensor &
    tensor(const std::string &name) const;

    /**
     * The tensor @p name, which must have the shape @p expected_shape:
     * InputError naming the file and the tensor if it is missing (listing
     * a few names that the file has) or has another shape.
     */
    const Tensor &
    tensor(const std::string              &name,
           const std::vector<std::size_t> &expected_shape) const;

  private:
    std::string                   file;
    std::map<std::string, Tensor> tensors;
  };

  /** The names of the weights of a model in a file (see the file doc). */
  namespace WeightNames
  {
    /**
     * "layers.{layer}.heads.{head}.{matrix}" with @p matrix one of "Q",
     * "K", "V".
     */
    std::string
    head(const unsigned int layer,
         const unsigned int head,
         const std::string &matrix);

    /** "layers.{layer}.ff.{part}" with @p part one of "W", "b". */
    std::string
    feed_forward(const unsigned int layer, const std::string &part);
  } // namespace WeightNames
} // namespace attnflow

#endif
