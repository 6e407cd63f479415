/**
 * @file
 * The self-attention dynamics (doc/theory.md section 1): geometry, temperature,
 * normalisation, heads and layers, and the attention field X[mu] they define.
 */
#ifndef attnflow_model_h
#define attnflow_model_h

#include <attnflow/distributed.h>
#include <attnflow/field_method_choice.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/matrix_spec.h>
#include <attnflow/parameters.h>

#include <vector>

namespace attnflow
{
  /**
   * One attention head: k(x, y) = exp(beta <Q x, K y>), values V y, with
   * Q, K of size d_k x d (the exponent costs d_k per pair) and V d x d.
   */
  struct AttentionHead
  {
    Matrix       Q, K;
    SquareMatrix V;
  };

  /** The feed-forward flow sigma(W x + b) of one layer (theory 1.3). */
  struct FeedForward
  {
    SquareMatrix        W;
    std::vector<double> b;
  };

  /** The weights of one layer, held for @p duration units of time. */
  struct Layer
  {
    double                     duration;
    std::vector<AttentionHead> heads;
    /** Used where Model::feed_forward is set. */
    FeedForward feed_forward = FeedForward();
  };

  /**
   * The model of a run: tokens in R^d or on S^{d-1}, temperature beta,
   * softmax or uniform normalisation, an optional causal mask, and
   * piecewise constant weights (a list of layers, each with its heads and
   * its feed-forward flow). Built from ModelParameters, whose matrices it
   * parses (or reads from Model/weights file) and checks.
   */
  class Model
  {
  public:
    /** The model described by @p parameters; InputError if malformed. */
    explicit Model(const ModelParameters &parameters);

    /** The index of the layer acting at time @p t (the last one after all). */
    unsigned int
    layer_index(const double t) const;

    /** The times in (0, @p end_time) at which the weights switch. */
    std::vector<double>
    switch_times(const double end_time) const;

    /** A stretch of time on which one layer acts. */
    struct Interval
    {
      double       start, end;
      const Layer *layer;
    };

    /**
     * [@p from, @p to] cut at the layer switches, each piece with its
     * layer: solvers step each piece with fixed weights, so that their
     * stages never straddle a discontinuity of the field in time.
     */
    std::vector<Interval>
    intervals(const double from, const double to) const;

    Geometry      geometry;
    unsigned int  dimension;
    double        beta;
    Normalization normalization;
    /** d_k, the rows of every Q and K. */
    unsigned int head_dimension;
    /** The causal mask over the token order, or none. */
    AttentionMask mask;
    /** Whether each layer adds its feed-forward flow, and its sigma. */
    bool               feed_forward;
    Activation         activation;
    std::vector<Layer> layers;
  };

  /**
   * The attention field X[mu](x) = sum_h X_h[mu](x) of a weighted point
   * measure mu = sum_j w_j delta_{y_j} (tokens: w_j = 1/n; a finite-element
   * density: w_j = rho(y_j) JxW_j), plus the feed-forward flow
   * sigma(W x + b) where the model has one, projected on the tangent space
   * on the sphere, and the interaction energy. Every sum is one kernel sum
   * per head: by the fast method Field/method chooses for it (doc/theory.md
   * section 6), or by the KernelEngine. Under a causal mask the targets
   * and the sources are the same tokens in order, and every head is summed
   * by the engine (the fast methods sum all pairs; the log says so).
   *
   * Under MPI the targets are shared out: each rank of the communicator
   * sums at its block owned_range() of the targets, over all the sources
   * (every rank holds them), and the blocks are all-gathered, so every rank
   * returns the whole field. Each target's sums are those of a serial run
   * (the method is chosen for all targets, the arithmetic of a target does
   * not depend on the others), so the field is bit-identical for every
   * number of ranks (doc/theory.md, section 10). Under a causal mask every
   * rank sums all targets (the mask knows a target by its index).
   *
   * The ranks share out the fast methods' work on the sources too (the
   * moments of the expansions), in the order of a serial run, so that the
   * sums keep their bits. With Sharing::own_targets (the density on a
   * distributed mesh) each rank is given its own targets instead and
   * returns the field there; the sources are still all on every rank.
   */
  class AttentionField
  {
  public:
    /** How the ranks of the communicator share an evaluate(). */
    enum class Sharing
    {
      /** All targets on every rank, each rank sums a block of them. */
      target_blocks,
      /** Each rank its own targets, the work on the sources shared. */
      own_targets
    };

    /**
     * The field of @p model, computed with @p engine and the fast methods
     * that @p field allows, shared over the ranks of @p communicator as
     * @p sharing says (energy() always shares the targets in blocks).
     */
    AttentionField(const Model           &model,
                   const KernelEngine    &engine,
                   const FieldParameters &field        = FieldParameters(),
                   const MPI_Comm         communicator = MPI_COMM_SELF,
                   const Sharing          sharing = Sharing::target_blocks);

    /**
     * X[mu] of the weights of layer @p layer at @p targets, for the
     * measure with atoms @p sources and weights @p weights, into
     * @p velocity. Uniform (USA) attention that overflows the double range
     * raises NumericalError. Collective over the communicator: every rank
     * passes the same sources, and the same targets unless the sharing is
     * own_targets.
     */
    void
    evaluate(const Layer               &layer,
             const PointSet            &targets,
             const PointSet            &sources,
             const std::vector<double> &weights,
             PointSet                  &velocity) const;

    /**
     * The interaction energy sum_h (1/(2 beta)) int int exp(beta <Q_h x,
     * K_h y>) dmu(x) dmu(y) of the measure (@p points, @p weights) under
     * layer @p layer; for beta = 0, its limit without the constant,
     * sum_h (1/2) int int <Q_h x, K_h y>. Non-decreasing along uniform
     * attention with Q = K = V = I (a gradient ascent). Without the mask
     * and the feed-forward flow, which have no such energy. Returns +inf
     * where the energy exceeds the double range (the caller reports it).
     * Collective over the communicator.
     */
    double
    energy(const Layer               &layer,
           const PointSet            &points,
           const std::vector<double> &weights) const;

    /** One line per head: the method that sums it, and what was refused. */
    std::vector<std::string>
    method_report() const
    {
      return methods.report();
    }

  private:
    /**
     * The kernel sums sum_j w_j exp(beta <Q x_i, K y_j>) (1, V y_j) of head
     * @p h of @p layer (no values when @p values is empty) under @p mask
     * at this rank's @p targets, a block of @p all_targets, by the method
     * chosen for @p all_targets with the direct engine for what it rejects,
     * or by the engine (always under a causal mask). The ranks of
     * @p chooses choose the method together, each for its own targets
     * (MPI_COMM_SELF: all_targets is the same on every rank, and so is the
     * choice, a serial run's); the ranks of the communicator share the
     * method's work on the sources. Adds the targets the method rejected to
     * @p n_rejected; returns whether a fast method was used.
     */
    bool
    head_sums(const Layer               &layer,
              const unsigned int         h,
              const PointSet            &all_targets,
              const MPI_Comm             chooses,
              const PointSet            &targets,
              const PointSet            &sources,
              const std::vector<double> &weights,
              const PointSet            &values,
              const AttentionMask       &mask,
              KernelSums                &sums,
              std::size_t               &n_rejected) const;

    /** "layer l, head h": the name of a head in the report of methods. */
    std::string
    head_label(const Layer &layer, const unsigned int h) const;

    /**
     * Adds to the report the targets of the heads that used a fast method
     * (@p fast), with the rejected targets @p n_rejected summed over the
     * ranks.
     */
    void
    count_targets(const Layer               &layer,
                  const std::size_t          n_targets,
                  const std::vector<char>   &fast,
                  std::vector<unsigned long> n_rejected) const;

    /** Adds sigma(W x_i + b) of @p layer at every target to @p velocity. */
    void
    add_feed_forward(const Layer    &layer,
                     const PointSet &targets,
                     PointSet       &velocity) const;

    /** Adds the field of @p head for beta = 0: V m, the same everywhere. */
    void
    add_constant_field(const AttentionHead       &head,
                       const PointSet            &sources,
                       const std::vector<double> &weights,
                       PointSet                  &velocity) const;

    const Model        &model;
    const KernelEngine &engine;
    /** Field/tolerance. */
    const double tolerance;
    /** The candidate fast methods and the record of their use. */
    const FieldMethodChoice methods;
    /** The ranks that share the evaluations. */
    const MPI_Comm communicator;
    /** How they share evaluate(). */
    const Sharing sharing;
  };
} // namespace attnflow

#endif
