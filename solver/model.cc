#include <attnflow/exceptions.h>
#include <attnflow/model.h>
#include <attnflow/weight_files.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

namespace attnflow
{
  namespace
  {
    /**
     * The entry of parameter @p name ("Model/Q") for each of @p n_layers
     * layers: '/' separates layers, one entry serves all.
     */
    std::vector<std::string>
    layer_entries(const std::string &text,
                  const std::string &name,
                  const unsigned int n_layers)
    {
      const std::vector<std::string> per_layer = split(text, '/');
      if (per_layer.size() != 1 && per_layer.size() != n_layers)
        throw InputError(
          name,
          "'" + text + "' gives " + std::to_string(per_layer.size()) +
            " layers ('/'-separated), but Model/layer durations " +
            (n_layers == 1 ?
               "makes one layer: give one list for all time, or " +
                 std::to_string(per_layer.size()) +
                 " durations in Model/layer durations" :
               "makes " + std::to_string(n_layers) +
                 ": give one list (for every layer) or " +
                 std::to_string(n_layers) + " (one per layer)"));
      std::vector<std::string> entries(n_layers);
      for (unsigned int l = 0; l < n_layers; ++l)
        entries[l] = per_layer[per_layer.size() == 1 ? 0 : l];
      return entries;
    }

    /**
     * The matrix of parameter @p name for each of @p n_heads heads of one
     * layer, whose entry is @p layer_text: '|' separates heads, one matrix
     * serves all.
     */
    std::vector<std::string>
    head_entries(const std::string &layer_text,
                 const std::string &name,
                 const unsigned int n_heads)
    {
      const std::vector<std::string> per_head = split(layer_text, '|');
      if (per_head.size() != 1 && per_head.size() != n_heads)
        throw InputError(
          name,
          "'" + layer_text + "' gives " + std::to_string(per_head.size()) +
            " matrices ('|'-separated heads), but Model/number of heads "
            "= " +
            std::to_string(n_heads) +
            (n_heads == 1 ? ": give one matrix, or set Model/number of "
                            "heads = " +
                              std::to_string(per_head.size()) :
                            ": give one matrix (for every head) or " +
                              std::to_string(n_heads) + " (one per head)"));
      std::vector<std::string> entries(n_heads);
      for (unsigned int h = 0; h < n_heads; ++h)
        entries[h] = per_head[per_head.size() == 1 ? 0 : h];
      return entries;
    }

    /**
     * The weights that the parameters write 'file', read from
     * Model/weights file, which is read once, on the first such entry.
     */
    class WeightSource
    {
    public:
      explicit WeightSource(const ModelParameters &parameters)
          : parameters(parameters)
      {}

      /**
       * The tensor @p tensor_name of shape @p shape, for the entry of
       * parameter @p name; InputError if no file is given.
       */
      const Tensor &
      tensor(const std::string              &name,
             const std::string              &tensor_name,
             const std::vector<std::size_t> &shape)
      {
        if (parameters.weights_file.empty())
          throw InputError(name,
                           "'file' reads the weights from Model/weights "
                           "file, which is empty: give the file");
        if (!file)
          file = std::make_unique<WeightFile>(parameters.weights_file);
        return file->tensor(tensor_name, shape);
      }

    private:
      const ModelParameters      &parameters;
      std::unique_ptr<WeightFile> file;
    };

    /**
     * The matrix of parameter @p name ("Model/Q") for layer @p l and
     * head @p h: @p rows x d, parsed or read (@p tensor_name) from the
     * weights file. Every (layer, head, matrix) draws its own random
     * stream @p stream, also when one 'random' entry serves several.
     */
    Matrix
    head_matrix(const std::string     &text,
                const std::string     &name,
                const std::string     &tensor_name,
                const unsigned int     rows,
                const ModelParameters &parameters,
                const std::uint64_t    stream,
                WeightSource          &source)
    {
      const unsigned int d = parameters.dimension;
      if (text != "file")
        return parse_rectangular_matrix(text,
                                        rows,
                                        d,
                                        name,
                                        parameters.weights_seed,
                                        stream);
      const Tensor &tensor = source.tensor(name, tensor_name, {rows, d});
      Matrix        matrix(rows, d);
      matrix.entries = tensor.values;
      return matrix;
    }

    /**
     * The bias b of the feed-forward flow of layer @p l: zero, d numbers
     * or 'file' (tensor layers.{l}.ff.b).
     */
    std::vector<double>
    feed_forward_bias(const std::string     &text,
                      const unsigned int     l,
                      const ModelParameters &parameters,
                      WeightSource          &source)
    {
      const std::string  name = "Model/feed forward b";
      const unsigned int d    = parameters.dimension;
      const std::string &word = text;
      if (word == "zero")
        return std::vector<double>(d, 0.);
      if (word == "file")
        return source.tensor(name, WeightNames::feed_forward(l, "b"), {d})
          .values;
      const std::vector<double> b = parse_numbers(word, name);
      if (b.size() != d)
        throw InputError(name,
                         "'" + text + "' has " + std::to_string(b.size()) +
                           " entries, but Model/dimension = " +
                           std::to_string(d) + ": give zero, " +
                           std::to_string(d) +
                           " comma-separated numbers or file");
      return b;
    }

    /** sigma(@p z) of the feed-forward flow (doc/theory.md 1.3). */
    double
    activate(const Activation sigma, const double z)
    {
      switch (sigma)
        {
          case Activation::relu:
            return std::max(0., z);
          case Activation::tanh:
            return std::tanh(z);
          case Activation::gelu:
            return 0.5 * z * (1. + std::erf(z / std::sqrt(2.)));
          default:
            return z;
        }
    }

    /** @p points projected on the tangent spaces: v -= <x, v> x. */
    void
    project_tangent(const PointSet &points, PointSet &velocity)
    {
      const unsigned int d = points.dimension;
      for (std::size_t i = 0; i < points.size(); ++i)
        {
          double dot = 0.;
          for (unsigned int k = 0; k < d; ++k)
            dot += points[i][k] * velocity[i][k];
          for (unsigned int k = 0; k < d; ++k)
            velocity[i][k] -= dot * points[i][k];
        }
    }

    /** The points @p range of @p points. */
    PointSet
    rows_of(const PointSet &points, const IndexRange &range)
    {
      PointSet rows(points.dimension, range.size());
      std::copy(points[range.begin],
                points[range.begin] + range.size() * points.dimension,
                rows.coordinates.begin());
      return rows;
    }

    /**
     * exp(@p shift) * @p value, through logarithms where exp(shift) alone
     * would overflow though the product does not.
     */
    double
    unshifted(const double shift, const double value)
    {
      if (shift < 700. || value == 0.)
        return std::exp(shift) * value;
      return std::copysign(std::exp(shift + std::log(std::abs(value))), value);
    }
  } // namespace



  Model::Model(const ModelParameters &parameters)
      : geometry(parameters.geometry)
      , dimension(parameters.dimension)
      , beta(parameters.beta)
      , normalization(parameters.normalization)
      , head_dimension(parameters.head_dimension == 0 ?
                         parameters.dimension :
                         parameters.head_dimension)
      , mask{parameters.mask, parameters.alibi_slope}
      , feed_forward(parameters.feed_forward)
      , activation(parameters.feed_forward_activation)
  {
    std::vector<double> durations = parameters.layer_durations;
    if (durations.empty())
      durations.push_back(std::numeric_limits<double>::infinity());
    const unsigned int n_layers = durations.size();
    const unsigned int n_heads  = parameters.n_heads;
    WeightSource       source(parameters);
    const std::vector<std::string>
      Q = layer_entries(parameters.Q, "Model/Q", n_layers),
      K = layer_entries(parameters.K, "Model/K", n_layers),
      V = layer_entries(parameters.V, "Model/V", n_layers);
    for (unsigned int l = 0; l < n_layers; ++l)
      {
        const std::vector<std::string> q =
                                         head_entries(Q[l], "Model/Q", n_heads),
                                       k =
                                         head_entries(K[l], "Model/K", n_heads),
                                       v =
                                         head_entries(V[l], "Model/V", n_heads);
        Layer layer{durations[l], {}};
        for (unsigned int h = 0; h < n_heads; ++h)
          {
            const std::uint64_t stream = (std::uint64_t(l) * 1024 + h) * 3;
            const auto          matrix = [&](const std::string &text,
                                    const std::string &name,
                                    const unsigned int rows,
                                    const unsigned int index) {
              return head_matrix(text,
                                 "Model/" + name,
                                 WeightNames::head(l, h, name),
                                 rows,
                                 parameters,
                                 stream + index,
                                 source);
            };
            const Matrix value = matrix(v[h], "V", dimension, 2);
            SquareMatrix V_h(dimension);
            V_h.entries = value.entries;
            if (value.is_scaled_identity)
              V_h =
                SquareMatrix::scaled_identity(dimension, value.identity_scale);
            layer.heads.push_back({matrix(q[h], "Q", head_dimension, 0),
                                   matrix(k[h], "K", head_dimension, 1),
                                   V_h});
          }
        layers.push_back(layer);
      }
    if (!feed_forward)
      return;
    const std::vector<std::string> W = layer_entries(parameters.feed_forward_W,
                                                     "Model/feed forward W",
                                                     n_layers);
    const std::vector<std::string> b = layer_entries(parameters.feed_forward_b,
                                                     "Model/feed forward b",
                                                     n_layers);
    for (unsigned int l = 0; l < n_layers; ++l)
      {
        const Matrix W_l                 = head_matrix(W[l],
                                       "Model/feed forward W",
                                       WeightNames::feed_forward(l, "W"),
                                       dimension,
                                       parameters,
                                       (std::uint64_t(1024) * 1024 + l) * 3,
                                       source);
        layers[l].feed_forward.W         = SquareMatrix(dimension);
        layers[l].feed_forward.W.entries = W_l.entries;
        layers[l].feed_forward.b =
          feed_forward_bias(b[l], l, parameters, source);
      }
  }



  unsigned int
  Model::layer_index(const double t) const
  {
    double end = 0.;
    for (unsigned int l = 0; l + 1 < layers.size(); ++l)
      {
        end += layers[l].duration;
        if (t < end)
          return l;
      }
    return layers.size() - 1;
  }



  std::vector<double>
  Model::switch_times(const double end_time) const
  {
    std::vector<double> times;
    double              t = 0.;
    for (unsigned int l = 0; l + 1 < layers.size(); ++l)
      {
        t += layers[l].duration;
        if (t < end_time)
          times.push_back(t);
      }
    return times;
  }



  std::vector<Model::Interval>
  Model::intervals(const double from, const double to) const
  {
    std::vector<double> stops = switch_times(to);
    stops.push_back(to);
    std::vector<Interval> pieces;
    double                start = from;
    for (const double stop : stops)
      if (stop > start)
        {
          pieces.push_back(
            {start, stop, &layers[layer_index(0.5 * (start + stop))]});
          start = stop;
        }
    return pieces;
  }



  AttentionField::AttentionField(const Model           &model,
                                 const KernelEngine    &engine,
                                 const FieldParameters &field,
                                 const MPI_Comm         communicator,
                                 const Sharing          sharing)
      : model(model)
      , engine(engine)
      , tolerance(field.tolerance)
      , methods(make_field_methods(field.method, engine.n_threads()))
      , communicator(communicator)
      , sharing(sharing)
  {}



  std::string
  AttentionField::head_label(const Layer &layer, const unsigned int h) const
  {
    return "layer " + std::to_string(&layer - model.layers.data() + 1) +
           ", head " + std::to_string(h + 1);
  }



  bool
  AttentionField::head_sums(const Layer               &layer,
                            const unsigned int         h,
                            const PointSet            &all_targets,
                            const MPI_Comm             chooses,
                            const PointSet            &targets,
                            const PointSet            &sources,
                            const std::vector<double> &weights,
                            const PointSet            &values,
                            const AttentionMask       &mask,
                            KernelSums                &sums,
                            std::size_t               &n_rejected) const
  {
    const AttentionHead &head  = layer.heads[h];
    const std::string    label = head_label(layer, h);
    // Reasons that need no look at A, which costs d_k d^2 to form and the
    // refusals up to d^3 more per call: too much for every right-hand side
    // at d = 768.
    std::string refusal;
    if (mask.kind != AttentionMask::Kind::none)
      refusal = "a causal mask (the fast methods sum all pairs)";
    else if (head.Q.rows < model.dimension && model.dimension > 3)
      refusal = "d_k < d with d > 3: A = beta Q^T K is singular, so not "
                "c R (sphere pruned); the series need d = 2, 3; tensor grids "
                "of tokens in d > 3 are not looked for";
    if (methods.has_candidates() && !refusal.empty())
      {
        methods.refuse_all(label, refusal);
        methods.count(label, all_targets.size(), 0);
      }
    else if (methods.has_candidates())
      {
        const unsigned int  d = model.dimension;
        std::vector<double> A(std::size_t(d) * d, 0.);
        for (unsigned int r = 0; r < d; ++r)
          for (unsigned int k = 0; k < head.Q.rows; ++k)
            for (unsigned int c = 0; c < d; ++c)
              A[r * d + c] += model.beta * head.Q(k, r) * head.K(k, c);
        // The method of a serial run for all targets, or the one the ranks
        // choose together for their own.
        const KernelSumProblem
          all{all_targets, sources, weights, values, A, tolerance, chooses};
        if (const FieldMethod *method =
              methods.choose(all, head_label(layer, h)))
          {
            const KernelSumProblem mine{targets,
                                        sources,
                                        weights,
                                        values,
                                        A,
                                        tolerance,
                                        communicator};
            n_rejected += evaluate_guarded(*method, mine, engine, sums);
            return true;
          }
      }
    PointSet queries, keys;
    head.Q.apply(targets, model.beta, queries);
    head.K.apply(sources, 1., keys);
    engine.evaluate(queries, keys, weights, values, sums, mask);
    return false;
  }



  void
  AttentionField::count_targets(const Layer               &layer,
                                const std::size_t          n_targets,
                                const std::vector<char>   &fast,
                                std::vector<unsigned long> n_rejected) const
  {
    if (n_ranks(communicator) > 1)
      MPI_Allreduce(MPI_IN_PLACE,
                    n_rejected.data(),
                    n_rejected.size(),
                    MPI_UNSIGNED_LONG,
                    MPI_SUM,
                    communicator);
    for (unsigned int h = 0; h < fast.size(); ++h)
      if (fast[h])
        methods.count(head_label(layer, h), n_targets, n_rejected[h]);
  }



  void
  AttentionField::evaluate(const Layer               &layer,
                           const PointSet            &targets,
                           const PointSet            &sources,
                           const std::vector<double> &weights,
                           PointSet                  &velocity) const
  {
    const unsigned int d       = model.dimension;
    const unsigned int n_heads = layer.heads.size();
    // This rank's block of the targets (all of them on one rank, under a
    // causal mask, whose sums know a target by its index, and when the
    // targets are the rank's own).
    const bool       masked  = model.mask.kind != AttentionMask::Kind::none;
    const bool       own     = sharing == Sharing::own_targets;
    const IndexRange owned   = masked || own ?
                                 IndexRange{0, targets.size()} :
                                 owned_range(targets.size(), communicator);
    const bool       divided = owned.size() < targets.size();
    const PointSet   block   = divided ? rows_of(targets, owned) : PointSet();
    const PointSet  &mine    = divided ? block : targets;

    PointSet                   local(d, mine.size());
    std::vector<char>          fast(n_heads, 0);
    std::vector<unsigned long> n_rejected(n_heads, 0);
    collective(communicator, [&]() {
      PointSet   values;
      KernelSums sums;
      for (unsigned int h = 0; h < n_heads; ++h)
        {
          // Under a mask each target sees its own sources: no common mean.
          if (model.beta == 0. && !masked)
            {
              add_constant_field(layer.heads[h], sources, weights, local);
              continue;
            }
          layer.heads[h].V.apply(sources, 1., values);
          std::size_t rejected = 0;
          fast[h]              = head_sums(layer,
                              h,
                              targets,
                              own ? communicator : MPI_COMM_SELF,
                              mine,
                              sources,
                              weights,
                              values,
                              model.mask,
                              sums,
                              rejected);
          n_rejected[h]        = rejected;
          for (std::size_t i = 0; i < mine.size(); ++i)
            {
              for (unsigned int k = 0; k < d; ++k)
                local[i][k] += model.normalization == Normalization::softmax ?
                                 sums.values[i][k] / sums.normaliser[i] :
                                 unshifted(sums.shift[i], sums.values[i][k]);
            }
        }
      if (model.feed_forward)
        add_feed_forward(layer, mine, local);
    });
    unsigned long n_targets = targets.size();
    if (own && n_ranks(communicator) > 1)
      MPI_Allreduce(MPI_IN_PLACE,
                    &n_targets,
                    1,
                    MPI_UNSIGNED_LONG,
                    MPI_SUM,
                    communicator);
    count_targets(layer, n_targets, fast, n_rejected);
    if (divided)
      {
        velocity = PointSet(d, 0);
        all_gather_rows(communicator,
                        targets.size(),
                        d,
                        local.coordinates,
                        velocity.coordinates);
      }
    else
      velocity = std::move(local);
    // Checked on every rank together (each rank's own targets, with
    // Sharing::own_targets).
    collective(communicator, [&]() {
      for (const double v : velocity.coordinates)
        if (!std::isfinite(v))
          {
            std::ostringstream message;
            message << "the attention field is not finite";
            if (model.normalization == Normalization::uniform)
              message << ": uniform (USA) attention overflows the double range "
                         "(exp(beta <Qx, Ky>) > 1e308, beta = "
                      << model.beta
                      << "); use normalization = softmax, a smaller beta or "
                         "smaller Q, K";
            throw NumericalError(message.str());
          }
    });
    if (model.geometry == Geometry::sphere)
      project_tangent(targets, velocity);
  }



  void
  AttentionField::add_feed_forward(const Layer    &layer,
                                   const PointSet &targets,
                                   PointSet       &velocity) const
  {
    const FeedForward &ff = layer.feed_forward;
    PointSet           z;
    ff.W.apply(targets, 1., z);
    for (std::size_t i = 0; i < targets.size(); ++i)
      for (unsigned int k = 0; k < model.dimension; ++k)
        velocity[i][k] += activate(model.activation, z[i][k] + ff.b[k]);
  }



  void
  AttentionField::add_constant_field(const AttentionHead       &head,
                                     const PointSet            &sources,
                                     const std::vector<double> &weights,
                                     PointSet                  &velocity) const
  {
    // beta = 0: k = 1, so X = V m with m = sum_j w_j y_j (divided by
    // sum_j w_j for softmax), the same at every target: O(n), not O(n^2).
    const unsigned int d = model.dimension;
    PointSet           mean(d, 1);
    double             total = 0.;
    for (std::size_t j = 0; j < sources.size(); ++j)
      {
        total += weights[j];
        for (unsigned int k = 0; k < d; ++k)
          mean[0][k] += weights[j] * sources[j][k];
      }
    if (model.normalization == Normalization::softmax)
      for (double &m : mean.coordinates)
        m /= total;
    PointSet value;
    head.V.apply(mean, 1., value);
    for (std::size_t i = 0; i < velocity.size(); ++i)
      for (unsigned int k = 0; k < d; ++k)
        velocity[i][k] += value[0][k];
  }



  double
  AttentionField::energy(const Layer               &layer,
                         const PointSet            &points,
                         const std::vector<double> &weights) const
  {
    double         total = 0.;
    PointSet       queries, keys;
    const PointSet no_values(0, points.size());
    KernelSums     sums;
    for (unsigned int h = 0; h < layer.heads.size(); ++h)
      {
        const AttentionHead &head = layer.heads[h];
        if (model.beta == 0.)
          {
            // (1/2) <Q m, K m> with m the weighted sum of the points.
            PointSet mean(model.dimension, 1);
            for (std::size_t i = 0; i < points.size(); ++i)
              for (unsigned int k = 0; k < model.dimension; ++k)
                mean[0][k] += weights[i] * points[i][k];
            head.Q.apply(mean, 1., queries);
            head.K.apply(mean, 1., keys);
            for (unsigned int k = 0; k < model.head_dimension; ++k)
              total += 0.5 * queries[0][k] * keys[0][k];
            continue;
          }
        // log(w_i) + log sum_j w_j k(x_i, x_j) at this rank's block.
        const IndexRange owned   = owned_range(points.size(), communicator);
        const bool       divided = owned.size() < points.size();
        const PointSet   block = divided ? rows_of(points, owned) : PointSet();
        std::vector<double>        local_terms(owned.size());
        std::vector<char>          fast(layer.heads.size(), 0);
        std::vector<unsigned long> n_rejected(layer.heads.size(), 0);
        collective(communicator, [&]() {
          std::size_t rejected = 0;
          fast[h]              = head_sums(layer,
                              h,
                              points,
                              MPI_COMM_SELF,
                              divided ? block : points,
                              points,
                              weights,
                              no_values,
                              AttentionMask(),
                              sums,
                              rejected);
          n_rejected[h]        = rejected;
          for (std::size_t i = 0; i < owned.size(); ++i)
            local_terms[i] = std::log(weights[owned.begin + i]) +
                             sums.shift[i] + std::log(sums.normaliser[i]);
        });
        count_targets(layer, points.size(), fast, n_rejected);
        std::vector<double> log_terms;
        all_gather_rows(communicator, points.size(), 1, local_terms, log_terms);
        total += std::exp(log_sum_exp(log_terms)) / (2. * model.beta);
      }
    return total;
  }
} // namespace attnflow
