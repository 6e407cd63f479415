/**
 * @file
 * Which method computes each head's kernel sums (Field/method): the first
 * of the candidate fast methods that serves the head's problem, or the
 * direct engine; with what was refused and why, for the log.
 */
#ifndef attnflow_field_method_choice_h
#define attnflow_field_method_choice_h

#include <attnflow/field_method.h>
#include <attnflow/parameters.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace attnflow
{
  /** How one head's sums were computed so far. */
  struct FieldMethodUse
  {
    /** The method's name, or "direct". */
    std::string method = "direct";
    /** "name: reason" for each candidate that refused the head. */
    std::vector<std::string> refusals;
    /** Targets summed, and those handed to the direct sum by the guard. */
    std::size_t n_targets = 0, n_rejected = 0;
  };

  /**
   * The candidate fast methods of a run, in order of preference, and the
   * record of which one served each head (doc/theory.md section 6.5).
   */
  class FieldMethodChoice
  {
  public:
    /** Chooses among @p candidates (empty: always the direct engine). */
    explicit FieldMethodChoice(
      std::vector<std::unique_ptr<FieldMethod>> candidates);

    /**
     * The first candidate that serves @p problem, or null for the direct
     * engine; the choice and the refusals are recorded under @p head. Under
     * MPI (@p problem.communicator), the first that serves the targets of
     * every rank: the same choice on every rank. Collective.
     */
    const FieldMethod *
    choose(const KernelSumProblem &problem, const std::string &head) const;

    /**
     * Records that every candidate refuses @p head for @p reason (a
     * problem outside KernelSumProblem, such as a causal mask), so that
     * the direct engine sums it and the report says why.
     */
    void
    refuse_all(const std::string &head, const std::string &reason) const;

    /** Adds @p n_targets targets, @p n_rejected of them rejected, to @p head.
     */
    void
    count(const std::string &head,
          const std::size_t  n_targets,
          const std::size_t  n_rejected) const;

    /** One line per head: its method, rejected targets and refusals. */
    std::vector<std::string>
    report() const;

    /** Whether any fast method is a candidate. */
    bool
    has_candidates() const
    {
      return !candidates.empty();
    }

  private:
    std::vector<std::unique_ptr<FieldMethod>> candidates;
    /** Guards uses: solvers may evaluate from several threads. */
    mutable std::mutex                            mutex;
    mutable std::map<std::string, FieldMethodUse> uses;
  };

  /**
   * The candidates of Field/method = @p kind: for auto, in this order,
   * tensor product, sphere pruned (large beta on the sphere), circle
   * fourier, sphere harmonics; for one method's name, that method; none for
   * direct. Methods that run on threads get @p n_threads (0: all cores).
   */
  FieldMethodChoice
  make_field_methods(const FieldMethodKind kind, const unsigned int n_threads);

  /**
   * The candidates for the Gaussian kernel sums of the MMD
   * (doc/theory.md section 6.6), as make_field_methods() but with the
   * expansions before the pruned sum under auto: the MMD's A = I / sigma^2
   * is large (100 for sigma = 0.1), where the pruned sum still covers a
   * quarter of the circle, and the expansions cost O(N sqrt(A)) on S^1.
   */
  FieldMethodChoice
  make_mmd_methods(const FieldMethodKind kind, const unsigned int n_threads);
} // namespace attnflow

#endif
