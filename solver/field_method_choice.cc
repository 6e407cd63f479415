#include <attnflow/distributed.h>
#include <attnflow/fast_expansions.h>
#include <attnflow/field_method_choice.h>
#include <attnflow/sphere_pruned_method.h>
#include <attnflow/tensor_product_method.h>

namespace attnflow
{
  namespace
  {
    /**
     * The refusal of the ranks of @p communicator together, given this
     * rank's @p reason: empty when no rank refuses, else the reason of the
     * lowest rank that does, naming that rank unless every rank refuses; the
     * same on every rank. Collective.
     */
    std::string
    common_refusal(const std::string &reason, const MPI_Comm communicator)
    {
      const unsigned int P = n_ranks(communicator);
      if (P == 1)
        return reason;
      const RankMessage first = first_message(communicator, reason);
      if (first.count == 0 || first.count == P)
        return first.message;
      return first.message + " (on rank " + std::to_string(first.rank) +
             " of " + std::to_string(P) + ")";
    }
  } // namespace



  FieldMethodChoice::FieldMethodChoice(
    std::vector<std::unique_ptr<FieldMethod>> candidates)
      : candidates(std::move(candidates))
  {}



  const FieldMethod *
  FieldMethodChoice::choose(const KernelSumProblem &problem,
                            const std::string      &head) const
  {
    const FieldMethod       *chosen = nullptr;
    std::vector<std::string> refusals;
    for (const auto &method : candidates)
      {
        // Each rank's refusal first agrees on errors (distributed.h).
        std::string reason;
        collective(problem.communicator,
                   [&]() { reason = method->refusal(problem); });
        reason = common_refusal(reason, problem.communicator);
        if (reason.empty())
          {
            chosen = method.get();
            break;
          }
        refusals.push_back(method->name() + ": " + reason);
      }
    const std::lock_guard<std::mutex> lock(mutex);
    FieldMethodUse                   &use = uses[head];
    use.method                            = chosen ? chosen->name() : "direct";
    use.refusals                          = std::move(refusals);
    return chosen;
  }



  void
  FieldMethodChoice::refuse_all(const std::string &head,
                                const std::string &reason) const
  {
    const std::lock_guard<std::mutex> lock(mutex);
    FieldMethodUse                   &use = uses[head];
    use.method                            = "direct";
    use.refusals.clear();
    for (const auto &method : candidates)
      use.refusals.push_back(method->name() + ": " + reason);
  }



  void
  FieldMethodChoice::count(const std::string &head,
                           const std::size_t  n_targets,
                           const std::size_t  n_rejected) const
  {
    const std::lock_guard<std::mutex> lock(mutex);
    FieldMethodUse                   &use = uses[head];
    use.n_targets += n_targets;
    use.n_rejected += n_rejected;
  }



  std::vector<std::string>
  FieldMethodChoice::report() const
  {
    const std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string>          lines;
    for (const auto &[head, use] : uses)
      {
        std::string line = head + ": " + use.method;
        if (use.method != "direct")
          line += " (" + std::to_string(use.n_rejected) + " of " +
                  std::to_string(use.n_targets) +
                  " targets summed directly by the guard)";
        for (const std::string &refusal : use.refusals)
          line += "; refused " + refusal;
        lines.push_back(line);
      }
    return lines;
  }



  namespace
  {
    /**
     * The methods of @p order that Field/method = @p kind allows (all for
     * auto), in that order.
     */
    FieldMethodChoice
    make_methods(const FieldMethodKind               kind,
                 const unsigned int                  n_threads,
                 const std::vector<FieldMethodKind> &order)
    {
      std::vector<std::unique_ptr<FieldMethod>> candidates;
      for (const FieldMethodKind method : order)
        {
          if (kind != FieldMethodKind::automatic && kind != method)
            continue;
          if (method == FieldMethodKind::tensor_product)
            candidates.push_back(
              std::make_unique<TensorProductMethod>(n_threads));
          else if (method == FieldMethodKind::sphere_pruned)
            candidates.push_back(
              std::make_unique<SpherePrunedMethod>(n_threads));
          else if (method == FieldMethodKind::circle_fourier)
            candidates.push_back(std::make_unique<CircleFourierMethod>());
          else if (method == FieldMethodKind::sphere_harmonics)
            candidates.push_back(std::make_unique<SphereHarmonicMethod>());
        }
      return FieldMethodChoice(std::move(candidates));
    }
  } // namespace



  FieldMethodChoice
  make_field_methods(const FieldMethodKind kind, const unsigned int n_threads)
  {
    return make_methods(kind,
                        n_threads,
                        {FieldMethodKind::tensor_product,
                         FieldMethodKind::sphere_pruned,
                         FieldMethodKind::circle_fourier,
                         FieldMethodKind::sphere_harmonics});
  }



  FieldMethodChoice
  make_mmd_methods(const FieldMethodKind kind, const unsigned int n_threads)
  {
    return make_methods(kind,
                        n_threads,
                        {FieldMethodKind::tensor_product,
                         FieldMethodKind::circle_fourier,
                         FieldMethodKind::sphere_harmonics,
                         FieldMethodKind::sphere_pruned});
  }
} // namespace attnflow
