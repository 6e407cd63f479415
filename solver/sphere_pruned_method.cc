/**
 * @file
 * The pruned tree sum on the sphere (doc/theory.md section 6.4): ball trees
 * over the rotated sources and the targets, a best-first visit of the source
 * groups per target leaf, the exact part by the direct engine and the
 * certificate per target.
 */
#include <attnflow/sphere_pruned_method.h>

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <utility>

namespace attnflow
{
  namespace
  {
    /** Sources per leaf of the source tree (the unit the sum skips). */
    constexpr std::size_t source_leaf_size = 64;
    /** Targets per leaf of the target tree (one engine call each). */
    constexpr std::size_t target_leaf_size = 128;
    /** How far |x|^2 may be from 1 for a point on the sphere. */
    constexpr double sphere_tolerance = 1e-8;
    /** How far A^T A may be from c^2 I, relative to c^2. */
    constexpr double orthogonality_tolerance = 1e-12;

    double
    dot(const double *a, const double *b, const unsigned int d)
    {
      double s = 0.;
      for (unsigned int k = 0; k < d; ++k)
        s += a[k] * b[k];
      return s;
    }

    /**
     * A binary tree of balls over a point set: each node covers the points
     * order[begin..end), lies in the ball of @p centre and @p radius, and
     * carries their total weight; leaves hold at most leaf_size points.
     * The nodes are split at the median of the widest coordinate.
     */
    class BallTree
    {
    public:
      struct Node
      {
        std::size_t begin, end;
        /** Index of the first of the two children; 0 for a leaf. */
        std::size_t first_child;
        double      radius;
        double      weight;
      };

      BallTree(const PointSet            &points,
               const std::vector<double> &weights,
               const std::size_t          leaf_size)
          : dimension(points.dimension)
          , order(points.size())
      {
        std::iota(order.begin(), order.end(), std::size_t(0));
        max_norm2 = 0.;
        for (std::size_t i = 0; i < points.size(); ++i)
          max_norm2 = std::max(max_norm2, dot(points[i], points[i], dimension));
        max_norm2 *= 1. + 1e-14;
        nodes.push_back({0, points.size(), 0, 0., 0.});
        centres.resize(dimension);
        build(points, weights, leaf_size, 0);
      }

      const double *
      centre(const std::size_t n) const
      {
        return centres.data() + n * dimension;
      }

      unsigned int dimension;
      /** The largest |p|^2 over the points (rounded up). */
      double                   max_norm2;
      std::vector<Node>        nodes;
      std::vector<double>      centres;
      std::vector<std::size_t> order;

    private:
      void
      build(const PointSet            &points,
            const std::vector<double> &weights,
            const std::size_t          leaf_size,
            const std::size_t          n)
      {
        const std::size_t   begin = nodes[n].begin, end = nodes[n].end;
        std::vector<double> low(dimension, std::numeric_limits<double>::max()),
          high(dimension, std::numeric_limits<double>::lowest());
        double weight = 0.;
        for (std::size_t p = begin; p < end; ++p)
          {
            for (unsigned int k = 0; k < dimension; ++k)
              {
                low[k]  = std::min(low[k], points[order[p]][k]);
                high[k] = std::max(high[k], points[order[p]][k]);
              }
            weight += weights.empty() ? 1. : weights[order[p]];
          }
        double      *m      = centres.data() + n * dimension;
        unsigned int widest = 0;
        for (unsigned int k = 0; k < dimension; ++k)
          {
            m[k] = (low[k] + high[k]) / 2;
            if (high[k] - low[k] > high[widest] - low[widest])
              widest = k;
          }
        double radius2 = 0.;
        for (std::size_t p = begin; p < end; ++p)
          {
            double r2 = 0.;
            for (unsigned int k = 0; k < dimension; ++k)
              r2 += (points[order[p]][k] - m[k]) * (points[order[p]][k] - m[k]);
            radius2 = std::max(radius2, r2);
          }
        // Round-off of the distance: the ball must cover its points.
        nodes[n].radius = std::sqrt(radius2) * (1. + 1e-12) + 1e-15;
        nodes[n].weight = weight;
        if (end - begin <= leaf_size)
          return;

        const std::size_t middle = begin + (end - begin) / 2;
        std::nth_element(order.begin() + begin,
                         order.begin() + middle,
                         order.begin() + end,
                         [&](const std::size_t i, const std::size_t j) {
                           return points[i][widest] < points[j][widest];
                         });
        const std::size_t child = nodes.size();
        nodes[n].first_child    = child;
        nodes.push_back({begin, middle, 0, 0., 0.});
        nodes.push_back({middle, end, 0, 0., 0.});
        centres.resize(nodes.size() * dimension);
        build(points, weights, leaf_size, child);
        build(points, weights, leaf_size, child + 1);
      }
    };

    /** c and R = A / c when A = c R with R orthogonal and c > 0; else c = 0. */
    double
    orthogonal_scale(const std::vector<double> &A, const unsigned int d)
    {
      std::vector<double> gram(d * d, 0.);
      for (unsigned int r = 0; r < d; ++r)
        for (unsigned int c = 0; c < d; ++c)
          for (unsigned int k = 0; k < d; ++k)
            gram[r * d + c] += A[k * d + r] * A[k * d + c];
      double trace = 0.;
      for (unsigned int r = 0; r < d; ++r)
        trace += gram[r * d + r];
      const double c2 = trace / d;
      if (!(c2 > 0.) || !std::isfinite(c2))
        return 0.;
      for (unsigned int r = 0; r < d; ++r)
        for (unsigned int c = 0; c < d; ++c)
          if (std::abs(gram[r * d + c] - (r == c ? c2 : 0.)) >
              orthogonality_tolerance * c2)
            return 0.;
      return std::sqrt(c2);
    }

    /**
     * Whether some point of @p points[begin, end) is off the unit sphere,
     * for points of dimension @p d (a template argument where it is 2 or
     * 3): without a branch per point, so that the loop vectorises.
     */
    template <unsigned int fixed_d>
    bool
    any_off_sphere(const PointSet    &points,
                   const unsigned int d,
                   const std::size_t  begin,
                   const std::size_t  end)
    {
      const unsigned int n_k = fixed_d == 0 ? d : fixed_d;
      const double      *x   = points.coordinates.data();
      bool               off = false;
      for (std::size_t i = begin; i < end; ++i)
        off |=
          std::abs(dot(x + i * n_k, x + i * n_k, n_k) - 1.) > sphere_tolerance;
      return off;
    }

    /**
     * Whether every point of @p points lies on the unit sphere, block
     * after block of points (the refusal runs at every evaluation,
     * doc/theory.md section 6.5).
     */
    bool
    on_unit_sphere(const PointSet &points)
    {
      constexpr std::size_t block = 1024;
      const unsigned int    d     = points.dimension;
      for (std::size_t b = 0; b < points.size(); b += block)
        {
          const std::size_t e   = std::min(points.size(), b + block);
          const bool        off = d == 3 ? any_off_sphere<3>(points, d, b, e) :
                                  d == 2 ? any_off_sphere<2>(points, d, b, e) :
                                           any_off_sphere<0>(points, d, b, e);
          if (off)
            return false;
        }
      return true;
    }

    /**
     * An upper bound of <x', y> over all x' in the ball B(x, r_x) with
     * |x'|^2 <= rho2_x and all y in B(m, r) with |y|^2 <= rho2_y
     * (doc/theory.md section 6.4): the smaller of Cauchy–Schwarz,
     * <x, m> + r_x |m| + r (|x| + r_x), and of the polarisation
     * (rho2_x + rho2_y - max(0, |x - m| - r_x - r)^2) / 2.
     */
    double
    inner_product_bound(const double      *x,
                        const double       r_x,
                        const double       rho2_x,
                        const double      *m,
                        const double       r,
                        const double       rho2_y,
                        const unsigned int d)
    {
      double xm = 0., mm = 0., xx = 0.;
      for (unsigned int k = 0; k < d; ++k)
        {
          xm += x[k] * m[k];
          mm += m[k] * m[k];
          xx += x[k] * x[k];
        }
      const double cauchy_schwarz =
        xm + r_x * std::sqrt(mm) + r * (std::sqrt(xx) + r_x);
      const double gap =
        std::max(0., std::sqrt(std::max(0., xx + mm - 2 * xm)) - r_x - r);
      return std::min(cauchy_schwarz, (rho2_x + rho2_y - gap * gap) / 2);
    }

    /**
     * The buffers of one thread for one target leaf, kept from leaf to leaf
     * so that the gathered sources are not allocated anew each time.
     */
    struct LeafScratch
    {
      std::vector<std::size_t> exact, skipped;
      PointSet                 keys, values, targets;
      std::vector<double>      log_weights, log_bounds;
      KernelSums               sums;
    };

    /** @p points resized to @p n points of dimension @p d (kept capacity). */
    void
    resize(PointSet &points, const unsigned int d, const std::size_t n)
    {
      points.dimension = d;
      points.coordinates.resize(d * n);
    }

    /** A node of the source tree with the log of its bound. */
    using Bound = std::pair<double, std::size_t>;

    /**
     * The best-first visit of the source tree for one leaf of targets
     * (centre @p x0, radius @p r0, squared norms up to @p rho2_x;
     * doc/theory.md section 6.4): the leaves to sum exactly into @p exact,
     * the nodes skipped into @p skipped. A node's bound for any target of
     * the leaf is W exp(c inner_product_bound()); the visit stops when the
     * bounds left are below tolerance/4 times the estimate
     * sum W exp(c (rho2_x + rho2_y - |x0 - m|^2) / 2) of the exact part.
     */
    void
    visit_sources(const BallTree           &tree,
                  const double              c,
                  const double             *x0,
                  const double              r0,
                  const double              rho2_x,
                  const double              tolerance,
                  std::vector<std::size_t> &exact,
                  std::vector<std::size_t> &skipped)
    {
      const unsigned int d = tree.dimension;
      const auto         log_bound =
        [&](const std::size_t n, const double r_x, const double r) {
          return std::log(tree.nodes[n].weight) +
                 c * inner_product_bound(x0,
                                         r_x,
                                         rho2_x,
                                         tree.centre(n),
                                         r,
                                         tree.max_norm2,
                                         d);
        };
      std::priority_queue<Bound> queue;
      const double reference = log_bound(0, r0, tree.nodes[0].radius);
      queue.push({reference, 0});
      double left = 1., estimate = 0.;
      exact.clear();
      skipped.clear();
      while (!queue.empty())
        {
          if (left <= tolerance / 4 * estimate)
            {
              // The running sum may have cancelled: sum the bounds anew.
              std::priority_queue<Bound> copy = queue;
              left                            = 0.;
              for (; !copy.empty(); copy.pop())
                left += std::exp(copy.top().first - reference);
              if (left <= tolerance / 4 * estimate)
                break;
            }
          const auto [bound, n] = queue.top();
          queue.pop();
          left -= std::exp(bound - reference);
          const BallTree::Node &node = tree.nodes[n];
          if (node.first_child == 0)
            {
              exact.push_back(n);
              estimate += std::exp(log_bound(n, 0., 0.) - reference);
              continue;
            }
          for (const std::size_t child :
               {node.first_child, node.first_child + 1})
            if (tree.nodes[child].weight > 0.)
              {
                const double b = log_bound(child, r0, tree.nodes[child].radius);
                queue.push({b, child});
                left += std::exp(b - reference);
              }
        }
      for (; !queue.empty(); queue.pop())
        skipped.push_back(queue.top().second);
    }
  } // namespace



  SpherePrunedMethod::SpherePrunedMethod(const unsigned int n_threads)
      : thread_limit(n_threads)
  {}



  std::string
  SpherePrunedMethod::name() const
  {
    return "sphere pruned";
  }



  double
  SpherePrunedMethod::summed_fraction(const unsigned int d,
                                      const double       c,
                                      const double       tolerance)
  {
    const double L  = std::log(2. / tolerance) + (d - 1) / 2. * std::log(c);
    const double t0 = 1. - L / c;
    if (t0 <= -1.)
      return 1.;
    // The cap's share of S^{d-1}: int_0^theta0 sin^{d-2} over int_0^pi
    // sin^{d-2}, by Simpson's rule.
    const auto integral = [d](const double theta) {
      const unsigned int n = 2000;
      const double       h = theta / n;
      double             s = 0.;
      for (unsigned int q = 0; q <= n; ++q)
        s += (q == 0 || q == n ? 1. :
              q % 2            ? 4. :
                                 2.) *
             std::pow(std::sin(q * h), d - 2.);
      return s * h / 3;
    };
    return integral(std::acos(t0)) / integral(M_PI);
  }



  std::string
  SpherePrunedMethod::refusal(const KernelSumProblem &problem) const
  {
    const unsigned int d = problem.sources.dimension;
    if (d < 2)
      return "the sphere S^{d-1} needs d >= 2";
    const double c = orthogonal_scale(problem.A, d);
    if (c == 0.)
      return "A = beta Q^T K is not c R with c > 0 and R orthogonal";
    if (!on_unit_sphere(problem.sources))
      return "the sources are not on the unit sphere";
    if (!on_unit_sphere(problem.targets))
      return "the targets are not on the unit sphere";
    const double fraction = summed_fraction(d, c, problem.tolerance);
    if (fraction > max_summed_fraction)
      return "no gain: c = " + std::to_string(c) +
             " is too small to prune (a uniform measure needs " +
             std::to_string(int(100 * fraction)) + " % of the sphere)";
    return "";
  }



  void
  SpherePrunedMethod::evaluate(const KernelSumProblem   &problem,
                               KernelSums               &sums,
                               std::vector<std::size_t> &rejected) const
  {
    const unsigned int d         = problem.sources.dimension;
    const unsigned int n_values  = problem.values.dimension;
    const std::size_t  n_sources = problem.sources.size();
    const std::size_t  n_targets = problem.targets.size();
    const double       c         = orthogonal_scale(problem.A, d);
    if (c == 0.)
      throw std::invalid_argument("SpherePrunedMethod: A is not c R");

    // The rotated sources y' = A y / c, their tree, and the engine's
    // inputs in tree order: keys A y = c y', log weights, values.
    PointSet rotated(d, n_sources);
    for (std::size_t j = 0; j < n_sources; ++j)
      for (unsigned int r = 0; r < d; ++r)
        rotated[j][r] = dot(&problem.A[r * d], problem.sources[j], d) / c;
    const BallTree      sources(rotated, problem.weights, source_leaf_size);
    PointSet            keys(d, n_sources), values(n_values, n_sources);
    std::vector<double> log_weights(n_sources);
    for (std::size_t p = 0; p < n_sources; ++p)
      {
        const std::size_t j = sources.order[p];
        for (unsigned int k = 0; k < d; ++k)
          keys[p][k] = c * rotated[j][k];
        for (unsigned int v = 0; v < n_values; ++v)
          values[p][v] = problem.values[j][v];
        log_weights[p] = std::log(problem.weights[j]);
      }
    const BallTree           targets(problem.targets, {}, target_leaf_size);
    std::vector<std::size_t> target_leaves;
    for (std::size_t n = 0; n < targets.nodes.size(); ++n)
      if (targets.nodes[n].first_child == 0)
        target_leaves.push_back(n);

    sums.shift.resize(n_targets);
    sums.normaliser.resize(n_targets);
    sums.values = PointSet(n_values, n_targets);
    std::vector<char>  is_rejected(n_targets, 0);
    const KernelEngine engine(0);
    const double       log_tolerance = std::log(problem.tolerance / 2);

    tbb::enumerable_thread_specific<LeafScratch> scratches;
    const auto sum_leaf = [&](const std::size_t leaf) {
      const BallTree::Node     &node    = targets.nodes[leaf];
      LeafScratch              &scratch = scratches.local();
      std::vector<std::size_t> &exact   = scratch.exact,
                               &skipped = scratch.skipped;
      visit_sources(sources,
                    c,
                    targets.centre(leaf),
                    node.radius,
                    targets.max_norm2,
                    problem.tolerance,
                    exact,
                    skipped);

      // The exact part: the visited leaves of sources, contiguous runs.
      std::sort(exact.begin(), exact.end(), [&](std::size_t a, std::size_t b) {
        return sources.nodes[a].begin < sources.nodes[b].begin;
      });
      std::size_t n_exact = 0;
      for (const std::size_t n : exact)
        n_exact += sources.nodes[n].end - sources.nodes[n].begin;
      PointSet &leaf_keys = scratch.keys, &leaf_values = scratch.values;
      std::vector<double> &leaf_log_weights = scratch.log_weights;
      resize(leaf_keys, d, n_exact);
      resize(leaf_values, n_values, n_exact);
      leaf_log_weights.resize(n_exact);
      std::size_t q = 0;
      for (const std::size_t n : exact)
        for (std::size_t p = sources.nodes[n].begin; p < sources.nodes[n].end;
             ++p, ++q)
          {
            std::copy(keys[p], keys[p] + d, leaf_keys[q]);
            std::copy(values[p], values[p] + n_values, leaf_values[q]);
            leaf_log_weights[q] = log_weights[p];
          }
      PointSet &leaf_targets = scratch.targets;
      resize(leaf_targets, d, node.end - node.begin);
      for (std::size_t p = node.begin; p < node.end; ++p)
        std::copy(problem.targets[targets.order[p]],
                  problem.targets[targets.order[p]] + d,
                  leaf_targets[p - node.begin]);
      KernelSums &leaf_sums = scratch.sums;
      engine.evaluate_log_weights(leaf_targets,
                                  leaf_keys,
                                  leaf_log_weights,
                                  leaf_values,
                                  leaf_sums);

      // The certificate of each target: the bounds of its skipped groups,
      // sum W exp(c inner_product_bound()), against tolerance/2 times its
      // exact part.
      std::vector<double> &log_bounds = scratch.log_bounds;
      log_bounds.resize(skipped.size());
      for (std::size_t p = node.begin; p < node.end; ++p)
        {
          const std::size_t i       = targets.order[p];
          const std::size_t t       = p - node.begin;
          const double     *x       = problem.targets[i];
          const double      norm2_x = dot(x, x, d);
          double            top     = -std::numeric_limits<double>::infinity();
          for (std::size_t s = 0; s < skipped.size(); ++s)
            {
              const std::size_t n = skipped[s];
              log_bounds[s]       = std::log(sources.nodes[n].weight) +
                              c * inner_product_bound(x,
                                                      0.,
                                                      norm2_x,
                                                      sources.centre(n),
                                                      sources.nodes[n].radius,
                                                      sources.max_norm2,
                                                      d);
              top = std::max(top, log_bounds[s]);
            }
          double log_skipped = top;
          if (!skipped.empty())
            {
              double sum = 0.;
              for (const double b : log_bounds)
                sum += std::exp(b - top);
              log_skipped += std::log(sum);
            }
          const double log_exact =
            leaf_sums.shift[t] + std::log(leaf_sums.normaliser[t]);
          sums.shift[i]      = leaf_sums.shift[t];
          sums.normaliser[i] = leaf_sums.normaliser[t];
          for (unsigned int v = 0; v < n_values; ++v)
            sums.values[i][v] = leaf_sums.values[t][v];
          if (!(log_skipped <= log_tolerance + log_exact))
            is_rejected[i] = 1;
        }
    };

    const auto work = [&]() {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0,
                                                        target_leaves.size()),
                        [&](const tbb::blocked_range<std::size_t> &range) {
                          for (std::size_t l = range.begin(); l < range.end();
                               ++l)
                            sum_leaf(target_leaves[l]);
                        });
    };
    if (thread_limit == 0)
      work();
    else
      {
        tbb::task_arena arena(static_cast<int>(thread_limit));
        arena.execute(work);
      }
    rejected.clear();
    for (std::size_t i = 0; i < n_targets; ++i)
      if (is_rejected[i])
        rejected.push_back(i);
  }
} // namespace attnflow
