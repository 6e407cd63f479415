/**
 * @file
 * Metrics without all pairs (doc/theory.md section 6.6): the token cluster
 * count by the cell list equals the all-pairs single linkage, and the MMD
 * through the fast methods equals the direct one to Field/tolerance.
 */
#include <attnflow/comparison.h>
#include <attnflow/random.h>
#include <attnflow/token_metrics.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "method_points.h"

namespace attnflow
{
  namespace
  {
    /**
     * Single-linkage labels by all pairs |p_i - p_j|^2 < r^2 (summed in
     * full), labelled as cluster_labels() documents: the brute force.
     */
    std::vector<unsigned int>
    brute_force_labels(const PointSet   &points,
                       const double      radius,
                       unsigned int     &n_clusters,
                       const std::size_t minimum_size)
    {
      const std::size_t n = points.size();
      UnionFind         components(n);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
          {
            double distance2 = 0.;
            for (unsigned int k = 0; k < points.dimension; ++k)
              distance2 +=
                (points[i][k] - points[j][k]) * (points[i][k] - points[j][k]);
            if (distance2 < radius * radius)
              components.unite(i, j);
          }
      std::vector<std::size_t> size(n, 0);
      for (std::size_t i = 0; i < n; ++i)
        ++size[components.find(i)];
      const unsigned int        unset = static_cast<unsigned int>(-1);
      std::vector<unsigned int> label_of_root(n, unset), labels(n);
      n_clusters = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (label_of_root[components.find(i)] == unset &&
            size[components.find(i)] >= minimum_size)
          label_of_root[components.find(i)] = n_clusters++;
      for (std::size_t i = 0; i < n; ++i)
        {
          const unsigned int label = label_of_root[components.find(i)];
          labels[i]                = label == unset ? n_clusters : label;
        }
      return labels;
    }

    /** Expects cluster_labels() to equal the brute force for @p points. */
    void
    expect_brute_force_clusters(const PointSet &points, const double radius)
    {
      for (const std::size_t minimum_size : {std::size_t(1), std::size_t(3)})
        {
          unsigned int n_fast = 0, n_brute = 0;
          const auto   fast =
            cluster_labels(points, radius, n_fast, minimum_size);
          const auto brute =
            brute_force_labels(points, radius, n_brute, minimum_size);
          EXPECT_EQ(n_fast, n_brute)
            << "d = " << points.dimension << ", r = " << radius;
          EXPECT_EQ(fast, brute)
            << "d = " << points.dimension << ", r = " << radius;
        }
    }

    /** @p n points of R^@p d: Gaussian blobs of width @p width. */
    PointSet
    blobs(const unsigned int  d,
          const std::size_t   n,
          const unsigned int  n_blobs,
          const double        width,
          const std::uint64_t seed)
    {
      RandomGenerator random(seed);
      PointSet        centres(d, n_blobs), points(d, n);
      for (double &c : centres.coordinates)
        c = 4. * random.uniform();
      for (std::size_t i = 0; i < n; ++i)
        for (unsigned int k = 0; k < d; ++k)
          points[i][k] = centres[i % n_blobs][k] + width * random.normal();
      return points;
    }
  } // namespace



  TEST(Clusters, CellListEqualsAllPairsOnRandomAndClusteredSets)
  {
    for (const unsigned int d : {1u, 2u, 3u, 4u, 6u})
      for (const double radius : {0.05, 0.2, 0.7})
        {
          expect_brute_force_clusters(blobs(d, 600, 1, 1., 10 + d), radius);
          expect_brute_force_clusters(blobs(d, 600, 7, 0.05, 20 + d), radius);
        }
    for (const unsigned int d : {2u, 3u})
      for (const auto measure : {testing::SphereMeasure::uniform,
                                 testing::SphereMeasure::clustered,
                                 testing::SphereMeasure::antipodal})
        for (const double radius : {0.01, 0.05, 0.3})
          expect_brute_force_clusters(
            testing::sphere_points(measure, d, 800, 5 + d),
            radius);
  }

  TEST(Clusters, PairsExactlyAtTheRadiusAreNotJoined)
  {
    // A lattice of spacing exactly r (dyadic numbers: every distance is
    // exact): no two points are closer than r, so each is its own
    // cluster; any radius above the spacing joins the lattice into one.
    for (const unsigned int d : {1u, 2u, 3u, 4u})
      {
        const unsigned int m = d == 1 ? 64 : d == 2 ? 12 : d == 3 ? 6 : 4;
        std::size_t        n = 1;
        const double       r = 0.125;
        for (unsigned int k = 0; k < d; ++k)
          n *= m;
        PointSet lattice(d, n);
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t k = 0, rest = i; k < d; ++k, rest /= m)
            lattice[i][k] = -1. + r * double(rest % m);
        unsigned int n_clusters = 0;
        cluster_labels(lattice, r, n_clusters);
        EXPECT_EQ(n_clusters, n) << "d = " << d;
        cluster_labels(lattice, std::nextafter(r, 1.), n_clusters);
        EXPECT_EQ(n_clusters, 1u) << "d = " << d;
        expect_brute_force_clusters(lattice, r);
        expect_brute_force_clusters(lattice, 2. * r); // diagonals: 1.41 r
      }
  }

  namespace
  {
    /** (points, weights) with weights 1 + a uniform number, some zero. */
    WeightedPoints
    weighted(PointSet points, const std::uint64_t seed)
    {
      RandomGenerator     random(seed);
      std::vector<double> w(points.size());
      for (std::size_t i = 0; i < w.size(); ++i)
        w[i] = i % 11 == 3 ? 0. : 1. + random.uniform();
      return {std::move(points), w};
    }

    /**
     * Expects the MMD through Field/method = auto to equal the direct one:
     * each normalised kernel sum is at most 1 and certified to the
     * tolerance relative to itself, so |MMD_fast^2 - MMD^2| <= 4 tolerance
     * (plus the direct sums' round-off); and expects one of @p methods
     * to serve every sum (never the direct engine).
     */
    void
    expect_fast_mmd(const WeightedPoints           &mu,
                    const WeightedPoints           &nu,
                    const double                    sigma,
                    const std::vector<std::string> &served_by)
    {
      const std::string       method = served_by.front();
      const KernelEngine      engine;
      const double            tolerance = 1e-10;
      const FieldMethodChoice methods =
        make_mmd_methods(FieldMethodKind::automatic, 0);
      const double direct = maximum_mean_discrepancy(mu, nu, sigma, engine);
      const double fast =
        maximum_mean_discrepancy(mu, nu, sigma, engine, methods, tolerance);
      EXPECT_NEAR(fast * fast, direct * direct, 4. * tolerance + 1e-14)
        << method << ", sigma = " << sigma;
      const std::vector<std::string> report = methods.report();
      ASSERT_EQ(report.size(), 3u);
      for (const std::string &line : report)
        EXPECT_TRUE(std::any_of(served_by.begin(),
                                served_by.end(),
                                [&](const std::string &name) {
                                  return line.find(": " + name + " (") !=
                                         std::string::npos;
                                }))
          << line;
      // Field/method = direct is the direct MMD, bit for bit.
      const FieldMethodChoice none =
        make_mmd_methods(FieldMethodKind::direct, 0);
      EXPECT_EQ(
        maximum_mean_discrepancy(mu, nu, sigma, engine, none, tolerance),
        direct);
      EXPECT_TRUE(none.report().empty());
    }
  } // namespace



  TEST(FastMaximumMeanDiscrepancy, CircleAndSphereExpansionsAgreeWithDirect)
  {
    using testing::SphereMeasure;
    for (const double sigma : {0.1, 0.3, 1.})
      for (const auto measure : {SphereMeasure::uniform,
                                 SphereMeasure::clustered,
                                 SphereMeasure::antipodal})
        {
          expect_fast_mmd(
            weighted(testing::sphere_points(measure, 2, 3000, 1), 2),
            weighted(testing::sphere_points(SphereMeasure::uniform, 2, 2000, 3),
                     4),
            sigma,
            {"circle fourier"});
          expect_fast_mmd(
            weighted(testing::sphere_points(measure, 3, 3000, 5), 6),
            weighted(
              testing::sphere_points(SphereMeasure::clustered, 3, 2500, 7),
              8),
            sigma,
            // At sigma = 0.1 (c = 100, L = 85) the harmonics gain nothing
            // at 3000 points; the pruned sum serves.
            {"sphere harmonics", "sphere pruned"});
        }
  }

  TEST(FastMaximumMeanDiscrepancy, TensorGridAgreesWithDirectAndTokensFallBack)
  {
    // Density on a 24 x 24 mesh of degree 2 (a tensor grid of quadrature
    // points) against itself: the tensor product serves the three sums.
    const testing::MeshPoints mesh = testing::mesh_points<2>(24, 2, 1., 9);
    const WeightedPoints      rho{mesh.sources, mesh.weights};
    const WeightedPoints      other{mesh.sources,
                               weighted(mesh.sources, 10).weights};
    for (const double sigma : {0.1, 0.5})
      expect_fast_mmd(rho, other, sigma, {"tensor product"});

    // Tokens in a box are no grid: their sum k(nu, nu) stays direct, the
    // MMD exact.
    const KernelEngine      engine;
    const FieldMethodChoice methods =
      make_mmd_methods(FieldMethodKind::automatic, 0);
    const WeightedPoints tokens = weighted(blobs(2, 500, 3, 0.2, 11), 12);
    const double         fast =
      maximum_mean_discrepancy(rho, tokens, 0.2, engine, methods, 1e-10);
    const double direct = maximum_mean_discrepancy(rho, tokens, 0.2, engine);
    EXPECT_NEAR(fast * fast, direct * direct, 4e-10 + 1e-14);
    const std::vector<std::string> report = methods.report();
    ASSERT_EQ(report.size(), 3u);
    EXPECT_NE(report[0].find("MMD k(mu, mu): tensor product"),
              std::string::npos)
      << report[0];
    EXPECT_NE(report[2].find("MMD k(nu, nu): direct; refused"),
              std::string::npos)
      << report[2];
  }
} // namespace attnflow
