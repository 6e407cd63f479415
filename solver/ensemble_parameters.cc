#include <attnflow/ensemble_parameters.h>
#include <attnflow/exceptions.h>

namespace attnflow
{
  using dealii::Patterns::Anything;
  using dealii::Patterns::Bool;
  using dealii::Patterns::Double;
  using dealii::Patterns::Integer;

  void
  EnsembleParameters::add_parameters(dealii::ParameterHandler &prm)
  {
    prm.enter_subsection("Ensemble");
    prm.add_parameter("number of systems",
                      n_systems,
                      "attnflow --ensemble only: M, the independent token "
                      "systems run for every swept value. System m draws its "
                      "tokens (and random weights) from seeds derived from "
                      "Initial condition/seed (Model/weights seed) and m, the "
                      "same for every value.",
                      Integer(1, 10000000));
    prm.add_parameter("sweep",
                      sweep,
                      "attnflow --ensemble only: the swept entry, "
                      "\"Section/name\" of any numeric parameter (e.g. "
                      "Model/beta).",
                      Anything());
    prm.add_parameter("values",
                      values,
                      "attnflow --ensemble only: the values of the swept "
                      "entry, comma-separated numbers (e.g. 0.1, 0.2, 0.3); "
                      "at least one.",
                      Anything());
    prm.add_parameter("delta",
                      delta,
                      "attnflow --ensemble only: two tokens are together "
                      "when <x_i, x_j> >= 1 - delta (statistics pair_fraction "
                      "and first_pair).",
                      Double(0., 2.));
    add_selection(prm,
                  "weights",
                  weights,
                  ensemble_weight_names,
                  "attnflow --ensemble only: model: Q, K, V of section "
                  "Model for every system; gaussian, goe, wigner: each "
                  "system draws B = K^T Q (Q = B, K = I) with i.i.d. "
                  "N(0, 1/d) entries, from the Gaussian orthogonal ensemble "
                  "(G + G^T)/sqrt(2d), or symmetric with i.i.d. +-1/sqrt(d) "
                  "entries, and V = (value sign) B; one head, one layer.");
    prm.add_parameter("value sign",
                      value_sign,
                      "attnflow --ensemble only: s in V = s K^T Q for random "
                      "weights: 1 or -1.",
                      Integer(-1, 1));
    prm.add_parameter("regeneration interval",
                      regeneration_interval,
                      "attnflow --ensemble only: random weights are drawn "
                      "anew after every such stretch of time (piecewise "
                      "constant weights, like layers); 0: drawn once.",
                      Double(0.));
    add_selection(prm,
                  "cluster count",
                  cluster_count,
                  cluster_count_names,
                  "attnflow --ensemble only: the statistic clusters: gram "
                  "rank, the rank of the 0/1 matrix [<x_i, x_j> >= gram "
                  "threshold]; single linkage, the clusters of metrics.csv "
                  "(Tokens/cluster radius, minimum cluster fraction).");
    prm.add_parameter("gram threshold",
                      gram_threshold,
                      "attnflow --ensemble only: the threshold of the Gram "
                      "matrix for cluster count = gram rank, in (-1, 1].",
                      Double(-1., 1.));
    add_selection(prm,
                  "heat map",
                  heat_map,
                  ensemble_statistic_names,
                  "attnflow --ensemble only: the statistic whose mean is "
                  "drawn over (swept value, t) in ensemble.png and .svg.");
    prm.add_parameter("plot",
                      plot,
                      "attnflow --ensemble only: draw ensemble.png and .svg "
                      "with gnuplot (the script ensemble.gp is written in any "
                      "case).",
                      Bool());
    prm.add_parameter("write final tokens",
                      write_final_tokens,
                      "attnflow --ensemble only: write every system's tokens "
                      "at the end time to final_tokens.csv (value, system, "
                      "token, x1, ..., xd).",
                      Bool());
    prm.leave_subsection();
  }



  void
  EnsembleParameters::check() const
  {
    if (value_sign == 0)
      throw InputError("Ensemble/value sign", "must be 1 or -1, got 0");
    if (!(gram_threshold > -1.))
      throw InputError("Ensemble/gram threshold",
                       "must be in (-1, 1]: at -1 every pair counts");
  }
} // namespace attnflow
