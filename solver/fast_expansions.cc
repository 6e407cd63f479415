/**
 * @file
 * The circle Fourier series and the sphere harmonic expansion of the kernel
 * sums (doc/theory.md sections 6.1, 6.2), with the per-target guard of
 * section 6.5.
 */
#include <attnflow/distributed.h>
#include <attnflow/fast_expansions.h>
#include <attnflow/vector_exp.h>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace attnflow
{
  namespace
  {
    using complex = std::complex<double>;

    constexpr double unit_roundoff = std::numeric_limits<double>::epsilon() / 2;
    constexpr double pi            = 3.14159265358979323846;

    using simd::broadcast;
    using simd::lanes;
    using simd::load;
    using simd::store;
    using simd::vdouble;

    /** Sources summed in sequence before the pairwise tree (section 6.1). */
    constexpr std::size_t leaf_size = 64;
    /** Points whose harmonics are computed together (vectorised over them). */
    constexpr unsigned int batch_size = 16;
    static_assert(batch_size == 2 * simd::lanes,
                  "the sphere's batches are two vectors");
    /** Targets per parallel task. */
    constexpr std::size_t target_task_size = 512;

    /**
     * The truncation tail is kept below this fraction of the tolerance
     * (section 6.1): it then never decides the fate of a target whose
     * scaled normaliser is above 1e-5.
     */
    constexpr double truncation_fraction = 1e-5;

    /**
     * Measured costs in units of one direct kernel pair (benchmarks/README.md,
     * "Fast field methods"): one (point, mode, component) of the circle
     * series, one (point, harmonic, component) of the sphere expansion.
     */
    constexpr double circle_cost_per_mode     = 1.;
    constexpr double sphere_cost_per_harmonic = 0.5;

    /** The start index of Miller's backward recurrence for argument @p r. */
    unsigned int
    miller_start(const double r, const unsigned int n_max)
    {
      return std::max<unsigned int>(n_max,
                                    static_cast<unsigned int>(
                                      std::ceil(r + 10. * std::sqrt(r))) +
                                      60) +
             20;
    }

    /**
     * A series sum_k t_k truncated after index @p order: the coefficients
     * 0..order, and a bound of the neglected part, @p tail.
     */
    struct Truncation
    {
      unsigned int        order;
      double              tail;
      std::vector<double> coefficients;
    };

    /**
     * The smallest truncation of the series with terms @p weight(k) c_k
     * (c = @p coefficients, k = 0..N) whose tail, bounded beyond N by the
     * geometric series of ratio @p ratio_beyond, is at most @p tau; order
     * N + 1 (that is: none found) if none below N - N/4.
     */
    template <typename Weight>
    Truncation
    truncate(const std::vector<double> &coefficients,
             const Weight              &weight,
             const double               ratio_beyond,
             const double               tau)
    {
      const unsigned int N = coefficients.size() - 1;
      // Sum of the terms beyond N: at most t_N q / (1 - q).
      double tail =
        weight(N) * coefficients[N] * ratio_beyond / (1. - ratio_beyond);
      std::vector<double> tails(N + 1);
      tails[N] = tail;
      for (unsigned int k = N; k-- > 0;)
        {
          tail += weight(k + 1) * coefficients[k + 1];
          tails[k] = tail;
        }
      // The coefficients are accurate to a few hundred ulps (Miller).
      const double safety = 1. + 1e-12;
      for (unsigned int k = 0; k + N / 4 < N; ++k)
        if (tails[k] * safety <= tau)
          return {k,
                  tails[k] * safety,
                  std::vector<double>(coefficients.begin(),
                                      coefficients.begin() + k + 1)};
      return {N + 1, 0., {}};
    }

    /**
     * The truncation of exp(r cos theta) e^{-r} = sum_k e^{-r} I_k(r)
     * e^{i k theta} to |k| <= K with the two-sided tail
     * 2 sum_{k>K} e^{-r} I_k(r) <= tau (section 6.1).
     */
    Truncation
    bessel_truncation(const double r, const double tau)
    {
      if (r == 0.)
        return {0, 0., {1.}};
      for (unsigned int n_max = 0;; n_max = 2 * n_max + 64)
        {
          const std::vector<double> I =
            scaled_bessel_i(r, miller_start(r, 0) + n_max);
          const unsigned int N          = I.size() - 1;
          const Truncation   truncation = truncate(
            I,
            [](unsigned int) { return 2.; },
            r / (2. * (N + 1)),
            tau);
          if (truncation.order <= N)
            return truncation;
        }
    }

    /**
     * The truncation of e^{c (t - 1)} = sum_l (2l + 1) e^{-c} i_l(c) P_l(t)
     * to l <= L with the tail sum_{l>L} (2l + 1) e^{-c} i_l(c) <= tau
     * (section 6.2).
     */
    Truncation
    spherical_bessel_truncation(const double c, const double tau)
    {
      if (c == 0.)
        return {0, 0., {1.}};
      for (unsigned int n_max = 0;; n_max = 2 * n_max + 64)
        {
          const std::vector<double> i =
            scaled_spherical_bessel_i(c, miller_start(c, 0) + n_max);
          const unsigned int N          = i.size() - 1;
          const Truncation   truncation = truncate(
            i,
            [](unsigned int l) { return 2. * l + 1.; },
            c / (2. * N + 1.),
            tau);
          if (truncation.order <= N)
            return truncation;
        }
    }

    /** The truncation target for the tolerance @p tolerance. */
    double
    truncation_target(const double tolerance)
    {
      return std::max(truncation_fraction * tolerance, 1e-30);
    }

    /** max_i | |p_i| - 1 |, the distance of @p points from the unit sphere. */
    double
    distance_from_sphere(const PointSet &points)
    {
      double distance = 0.;
      for (std::size_t i = 0; i < points.size(); ++i)
        {
          double norm2 = 0.;
          for (unsigned int k = 0; k < points.dimension; ++k)
            norm2 += points[i][k] * points[i][k];
          distance = std::max(distance, std::abs(std::sqrt(norm2) - 1.));
        }
      return distance;
    }

    /**
     * expm1(Delta), Delta = |A|_2 (delta_t + delta_s + delta_t delta_s): the
     * relative change of every kernel value when targets and sources at
     * distances delta_t, delta_s from the sphere are projected onto it
     * (section 6.1).
     */
    double
    projection_error(const double norm_A,
                     const double delta_targets,
                     const double delta_sources)
    {
      return std::expm1(norm_A * (delta_targets + delta_sources +
                                  delta_targets * delta_sources));
    }

    /**
     * The first-order round-off bound 2 n u of a chain of n floating-point
     * operations (complex ones counted twice), relative to the sum of the
     * absolute values of the terms (sections 6.1, 6.2).
     */
    double
    roundoff_bound(const double chain_length)
    {
      return 2. * chain_length * unit_roundoff /
             (1. - 2. * chain_length * unit_roundoff);
    }

    /**
     * The points that one rank of @p problem's communicator expands: its
     * share of the sources (the moments are summed over the ranks) and its
     * targets.
     */
    double
    expansion_points(const KernelSumProblem &problem)
    {
      return static_cast<double>(problem.sources.size()) /
               n_ranks(problem.communicator) +
             static_cast<double>(problem.targets.size());
    }

    /**
     * The length of the chain that sums the moments of @p problem: the
     * pairwise tree over its sources (the same tree on any number of ranks).
     */
    double
    source_chain_length(const KernelSumProblem &problem)
    {
      return leaf_size +
             std::ceil(std::log2(
               1. + static_cast<double>(problem.sources.size()) / leaf_size)) +
             1.;
    }

    /**
     * The guard of section 6.5: whether the scaled normaliser @p n_hat, with
     * the absolute bound @p expansion_error of the truncated expansion and
     * the relative projection error @p projection, is certified to the
     * tolerance: E <= tol (n_hat - E), with E the total bound. The same
     * test certifies the values relative to S^0 max_j |v_j|.
     */
    bool
    certified(const double n_hat,
              const double expansion_error,
              const double projection,
              const double tolerance)
    {
      const double bound =
        expansion_error + projection * (std::abs(n_hat) + expansion_error);
      return std::isfinite(n_hat) && bound <= tolerance * (n_hat - bound);
    }

    /** sum_j |w_j|. */
    double
    total_weight(const std::vector<double> &weights)
    {
      double W = 0.;
      for (const double w : weights)
        W += std::abs(w);
      return W;
    }

    /**
     * The columns (w_j, w_j v_j) / W of the sources, one array per
     * component: the right-hand sides of the moments.
     */
    std::vector<std::vector<double>>
    weighted_columns(const KernelSumProblem &problem, const double W)
    {
      const unsigned int               n_values = problem.values.dimension;
      const std::size_t                n        = problem.sources.size();
      std::vector<std::vector<double>> columns(1 + n_values,
                                               std::vector<double>(n));
      for (std::size_t j = 0; j < n; ++j)
        {
          const double w = problem.weights[j] / W;
          columns[0][j]  = w;
          for (unsigned int c = 0; c < n_values; ++c)
            columns[1 + c][j] = w * problem.values[j][c];
        }
      return columns;
    }

    /**
     * The body of deterministic_moments(): the moments of the ranges it has
     * seen, added in place (no copy of the moments per leaf or per join).
     */
    template <typename Accumulate>
    class MomentsBody
    {
    public:
      MomentsBody(const Accumulate &accumulate, const std::size_t n_moments)
          : accumulate(accumulate)
          , moments(n_moments, 0.)
      {}

      /** A body for the right half of a split range: no moments yet. */
      MomentsBody(MomentsBody &other, tbb::split)
          : accumulate(other.accumulate)
          , moments(other.moments.size(), 0.)
      {}

      /** Adds the moments of the sources in @p range. */
      void
      operator()(const tbb::blocked_range<std::size_t> &range)
      {
        accumulate(range.begin(), range.end(), moments);
      }

      /** Adds the moments of @p right, the body of the right half. */
      void
      join(const MomentsBody &right)
      {
        for (std::size_t k = 0; k < moments.size(); ++k)
          moments[k] += right.moments[k];
      }

      const Accumulate   &accumulate;
      std::vector<double> moments;
    };

    /**
     * Where the pairwise tree of deterministic_moments() halves the range
     * [@p begin, @p end), @p depth levels above the nodes that the ranks
     * share out: at its middle, as tbb::blocked_range splits a range of more
     * than @p range_size sources; @p end when the range is such a node
     * (depth 0) or a leaf of the tree.
     */
    std::size_t
    tree_split(const std::size_t  begin,
               const std::size_t  end,
               const std::size_t  range_size,
               const unsigned int depth)
    {
      return depth == 0 || end - begin <= range_size ?
               end :
               begin + (end - begin) / 2;
    }

    /**
     * The nodes of the pairwise tree over [@p begin, @p end) at @p depth
     * levels below it (or above, where a leaf ends a branch), in order.
     */
    void
    tree_nodes(const std::size_t        begin,
               const std::size_t        end,
               const std::size_t        range_size,
               const unsigned int       depth,
               std::vector<IndexRange> &nodes)
    {
      const std::size_t middle = tree_split(begin, end, range_size, depth);
      if (middle == end)
        {
          nodes.push_back({begin, end});
          return;
        }
      tree_nodes(begin, middle, range_size, depth - 1, nodes);
      tree_nodes(middle, end, range_size, depth - 1, nodes);
    }

    /**
     * The moments of the tree over [@p begin, @p end) from those of its
     * nodes at @p depth (tree_nodes(), taken from @p node on, which it
     * advances), added as the pairwise tree adds them: each left half's
     * moments plus its right half's.
     */
    std::vector<double>
    join_nodes(const std::size_t          begin,
               const std::size_t          end,
               const std::size_t          range_size,
               const unsigned int         depth,
               const std::vector<double> &node_moments,
               const std::size_t          n_moments,
               std::size_t               &node)
    {
      const std::size_t middle = tree_split(begin, end, range_size, depth);
      if (middle == end)
        {
          const auto first = node_moments.begin() + node * n_moments;
          ++node;
          return std::vector<double>(first, first + n_moments);
        }
      std::vector<double>       left  = join_nodes(begin,
                                            middle,
                                            range_size,
                                            depth - 1,
                                            node_moments,
                                            n_moments,
                                            node);
      const std::vector<double> right = join_nodes(middle,
                                                   end,
                                                   range_size,
                                                   depth - 1,
                                                   node_moments,
                                                   n_moments,
                                                   node);
      for (std::size_t k = 0; k < n_moments; ++k)
        left[k] += right[k];
      return left;
    }

    /**
     * Moments sum_j (basis functions at y_j) (columns at j), summed
     * deterministically: ranges of at most @p range_size sources (a leaf,
     * leaf_size, unless the caller splits a range into leaves itself) in
     * sequence, then a pairwise tree (tbb::parallel_deterministic_reduce), so
     * that every run gives the same bits and the round-off chain is
     * leaf_size + log2 n. @p accumulate(begin, end, moments) adds the moments
     * of a range.
     *
     * Under MPI the P ranks of @p communicator share the tree: its 2P to 4P
     * subtrees one level below log2 P are dealt out to the ranks in order,
     * each rank sums its own, the subtrees' moments are all-gathered, and
     * every rank adds them as the tree does. The moments then have the same
     * bits on any number of ranks as on one (section 10.1).
     */
    template <typename Accumulate>
    std::vector<double>
    deterministic_moments(const MPI_Comm    communicator,
                          const std::size_t n_sources,
                          const std::size_t n_moments,
                          const std::size_t range_size,
                          const Accumulate &accumulate)
    {
      const unsigned int      P     = n_ranks(communicator);
      const unsigned int      depth = P == 1 ? 0 : std::ceil(std::log2(P)) + 1;
      std::vector<IndexRange> nodes;
      tree_nodes(0, n_sources, range_size, depth, nodes);
      const IndexRange    mine = owned_range(nodes.size(), communicator);
      std::vector<double> my_moments;
      // The ranks agree on errors before they all-gather (distributed.h).
      collective(communicator, [&]() {
        my_moments.reserve(mine.size() * n_moments);
        for (std::size_t i = mine.begin; i < mine.end; ++i)
          {
            MomentsBody<Accumulate> body(accumulate, n_moments);
            tbb::parallel_deterministic_reduce(
              tbb::blocked_range<std::size_t>(nodes[i].begin,
                                              nodes[i].end,
                                              range_size),
              body,
              tbb::simple_partitioner());
            my_moments.insert(my_moments.end(),
                              body.moments.begin(),
                              body.moments.end());
          }
      });
      if (P == 1)
        return my_moments;
      std::size_t node = 0;
      return join_nodes(0,
                        n_sources,
                        range_size,
                        depth,
                        all_gather_concatenated(communicator, my_moments),
                        n_moments,
                        node);
    }

    /** Sizes @p sums for @p n_targets targets, all with the same shift. */
    void
    resize_sums(KernelSums        &sums,
                const std::size_t  n_targets,
                const unsigned int n_values,
                const double       shift)
    {
      sums.shift.assign(n_targets, shift);
      sums.normaliser.assign(n_targets, 0.);
      sums.values = PointSet(n_values, n_targets);
    }

    /**
     * The sums of an expansion at every target of @p problem, in batches of
     * @p width targets on parallel tasks, into @p sums, and the targets whose
     * bound is not certified (sections 6.1.6, 6.5) into @p rejected (in
     * increasing order). @p make_batch() gives a task's evaluator;
     * @p evaluate(batch, i0, n) evaluates targets i0 .. i0 + n - 1, after
     * which batch.sum(component, q) holds component 0 (the normaliser) or
     * 1 + k (value k) of target i0 + q.
     */
    template <typename MakeBatch, typename Evaluate>
    void
    sum_and_certify(const KernelSumProblem   &problem,
                    const unsigned int        width,
                    const MakeBatch          &make_batch,
                    const Evaluate           &evaluate,
                    const double              expansion_error,
                    const double              projection,
                    KernelSums               &sums,
                    std::vector<std::size_t> &rejected)
    {
      std::vector<char> rejected_flags(problem.targets.size(), 0);
      tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0,
                                        problem.targets.size(),
                                        target_task_size),
        [&](const tbb::blocked_range<std::size_t> &range) {
          auto batch = make_batch();
          for (std::size_t i0 = range.begin(); i0 < range.end(); i0 += width)
            {
              const unsigned int n = static_cast<unsigned int>(
                std::min<std::size_t>(width, range.end() - i0));
              evaluate(batch, i0, n);
              for (unsigned int q = 0; q < n; ++q)
                {
                  const std::size_t i = i0 + q;
                  sums.normaliser[i]  = batch.sum(0, q);
                  for (unsigned int k = 0; k < problem.values.dimension; ++k)
                    sums.values[i][k] = batch.sum(1 + k, q);
                  rejected_flags[i] = !certified(sums.normaliser[i],
                                                 expansion_error,
                                                 projection,
                                                 problem.tolerance);
                }
            }
        });
      rejected.clear();
      for (std::size_t i = 0; i < rejected_flags.size(); ++i)
        if (rejected_flags[i])
          rejected.push_back(i);
    }

    /**
     * Whether @p fast_cost (in direct pairs) is no gain over the direct sum
     * of @p problem; the refusal reason if so. A rank without targets that
     * shares the problem with others does not refuse: it has no sums of its
     * own to lose, and the others decide.
     */
    std::string
    no_gain_reason(const KernelSumProblem &problem,
                   const double            fast_cost,
                   const std::string      &modes)
    {
      const double direct_cost = static_cast<double>(problem.sources.size()) *
                                 static_cast<double>(problem.targets.size());
      if (fast_cost < direct_cost || problem.leaves_the_cost_to_other_ranks())
        return "";
      std::ostringstream reason;
      const unsigned int P = n_ranks(problem.communicator);
      reason << "no gain over the direct sum: " << modes << " for "
             << problem.sources.size() << " sources"
             << (P > 1 ? " shared by " + std::to_string(P) + " ranks" : "")
             << " and " << problem.targets.size() << " targets cost about "
             << fast_cost << " kernel pairs, the direct sum " << direct_cost;
      return reason.str();
    }

    // ---------------------------------------------------------------------
    // The circle (section 6.1).

    /**
     * e^{i m t_q} = (p_q / |p_q|)^m, m = 0..@p n_frequencies - 1, for the
     * @p n points p_q = @p points[first + q] of R^2, into
     * @p power_r[m * batch_size + q] and @p power_i (real and imaginary
     * parts; the last point repeated up to batch_size), by repeated
     * multiplication, vectorised over the points.
     */
    void
    unit_powers(const PointSet      &points,
                const std::size_t    first,
                const unsigned int   n,
                const unsigned int   n_frequencies,
                std::vector<double> &power_r,
                std::vector<double> &power_i)
    {
      double z_r[batch_size], z_i[batch_size];
      for (unsigned int q = 0; q < batch_size; ++q)
        {
          const double *p    = points[first + std::min(q, n - 1)];
          const double  norm = std::sqrt(p[0] * p[0] + p[1] * p[1]);
          z_r[q]             = p[0] / norm;
          z_i[q]             = p[1] / norm;
          power_r[q]         = 1.;
          power_i[q]         = 0.;
        }
      for (unsigned int m = 1; m < n_frequencies; ++m)
        {
          const double *pr = &power_r[(m - 1) * batch_size];
          const double *pi = &power_i[(m - 1) * batch_size];
          double       *nr = &power_r[m * batch_size];
          double       *ni = &power_i[m * batch_size];
          for (unsigned int q = 0; q < batch_size; ++q)
            {
              nr[q] = pr[q] * z_r[q] - pi[q] * z_i[q];
              ni[q] = pr[q] * z_i[q] + pi[q] * z_r[q];
            }
        }
    }

    /** <x, A y> = r1 cos(t - s - phi1) + r2 cos(t + s - phi2). */
    struct CircleForm
    {
      double r1, phi1, r2, phi2;
    };

    /**
     * The form of the 2x2 matrix @p A (row-major): r1 e^{i phi1} = a1 + i b1
     * (its rotation part), r2 e^{i phi2} = a2 + i b2 (its reflection part).
     */
    CircleForm
    circle_form(const std::vector<double> &A)
    {
      const double a1 = (A[0] + A[3]) / 2., b1 = (A[2] - A[1]) / 2.;
      const double a2 = (A[0] - A[3]) / 2., b2 = (A[1] + A[2]) / 2.;
      return {std::hypot(a1, b1),
              std::atan2(b1, a1),
              std::hypot(a2, b2),
              std::atan2(b2, a2)};
    }

    /** Everything the circle series of one problem needs. */
    struct CircleSeries
    {
      CircleSeries(const KernelSumProblem &problem)
          : form(circle_form(problem.A))
          , tau(truncation_target(problem.tolerance))
          , bessel1(bessel_truncation(form.r1, tau))
          , bessel2(bessel_truncation(form.r2, tau))
          , K1(bessel1.order)
          , K2(bessel2.order)
          , n_frequencies(K1 + K2 + 1)
      {}

      /** Cost in direct pairs (the measured constant above). */
      double
      cost(const KernelSumProblem &problem) const
      {
        const double n_components = 1. + problem.values.dimension;
        return circle_cost_per_mode * n_components *
               (expansion_points(problem) * static_cast<double>(n_frequencies) +
                static_cast<double>(n_frequencies) * (2. * K1 + 1.));
      }

      CircleForm   form;
      double       tau;
      Truncation   bessel1, bessel2;
      unsigned int K1, K2;
      /** Frequencies 0..K1 + K2 of the moments and of the targets. */
      unsigned int n_frequencies;
    };

    /** The source moments M_m, m = 0..K1 + K2, as (re, im) per component. */
    struct CircleMoments
    {
      /** M_m of component @p c for any m in -(K1 + K2)..K1 + K2. */
      complex
      operator()(const int m, const unsigned int c) const
      {
        const complex M(values[std::abs(m) * stride + 2 * c],
                        values[std::abs(m) * stride + 2 * c + 1]);
        return m >= 0 ? M : std::conj(M);
      }

      std::size_t         stride;
      std::vector<double> values;
    };

    /**
     * M_m = sum_j (w_j / W) e^{i m s_j} (1, v_j), m = 0..K1 + K2, from the
     * @p columns (w_j, w_j v_j) / W: batches of points, vectorised over the
     * batch, summed deterministically (section 6.1) and over the ranks of the
     * problem's communicator.
     */
    CircleMoments
    circle_moments(const KernelSumProblem                 &problem,
                   const std::vector<std::vector<double>> &columns,
                   const CircleSeries                     &series)
    {
      const unsigned int n_components  = columns.size();
      const unsigned int n_frequencies = series.n_frequencies;
      const std::size_t  stride        = 2 * n_components;
      return {stride,
              deterministic_moments(
                problem.communicator,
                problem.sources.size(),
                n_frequencies * stride,
                leaf_size,
                [&](const std::size_t    begin,
                    const std::size_t    end,
                    std::vector<double> &M) {
                  std::vector<double> power_r(n_frequencies * batch_size),
                    power_i(n_frequencies * batch_size);
                  for (std::size_t j0 = begin; j0 < end; j0 += batch_size)
                    {
                      const unsigned int n = static_cast<unsigned int>(
                        std::min<std::size_t>(batch_size, end - j0));
                      unit_powers(problem.sources,
                                  j0,
                                  n,
                                  n_frequencies,
                                  power_r,
                                  power_i);
                      for (unsigned int m = 0; m < n_frequencies; ++m)
                        for (unsigned int c = 0; c < n_components; ++c)
                          {
                            const double *u  = columns[c].data() + j0;
                            const double *pr = &power_r[m * batch_size];
                            const double *pi = &power_i[m * batch_size];
                            double        re = 0., im = 0.;
                            for (unsigned int q = 0; q < n; ++q)
                              {
                                re += pr[q] * u[q];
                                im += pi[q] * u[q];
                              }
                            M[m * stride + 2 * c] += re;
                            M[m * stride + 2 * c + 1] += im;
                          }
                    }
                })};
    }

    /**
     * The target coefficients F_n = sum_{k + l = n} Ĩ_k(r1) Ĩ_l(r2)
     * e^{-i (k phi1 + l phi2)} M_{l - k}, n = 0..K1 + K2 (F_{-n} =
     * conj F_n), component after component (section 6.1).
     */
    std::vector<complex>
    circle_target_coefficients(const CircleSeries  &series,
                               const CircleMoments &moments,
                               const unsigned int   n_components)
    {
      const int            K1 = series.K1, K2 = series.K2;
      std::vector<complex> F(series.n_frequencies * n_components);
      for (int n = 0; n < static_cast<int>(series.n_frequencies); ++n)
        for (int k = std::max(-K1, n - K2); k <= std::min(K1, n + K2); ++k)
          {
            const int     l = n - k;
            const complex coefficient =
              series.bessel1.coefficients[std::abs(k)] *
              series.bessel2.coefficients[std::abs(l)] *
              std::polar(1., -(k * series.form.phi1 + l * series.form.phi2));
            for (unsigned int c = 0; c < n_components; ++c)
              F[n * n_components + c] += coefficient * moments(l - k, c);
          }
      return F;
    }

    /**
     * S(t_q) = F_0 + 2 Re sum_{n>=1} F_n e^{i n t_q} at a batch of targets,
     * vectorised over the batch (section 6.1); scratch for one task.
     */
    class CircleTargets
    {
    public:
      CircleTargets(const unsigned int n_frequencies,
                    const unsigned int n_components)
          : n_frequencies(n_frequencies)
          , n_components(n_components)
          , power_r(n_frequencies * batch_size)
          , power_i(n_frequencies * batch_size)
          , total(n_components * batch_size)
      {}

      /** The sums at the @p n targets from @p first, from @p F. */
      void
      evaluate(const PointSet             &targets,
               const std::size_t           first,
               const unsigned int          n,
               const std::vector<complex> &F)
      {
        unit_powers(targets, first, n, n_frequencies, power_r, power_i);
        std::fill(total.begin(), total.end(), 0.);
        for (unsigned int m = 1; m < n_frequencies; ++m)
          for (unsigned int c = 0; c < n_components; ++c)
            {
              const double  f_r = F[m * n_components + c].real();
              const double  f_i = F[m * n_components + c].imag();
              const double *pr  = &power_r[m * batch_size];
              const double *pi  = &power_i[m * batch_size];
              double       *t   = &total[c * batch_size];
              for (unsigned int q = 0; q < batch_size; ++q)
                t[q] += f_r * pr[q] - f_i * pi[q];
            }
        for (unsigned int c = 0; c < n_components; ++c)
          for (unsigned int q = 0; q < batch_size; ++q)
            total[c * batch_size + q] =
              F[c].real() + 2. * total[c * batch_size + q];
      }

      /** Component @p c of the sum at target @p q of the last batch. */
      double
      sum(const unsigned int c, const unsigned int q) const
      {
        return total[c * batch_size + q];
      }

    private:
      unsigned int        n_frequencies, n_components;
      std::vector<double> power_r, power_i, total;
    };
  } // namespace



  std::vector<double>
  scaled_bessel_i(const double r, const unsigned int n_max)
  {
    std::vector<double> result(n_max + 1, 0.);
    if (r == 0.)
      {
        result[0] = 1.;
        return result;
      }
    const unsigned int  N = miller_start(r, n_max);
    std::vector<double> I(N + 2, 0.);
    I[N] = 1.;
    for (unsigned int k = N; k > 0; --k)
      {
        I[k - 1] = (2. * k / r) * I[k] + I[k + 1];
        if (I[k - 1] > 1e250)
          for (unsigned int q = k - 1; q <= N; ++q)
            I[q] *= 1e-250;
      }
    // I_0 + 2 sum_{k>=1} I_k = e^r, summed from the small end.
    double sum = 0.;
    for (unsigned int k = N; k > 0; --k)
      sum += 2. * I[k];
    sum += I[0];
    for (unsigned int k = 0; k <= n_max; ++k)
      result[k] = I[k] / sum;
    return result;
  }



  std::vector<double>
  scaled_spherical_bessel_i(const double c, const unsigned int n_max)
  {
    std::vector<double> result(n_max + 1, 0.);
    if (c == 0.)
      {
        result[0] = 1.;
        return result;
      }
    const unsigned int  N = miller_start(c, n_max);
    std::vector<double> i(N + 2, 0.);
    i[N] = 1.;
    for (unsigned int l = N; l > 0; --l)
      {
        i[l - 1] = ((2. * l + 1.) / c) * i[l] + i[l + 1];
        if (i[l - 1] > 1e250)
          for (unsigned int q = l - 1; q <= N; ++q)
            i[q] *= 1e-250;
      }
    // sum_l (2l + 1) i_l(c) = e^c, summed from the small end.
    double sum = 0.;
    for (unsigned int l = N + 1; l-- > 0;)
      sum += (2. * l + 1.) * i[l];
    for (unsigned int l = 0; l <= n_max; ++l)
      result[l] = i[l] / sum;
    return result;
  }



  std::string
  CircleFourierMethod::name() const
  {
    return "circle fourier";
  }



  CircleFourierMethod::Modes
  CircleFourierMethod::modes(const KernelSumProblem &problem) const
  {
    const CircleSeries series(problem);
    return {series.K1, series.K2};
  }



  std::string
  CircleFourierMethod::refusal(const KernelSumProblem &problem) const
  {
    if (problem.targets.dimension != 2 || problem.sources.dimension != 2)
      return "the circle series needs points in R^2 (tokens on S^1); these "
             "are in R^" +
             std::to_string(problem.targets.dimension);
    if (total_weight(problem.weights) == 0.)
      return "no gain over the direct sum: no source has a positive weight";
    const CircleSeries series(problem);
    const double       norm_A     = series.form.r1 + series.form.r2;
    const double       delta_t    = distance_from_sphere(problem.targets);
    const double       delta_s    = distance_from_sphere(problem.sources);
    const double       projection = projection_error(norm_A, delta_t, delta_s);
    if (projection > problem.tolerance / 4.)
      {
        std::ostringstream reason;
        reason << "the points are not on the unit circle: up to "
               << std::max(delta_t, delta_s) << " away, which changes the "
               << "kernel by up to " << projection
               << " relative (allowed: tolerance / 4)";
        return reason.str();
      }
    return no_gain_reason(problem,
                          series.cost(problem),
                          "K1 = " + std::to_string(series.K1) +
                            ", K2 = " + std::to_string(series.K2) + " modes");
  }



  void
  CircleFourierMethod::evaluate(const KernelSumProblem   &problem,
                                KernelSums               &sums,
                                std::vector<std::size_t> &rejected) const
  {
    if (problem.targets.dimension != 2 || problem.sources.dimension != 2)
      throw std::invalid_argument(
        "CircleFourierMethod::evaluate: the points must be in R^2");
    const CircleSeries  series(problem);
    const unsigned int  n_components = 1 + problem.values.dimension;
    const double        W            = total_weight(problem.weights);
    const CircleMoments moments =
      circle_moments(problem, weighted_columns(problem, W), series);
    const std::vector<complex> F =
      circle_target_coefficients(series, moments, n_components);

    // The guard (sections 6.1, 6.5): truncation plus round-off, relative to
    // the scaled sum of |terms| <= 1, and the projection onto the circle.
    const double expansion_error =
      series.bessel1.tail + series.bessel2.tail +
      roundoff_bound(source_chain_length(problem) + 6. * series.n_frequencies +
                     2. * series.K1 + 8.);
    const double projection =
      projection_error(series.form.r1 + series.form.r2,
                       distance_from_sphere(problem.targets),
                       distance_from_sphere(problem.sources));

    resize_sums(sums,
                problem.targets.size(),
                problem.values.dimension,
                std::log(W) + series.form.r1 + series.form.r2);
    sum_and_certify(
      problem,
      batch_size,
      [&] { return CircleTargets(series.n_frequencies, n_components); },
      [&](CircleTargets &batch, const std::size_t i0, const unsigned int n) {
        batch.evaluate(problem.targets, i0, n, F);
      },
      expansion_error,
      projection,
      sums,
      rejected);
  }

  // -----------------------------------------------------------------------
  // The sphere (section 6.2).

  namespace
  {
    /** A = c R: the factor c and the deviation |A^T A / c^2 - I|_F. */
    struct ScaledOrthogonal
    {
      double c, deviation;
    };

    ScaledOrthogonal
    scaled_orthogonal(const std::vector<double> &A)
    {
      double AtA[3][3] = {};
      double trace     = 0.;
      for (unsigned int r = 0; r < 3; ++r)
        for (unsigned int s = 0; s < 3; ++s)
          {
            for (unsigned int k = 0; k < 3; ++k)
              AtA[r][s] += A[k * 3 + r] * A[k * 3 + s];
            if (r == s)
              trace += AtA[r][s];
          }
      const double c2 = trace / 3.;
      if (c2 == 0.)
        return {0., 0.};
      double deviation2 = 0.;
      for (unsigned int r = 0; r < 3; ++r)
        for (unsigned int s = 0; s < 3; ++s)
          {
            const double e = AtA[r][s] / c2 - (r == s ? 1. : 0.);
            deviation2 += e * e;
          }
      return {std::sqrt(c2), std::sqrt(deviation2)};
    }

    /**
     * The real orthonormal spherical harmonics up to degree L, vectorised
     * over points (section 6.2):
     *
     *   Y_l0 = pbar_l0(z),   Y_lm^{c,s} = sqrt(2) pbar_lm(z) (Re, Im) w^m,
     *
     * with z = x_3, w = x_1 + i x_2 and pbar_lm = Pbar_lm / sin^m theta, by
     * pbar_mm = sqrt((2m+1)/(2m)) pbar_{m-1,m-1} (constants),
     * pbar_{m+1,m} = sqrt(2m+3) z pbar_mm, and
     * pbar_lm = a_lm (z pbar_{l-1,m} - b_lm pbar_{l-2,m}).
     *
     * The sums run order by order: the factors sqrt(2) (Re, Im) w^m of one
     * order m (next_order()), then the recurrence in l = m..L (advance()),
     * all in registers, so that no table of harmonics is ever stored.
     */
    class HarmonicBasis
    {
    public:
      explicit HarmonicBasis(const unsigned int L)
          : L(L)
          , n_harmonics((L + 1) * (L + 1))
          , a((L + 1) * (L + 1))
          , b((L + 1) * (L + 1))
          , diagonal(L + 1)
          , second(L + 1)
          , degree_of(n_harmonics)
      {
        diagonal[0] = std::sqrt(1. / (4. * pi));
        for (unsigned int m = 0; m <= L; ++m)
          second[m] = std::sqrt(2. * m + 3.);
        for (unsigned int m = 1; m <= L; ++m)
          diagonal[m] = diagonal[m - 1] * std::sqrt((2. * m + 1.) / (2. * m));
        for (unsigned int m = 0; m <= L; ++m)
          for (unsigned int l = m + 2; l <= L; ++l)
            {
              const double l2 = double(l) * l, m2 = double(m) * m;
              a[l * (L + 1) + m] = std::sqrt((4. * l2 - 1.) / (l2 - m2));
              b[l * (L + 1) + m] = std::sqrt(((l - 1.) * (l - 1.) - m2) /
                                             (4. * (l - 1.) * (l - 1.) - 1.));
            }
        for (unsigned int m = 0; m <= L; ++m)
          for (unsigned int l = m; l <= L; ++l)
            {
              degree_of[index(l, m, false)] = l;
              if (m > 0)
                degree_of[index(l, m, true)] = l;
            }
      }

      /**
       * The index of Y_lm (the sine one if @p sine): m = 0 first (l = 0..L),
       * then for each m >= 1 the pairs (cos, sin) for l = m..L.
       */
      unsigned int
      index(const unsigned int l, const unsigned int m, const bool sine) const
      {
        if (m == 0)
          return l;
        // (L + 1) + 2 sum_{m' = 1}^{m - 1} (L - m' + 1)
        const unsigned int offset = (L + 1) + (m - 1) * (2 * L + 2 - m);
        return offset + 2 * (l - m) + (sine ? 1 : 0);
      }

      /**
       * The factors of order @p m from those of order m - 1 (m >= 1):
       * (@p re, @p im) = w^m from w^{m-1}, and @p cos_m, @p sin_m =
       * sqrt(2) (Re, Im) w^m. For m = 0 the factors are w^0 = 1, cos_0 = 1
       * and sin_0 = 0.
       */
      static void
      next_order(const vdouble wr,
                 const vdouble wi,
                 vdouble      &re,
                 vdouble      &im,
                 vdouble      &cos_m,
                 vdouble      &sin_m)
      {
        const double  sqrt2 = std::sqrt(2.);
        const vdouble next  = re * wr - im * wi;
        im                  = re * wi + im * wr;
        re                  = next;
        cos_m               = sqrt2 * re;
        sin_m               = sqrt2 * im;
      }

      /**
       * pbar_lm at the @p n vectors @p z for l = m, m + 1, ... in turn: from
       * @p p1 = pbar_{l-1,m} and @p p0 = pbar_{l-2,m} (where they exist), it
       * shifts them to p1 = pbar_lm and p0 = pbar_{l-1,m}.
       */
      template <unsigned int n>
      void
      advance(const unsigned int l,
              const unsigned int m,
              const vdouble (&z)[n],
              vdouble (&p0)[n],
              vdouble (&p1)[n]) const
      {
        if (l == m)
          for (unsigned int v = 0; v < n; ++v)
            p1[v] = broadcast(diagonal[m]);
        else if (l == m + 1)
          for (unsigned int v = 0; v < n; ++v)
            {
              p0[v] = p1[v];
              p1[v] = second[m] * z[v] * p1[v];
            }
        else
          {
            const double a_lm = a[l * (L + 1) + m], b_lm = b[l * (L + 1) + m];
            for (unsigned int v = 0; v < n; ++v)
              {
                const vdouble p = a_lm * (z[v] * p1[v] - b_lm * p0[v]);
                p0[v]           = p1[v];
                p1[v]           = p;
              }
          }
      }

      unsigned int L, n_harmonics;
      /** a_lm, b_lm, pbar_mm and sqrt(2m + 3) (of pbar_{m+1,m}). */
      std::vector<double> a, b, diagonal, second;
      /** The degree l of each harmonic. */
      std::vector<unsigned int> degree_of;
    };

    /** Everything the sphere expansion of one problem needs. */
    struct SphereExpansion
    {
      SphereExpansion(const KernelSumProblem &problem)
          : scale(scaled_orthogonal(problem.A))
          , bessel(
              spherical_bessel_truncation(scale.c,
                                          truncation_target(problem.tolerance)))
          , L(bessel.order)
      {}

      /** Cost in direct pairs (the measured constant above). */
      double
      cost(const KernelSumProblem &problem) const
      {
        const double n_components = 1. + problem.values.dimension;
        return sphere_cost_per_harmonic * n_components *
               expansion_points(problem) *
               static_cast<double>((L + 1) * (L + 1));
      }

      ScaledOrthogonal scale;
      Truncation       bessel;
      unsigned int     L;
    };

    /**
     * max_j | |A y_j| / c - 1 |, the distance of the rotated sources from
     * the sphere, and the unit vectors y'_j = A y_j / |A y_j| into
     * @p rotated unless it is null (the refusal needs only the distance).
     */
    double
    rotated_sources(const KernelSumProblem &problem,
                    const double            c,
                    std::vector<double>    *rotated)
    {
      const std::size_t n = problem.sources.size();
      if (rotated)
        rotated->resize(3 * n);
      double distance = 0.;
      for (std::size_t j = 0; j < n; ++j)
        {
          const double *y = problem.sources[j];
          double        Ay[3], norm2 = 0.;
          for (unsigned int r = 0; r < 3; ++r)
            {
              double sum = 0.;
              for (unsigned int k = 0; k < 3; ++k)
                sum += problem.A[r * 3 + k] * y[k];
              Ay[r] = sum;
              norm2 += sum * sum;
            }
          const double norm = std::sqrt(norm2);
          if (c > 0.)
            distance = std::max(distance, std::abs(norm / c - 1.));
          if (rotated)
            for (unsigned int r = 0; r < 3; ++r)
              (*rotated)[3 * j + r] = norm > 0. ? Ay[r] / norm : 0.;
        }
      return distance;
    }

    /**
     * The moments of the sources of one leaf (at most leaf_size) in
     * registers (section 6.2.5): order by order, the columns modulated by
     * the order's factors once, then the recurrence in l at all the leaf's
     * points at once, each harmonic meeting the modulated columns as it
     * comes, in lane-wise sums reduced once per harmonic and leaf. No table
     * of the leaf's harmonics is stored: the working set is the leaf's
     * coordinates, columns and modulated columns (a few kilobytes).
     */
    class SphereLeafMoments
    {
    public:
      SphereLeafMoments(const HarmonicBasis &basis,
                        const unsigned int   n_components)
          : basis(basis)
          , n_components(n_components)
          , coordinates(3 * leaf_size)
          , columns(n_components * leaf_size)
          , modulated(2 * max_block * leaf_size)
      {}

      /**
       * Adds to @p M (n_components per harmonic) the moments of the sources
       * @p begin .. @p end - 1 (at most leaf_size): their @p rotated unit
       * vectors y'_j and their @p source_columns (w_j, w_j v_j) / W.
       */
      void
      add(const std::vector<double>              &rotated,
          const std::vector<std::vector<double>> &source_columns,
          const std::size_t                       begin,
          const std::size_t                       end,
          std::vector<double>                    &M)
      {
        const unsigned int n         = static_cast<unsigned int>(end - begin);
        const unsigned int n_batches = (n + batch_size - 1) / batch_size;
        // Lane q of coordinate r at r * leaf_size + q; the lanes past the
        // last source repeat it, with zero columns.
        for (unsigned int q = 0; q < n_batches * batch_size; ++q)
          for (unsigned int r = 0; r < 3; ++r)
            coordinates[r * leaf_size + q] =
              rotated[3 * (begin + std::min(q, n - 1)) + r];
        for (unsigned int k = 0; k < n_components; ++k)
          for (unsigned int q = 0; q < n_batches * batch_size; ++q)
            columns[k * leaf_size + q] =
              q < n ? source_columns[k][begin + q] : 0.;
        for (unsigned int k0 = 0; k0 < n_components; k0 += max_block)
          {
            const unsigned int block = std::min(max_block, n_components - k0);
            switch (n_batches)
              {
                case 1:
                  add_components<1>(block, k0, M);
                  break;
                case 2:
                  add_components<2>(block, k0, M);
                  break;
                case 3:
                  add_components<3>(block, k0, M);
                  break;
                default:
                  add_components<4>(block, k0, M);
              }
          }
      }

    private:
      /** Components summed together: cosine and sine, eight lane sums. */
      static constexpr unsigned int max_block = 4;
      static_assert(leaf_size == 4 * batch_size,
                    "a leaf is at most four batches");

      /** add_block() for @p block components (at most max_block). */
      template <unsigned int n_batches>
      void
      add_components(const unsigned int   block,
                     const unsigned int   k0,
                     std::vector<double> &M)
      {
        switch (block)
          {
            case 1:
              add_block<n_batches, 1>(k0, M);
              break;
            case 2:
              add_block<n_batches, 2>(k0, M);
              break;
            case 3:
              add_block<n_batches, 3>(k0, M);
              break;
            default:
              add_block<n_batches, 4>(k0, M);
          }
      }

      /**
       * M(h, k0 + k) += sum_j Y_h(y'_j) u_{k0 + k}(j), k < @p block, over
       * the leaf's @p n_batches batches. With Y_lm^{c,s} = pbar_lm(z)
       * sqrt(2) (Re, Im) w^m, the columns of each order are modulated once,
       * g^{c,s}_k = sqrt(2) (Re, Im) w^m u_k, and each harmonic costs one
       * multiply-add per column: M^{c,s}_{lm,k} = sum_j pbar_lm(z_j)
       * g^{c,s}_k(j), lane-wise over the leaf, then the lane sums.
       */
      template <unsigned int n_batches, unsigned int block>
      void
      add_block(const unsigned int k0, std::vector<double> &M)
      {
        constexpr unsigned int n_vectors = 2 * n_batches;
        vdouble z[n_vectors], wr[n_vectors], wi[n_vectors], re[n_vectors],
          im[n_vectors], p0[n_vectors], p1[n_vectors];
        for (unsigned int v = 0; v < n_vectors; ++v)
          {
            wr[v] = load(&coordinates[v * lanes]);
            wi[v] = load(&coordinates[leaf_size + v * lanes]);
            z[v]  = load(&coordinates[2 * leaf_size + v * lanes]);
            re[v] = broadcast(1.);
            im[v] = broadcast(0.);
            p0[v] = p1[v] = broadcast(0.);
          }
        // g[(j * n_vectors + v) * lanes + lane]: j < block the cosine
        // columns, j >= 4 the sine ones.
        double *const g = modulated.data();
        for (unsigned int m = 0; m <= basis.L; ++m)
          {
            for (unsigned int v = 0; v < n_vectors; ++v)
              {
                vdouble cos_m = broadcast(1.), sin_m = broadcast(0.);
                if (m > 0)
                  HarmonicBasis::next_order(wr[v],
                                            wi[v],
                                            re[v],
                                            im[v],
                                            cos_m,
                                            sin_m);
                for (unsigned int k = 0; k < block; ++k)
                  {
                    const vdouble u =
                      load(&columns[(k0 + k) * leaf_size + v * lanes]);
                    store(&g[(k * n_vectors + v) * lanes], cos_m * u);
                    store(&g[((4 + k) * n_vectors + v) * lanes], sin_m * u);
                  }
              }
            // The cosine harmonic of (l, m) at h, its sine one at h + 1.
            const unsigned int stride = m == 0 ? 1 : 2;
            unsigned int       h      = basis.index(m, m, false);
            for (unsigned int l = m; l <= basis.L; ++l, h += stride)
              {
                vdouble sum[8];
                for (vdouble &s : sum)
                  s = broadcast(0.);
                basis.advance(l, m, z, p0, p1);
                for (unsigned int v = 0; v < n_vectors; ++v)
                  for (unsigned int k = 0; k < block; ++k)
                    {
                      sum[k] += p1[v] * load(&g[(k * n_vectors + v) * lanes]);
                      sum[4 + k] +=
                        p1[v] * load(&g[((4 + k) * n_vectors + v) * lanes]);
                    }
                const vdouble total = simd::transpose_sum(sum);
                if (m > 0 && block == n_components && 2 * block == lanes)
                  {
                    // All the components of the cosine and the sine harmonic:
                    // the lanes consecutive entries from h.
                    double *const moments = &M[h * n_components];
                    store(moments, load(moments) + total);
                  }
                else
                  {
                    for (unsigned int k = 0; k < block; ++k)
                      M[h * n_components + k0 + k] += total[k];
                    for (unsigned int k = 0; k < block && m > 0; ++k)
                      M[(h + 1) * n_components + k0 + k] += total[4 + k];
                  }
              }
          }
      }

      const HarmonicBasis &basis;
      unsigned int         n_components;
      /** The leaf's coordinates and columns, lane-major (see add()). */
      std::vector<double> coordinates, columns;
      /** The columns modulated by the factors of one order (add_block()). */
      std::vector<double> modulated;
    };

    /**
     * Sources per range of the sphere's moments: eight leaves in sequence,
     * so that the pairwise tree (a body of (L + 1)^2 (1 + d_v) moments
     * zeroed and added per range) costs little against the leaves; each
     * leaf is a full leaf_size but for the last of a range (section 6.2.6).
     */
    constexpr std::size_t sphere_range_size = 8 * leaf_size;

    /**
     * M_h = sum_j (w_j / W) Y_h(y'_j) (1, v_j), harmonic-major, for the
     * @p rotated unit sources y'_j and the @p columns (w_j, w_j v_j) / W:
     * leaves of sources, summed deterministically (section 6.2) and over the
     * ranks of @p communicator.
     */
    std::vector<double>
    sphere_moments(const MPI_Comm                          communicator,
                   const std::vector<double>              &rotated,
                   const std::vector<std::vector<double>> &columns,
                   const HarmonicBasis                    &basis)
    {
      const unsigned int n_components = columns.size();
      tbb::enumerable_thread_specific<SphereLeafMoments> leaf_moments(
        basis,
        n_components);
      return deterministic_moments(
        communicator,
        rotated.size() / 3,
        basis.n_harmonics * n_components,
        sphere_range_size,
        [&](const std::size_t    begin,
            const std::size_t    end,
            std::vector<double> &M) {
          SphereLeafMoments &leaf = leaf_moments.local();
          for (std::size_t j0 = begin; j0 < end; j0 += leaf_size)
            leaf.add(rotated, columns, j0, std::min(j0 + leaf_size, end), M);
        });
    }

    /**
     * S(x_q) = sum_h Y_h(x_q) F_h at a batch of unit targets, vectorised
     * over the batch and summed order by order, then over the orders (a
     * chain of 3 (L + 1) rather than (L + 1)^2, section 6.2); scratch for one
     * task.
     */
    class SphereTargets
    {
    public:
      SphereTargets(const HarmonicBasis &basis, const unsigned int n_components)
          : basis(basis)
          , n_components(n_components)
          , total(n_components * width)
      {}

      /** Targets per batch: four vectors, for independent recurrences. */
      static constexpr unsigned int width = 2 * batch_size;

      /** The sums at the @p n unit vectors @p points, from @p F. */
      void
      evaluate(const double              *points,
               const unsigned int         n,
               const std::vector<double> &F)
      {
        for (unsigned int k0 = 0; k0 < n_components; k0 += max_block)
          switch (std::min(max_block, n_components - k0))
            {
              case 1:
                sum_components<1>(points, n, k0, F);
                break;
              case 2:
                sum_components<2>(points, n, k0, F);
                break;
              case 3:
                sum_components<3>(points, n, k0, F);
                break;
              default:
                sum_components<4>(points, n, k0, F);
            }
      }

      /** Component @p k of the sum at point @p q of the last batch. */
      double
      sum(const unsigned int k, const unsigned int q) const
      {
        return total[k * width + q];
      }

    private:
      /** Components summed together (their sums stay in registers). */
      static constexpr unsigned int max_block = 4;

      /**
       * total(k0 + k, q) = sum_m sum_{h of order m} F(h, k0 + k) Y_h(x_q),
       * k < @p block, order by order, as the harmonics come (in registers).
       */
      template <unsigned int block>
      void
      sum_components(const double              *points,
                     const unsigned int         n,
                     const unsigned int         k0,
                     const std::vector<double> &F)
      {
        double x0[width], x1[width], x2[width];
        for (unsigned int q = 0; q < width; ++q)
          {
            const double *x = points + 3 * std::min(q, n - 1);
            x0[q]           = x[0];
            x1[q]           = x[1];
            x2[q]           = x[2];
          }
        constexpr unsigned int n_vectors = width / lanes;
        vdouble z[n_vectors], wr[n_vectors], wi[n_vectors], re[n_vectors],
          im[n_vectors], cos_m[n_vectors], sin_m[n_vectors], p0[n_vectors],
          p1[n_vectors], sums[block][n_vectors];
        for (unsigned int v = 0; v < n_vectors; ++v)
          {
            z[v]     = load(x2 + v * lanes);
            wr[v]    = load(x0 + v * lanes);
            wi[v]    = load(x1 + v * lanes);
            re[v]    = broadcast(1.);
            im[v]    = broadcast(0.);
            cos_m[v] = broadcast(1.);
            sin_m[v] = broadcast(0.);
            p0[v] = p1[v] = broadcast(0.);
            for (unsigned int k = 0; k < block; ++k)
              sums[k][v] = broadcast(0.);
          }
        for (unsigned int m = 0; m <= basis.L; ++m)
          {
            for (unsigned int v = 0; v < n_vectors && m > 0; ++v)
              HarmonicBasis::next_order(wr[v],
                                        wi[v],
                                        re[v],
                                        im[v],
                                        cos_m[v],
                                        sin_m[v]);
            vdouble partial[block][n_vectors];
            for (unsigned int k = 0; k < block; ++k)
              for (unsigned int v = 0; v < n_vectors; ++v)
                partial[k][v] = broadcast(0.);
            // F of the cosine harmonic of (l, m), then of its sine one.
            const unsigned int stride = (m == 0 ? 1 : 2) * n_components;
            const double *fc = &F[basis.index(m, m, false) * n_components + k0];
            for (unsigned int l = m; l <= basis.L; ++l, fc += stride)
              {
                basis.advance(l, m, z, p0, p1);
                vdouble c[n_vectors], s[n_vectors];
                for (unsigned int v = 0; v < n_vectors; ++v)
                  {
                    c[v] = p1[v] * cos_m[v];
                    s[v] = p1[v] * sin_m[v];
                  }
                for (unsigned int k = 0; k < block; ++k)
                  for (unsigned int v = 0; v < n_vectors; ++v)
                    partial[k][v] += fc[k] * c[v];
                if (m > 0)
                  for (unsigned int k = 0; k < block; ++k)
                    for (unsigned int v = 0; v < n_vectors; ++v)
                      partial[k][v] += fc[n_components + k] * s[v];
              }
            for (unsigned int k = 0; k < block; ++k)
              for (unsigned int v = 0; v < n_vectors; ++v)
                sums[k][v] += partial[k][v];
          }
        for (unsigned int k = 0; k < block; ++k)
          for (unsigned int v = 0; v < n_vectors; ++v)
            store(&total[(k0 + k) * width + v * lanes], sums[k][v]);
      }

      const HarmonicBasis &basis;
      unsigned int         n_components;
      std::vector<double>  total;
    };

    /** The unit vectors x_i / |x_i| of the targets. */
    std::vector<double>
    unit_targets(const PointSet &targets)
    {
      std::vector<double> unit(3 * targets.size());
      for (std::size_t i = 0; i < targets.size(); ++i)
        {
          const double *x = targets[i];
          const double  norm =
            std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
          for (unsigned int r = 0; r < 3; ++r)
            unit[3 * i + r] = x[r] / norm;
        }
      return unit;
    }
  } // namespace



  std::string
  SphereHarmonicMethod::name() const
  {
    return "sphere harmonics";
  }



  unsigned int
  SphereHarmonicMethod::degree(const KernelSumProblem &problem) const
  {
    return SphereExpansion(problem).L;
  }



  std::string
  SphereHarmonicMethod::refusal(const KernelSumProblem &problem) const
  {
    if (problem.targets.dimension != 3 || problem.sources.dimension != 3)
      return "the sphere harmonic expansion needs points in R^3 (tokens on "
             "S^2); these are in R^" +
             std::to_string(problem.targets.dimension);
    if (total_weight(problem.weights) == 0.)
      return "no gain over the direct sum: no source has a positive weight";
    const ScaledOrthogonal scale = scaled_orthogonal(problem.A);
    // With D = A^T A / c^2 - I, |A y| / c = sqrt(1 + y^T D y) for unit y:
    // off the sphere by up to |D|_2 / 2, the kernel by up to c |D|_2 / 2.
    if (scale.c * scale.deviation > problem.tolerance / 4.)
      {
        std::ostringstream reason;
        reason << "A = beta Q^T K is not c R with R orthogonal: "
               << "|A^T A / c^2 - I| = " << scale.deviation
               << " with c = " << scale.c
               << " (allowed: c |A^T A / c^2 - I| <= tolerance / 4)";
        return reason.str();
      }
    const double delta_s    = rotated_sources(problem, scale.c, nullptr);
    const double delta_t    = distance_from_sphere(problem.targets);
    const double projection = projection_error(scale.c, delta_t, delta_s);
    if (projection > problem.tolerance / 4.)
      {
        std::ostringstream reason;
        reason << "the points are not on the unit sphere: up to "
               << std::max(delta_t, delta_s) << " away, which changes the "
               << "kernel by up to " << projection
               << " relative (allowed: tolerance / 4)";
        return reason.str();
      }
    const SphereExpansion expansion(problem);
    return no_gain_reason(problem,
                          expansion.cost(problem),
                          "degree L = " + std::to_string(expansion.L));
  }



  void
  SphereHarmonicMethod::evaluate(const KernelSumProblem   &problem,
                                 KernelSums               &sums,
                                 std::vector<std::size_t> &rejected) const
  {
    if (problem.targets.dimension != 3 || problem.sources.dimension != 3)
      throw std::invalid_argument(
        "SphereHarmonicMethod::evaluate: the points must be in R^3");
    const SphereExpansion expansion(problem);
    const double          c            = expansion.scale.c;
    const unsigned int    n_components = 1 + problem.values.dimension;
    const HarmonicBasis   basis(expansion.L);
    const double          W = total_weight(problem.weights);

    std::vector<double>       rotated;
    const double              delta_s = rotated_sources(problem, c, &rotated);
    const std::vector<double> moments =
      sphere_moments(problem.communicator,
                     rotated,
                     weighted_columns(problem, W),
                     basis);

    // F_h = 4 pi e^{-c} i_l(c) M_h.
    std::vector<double> F(basis.n_harmonics * n_components);
    for (unsigned int h = 0; h < basis.n_harmonics; ++h)
      for (unsigned int k = 0; k < n_components; ++k)
        F[h * n_components + k] =
          4. * pi * expansion.bessel.coefficients[basis.degree_of[h]] *
          moments[h * n_components + k];

    // The guard (sections 6.2, 6.5).
    const double expansion_error =
      expansion.bessel.tail +
      roundoff_bound(source_chain_length(problem) + batch_size +
                     10. * (expansion.L + 1.) + 8.);
    const std::vector<double> targets = unit_targets(problem.targets);
    const double              projection =
      projection_error(c, distance_from_sphere(problem.targets), delta_s);

    resize_sums(sums,
                problem.targets.size(),
                problem.values.dimension,
                std::log(W) + c);
    sum_and_certify(
      problem,
      SphereTargets::width,
      [&] { return SphereTargets(basis, n_components); },
      [&](SphereTargets &batch, const std::size_t i0, const unsigned int n) {
        batch.evaluate(&targets[3 * i0], n, F);
      },
      expansion_error,
      projection,
      sums,
      rejected);
  }
} // namespace attnflow
