/**
 * @file
 * Section "Ensemble" of the parameter file: what `attnflow --ensemble
 * FILE.prm` sweeps, how many independent systems it runs per value, their
 * random weights and the statistics it records (doc/theory.md section 9).
 */
#ifndef attnflow_ensemble_parameters_h
#define attnflow_ensemble_parameters_h

#include <attnflow/selection.h>

#include <deal.II/base/parameter_handler.h>

#include <string>

namespace attnflow
{
  /** How the weights of each system of an ensemble are chosen. */
  enum class EnsembleWeights
  {
    /** Q, K, V of section Model, the same for every system. */
    model,
    /** K^T Q = B with i.i.d. N(0, 1/d) entries. */
    gaussian,
    /** B = (G + G^T) / sqrt(2 d), G with i.i.d. N(0, 1) entries. */
    goe,
    /** B symmetric with i.i.d. entries +-1/sqrt(d) on and above the diagonal.
     */
    wigner
  };

  /** The names of Ensemble/weights. */
  inline const SelectionTable<EnsembleWeights> ensemble_weight_names = {
    {EnsembleWeights::model, "model"},
    {EnsembleWeights::gaussian, "gaussian"},
    {EnsembleWeights::goe, "goe"},
    {EnsembleWeights::wigner, "wigner"}};

  /** The statistics of an ensemble, one per time and swept value. */
  enum class EnsembleStatistic
  {
    /** The fraction of pairs i != j with <x_i, x_j> >= 1 - delta. */
    pair_fraction,
    /** Whether <x_1, x_2> >= 1 - delta (its mean: the probability). */
    first_pair,
    /** The number of clusters (Ensemble/cluster count says how). */
    clusters,
    /** The order parameter |(1/n) sum_i x_i|. */
    order
  };

  /** The names of the statistics, as ensemble.csv writes them. */
  inline const SelectionTable<EnsembleStatistic> ensemble_statistic_names = {
    {EnsembleStatistic::pair_fraction, "pair_fraction"},
    {EnsembleStatistic::first_pair, "first_pair"},
    {EnsembleStatistic::clusters, "clusters"},
    {EnsembleStatistic::order, "order"}};

  /** How the statistic "clusters" counts. */
  enum class ClusterCount
  {
    /** The rank of the Gram matrix thresholded: [<x_i, x_j> >= threshold]. */
    gram_rank,
    /** Single linkage at Tokens/cluster radius (as metrics.csv counts). */
    single_linkage
  };

  /** The names of Ensemble/cluster count. */
  inline const SelectionTable<ClusterCount> cluster_count_names = {
    {ClusterCount::gram_rank, "gram rank"},
    {ClusterCount::single_linkage, "single linkage"}};

  /**
   * Section "Ensemble": read by every run, used by `attnflow --ensemble`
   * only. The values stay text here; the EnsemblePlan checks them against
   * the runs they apply to.
   */
  struct EnsembleParameters
  {
    /** M, the independent systems per swept value. */
    unsigned int n_systems = 64;
    /** The swept entry, "Section/name". */
    std::string sweep = "Model/beta";
    /** Its values, comma-separated. */
    std::string values = "";
    /** The tolerance delta of the statistics <x_i, x_j> >= 1 - delta. */
    double delta = 1e-3;
    /** The weights of each system. */
    EnsembleWeights weights = EnsembleWeights::model;
    /** s in V = s K^T Q for random weights: +1 or -1. */
    int value_sign = 1;
    /** Random weights are drawn anew after every such time (0: never). */
    double regeneration_interval = 0.;
    /** How the statistic clusters counts. */
    ClusterCount cluster_count = ClusterCount::gram_rank;
    /** The threshold of the Gram matrix for cluster count = gram rank. */
    double gram_threshold = 0.9999;
    /** The statistic drawn as ensemble.png and .svg. */
    EnsembleStatistic heat_map = EnsembleStatistic::first_pair;
    /** Whether gnuplot draws the heat map (ensemble.gp is always written). */
    bool plot = true;
    /** Whether every system's final tokens go to final_tokens.csv. */
    bool write_final_tokens = false;

    /**
     * Declares the entries of section "Ensemble" in @p prm, bound to the
     * members of this object: their in-class values are the defaults.
     */
    void
    add_parameters(dealii::ParameterHandler &prm);
    /**
     * What the patterns cannot check (the value sign, the Gram threshold):
     * InputError naming the entry.
     */
    void
    check() const;
  };
} // namespace attnflow

#endif
