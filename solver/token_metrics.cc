#include <attnflow/token_metrics.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace attnflow
{
  namespace
  {
    /** The coordinates a cell list sorts by: the first (up to) three. */
    constexpr unsigned int max_grid_axes = 3;
    /** Cells per axis at most, so that a cell's key fits in 63 bits. */
    constexpr double max_cells_per_axis = 1 << 20;

    /**
     * |p_i - p_j|^2 < r^2, summed coordinate after coordinate and stopped
     * once it reaches r^2 (the edges of the single-linkage graph).
     */
    bool
    joined(const PointSet   &points,
           const std::size_t i,
           const std::size_t j,
           const double      r2)
    {
      double distance2 = 0.;
      for (unsigned int k = 0; k < points.dimension && distance2 < r2; ++k)
        {
          const double diff = points[i][k] - points[j][k];
          distance2 += diff * diff;
        }
      return distance2 < r2;
    }

    /**
     * The points sorted into the cells of a uniform grid over the first
     * m = min(d, 3) coordinates (doc/theory.md section 6.6): a point's cell
     * is floor((x_k - lower_k) / h) per axis. Points closer than r lie in
     * cells whose index offset o has the lower bound
     * h^2 sum_k max(|o_k| - 1, 0)^2 < r^2 of their projected distance.
     */
    struct CellList
    {
      CellList(const PointSet &points, const double radius)
          : axes(std::min(points.dimension, max_grid_axes))
      {
        const std::size_t                 n = points.size();
        std::array<double, max_grid_axes> upper{};
        for (unsigned int k = 0; k < axes; ++k)
          {
            lower[k] = upper[k] = points[0][k];
            for (std::size_t i = 1; i < n; ++i)
              {
                lower[k] = std::min(lower[k], points[i][k]);
                upper[k] = std::max(upper[k], points[i][k]);
              }
          }
        // All coordinates gridded (d <= 3): side r / sqrt(d), shrunk by a
        // margin far above the round-off of the cell index, so that each
        // cell is a clique of the graph. Otherwise side r. Never more than
        // max_cells_per_axis cells per axis.
        const double clique_side =
          radius / std::sqrt(double(axes)) * (1. - 1e-6);
        h = axes == points.dimension ? clique_side : radius * (1. + 1e-6);
        for (unsigned int k = 0; k < axes; ++k)
          h = std::max(h, (upper[k] - lower[k]) / max_cells_per_axis);
        complete = h == clique_side;
        for (unsigned int k = 0; k < axes; ++k)
          extent[k] = static_cast<std::uint64_t>((upper[k] - lower[k]) / h) + 1;

        std::vector<std::pair<std::uint64_t, std::size_t>> keyed(n);
        for (std::size_t i = 0; i < n; ++i)
          keyed[i] = {key(cell_of(points[i])), i};
        std::sort(keyed.begin(), keyed.end());
        order.resize(n);
        for (std::size_t p = 0; p < n; ++p)
          {
            order[p] = keyed[p].second;
            if (p == 0 || keyed[p].first != keyed[p - 1].first)
              {
                keys.push_back(keyed[p].first);
                begin.push_back(p);
              }
          }
        begin.push_back(n);

        // The offsets o > 0 (lexicographically) of cells that may hold
        // points closer than r, with a margin for the round-off of h.
        const int reach = static_cast<int>(std::ceil(radius / h)) + 1;
        std::array<int, max_grid_axes> o{};
        const auto                     next = [&]() {
          for (unsigned int k = axes; k-- > 0;)
            {
              if (o[k] < reach)
                {
                  ++o[k];
                  return true;
                }
              o[k] = -reach;
            }
          return false;
        };
        for (unsigned int k = 0; k < axes; ++k)
          o[k] = -reach;
        do
          {
            bool   positive = false, zero = true;
            double gap2 = 0.;
            for (unsigned int k = 0; k < axes; ++k)
              {
                if (zero && o[k] != 0)
                  positive = o[k] > 0;
                zero             = zero && o[k] == 0;
                const double gap = std::max(std::abs(o[k]) - 1, 0) * h;
                gap2 += gap * gap;
              }
            if (positive && gap2 < radius * radius * (1. + 1e-6))
              offsets.push_back(o);
        } while (next());
        // Nearest offsets first: most neighbours are joined by then.
        std::stable_sort(offsets.begin(),
                         offsets.end(),
                         [](const auto &x, const auto &y) {
                           int nx = 0, ny = 0;
                           for (unsigned int k = 0; k < max_grid_axes; ++k)
                             {
                               nx += x[k] * x[k];
                               ny += y[k] * y[k];
                             }
                           return nx < ny;
                         });

        // The bounding box of each cell's points (gridded coordinates).
        box_lower.resize(keys.size());
        box_upper.resize(keys.size());
        for (std::size_t c = 0; c < keys.size(); ++c)
          for (unsigned int k = 0; k < axes; ++k)
            {
              box_lower[c][k] = box_upper[c][k] = points[order[begin[c]]][k];
              for (std::size_t p = begin[c] + 1; p < begin[c + 1]; ++p)
                {
                  box_lower[c][k] =
                    std::min(box_lower[c][k], points[order[p]][k]);
                  box_upper[c][k] =
                    std::max(box_upper[c][k], points[order[p]][k]);
                }
            }
      }

      /**
       * A lower bound of |x - y|^2 over the points y of cell @p c: the
       * squared distance of x's gridded coordinates to the cell's box.
       */
      double
      box_distance2(const double *x, const std::size_t c) const
      {
        double s = 0.;
        for (unsigned int k = 0; k < axes; ++k)
          {
            const double gap =
              std::max({box_lower[c][k] - x[k], x[k] - box_upper[c][k], 0.});
            s += gap * gap;
          }
        return s;
      }

      /** The cell indices of @p x. */
      std::array<std::int64_t, max_grid_axes>
      cell_of(const double *x) const
      {
        std::array<std::int64_t, max_grid_axes> c{};
        for (unsigned int k = 0; k < axes; ++k)
          c[k] = std::min<std::int64_t>(static_cast<std::int64_t>(
                                          (x[k] - lower[k]) / h),
                                        extent[k] - 1);
        return c;
      }

      /** The key of the cell @p c (row-major over the extents). */
      std::uint64_t
      key(const std::array<std::int64_t, max_grid_axes> &c) const
      {
        std::uint64_t k = 0;
        for (unsigned int a = 0; a < axes; ++a)
          k = k * extent[a] + static_cast<std::uint64_t>(c[a]);
        return k;
      }

      /** The index in keys of the cell @p c, or keys.size() if empty. */
      std::size_t
      find(const std::array<std::int64_t, max_grid_axes> &c) const
      {
        for (unsigned int a = 0; a < axes; ++a)
          if (c[a] < 0 || c[a] >= static_cast<std::int64_t>(extent[a]))
            return keys.size();
        const std::uint64_t k  = key(c);
        const auto          at = std::lower_bound(keys.begin(), keys.end(), k);
        return at != keys.end() && *at == k ? at - keys.begin() : keys.size();
      }

      unsigned int                             axes;
      bool                                     complete;
      double                                   h;
      std::array<double, max_grid_axes>        lower{};
      std::array<std::uint64_t, max_grid_axes> extent{};
      /** The points cell after cell. */
      std::vector<std::size_t> order;
      /** The occupied cells' keys (increasing) and first positions. */
      std::vector<std::uint64_t>                  keys;
      std::vector<std::size_t>                    begin;
      std::vector<std::array<int, max_grid_axes>> offsets;
      /** The bounding boxes of the occupied cells. */
      std::vector<std::array<double, max_grid_axes>> box_lower, box_upper;
    };

    /**
     * Joins in @p components the points of the cells @p a and @p b (b = a:
     * the pairs inside a) wherever an edge |p_i - p_j| < r exists. With
     * cliques for cells, one edge joins the two cells.
     */
    void
    join_cells(const PointSet   &points,
               const CellList   &cells,
               const std::size_t a,
               const std::size_t b,
               const double      r2,
               UnionFind        &components)
    {
      const std::size_t *order = cells.order.data();
      if (a == b)
        {
          for (std::size_t p = cells.begin[a]; p < cells.begin[a + 1]; ++p)
            for (std::size_t q = p + 1; q < cells.begin[a + 1]; ++q)
              if (components.find(order[p]) != components.find(order[q]) &&
                  joined(points, order[p], order[q], r2))
                components.unite(order[p], order[q]);
          return;
        }
      if (cells.complete && components.find(order[cells.begin[a]]) ==
                              components.find(order[cells.begin[b]]))
        return;
      // Only the points within r of the other cell's box can have an edge
      // across (the margin covers the round-off of the bound).
      const double bound = r2 * (1. + 1e-9);
      const auto   near  = [&](const std::size_t from, const std::size_t to) {
        std::vector<std::size_t> result;
        for (std::size_t p = cells.begin[from]; p < cells.begin[from + 1]; ++p)
          if (cells.box_distance2(points[order[p]], to) < bound)
            result.push_back(order[p]);
        return result;
      };
      const std::vector<std::size_t> near_a = near(a, b);
      if (near_a.empty())
        return;
      const std::vector<std::size_t> near_b = near(b, a);
      for (const std::size_t i : near_a)
        for (const std::size_t j : near_b)
          {
            if (!cells.complete && components.find(i) == components.find(j))
              continue;
            if (!joined(points, i, j, r2))
              continue;
            components.unite(i, j);
            if (cells.complete)
              return;
          }
    }


    /**
     * The connected components of the graph joining the points closer
     * than @p radius, from the cell list: the pairs in each cell and in
     * each pair of neighbouring cells, skipped where already joined
     * (doc/theory.md section 6.6).
     */
    UnionFind
    single_linkage_components(const PointSet &points, const double radius)
    {
      const std::size_t n = points.size();
      UnionFind         components(n);
      if (n == 0)
        return components;
      const double      r2 = radius * radius;
      const CellList    cells(points, radius);
      const std::size_t n_cells = cells.keys.size();
      for (std::size_t a = 0; a < n_cells; ++a)
        {
          const std::size_t first = cells.order[cells.begin[a]];
          if (cells.complete)
            // A cell's points are closer than sqrt(d) h < r: a clique.
            for (std::size_t p = cells.begin[a] + 1; p < cells.begin[a + 1];
                 ++p)
              components.unite(first, cells.order[p]);
          else
            join_cells(points, cells, a, a, r2, components);
        }
      for (const auto &o : cells.offsets)
        for (std::size_t a = 0; a < n_cells; ++a)
          {
            auto neighbour = cells.cell_of(points[cells.order[cells.begin[a]]]);
            for (unsigned int k = 0; k < cells.axes; ++k)
              neighbour[k] += o[k];
            const std::size_t b = cells.find(neighbour);
            if (b < n_cells)
              join_cells(points, cells, a, b, r2, components);
          }
      return components;
    }
  } // namespace



  std::vector<unsigned int>
  cluster_labels(const PointSet   &points,
                 const double      radius,
                 unsigned int     &n_clusters,
                 const std::size_t minimum_size)
  {
    const std::size_t n          = points.size();
    UnionFind         components = single_linkage_components(points, radius);
    std::vector<std::size_t> component_size(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      ++component_size[components.find(i)];
    const unsigned int        unset = static_cast<unsigned int>(-1);
    std::vector<unsigned int> label_of_root(n, unset), labels(n);
    n_clusters = 0;
    for (std::size_t i = 0; i < n; ++i)
      {
        const std::size_t root = components.find(i);
        if (label_of_root[root] == unset &&
            component_size[root] >= minimum_size)
          label_of_root[root] = n_clusters++;
      }
    for (std::size_t i = 0; i < n; ++i)
      {
        const unsigned int label = label_of_root[components.find(i)];
        labels[i]                = label == unset ? n_clusters : label;
      }
    return labels;
  }



  PointStatistics
  compute_statistics(const PointSet            &points,
                     const std::vector<double> &weights,
                     const double               cluster_radius,
                     const double               minimum_cluster_fraction,
                     const AttentionField      &field,
                     const Layer               &layer)
  {
    PointStatistics s;
    static_cast<Moments &>(s) = weighted_moments(points, weights);
    s.energy                  = field.energy(layer, points, weights);
    const auto minimum_size   = static_cast<std::size_t>(
      std::ceil(minimum_cluster_fraction * points.size()));
    s.cluster = cluster_labels(points,
                               cluster_radius,
                               s.n_clusters,
                               std::max<std::size_t>(minimum_size, 1));
    return s;
  }
} // namespace attnflow
