/**
 * @file
 * The tensor-product method (doc/theory.md section 6.3): distinct
 * coordinates per axis, the contraction plan, the contractions as matrix
 * products (BLAS) and the a-posteriori bound per target.
 */
#include <attnflow/dense_product.h>
#include <attnflow/tensor_product_method.h>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>

namespace attnflow
{
  namespace
  {
    constexpr double unit_roundoff = std::numeric_limits<double>::epsilon() / 2;

    /**
     * Coordinates closer than this (relative to the largest coordinate of the
     * axis) are one grid coordinate: the quadrature points of one column of
     * cells differ by the round-off of the mapping only.
     */
    constexpr double merge_tolerance = 1e-13;

    /**
     * The cost of one exponential of the factor matrices, and of one kernel
     * pair of the direct engine, in multiply-adds of the contractions
     * (measured by benchmarks/local_methods_benchmark.cc).
     */
    constexpr double exponential_cost = 20.;
    constexpr double direct_pair_cost = 4.;

    /**
     * The largest contraction step may hold this many numbers per point and
     * component (memory O(N), doc/theory.md section 6.3).
     */
    constexpr double memory_factor = 64.;

    /**
     * The distinct values of one coordinate of a point set: @p value sorted,
     * @p index[i] the one of point i, @p spread the largest distance between
     * a point's coordinate and its value (round-off merged away).
     */
    struct DistinctCoordinates
    {
      std::vector<double>       value;
      std::vector<unsigned int> index;
      double                    spread  = 0.;
      double                    max_abs = 0.;
    };

    DistinctCoordinates
    distinct_coordinates(const PointSet &points, const unsigned int axis)
    {
      const std::size_t        n = points.size();
      std::vector<std::size_t> order(n);
      std::iota(order.begin(), order.end(), std::size_t(0));
      std::sort(order.begin(),
                order.end(),
                [&](const std::size_t i, const std::size_t j) {
                  return points[i][axis] < points[j][axis];
                });
      DistinctCoordinates result;
      result.index.resize(n);
      for (std::size_t i = 0; i < n; ++i)
        result.max_abs = std::max(result.max_abs, std::abs(points[i][axis]));
      const double tolerance = merge_tolerance * result.max_abs;
      for (const std::size_t i : order)
        {
          const double x = points[i][axis];
          if (result.value.empty() || x - result.value.back() > tolerance)
            result.value.push_back(x);
          result.spread   = std::max(result.spread, x - result.value.back());
          result.index[i] = result.value.size() - 1;
        }
      return result;
    }

    /** The refusal of sources whose distinct coordinates are too many. */
    constexpr const char *too_many_combinations =
      "the sources are not a tensor grid (the distinct coordinates per axis "
      "form more combinations than there are sources)";

    /** The points of a point set that sources_exceed_grid() looks at. */
    constexpr std::size_t grid_sample_size = 1024;

    /**
     * Whether the distinct coordinates of @p sources per axis certainly
     * form more combinations than there are sources, from a sample of
     * grid_sample_size points spread over the set (all of them if fewer):
     * the sample's distinct values per axis, merged as
     * distinct_coordinates() merges them (with the tolerance of the whole
     * axis), are never more than the whole set's, so the product of their
     * numbers is a lower bound of the grid's size (doc/theory.md section
     * 6.5). Points on a sphere or scattered tokens are refused in
     * O(N d + sample log sample) without sorting the N coordinates.
     */
    bool
    sources_exceed_grid(const PointSet &sources)
    {
      const unsigned int  d = sources.dimension;
      const std::size_t   n = sources.size();
      std::vector<double> max_abs(d, 0.);
      for (std::size_t j = 0; j < n; ++j)
        for (unsigned int k = 0; k < d; ++k)
          max_abs[k] = std::max(max_abs[k], std::abs(sources[j][k]));
      const std::size_t   m = std::min(n, grid_sample_size);
      std::vector<double> sample(m);
      std::size_t         grid_size = 1;
      for (unsigned int k = 0; k < d && grid_size <= n; ++k)
        {
          for (std::size_t s = 0; s < m; ++s)
            sample[s] = sources[s * n / m][k];
          std::sort(sample.begin(), sample.end());
          const double tolerance = merge_tolerance * max_abs[k];
          std::size_t  distinct  = 0;
          double       first     = 0.;
          for (const double x : sample)
            if (distinct == 0 || x - first > tolerance)
              {
                first = x;
                ++distinct;
              }
          grid_size *= distinct;
        }
      return grid_size > n;
    }

    /**
     * The suffixes (t_k, ..., t_{d-1}) of the target coordinate indices
     * that occur, for one axis k: suffix s is (t[s], suffix parent[s] of
     * axis k + 1), sorted by parent; @p of_target[i] is target i's.
     */
    struct Suffixes
    {
      std::vector<unsigned int> t;
      std::vector<std::size_t>  parent;
      std::vector<std::size_t>  of_target;

      /**
       * Parents whose suffixes have the same children t (on a uniform mesh
       * every cell-point row, and every face row, has the same ones): their
       * contraction is one matrix product. @p first_suffix[i] is the suffix
       * (parents[i], children[0]); the suffixes of a parent are consecutive.
       */
      struct Group
      {
        std::vector<std::size_t>  parents;
        std::vector<std::size_t>  first_suffix;
        std::vector<unsigned int> children;
      };
      std::vector<Group> groups;
    };

    /** The groups of @p s: parents with equal children lists, in order. */
    void
    group_parents(Suffixes &s)
    {
      std::map<std::vector<unsigned int>, std::size_t> group_of_children;
      for (std::size_t u0 = 0, u1 = 0; u0 < s.t.size(); u0 = u1)
        {
          while (u1 < s.t.size() && s.parent[u1] == s.parent[u0])
            ++u1;
          std::vector<unsigned int> children(s.t.begin() + u0,
                                             s.t.begin() + u1);
          const auto [it, added] =
            group_of_children.emplace(children, s.groups.size());
          if (added)
            s.groups.push_back({{}, {}, std::move(children)});
          s.groups[it->second].parents.push_back(s.parent[u0]);
          s.groups[it->second].first_suffix.push_back(u0);
        }
    }

    /**
     * Everything evaluate() needs but the weights: the grid of the
     * sources, the distinct target coordinates, the suffixes per axis and
     * the estimated cost (doc/theory.md section 6.3).
     */
    struct ContractionPlan
    {
      /** Empty when the sources form a tensor grid, else why not. */
      std::string not_a_grid;

      std::vector<DistinctCoordinates> source_axes;
      std::vector<DistinctCoordinates> target_axes;
      /** The grid index (row-major over the axes) of each source. */
      std::vector<std::size_t> grid_index;
      /** suffixes[k]: the suffixes starting at axis k. */
      std::vector<Suffixes> suffixes;

      /** prod_{j < k} n_j. */
      std::size_t
      leading_size(const unsigned int k) const
      {
        std::size_t p = 1;
        for (unsigned int j = 0; j < k; ++j)
          p *= source_axes[j].value.size();
        return p;
      }

      /** The numbers the largest contraction step holds. */
      double
      memory(const unsigned int n_components) const
      {
        double largest = 0.;
        for (unsigned int k = 0; k < source_axes.size(); ++k)
          largest = std::max(largest,
                             double(n_components) * double(leading_size(k)) *
                               double(suffixes[k].t.size()));
        return largest;
      }

      /** The multiply-adds of the contractions, and the exponentials. */
      double
      cost(const unsigned int n_components) const
      {
        double total = 0.;
        for (unsigned int k = 0; k < source_axes.size(); ++k)
          {
            const double n_k = source_axes[k].value.size();
            total += n_components * double(leading_size(k)) * n_k *
                       double(suffixes[k].t.size()) +
                     exponential_cost * n_k * target_axes[k].value.size();
          }
        return total;
      }
    };

    /**
     * The plan of the kernel sum over the grid @p sources at the targets
     * with transformed coordinates @p targets (z = A^T x).
     */
    ContractionPlan
    make_plan(const PointSet &targets, const PointSet &sources)
    {
      ContractionPlan    plan;
      const unsigned int d         = sources.dimension;
      const std::size_t  n_sources = sources.size();
      const std::size_t  n_targets = targets.size();

      std::size_t grid_size = 1;
      for (unsigned int k = 0; k < d; ++k)
        {
          plan.source_axes.push_back(distinct_coordinates(sources, k));
          grid_size *= plan.source_axes[k].value.size();
          if (grid_size > n_sources)
            break;
        }
      if (grid_size != n_sources)
        {
          plan.not_a_grid = too_many_combinations;
          return plan;
        }
      plan.grid_index.assign(n_sources, 0);
      std::vector<bool> present(n_sources, false);
      for (std::size_t j = 0; j < n_sources; ++j)
        {
          std::size_t g = 0;
          for (unsigned int k = 0; k < d; ++k)
            g = g * plan.source_axes[k].value.size() +
                plan.source_axes[k].index[j];
          if (present[g])
            {
              plan.not_a_grid = "the sources are not a tensor grid (a "
                                "combination of coordinates occurs twice)";
              return plan;
            }
          present[g]         = true;
          plan.grid_index[j] = g;
        }

      for (unsigned int k = 0; k < d; ++k)
        plan.target_axes.push_back(distinct_coordinates(targets, k));

      // Suffixes from the last axis down: keys (parent, t) made unique.
      plan.suffixes.resize(d);
      std::vector<std::size_t> parent_of_target(n_targets, 0);
      for (unsigned int k = d; k-- > 0;)
        {
          const std::size_t          n_t = plan.target_axes[k].value.size();
          std::vector<std::uint64_t> keys(n_targets);
          for (std::size_t i = 0; i < n_targets; ++i)
            keys[i] = std::uint64_t(parent_of_target[i]) * n_t +
                      plan.target_axes[k].index[i];
          std::vector<std::uint64_t> unique_keys = keys;
          std::sort(unique_keys.begin(), unique_keys.end());
          unique_keys.erase(std::unique(unique_keys.begin(), unique_keys.end()),
                            unique_keys.end());
          Suffixes &s = plan.suffixes[k];
          s.t.resize(unique_keys.size());
          s.parent.resize(unique_keys.size());
          for (std::size_t u = 0; u < unique_keys.size(); ++u)
            {
              s.parent[u] = unique_keys[u] / n_t;
              s.t[u]      = unique_keys[u] % n_t;
            }
          s.of_target.resize(n_targets);
          for (std::size_t i = 0; i < n_targets; ++i)
            s.of_target[i] = std::lower_bound(unique_keys.begin(),
                                              unique_keys.end(),
                                              keys[i]) -
                             unique_keys.begin();
          parent_of_target = s.of_target;
          group_parents(s);
        }
      return plan;
    }

    /** Columns of C (rows of B) per task: B is packed once per task. */
    constexpr std::size_t task_columns = 128;

    /**
     * next(u, r) = sum_a E(t_u, a) current(parent_u, r, a) for the suffixes
     * u of one group (doc/theory.md section 6.3): C = E_group B^T, with B the
     * group's parents' rows of @p current stacked (@p n_rows each) and
     * E_group the children's rows of @p factors, in column blocks of a size
     * fixed by the problem, one task each.
     */
    void
    contract_group(const Suffixes::Group     &group,
                   const std::vector<double> &factors,
                   const std::size_t          n_factor_rows,
                   const std::vector<double> &current,
                   const std::size_t          n_rows,
                   const std::size_t          n_k,
                   std::vector<double>       &next)
    {
      const std::size_t m = group.children.size();
      const std::size_t g = group.parents.size();
      const std::size_t R = g * n_rows;

      const double       *e = factors.data();
      std::vector<double> e_group;
      if (m != n_factor_rows)
        {
          e_group.resize(m * n_k);
          for (std::size_t j = 0; j < m; ++j)
            std::copy_n(factors.data() + group.children[j] * n_k,
                        n_k,
                        e_group.data() + j * n_k);
          e = e_group.data();
        }
      const double       *b = current.data() + group.parents[0] * n_rows * n_k;
      std::vector<double> b_group, c_group;
      double             *c = next.data() + group.first_suffix[0] * n_rows;
      if (g > 1)
        {
          b_group.resize(R * n_k);
          for (std::size_t i = 0; i < g; ++i)
            std::copy_n(current.data() + group.parents[i] * n_rows * n_k,
                        n_rows * n_k,
                        b_group.data() + i * n_rows * n_k);
          b = b_group.data();
          c_group.resize(m * R);
          c = c_group.data();
        }

      const std::size_t n_tasks = (R + task_columns - 1) / task_columns;
      tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n_tasks),
        [&](const tbb::blocked_range<std::size_t> &range) {
          for (std::size_t task = range.begin(); task < range.end(); ++task)
            {
              const std::size_t r0 = task * task_columns;
              const std::size_t r1 = std::min(R, r0 + task_columns);
              multiply_transposed(m, r1 - r0, n_k, e, b + r0 * n_k, c + r0, R);
              if (g > 1)
                for (std::size_t j = 0; j < m; ++j)
                  for (std::size_t r = r0; r < r1; ++r)
                    next[(group.first_suffix[r / n_rows] + j) * n_rows +
                         r % n_rows] = c[j * R + r];
            }
        });
    }



    /**
     * The factor matrix E_k(t, a) = exp(Z[t] X[a] - s_k(t)) of one axis
     * (Z the distinct transformed target coordinates), row after row, and
     * its shifts s_k(t) = max_a Z[t] X[a].
     */
    void
    factor_matrix(const DistinctCoordinates &targets,
                  const DistinctCoordinates &sources,
                  std::vector<double>       &matrix,
                  std::vector<double>       &shift)
    {
      const std::size_t n = sources.value.size(), m = targets.value.size();
      matrix.resize(m * n);
      shift.resize(m);
      for (std::size_t t = 0; t < m; ++t)
        {
          const double slope = targets.value[t];
          shift[t]           = std::max(slope * sources.value.front(),
                              slope * sources.value.back());
          for (std::size_t a = 0; a < n; ++a)
            matrix[t * n + a] = std::exp(slope * sources.value[a] - shift[t]);
        }
    }
  } // namespace



  namespace
  {
    /**
     * The targets' transformed coordinates z_i = A^T x_i: <x, A y> =
     * sum_k z_k y_k, so the kernel factorises over the source axes for any
     * A (doc/theory.md section 6.3).
     */
    PointSet
    transformed_targets(const KernelSumProblem &problem)
    {
      const unsigned int d = problem.targets.dimension;
      PointSet           z(d, problem.targets.size());
      for (std::size_t i = 0; i < problem.targets.size(); ++i)
        for (unsigned int k = 0; k < d; ++k)
          {
            double sum = 0.;
            for (unsigned int r = 0; r < d; ++r)
              sum += problem.A[r * d + k] * problem.targets[i][r];
            z[i][k] = sum;
          }
      return z;
    }

    /**
     * max_i sum_r |A_rk x_ir| per axis k: the scale of the round-off of the
     * transformed coordinates z_ik.
     */
    std::vector<double>
    transformed_scale(const KernelSumProblem &problem)
    {
      const unsigned int  d = problem.targets.dimension;
      std::vector<double> scale(d, 0.);
      for (std::size_t i = 0; i < problem.targets.size(); ++i)
        for (unsigned int k = 0; k < d; ++k)
          {
            double sum = 0.;
            for (unsigned int r = 0; r < d; ++r)
              sum += std::abs(problem.A[r * d + k] * problem.targets[i][r]);
            scale[k] = std::max(scale[k], sum);
          }
      return scale;
    }
  } // namespace



  /**
   * The plan of the points @p sources, @p targets (their coordinates) and
   * the matrix @p A, kept until a problem with other points or another A
   * comes: the transformed targets z = A^T x are a function of them, so a
   * kept plan costs a comparison, not the O(N) transformation and the
   * O(N log N) sorts (doc/theory.md section 6.5).
   */
  struct TensorProductPlanCache
  {
    std::mutex                             mutex;
    unsigned int                           dimension = 0;
    std::vector<double>                    sources, targets, A;
    std::shared_ptr<const ContractionPlan> plan;

    /**
     * The plan of the transformed targets z = A^T x and the sources of
     * @p problem: the kept one if its points and A are equal.
     */
    std::shared_ptr<const ContractionPlan>
    plan_of(const KernelSumProblem &problem)
    {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!plan || problem.sources.dimension != dimension || problem.A != A ||
          problem.sources.coordinates != sources ||
          problem.targets.coordinates != targets)
        {
          plan = std::make_shared<const ContractionPlan>(
            make_plan(transformed_targets(problem), problem.sources));
          dimension = problem.sources.dimension;
          sources   = problem.sources.coordinates;
          targets   = problem.targets.coordinates;
          A         = problem.A;
        }
      return plan;
    }
  };



  TensorProductMethod::TensorProductMethod(const unsigned int n_threads)
      : thread_limit(n_threads)
      , cache(std::make_unique<TensorProductPlanCache>())
  {}



  TensorProductMethod::~TensorProductMethod() = default;



  std::string
  TensorProductMethod::name() const
  {
    return "tensor product";
  }



  std::string
  TensorProductMethod::refusal(const KernelSumProblem &problem) const
  {
    if (sources_exceed_grid(problem.sources))
      return too_many_combinations;
    const std::shared_ptr<const ContractionPlan> kept = cache->plan_of(problem);
    const ContractionPlan                       &plan = *kept;
    if (!plan.not_a_grid.empty())
      return plan.not_a_grid;
    const double n_components = 1 + problem.values.dimension;
    const double points =
      n_components * double(problem.sources.size() + problem.targets.size());
    if (plan.memory(n_components) > memory_factor * points)
      return "too much memory: the targets' coordinates z = A^T x take too "
             "many distinct values along the last axes (A = beta Q^T K "
             "mixes them), so a contraction step would hold " +
             std::to_string(plan.memory(n_components) / points) +
             " numbers per point";
    const double direct = direct_pair_cost * n_components *
                          double(problem.sources.size()) *
                          double(problem.targets.size());
    if (plan.cost(n_components) >= direct &&
        !problem.leaves_the_cost_to_other_ranks())
      return "no gain: the targets take too many distinct coordinates "
             "(estimated " +
             std::to_string(plan.cost(n_components) / direct) +
             " times the direct cost)";
    return "";
  }



  void
  TensorProductMethod::evaluate(const KernelSumProblem   &problem,
                                KernelSums               &sums,
                                std::vector<std::size_t> &rejected) const
  {
    const std::shared_ptr<const ContractionPlan> kept = cache->plan_of(problem);
    const ContractionPlan                       &plan = *kept;
    if (!plan.not_a_grid.empty())
      throw std::invalid_argument("TensorProductMethod: " + plan.not_a_grid);
    const unsigned int d            = problem.sources.dimension;
    const unsigned int n_values     = problem.values.dimension;
    const unsigned int n_components = 1 + n_values;
    const std::size_t  n_sources    = problem.sources.size();
    const std::size_t  n_targets    = problem.targets.size();

    // U_d: the weights (scaled by the largest) and weights times values on
    // the grid, component after component.
    const double w_max =
      *std::max_element(problem.weights.begin(), problem.weights.end());
    if (!(w_max > 0.) || !std::isfinite(w_max) ||
        std::any_of(problem.weights.begin(),
                    problem.weights.end(),
                    [](const double w) { return !(w >= 0.); }))
      throw std::invalid_argument("TensorProductMethod: weights must be "
                                  "non-negative, finite and not all zero");
    std::vector<double> current(n_components * n_sources);
    for (std::size_t j = 0; j < n_sources; ++j)
      {
        const double      w = problem.weights[j] / w_max;
        const std::size_t g = plan.grid_index[j];
        current[g]          = w;
        for (unsigned int c = 0; c < n_values; ++c)
          current[(1 + c) * n_sources + g] = w * problem.values[j][c];
      }

    std::vector<std::vector<double>> shifts(d);
    std::vector<double>              factors, next;
    const auto                       work = [&]() {
      for (unsigned int k = d; k-- > 0;)
        {
          factor_matrix(plan.target_axes[k],
                        plan.source_axes[k],
                        factors,
                        shifts[k]);
          const std::size_t n_k = plan.source_axes[k].value.size();
          const std::size_t n_rows = n_components * plan.leading_size(k);
          const Suffixes   &s = plan.suffixes[k];
          next.resize(s.t.size() * n_rows);

          for (const Suffixes::Group &group : s.groups)
            contract_group(group,
                           factors,
                           plan.target_axes[k].value.size(),
                           current,
                           n_rows,
                           n_k,
                           next);
          current.swap(next);
        }
    };
    if (thread_limit == 0)
      work();
    else
      {
        tbb::task_arena arena(static_cast<int>(thread_limit));
        arena.execute(work);
      }

    // The a-posteriori bound (doc/theory.md section 6.3): round-off of the
    // positive sums and products, of the exponents a_k x_k y_k - s_k, the
    // merged coordinates, and underflow.
    // Z: the distinct transformed coordinates z = A^T x, each within
    // gamma_d max_i sum_r |A_rk x_ir| of its exact value.
    std::size_t               sum_n    = 0;
    double                    exponent = 0., merged = 0.;
    const std::vector<double> z_scale = transformed_scale(problem);
    for (unsigned int k = 0; k < d; ++k)
      {
        const DistinctCoordinates &X = plan.source_axes[k];
        const DistinctCoordinates &Z = plan.target_axes[k];
        sum_n += X.value.size();
        exponent +=
          (4 * Z.max_abs + 1.01 * d * z_scale[k]) * unit_roundoff * X.max_abs;
        merged +=
          Z.max_abs * X.spread + X.max_abs * Z.spread + X.spread * Z.spread;
      }
    const double roundoff = 1.01 * (sum_n + 3 * d + 2) * unit_roundoff +
                            std::expm1(exponent + merged);
    const double underflow =
      2. * (d + 1) * n_sources * std::numeric_limits<double>::min();

    sums.shift.resize(n_targets);
    sums.normaliser.resize(n_targets);
    sums.values = PointSet(n_values, n_targets);
    rejected.clear();
    const double log_w_max = std::log(w_max);
    for (std::size_t i = 0; i < n_targets; ++i)
      {
        const double *u =
          current.data() + plan.suffixes[0].of_target[i] * n_components;
        double shift = log_w_max;
        for (unsigned int k = 0; k < d; ++k)
          shift += shifts[k][plan.target_axes[k].index[i]];
        sums.shift[i]      = shift;
        sums.normaliser[i] = u[0];
        for (unsigned int c = 0; c < n_values; ++c)
          sums.values[i][c] = u[1 + c];
        const double bound = roundoff + underflow / u[0];
        if (!(u[0] > 0.) || !std::isfinite(shift) ||
            !(bound <= problem.tolerance))
          rejected.push_back(i);
      }
  }
} // namespace attnflow
