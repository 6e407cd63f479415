/**
 * @file
 * The interface of the fast methods for the kernel sums of one attention head
 * (doc/theory.md section 6): each method computes the same sums as the direct
 * KernelEngine, carries an a-posteriori error bound per target, and hands
 * every target whose bound exceeds the tolerance back to the direct sum.
 */
#ifndef attnflow_field_method_h
#define attnflow_field_method_h

#include <attnflow/kernel_engine.h>

#include <cstddef>
#include <string>
#include <vector>

#include <mpi.h>

namespace attnflow
{
  /**
   * The kernel sums of one head,
   *
   *   S_i = sum_j w_j exp(<x_i, A y_j>) (1, v_j),
   *
   * at the targets x_i, for the sources y_j with weights w_j >= 0 and values
   * v_j, with A = beta Q^T K (so <x, A y> = beta <Q x, K y>). The result is
   * wanted to @p tolerance relative to the normaliser S_i^0, and for the
   * values relative to S_i^0 max_j |v_j| (doc/theory.md section 6.5).
   *
   * Under MPI the ranks of @p communicator evaluate one problem together:
   * every rank holds all the sources and its own targets, and a method may
   * share out the work on the sources (the expansions' moments, summed
   * over the ranks; doc/theory.md section 10). With MPI_COMM_SELF, the
   * default, this rank evaluates the problem alone.
   */
  struct KernelSumProblem
  {
    /** The targets x_i (d coordinates each). */
    const PointSet &targets;
    /** The sources y_j (d coordinates each). */
    const PointSet &sources;
    /** The weights w_j >= 0 of the sources. */
    const std::vector<double> &weights;
    /** The values v_j of the sources (any number of coordinates). */
    const PointSet &values;
    /** A = beta Q^T K, d x d, row after row. */
    const std::vector<double> &A;
    /** The relative tolerance (Field/tolerance). */
    double tolerance;
    /**
     * The ranks that evaluate this problem together, each with the same
     * sources: FieldMethodChoice::choose() and FieldMethod::evaluate() are
     * then collective over them.
     */
    MPI_Comm communicator = MPI_COMM_SELF;

    /**
     * Whether this rank leaves a method's cost test ("no gain over the
     * direct sum") to the other ranks: it has no targets, so no sums to
     * lose, and shares the problem with others, which decide (doc/theory.md
     * section 10).
     */
    bool
    leaves_the_cost_to_other_ranks() const;
  };

  /**
   * A fast method for KernelSumProblem. The result has the engine's form
   * (KernelSums): S_i^0 = exp(shift_i) normaliser_i and S_i^v = exp(shift_i)
   * values_i, with any shift that keeps the numbers in range.
   */
  class FieldMethod
  {
  public:
    virtual ~FieldMethod() = default;

    /** The name of the method, as Field/method writes it. */
    virtual std::string
    name() const = 0;

    /**
     * Why this method cannot serve @p problem (the geometry, the matrix A,
     * the structure of the points, or no gain over the direct sum); empty
     * when it can. Looks at this rank's targets only (not collective).
     */
    virtual std::string
    refusal(const KernelSumProblem &problem) const = 0;

    /**
     * The sums of @p problem at every target into @p sums, and the indices
     * of the targets whose error bound exceeds the tolerance into
     * @p rejected (in increasing order; their entries in @p sums are left
     * for the direct engine to overwrite). Collective over
     * @p problem.communicator.
     */
    virtual void
    evaluate(const KernelSumProblem   &problem,
             KernelSums               &sums,
             std::vector<std::size_t> &rejected) const = 0;
  };

  /**
   * @p method's sums of @p problem, with the targets it rejects summed
   * directly by @p engine; returns the number of rejected targets.
   */
  std::size_t
  evaluate_guarded(const FieldMethod      &method,
                   const KernelSumProblem &problem,
                   const KernelEngine     &engine,
                   KernelSums             &sums);

  /** The direct sums of @p problem by @p engine (queries x_i, keys A y_j). */
  void
  evaluate_direct(const KernelSumProblem &problem,
                  const KernelEngine     &engine,
                  KernelSums             &sums);
} // namespace attnflow

#endif
