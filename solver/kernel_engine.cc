/**
 * @file
 * The all-pairs kernel engine: online log-sum-exp over source tiles,
 * register-blocked over targets, vectorised over sources with GCC/Clang
 * vector extensions (they lower to AVX-512, AVX2 or SSE as the target allows).
 */
#include <attnflow/kernel_engine.h>
#include <attnflow/vector_exp.h>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace attnflow
{
  namespace
  {
    using namespace simd;

    /** Targets whose exponents are computed together (register block). */
    constexpr unsigned int block_size = 8;
    /*
     * The register blocking of the passes over a tile, per instruction set:
     * a vector is one register with AVX-512 (32 of them), two with AVX2
     * (16 of them), so that without AVX-512 each pass holds fewer rows or
     * components at once and sweeps the block's rows in turn (the sums of
     * each row and component run in the same order either way: the same
     * bits). Measured in benchmarks/README.md.
     */
    /**
     * Rows of a block exponentiated together: independent chains of
     * multiply-adds that keep both FMA ports busy.
     */
    constexpr unsigned int exp_rows = parts == 1 ? 4 : 2;
    static_assert(block_size % exp_rows == 0, "whole groups of rows");
    /** Rows whose exponents are summed together (two vectors each). */
    constexpr unsigned int exponent_rows = parts == 1 ? 8 : 2;
    /** Value components summed in one pass over the kernel values. */
    constexpr unsigned int components_per_pass = parts == 1 ? 3 : 1;
    /** Rows whose value sums are held together (per component). */
    constexpr unsigned int value_rows = parts == 1 ? 8 : 4;
    /** Vectors of components of wide values summed together. */
    constexpr unsigned int wide_vectors = parts == 1 ? 2 : 1;
    /** Rows whose wide value sums are held together. */
    constexpr unsigned int wide_rows = parts == 1 ? 8 : 4;
    static_assert(block_size % exponent_rows == 0 &&
                    block_size % value_rows == 0 && block_size % wide_rows == 0,
                  "whole groups of rows");
    /** Sources per tile: the tile's keys and values stay in cache. */
    constexpr unsigned int tile_size = 256;
    /**
     * The largest query dimension with an unrolled exponent loop
     * (compute_exponents<d>), which also takes the tile maxima.
     */
    constexpr unsigned int max_fixed_dimension = 4;
    /** Targets per parallel task. */
    constexpr unsigned int task_size = 256;
    /**
     * Values of this dimension or more are summed vectorised over their
     * components (a block's 8 targets times 16 components in registers),
     * smaller ones vectorised over the sources.
     */
    constexpr unsigned int wide_values = 2 * lanes;
    static_assert(block_size == lanes,
                  "a block's sums are added as one vector (transpose_sum)");
    /** Sources are padded to a multiple of this (two vectors). */
    constexpr unsigned int source_granularity = 2 * lanes;

    constexpr double minus_infinity = -std::numeric_limits<double>::infinity();

    /**
     * The allocator of the engine's arrays: whole cache lines (64 bytes, one
     * vector), so that no vector load of a tile straddles two lines (a split
     * load costs two: the loads, not the multiply-adds, would then bound the
     * maximum and value passes).
     */
    template <typename T>
    struct CacheLineAllocator
    {
      using value_type = T;

      CacheLineAllocator() = default;

      template <typename U>
      CacheLineAllocator(const CacheLineAllocator<U> &)
      {}

      T *
      allocate(const std::size_t n)
      {
        return static_cast<T *>(
          ::operator new(n * sizeof(T), std::align_val_t(sizeof(vdouble))));
      }

      void
      deallocate(T *p, const std::size_t)
      {
        ::operator delete(p, std::align_val_t(sizeof(vdouble)));
      }

      template <typename U>
      bool
      operator==(const CacheLineAllocator<U> &) const
      {
        return true;
      }

      template <typename U>
      bool
      operator!=(const CacheLineAllocator<U> &) const
      {
        return false;
      }
    };

    /** Doubles starting on a cache line. */
    using AlignedDoubles = std::vector<double, CacheLineAllocator<double>>;

    /** The lane-wise maximum (NaN-free inputs). */
    inline vdouble
    max(const vdouble a, const vdouble b)
    {
      return select(a > b, a, b);
    }

    /** Whether some lane of @p v exceeds @p bound. */
    inline bool
    exceeds(const vdouble v, const double bound)
    {
#if defined(__AVX512F__)
      return _mm512_cmp_pd_mask(v, _mm512_set1_pd(bound), _CMP_GT_OQ) != 0;
#else
      bool any = false;
      for (unsigned int l = 0; l < lanes; ++l)
        any = any || v[l] > bound;
      return any;
#endif
    }

    /** Whether some lane of @p v is below @p bound or NaN. */
    inline bool
    below_or_nan(const vdouble v, const double bound)
    {
#if defined(__AVX512F__)
      return _mm512_cmp_pd_mask(v, _mm512_set1_pd(bound), _CMP_NGE_UQ) != 0;
#else
      bool any = false;
      for (unsigned int l = 0; l < lanes; ++l)
        any = any || !(v[l] >= bound);
      return any;
#endif
    }

    /** Adds @p v to the lanes doubles at @p p. */
    inline void
    add(double *p, const vdouble v)
    {
      store(p, load(p) + v);
    }

    /**
     * The sources rearranged for the inner loops, so that a vector load
     * reads consecutive sources: the keys transposed per group of
     * source_granularity sources (the exponents' loop over the components
     * then reads one contiguous block, whatever d), the values transposed
     * per tile of tile_size sources or, from wide_values components on, per
     * tile and per vector of components (padded to whole vectors), the
     * tile's sources one after the other: the value pass then reads one
     * contiguous block per vector of components. (In source order, a
     * stride of 2^k cache lines from one source to the next maps the
     * tile's 256 loads to a few sets of L1, which thrash: 1.2 times slower
     * at d = 32 and 128 on AVX2; doc/theory.md section 4.1.) Log-weights
     * padded with -inf. Per tile, the bounds of its exponents
     * (TileBounds).
     */
    struct TiledSources
    {
      /**
       * What bounds the exponents <a, b_j> + log w_j of a tile's sources
       * for any query a: the largest |b_j| and the extremes of log w_j
       * (-inf in a tile with padding or a zero weight), for
       * TargetTask::certainly_in_range().
       */
      struct TileBounds
      {
        double key_norm             = 0.;
        double log_weight_min       = std::numeric_limits<double>::infinity();
        double log_weight_magnitude = 0.;
      };

      TiledSources(const PointSet            &keys,
                   const std::vector<double> &log_w,
                   const PointSet            &values)
          : key_dimension(keys.dimension)
          , value_dimension(values.dimension)
          , wide_layout(value_dimension >= wide_values)
          , value_stride(wide_layout ?
                           (value_dimension + lanes - 1) / lanes * lanes :
                           value_dimension)
          , n_padded((keys.size() + source_granularity - 1) /
                     source_granularity * source_granularity)
          , keys(n_padded * key_dimension, 0.)
          , log_weights(n_padded, minus_infinity)
          , values(n_padded * value_stride, 0.)
          , tile_bounds((n_padded + tile_size - 1) / tile_size)
      {
        const std::size_t n = keys.size();
        for (std::size_t j = 0; j < n; ++j)
          {
            const std::size_t tile  = j / tile_size * tile_size;
            const std::size_t jj    = j - tile;
            const std::size_t w     = width(tile);
            const std::size_t group = j / source_granularity;
            const std::size_t jg    = j - group * source_granularity;
            for (unsigned int k = 0; k < key_dimension; ++k)
              this
                ->keys[(group * key_dimension + k) * source_granularity + jg] =
                keys[j][k];
            for (unsigned int c = 0; c < value_dimension; ++c)
              this->values[wide_layout ?
                             tile * value_stride + c / lanes * (w * lanes) +
                               jj * lanes + c % lanes :
                             tile * value_dimension + c * w + jj] =
                values[j][c];
            log_weights[j] = log_w[j];
          }
        for (std::size_t j = 0; j < n_padded; ++j)
          {
            TileBounds &bounds = tile_bounds[j / tile_size];
            if (j < n)
              {
                double norm2 = 0.;
                for (unsigned int k = 0; k < key_dimension; ++k)
                  norm2 += keys[j][k] * keys[j][k];
                bounds.key_norm = std::max(bounds.key_norm, std::sqrt(norm2));
              }
            bounds.log_weight_min =
              std::min(bounds.log_weight_min, log_weights[j]);
            bounds.log_weight_magnitude =
              std::max(bounds.log_weight_magnitude, std::abs(log_weights[j]));
          }
      }

      /** The number of (padded) sources in the tile starting at @p j0. */
      std::size_t
      width(const std::size_t j0) const
      {
        return std::min<std::size_t>(tile_size, n_padded - j0);
      }

      unsigned int key_dimension;
      unsigned int value_dimension;
      /** Whether the values are stored per vector of components (wide). */
      bool wide_layout;
      /** The values' components per source, padded when wide_layout. */
      unsigned int   value_stride;
      std::size_t    n_padded;
      AlignedDoubles keys;
      AlignedDoubles log_weights;
      AlignedDoubles values;
      /** Per tile of tile_size sources. */
      std::vector<TileBounds> tile_bounds;
    };

    /**
     * The running (online) log-sum-exp state of one parallel task: shift,
     * normaliser and value sums of up to task_size targets, the rows padded
     * to whole blocks and the value sums component-major, so that a block's
     * sums over a tile are added as one vector per component. With the
     * causal mask, target i sums the sources j <= i only.
     */
    class TargetTask
    {
    public:
      TargetTask(const PointSet     &queries,
                 const TiledSources &sources,
                 const bool          causal,
                 const std::size_t   begin,
                 const std::size_t   end)
          : queries(queries)
          , sources(sources)
          , causal(causal)
          , begin(begin)
          , end(end)
          , n_rows_padded((end - begin + block_size - 1) / block_size *
                          block_size)
          , shift(n_rows_padded, minus_infinity)
          , normaliser(n_rows_padded, 0.)
          , values(n_rows_padded * sources.value_stride, 0.)
          , block_queries(transpose_blocks(queries, begin, end, n_rows_padded))
          , query_norms(norms(queries, begin, end, n_rows_padded))
          , exponents(block_size * tile_size)
      {}

      /**
       * Accumulates all sources, tile after tile. Under the causal mask a
       * block of targets i0..i_last stops at the tile holding i_last: tiles
       * after it are skipped, and in that tile only the sources up to
       * i_last (rounded up to whole vectors) are computed, those after each
       * target set to -inf.
       */
      void
      run()
      {
        const std::size_t n_tiled = causal ? end : sources.n_padded;
        for (std::size_t j0 = 0; j0 < n_tiled; j0 += tile_size)
          for (std::size_t i0 = begin; i0 < end; i0 += block_size)
            {
              const unsigned int n_rows =
                std::min<std::size_t>(block_size, end - i0);
              std::size_t w = sources.width(j0);
              if (causal)
                {
                  const std::size_t last = i0 + n_rows - 1;
                  if (last < j0)
                    continue;
                  w = std::min(w, round_up(last + 1 - j0));
                }
              vdouble tile_max[block_size];
              compute_exponents(i0, j0, w, tile_max);
              const bool masked = causal && j0 + w > i0 + 1;
              if (masked)
                mask_later_sources(j0, i0, n_rows, w);
              if (masked || queries.dimension > max_fixed_dimension)
                tile_maxima(w, tile_max);
              raise_shifts(i0 - begin, tile_max);
              vdouble row_sums[block_size];
              if (!masked && certainly_in_range(i0 - begin, j0))
                for (unsigned int r = 0; r < block_size; r += exp_rows)
                  exponentiate_rows<true>(i0 - begin + r, r, w, row_sums + r);
              else
                for (unsigned int r = 0; r < block_size; r += exp_rows)
                  exponentiate_rows<false>(i0 - begin + r, r, w, row_sums + r);
              add(normaliser.data() + i0 - begin, transpose_sum(row_sums));
              if (sources.wide_layout)
                accumulate_wide_values(j0, w, i0 - begin);
              else
                accumulate_values(j0, w, i0 - begin);
            }
      }

      /** Copies the task's results into @p sums. */
      void
      write(KernelSums &sums) const
      {
        const unsigned int dv = sources.value_dimension;
        const std::size_t  n  = end - begin;
        std::copy(shift.begin(), shift.begin() + n, sums.shift.begin() + begin);
        std::copy(normaliser.begin(),
                  normaliser.begin() + n,
                  sums.normaliser.begin() + begin);
        for (std::size_t t = 0; t < n; ++t)
          for (unsigned int c = 0; c < dv; ++c)
            sums.values[begin + t][c] = value(t, c);
      }

    private:
      /** The running value sum of target @p t, component @p c. */
      double &
      value(const std::size_t t, const unsigned int c)
      {
        return sources.wide_layout ? values[t * sources.value_stride + c] :
                                     values[c * n_rows_padded + t];
      }

      /** value() for reading. */
      double
      value(const std::size_t t, const unsigned int c) const
      {
        return sources.wide_layout ? values[t * sources.value_stride + c] :
                                     values[c * n_rows_padded + t];
      }

      /**
       * The queries of the targets @p begin .. @p end - 1, block by block of
       * 8 targets and component-major in a block (the multiply-adds of a
       * block read a_r(k) at k * 8 + r), zero-padded to @p n_rows_padded
       * targets.
       */
      static AlignedDoubles
      transpose_blocks(const PointSet   &queries,
                       const std::size_t begin,
                       const std::size_t end,
                       const std::size_t n_rows_padded)
      {
        const unsigned int d = queries.dimension;
        AlignedDoubles     transposed(n_rows_padded * d, 0.);
        for (std::size_t t = 0; t < end - begin; ++t)
          for (unsigned int k = 0; k < d; ++k)
            transposed[(t / block_size * d + k) * block_size + t % block_size] =
              queries[begin + t][k];
        return transposed;
      }

      /**
       * |a_t| of the targets @p begin .. @p end - 1, zero-padded to
       * @p n_rows_padded targets.
       */
      static AlignedDoubles
      norms(const PointSet   &queries,
            const std::size_t begin,
            const std::size_t end,
            const std::size_t n_rows_padded)
      {
        AlignedDoubles result(n_rows_padded, 0.);
        for (std::size_t t = 0; t < end - begin; ++t)
          {
            double norm2 = 0.;
            for (unsigned int k = 0; k < queries.dimension; ++k)
              norm2 += queries[begin + t][k] * queries[begin + t][k];
            result[t] = std::sqrt(norm2);
          }
        return result;
      }

      /** @p n rounded up to whole pairs of vectors (source_granularity). */
      static std::size_t
      round_up(const std::size_t n)
      {
        return (n + source_granularity - 1) / source_granularity *
               source_granularity;
      }

      /**
       * exponents(r, j) = <a_r, b_j> + log w_j for the first @p n sources
       * (a multiple of source_granularity) of the tile at @p j0 and, for
       * d <= max_fixed_dimension, their maxima lane by lane, @p vmax[r] (in
       * the order of tile_maxima(): the same results; -inf for larger d,
       * where tile_maxima() takes them). That loop is bound by its stores at
       * small d, and the maxima cost no pass of their own.
       */
      void
      compute_exponents(const std::size_t i0,
                        const std::size_t j0,
                        const std::size_t n,
                        vdouble (&vmax)[block_size])
      {
        switch (queries.dimension)
          {
            case 1:
              compute_exponents<1>(i0, j0, n, vmax);
              break;
            case 2:
              compute_exponents<2>(i0, j0, n, vmax);
              break;
            case 3:
              compute_exponents<3>(i0, j0, n, vmax);
              break;
            case 4:
              compute_exponents<4>(i0, j0, n, vmax);
              break;
            default:
              compute_exponents<0>(i0, j0, n, vmax);
          }
      }

      /**
       * compute_exponents() with the query dimension @p fixed_d known to
       * the compiler (its loop unrolled; the small d of the tokens in R^d
       * and on S^{d-1}), or 0: the dimension of the queries.
       */
      template <unsigned int fixed_d>
      void
      compute_exponents(const std::size_t i0,
                        const std::size_t j0,
                        const std::size_t n,
                        vdouble (&vmax)[block_size])
      {
        const unsigned int d     = fixed_d > 0 ? fixed_d : queries.dimension;
        const double      *keys  = sources.keys.data() + j0 * d;
        const double      *log_w = sources.log_weights.data() + j0;
        const double      *a     = block_queries.data() + (i0 - begin) * d;
        double *const      e     = exponents.data();
        constexpr bool     with_maxima = fixed_d > 0;
        for (unsigned int r = 0; r < block_size; ++r)
          vmax[r] = broadcast(minus_infinity);
        for (std::size_t j = 0; j < n; j += 2 * lanes)
          for (unsigned int r0 = 0; r0 < block_size; r0 += exponent_rows)
            {
              vdouble       acc0[exponent_rows], acc1[exponent_rows];
              const vdouble lw0 = load(log_w + j);
              const vdouble lw1 = load(log_w + j + lanes);
              for (unsigned int r = 0; r < exponent_rows; ++r)
                {
                  acc0[r] = lw0;
                  acc1[r] = lw1;
                }
              for (unsigned int k = 0; k < d; ++k)
                {
                  const double *b  = keys + j * d + k * source_granularity;
                  const double *ak = a + k * block_size + r0;
                  const vdouble b0 = load(b);
                  const vdouble b1 = load(b + lanes);
                  for (unsigned int r = 0; r < exponent_rows; ++r)
                    {
                      acc0[r] += ak[r] * b0;
                      acc1[r] += ak[r] * b1;
                    }
                }
              for (unsigned int r = 0; r < exponent_rows; ++r)
                {
                  store(e + (r0 + r) * tile_size + j, acc0[r]);
                  store(e + (r0 + r) * tile_size + j + lanes, acc1[r]);
                  if constexpr (with_maxima)
                    vmax[r0 + r] = max(max(vmax[r0 + r], acc0[r]), acc1[r]);
                }
            }
      }

      /**
       * The causal mask on a diagonal tile: exponents(r, j) = -inf for the
       * sources j0 + j > i0 + r, j < @p n, of the block's rows.
       */
      void
      mask_later_sources(const std::size_t  j0,
                         const std::size_t  i0,
                         const unsigned int n_rows,
                         const std::size_t  n)
      {
        for (unsigned int r = 0; r < n_rows; ++r)
          {
            double           *e     = exponents.data() + r * tile_size;
            const std::size_t i     = i0 + r;
            const std::size_t first = i < j0 ? 0 : std::min(n, i + 1 - j0);
            std::fill(e + first, e + n, minus_infinity);
          }
      }

      /**
       * @p vmax[r] = the lane-wise maxima of the first @p w exponents of row
       * r of the block (one independent chain of maxima per row).
       */
      void
      tile_maxima(const std::size_t w, vdouble (&vmax)[block_size]) const
      {
        const double *e = exponents.data();
        for (unsigned int r = 0; r < block_size; ++r)
          vmax[r] = broadcast(minus_infinity);
        for (std::size_t j = 0; j < w; j += lanes)
          for (unsigned int r = 0; r < block_size; ++r)
            vmax[r] = max(vmax[r], load(e + r * tile_size + j));
      }

      /**
       * Raises the running shifts of the block's targets t0 + r to their
       * tile maxima where these are larger (@p vmax[r], lane by lane; the
       * padded rows too, which are never written out), rescaling what was
       * summed so far by exp(old shift - new shift), all rows at once.
       */
      void
      raise_shifts(const std::size_t t0, const vdouble (&vmax)[block_size])
      {
        const vdouble old    = load(shift.data() + t0);
        const vdouble raised = max(old, transpose_max(vmax));
        // The difference is > 0 where a shift rises, NaN where no exponent
        // so far is finite (-inf - -inf): then nothing was summed either.
        const vdouble rise = raised - old;
        if (!exceeds(rise, 0.))
          return;
        const vdouble zero = broadcast(0.);
        const vdouble scale =
          exp_nonpositive(select(rise > zero, zero - rise, zero));
        store(shift.data() + t0, raised);
        store(normaliser.data() + t0, load(normaliser.data() + t0) * scale);
        const unsigned int dv = sources.value_dimension;
        if (!sources.wide_layout)
          for (unsigned int c = 0; c < dv; ++c)
            {
              double *const v = values.data() + c * n_rows_padded + t0;
              store(v, load(v) * scale);
            }
        else
          for (unsigned int r = 0; r < block_size; ++r)
            if (scale[r] != 1.)
              for (unsigned int c = 0; c < dv; ++c)
                value(t0 + r, c) *= scale[r];
      }

      /**
       * Whether every shifted exponent <a_t, b_j> + log w_j - shift_t of the
       * block's targets t0 + r and the tile at @p j0 is certainly >=
       * exp_lowest, so that exp_in_range() may take them: by Cauchy-Schwarz
       * it is >= log w_min - |a_t| max |b_j| - shift_t, and this bound less
       * the rounding of the exponents, the shift and the bound itself,
       * (2 d + 10) u (|a_t| max |b_j| + max |log w_j| + |shift_t|) with the
       * unit roundoff u, must be >= exp_lowest + 1 (doc/theory.md section
       * 4.1). False for infinite and NaN bounds: -inf log-weights (padding,
       * zero weights), shifts still -inf.
       */
      bool
      certainly_in_range(const std::size_t t0, const std::size_t j0) const
      {
        const typename TiledSources::TileBounds &tile =
          sources.tile_bounds[j0 / tile_size];
        const double rounding = (2. * queries.dimension + 10.) *
                                std::numeric_limits<double>::epsilon() / 2.;
        const vdouble ab    = load(query_norms.data() + t0) * tile.key_norm;
        const vdouble s     = load(shift.data() + t0);
        const vdouble lower = tile.log_weight_min - ab - s;
        const vdouble magnitude =
          ab + tile.log_weight_magnitude + max(s, broadcast(0.) - s);
        return !below_or_nan(lower - rounding * magnitude, exp_lowest + 1.);
      }

      /**
       * Replaces rows @p r .. r + exp_rows - 1 of the exponents (targets
       * @p t.., padded rows included) by the shifted kernel values, the
       * rows in one loop (exp_rows independent chains); @p sums receives
       * their sums lane by lane (the tile's part of the normalisers). With
       * @p in_range (certainly_in_range()), by exp_in_range().
       */
      template <bool in_range>
      void
      exponentiate_rows(const std::size_t  t,
                        const unsigned int r,
                        const std::size_t  w,
                        vdouble           *sums)
      {
        double *const e = exponents.data() + r * tile_size;
        if (!in_range &&
            std::any_of(shift.begin() + t,
                        shift.begin() + t + exp_rows,
                        [](const double s) { return s == minus_infinity; }))
          {
            for (unsigned int q = 0; q < exp_rows; ++q)
              sums[q] = exponentiate_row(t + q, e + q * tile_size, w);
            return;
          }
        vdouble m[exp_rows], s[exp_rows];
        for (unsigned int q = 0; q < exp_rows; ++q)
          {
            m[q] = broadcast(shift[t + q]);
            s[q] = broadcast(0.);
          }
        for (std::size_t j = 0; j < w; j += lanes)
          {
            vdouble p[exp_rows];
            for (unsigned int q = 0; q < exp_rows; ++q)
              p[q] = load(e + q * tile_size + j) - m[q];
            if constexpr (in_range)
              exp_in_range(p);
            else
              exp_nonpositive(p);
            for (unsigned int q = 0; q < exp_rows; ++q)
              {
                store(e + q * tile_size + j, p[q]);
                s[q] += p[q];
              }
          }
        for (unsigned int q = 0; q < exp_rows; ++q)
          sums[q] = s[q];
      }

      /** exponentiate_rows() for the one row @p e of target @p t. */
      vdouble
      exponentiate_row(const std::size_t t, double *e, const std::size_t w)
      {
        if (shift[t] == minus_infinity)
          {
            // Only zero weights so far, or a padded row: nothing to add (and
            // -inf - -inf would be NaN).
            std::fill(e, e + w, 0.);
            return broadcast(0.);
          }
        const vdouble m = broadcast(shift[t]);
        vdouble       s = broadcast(0.);
        for (std::size_t j = 0; j < w; j += lanes)
          {
            const vdouble p = exp_nonpositive(load(e + j) - m);
            store(e + j, p);
            s += p;
          }
        return s;
      }

      /**
       * values(t0 + r, c) += sum_j p(r, j) v_j(c) over the first @p n sources
       * of the tile at @p j0, for the rows r of this block (padded rows
       * included: they are never written out), up to components_per_pass
       * components in one pass over the kernel values.
       */
      void
      accumulate_values(const std::size_t j0,
                        const std::size_t n,
                        const std::size_t t0)
      {
        const unsigned int dv = sources.value_dimension;
        unsigned int       c  = 0;
        for (; c + components_per_pass <= dv; c += components_per_pass)
          accumulate_components<components_per_pass>(j0, n, t0, c);
        if (c + 2 == dv)
          accumulate_components<2>(j0, n, t0, c);
        else if (c + 1 == dv)
          accumulate_components<1>(j0, n, t0, c);
      }

      /**
       * accumulate_values() for the @p n_components components c, c + 1,
       * ..: value_rows rows times n_components lane-wise sums in registers,
       * each kernel value loaded once for them all, the block's rows in
       * sweeps of value_rows.
       */
      template <unsigned int n_components>
      void
      accumulate_components(const std::size_t  j0,
                            const std::size_t  n,
                            const std::size_t  t0,
                            const unsigned int c)
      {
        const std::size_t w = sources.width(j0);
        const double     *vals =
          sources.values.data() + j0 * sources.value_dimension + c * w;
        const double *p = exponents.data();
        vdouble       sums[n_components][block_size];
        for (unsigned int r0 = 0; r0 < block_size; r0 += value_rows)
          {
            // The sweep's sums stay in registers; with an index r0 + r
            // into sums, GCC would keep them in memory across j.
            vdouble acc[n_components][value_rows];
            for (unsigned int q = 0; q < n_components; ++q)
              for (unsigned int r = 0; r < value_rows; ++r)
                acc[q][r] = broadcast(0.);
            for (std::size_t j = 0; j < n; j += lanes)
              {
                vdouble v[n_components];
                for (unsigned int q = 0; q < n_components; ++q)
                  v[q] = load(vals + q * w + j);
                for (unsigned int r = 0; r < value_rows; ++r)
                  {
                    const vdouble pr = load(p + (r0 + r) * tile_size + j);
                    for (unsigned int q = 0; q < n_components; ++q)
                      acc[q][r] += pr * v[q];
                  }
              }
            for (unsigned int q = 0; q < n_components; ++q)
              for (unsigned int r = 0; r < value_rows; ++r)
                sums[q][r0 + r] = acc[q][r];
          }
        for (unsigned int q = 0; q < n_components; ++q)
          add(values.data() + t0 + (c + q) * n_rows_padded,
              transpose_sum(sums[q]));
      }

      /**
       * accumulate_values() for wide values, vectorised over their
       * components: values(t0 + r, c..) += sum_j p(r, j) v_j(c..), p(r, j)
       * broadcast, no lane sums; wide_vectors vectors of components at a
       * time, then the last vector.
       */
      void
      accumulate_wide_values(const std::size_t j0,
                             const std::size_t n,
                             const std::size_t t0)
      {
        const unsigned int stride = sources.value_stride;
        unsigned int       c      = 0;
        for (; c + wide_vectors * lanes <= stride; c += wide_vectors * lanes)
          accumulate_wide_components<wide_vectors>(j0, n, t0, c);
        if (c < stride)
          accumulate_wide_components<1>(j0, n, t0, c);
      }

      /**
       * accumulate_wide_values() for the components c..c + n_vectors *
       * lanes - 1: wide_rows rows times @p n_vectors vectors of sums in
       * registers, the block's rows in sweeps of wide_rows.
       */
      template <unsigned int n_vectors>
      void
      accumulate_wide_components(const std::size_t  j0,
                                 const std::size_t  n,
                                 const std::size_t  t0,
                                 const unsigned int c)
      {
        const unsigned int stride = sources.value_stride;
        const std::size_t  w      = sources.width(j0);
        const double      *vals =
          sources.values.data() + j0 * stride + c / lanes * (w * lanes);
        const double *p   = exponents.data();
        double *const out = values.data() + t0 * stride + c;
        for (unsigned int r0 = 0; r0 < block_size; r0 += wide_rows)
          {
            vdouble acc[wide_rows][n_vectors];
            for (unsigned int r = 0; r < wide_rows; ++r)
              for (unsigned int q = 0; q < n_vectors; ++q)
                acc[r][q] = broadcast(0.);
            for (std::size_t j = 0; j < n; ++j)
              {
                vdouble v[n_vectors];
                for (unsigned int q = 0; q < n_vectors; ++q)
                  v[q] = load(vals + (q * w + j) * lanes);
                for (unsigned int r = 0; r < wide_rows; ++r)
                  {
                    const vdouble pr = broadcast(p[(r0 + r) * tile_size + j]);
                    for (unsigned int q = 0; q < n_vectors; ++q)
                      acc[r][q] += pr * v[q];
                  }
              }
            for (unsigned int r = 0; r < wide_rows; ++r)
              for (unsigned int q = 0; q < n_vectors; ++q)
                add(out + (r0 + r) * stride + q * lanes, acc[r][q]);
          }
      }

      const PointSet     &queries;
      const TiledSources &sources;
      const bool          causal;
      const std::size_t   begin, end;
      /** end - begin rounded up to whole blocks. */
      const std::size_t n_rows_padded;
      /**
       * Per target; the values component-major (values[c * n_rows_padded +
       * t]), or target-major when the sources are wide_layout.
       */
      AlignedDoubles shift, normaliser, values;
      AlignedDoubles block_queries;
      /** |a_t| per target (padded rows 0). */
      AlignedDoubles query_norms;
      AlignedDoubles exponents;
    };
  } // namespace



  double
  log_sum_exp(const std::vector<double> &a)
  {
    double m = minus_infinity;
    for (const double x : a)
      m = std::max(m, x);
    if (m == minus_infinity)
      return m;
    double s = 0.;
    for (const double x : a)
      s += std::exp(x - m);
    return m + std::log(s);
  }



  void
  KernelEngine::check_mask(const AttentionMask       &mask,
                           const PointSet            &queries,
                           const std::vector<double> &log_weights)
  {
    if (!(mask.alibi_slope >= 0.) || !std::isfinite(mask.alibi_slope))
      throw std::invalid_argument(
        "KernelEngine: the ALiBi slope must be finite and >= 0");
    if (mask.kind == AttentionMask::Kind::none)
      {
        if (mask.alibi_slope != 0.)
          throw std::invalid_argument(
            "KernelEngine: an ALiBi slope needs the causal mask");
        return;
      }
    if (queries.size() != log_weights.size())
      throw std::invalid_argument(
        "KernelEngine: the causal mask needs as many targets as sources "
        "(the same tokens in order), not " +
        std::to_string(queries.size()) + " and " +
        std::to_string(log_weights.size()));
    if (!(log_weights[0] > minus_infinity))
      throw std::invalid_argument(
        "KernelEngine: the causal mask needs w_0 > 0 (the first token sees "
        "only itself)");
  }



  KernelEngine::KernelEngine(const unsigned int n_threads)
      : thread_limit(n_threads)
  {}



  void
  KernelEngine::evaluate(const PointSet            &queries,
                         const PointSet            &keys,
                         const std::vector<double> &weights,
                         const PointSet            &values,
                         KernelSums                &sums,
                         const AttentionMask       &mask) const
  {
    if (std::any_of(weights.begin(), weights.end(), [](const double w) {
          return !(w >= 0.);
        }))
      throw std::invalid_argument("KernelEngine: weights must be non-negative");
    std::vector<double> log_weights(weights.size());
    for (std::size_t j = 0; j < weights.size(); ++j)
      log_weights[j] = std::log(weights[j]);
    evaluate_log_weights(queries, keys, log_weights, values, sums, mask);
  }



  void
  KernelEngine::evaluate_log_weights(const PointSet            &queries,
                                     const PointSet            &keys,
                                     const std::vector<double> &log_weights,
                                     const PointSet            &values,
                                     KernelSums                &sums,
                                     const AttentionMask       &mask) const
  {
    if (queries.dimension != keys.dimension)
      throw std::invalid_argument("KernelEngine: queries of dimension " +
                                  std::to_string(queries.dimension) +
                                  " but keys of dimension " +
                                  std::to_string(keys.dimension));
    if (log_weights.size() != keys.size() ||
        (values.dimension > 0 && values.size() != keys.size()))
      throw std::invalid_argument(
        "KernelEngine: keys, weights and values differ in number");
    if (std::any_of(log_weights.begin(),
                    log_weights.end(),
                    [](const double l) {
                      return std::isnan(l) || l == HUGE_VAL;
                    }) ||
        std::none_of(log_weights.begin(),
                     log_weights.end(),
                     [](const double l) { return l > minus_infinity; }))
      throw std::invalid_argument(
        "KernelEngine: weights must be non-negative, finite and not all zero");

    const bool causal = mask.kind == AttentionMask::Kind::causal;
    check_mask(mask, queries, log_weights);

    // ALiBi: -slope (i - j) / n = slope j / n (a log-weight of source j)
    // - slope i / n (a shift of target i, subtracted below).
    const std::size_t   n_sources = keys.size();
    std::vector<double> biased_log_weights;
    if (mask.alibi_slope != 0.)
      {
        biased_log_weights = log_weights;
        for (std::size_t j = 0; j < n_sources; ++j)
          biased_log_weights[j] += mask.alibi_slope * double(j) / n_sources;
      }
    const TiledSources sources(keys,
                               mask.alibi_slope != 0. ? biased_log_weights :
                                                        log_weights,
                               values);
    const std::size_t  n_targets = queries.size();
    sums.shift.resize(n_targets);
    sums.normaliser.resize(n_targets);
    sums.values = PointSet(values.dimension, n_targets);

    const auto work = [&]() {
      tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n_targets, task_size),
        [&](const tbb::blocked_range<std::size_t> &range) {
          for (std::size_t i = range.begin(); i < range.end(); i += task_size)
            {
              TargetTask task(queries,
                              sources,
                              causal,
                              i,
                              std::min(range.end(), i + task_size));
              task.run();
              task.write(sums);
            }
        });
    };
    if (thread_limit == 0)
      work();
    else
      {
        tbb::task_arena arena(static_cast<int>(thread_limit));
        arena.execute(work);
      }
    if (mask.alibi_slope != 0.)
      for (std::size_t i = 0; i < n_targets; ++i)
        sums.shift[i] -= mask.alibi_slope * double(i) / n_sources;
  }
} // namespace attnflow
