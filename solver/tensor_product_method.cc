/**
 * @file
 * The tensor-product method (doc/theory.md section 6.3): distinct
 * coordinates per axis, the contraction plan, the blocked contraction kernel
 * and the a-posteriori bound per target.
 */
#include <attnflow/tensor_product_method.h>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
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

    /** Target suffixes contracted by one parallel task. */
    constexpr std::size_t task_size = 16;

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
    };

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

    ContractionPlan
    make_plan(const KernelSumProblem &problem)
    {
      ContractionPlan    plan;
      const unsigned int d         = problem.sources.dimension;
      const std::size_t  n_sources = problem.sources.size();
      const std::size_t  n_targets = problem.targets.size();

      std::size_t grid_size = 1;
      for (unsigned int k = 0; k < d; ++k)
        {
          plan.source_axes.push_back(distinct_coordinates(problem.sources, k));
          grid_size *= plan.source_axes[k].value.size();
          if (grid_size > n_sources)
            break;
        }
      if (grid_size != n_sources)
        {
          plan.not_a_grid = "the sources are not a tensor grid (the distinct "
                            "coordinates per axis form more combinations "
                            "than there are sources)";
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
        plan.target_axes.push_back(distinct_coordinates(problem.targets, k));

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
        }
      return plan;
    }

    constexpr unsigned int lanes = 8;
    using vdouble = double __attribute__((vector_size(lanes * sizeof(double))));

    inline vdouble
    load(const double *p)
    {
      vdouble v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    }

    inline double
    horizontal_sum(const vdouble v)
    {
      double s = 0.;
      for (unsigned int l = 0; l < lanes; ++l)
        s += v[l];
      return s;
    }

    /**
     * out[q][r] = sum_a in[r n + a] e[q][a] for the @p n_rows rows of
     * @p in and the @p n_e factor rows @p e: two rows (in L1) times four
     * factor rows (in L2) per step, vectorised along a.
     */
    void
    contract(const double        *in,
             const std::size_t    n_rows,
             const std::size_t    n,
             const double *const *e,
             const std::size_t    n_e,
             double *const       *out)
    {
      const std::size_t n_vector = n / lanes * lanes;
      for (std::size_t r0 = 0; r0 < n_rows; r0 += 2)
        {
          const double *m0 = in + r0 * n;
          const double *m1 = r0 + 1 < n_rows ? m0 + n : m0;
          for (std::size_t q0 = 0; q0 < n_e; q0 += 4)
            {
              const std::size_t nq = std::min<std::size_t>(4, n_e - q0);
              const double     *f[4];
              for (std::size_t q = 0; q < 4; ++q)
                f[q] = e[q0 + std::min(q, nq - 1)];
              vdouble acc0[4] = {}, acc1[4] = {};
              for (std::size_t a = 0; a < n_vector; a += lanes)
                {
                  const vdouble x0 = load(m0 + a), x1 = load(m1 + a);
                  for (unsigned int q = 0; q < 4; ++q)
                    {
                      const vdouble y = load(f[q] + a);
                      acc0[q] += x0 * y;
                      acc1[q] += x1 * y;
                    }
                }
              for (std::size_t q = 0; q < nq; ++q)
                {
                  double s0 = horizontal_sum(acc0[q]);
                  double s1 = horizontal_sum(acc1[q]);
                  for (std::size_t a = n_vector; a < n; ++a)
                    {
                      s0 += m0[a] * f[q][a];
                      s1 += m1[a] * f[q][a];
                    }
                  out[q0 + q][r0] = s0;
                  if (r0 + 1 < n_rows)
                    out[q0 + q][r0 + 1] = s1;
                }
            }
        }
    }



    /**
     * The factor matrix E_k(t, a) = exp(a_k T[t] X[a] - s_k(t)) of one axis,
     * row after row, and its shifts s_k(t) = max_a a_k T[t] X[a].
     */
    void
    factor_matrix(const double               a_k,
                  const DistinctCoordinates &targets,
                  const DistinctCoordinates &sources,
                  std::vector<double>       &matrix,
                  std::vector<double>       &shift)
    {
      const std::size_t n = sources.value.size(), m = targets.value.size();
      matrix.resize(m * n);
      shift.resize(m);
      for (std::size_t t = 0; t < m; ++t)
        {
          const double slope = a_k * targets.value[t];
          shift[t]           = std::max(slope * sources.value.front(),
                              slope * sources.value.back());
          for (std::size_t a = 0; a < n; ++a)
            matrix[t * n + a] = std::exp(slope * sources.value[a] - shift[t]);
        }
    }
  } // namespace



  /**
   * The plan of the points @p sources, @p targets (their coordinates), kept
   * until a problem with other points comes.
   */
  struct TensorProductPlanCache
  {
    std::mutex                             mutex;
    unsigned int                           dimension = 0;
    std::vector<double>                    sources, targets;
    std::shared_ptr<const ContractionPlan> plan;

    /** The plan of @p problem's points: the kept one if they are equal. */
    std::shared_ptr<const ContractionPlan>
    plan_of(const KernelSumProblem &problem)
    {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!plan || problem.sources.dimension != dimension ||
          problem.sources.coordinates != sources ||
          problem.targets.coordinates != targets)
        {
          plan = std::make_shared<const ContractionPlan>(make_plan(problem));
          dimension = problem.sources.dimension;
          sources   = problem.sources.coordinates;
          targets   = problem.targets.coordinates;
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
    const unsigned int d = problem.sources.dimension;
    for (unsigned int r = 0; r < d; ++r)
      for (unsigned int c = 0; c < d; ++c)
        if (r != c && problem.A[r * d + c] != 0.)
          return "A = beta Q^T K is not diagonal";
    const std::shared_ptr<const ContractionPlan> kept = cache->plan_of(problem);
    const ContractionPlan                       &plan = *kept;
    if (!plan.not_a_grid.empty())
      return plan.not_a_grid;
    const double n_components = 1 + problem.values.dimension;
    const double direct       = direct_pair_cost * n_components *
                          double(problem.sources.size()) *
                          double(problem.targets.size());
    if (plan.cost(n_components) >= direct)
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
          factor_matrix(problem.A[k * d + k],
                        plan.target_axes[k],
                        plan.source_axes[k],
                        factors,
                        shifts[k]);
          const std::size_t n_k = plan.source_axes[k].value.size();
          const std::size_t n_rows = n_components * plan.leading_size(k);
          const Suffixes   &s = plan.suffixes[k];
          next.resize(s.t.size() * n_rows);

          // Tasks: runs of at most task_size suffixes of one parent.
          std::vector<std::size_t> task_begin;
          for (std::size_t u = 0; u < s.t.size(); ++u)
            if (u == 0 || s.parent[u] != s.parent[u - 1] ||
                u - task_begin.back() == task_size)
              task_begin.push_back(u);
          task_begin.push_back(s.t.size());
          tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, task_begin.size() - 1),
            [&](const tbb::blocked_range<std::size_t> &range) {
              const double *e[task_size];
              double       *out[task_size];
              for (std::size_t task = range.begin(); task < range.end(); ++task)
                {
                  const std::size_t u0 = task_begin[task],
                                    u1 = task_begin[task + 1];
                  for (std::size_t u = u0; u < u1; ++u)
                    {
                      e[u - u0] = factors.data() + s.t[u] * n_k;
                      out[u - u0] = next.data() + u * n_rows;
                    }
                  contract(current.data() + s.parent[u0] * n_rows * n_k,
                           n_rows,
                           n_k,
                           e,
                           u1 - u0,
                           out);
                }
            });
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
    std::size_t sum_n    = 0;
    double      exponent = 0., merged = 0.;
    for (unsigned int k = 0; k < d; ++k)
      {
        const DistinctCoordinates &X = plan.source_axes[k];
        const DistinctCoordinates &T = plan.target_axes[k];
        const double               a = std::abs(problem.A[k * d + k]);
        sum_n += X.value.size();
        exponent += 4 * unit_roundoff * a * T.max_abs * X.max_abs;
        merged += a * (T.max_abs * X.spread + X.max_abs * T.spread +
                       X.spread * T.spread);
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
