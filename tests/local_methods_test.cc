/**
 * @file
 * The tensor-product method (doc/theory.md section 6.3) and the pruned sum
 * on the sphere (section 6.4) against the direct engine: every kept target
 * within the tolerance (1e-10 relative to the normaliser, the values
 * relative to the normaliser times max |v|), the refusals, and the guard
 * that rejects an underflowing normaliser.
 */
#include <attnflow/field_method.h>
#include <attnflow/sphere_pruned_method.h>
#include <attnflow/tensor_product_method.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "method_points.h"
#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    constexpr double tolerance = 1e-10;

    /** Values v_j = V y_j with a fixed V (2 rows). */
    PointSet
    linear_values(const PointSet &points)
    {
      const unsigned int d = points.dimension;
      PointSet           values(2, points.size());
      for (std::size_t j = 0; j < points.size(); ++j)
        for (unsigned int k = 0; k < d; ++k)
          {
            values[j][0] += (1. + k) * points[j][k];
            values[j][1] += (k % 2 ? -0.5 : 0.75) * points[j][k];
          }
      return values;
    }

    /**
     * The largest error of @p sums against @p direct over the targets not
     * in @p rejected: the normaliser relative to the direct one, the values
     * relative to it times max |v|.
     */
    double
    max_error(const KernelSums               &sums,
              const KernelSums               &direct,
              const PointSet                 &values,
              const std::vector<std::size_t> &rejected)
    {
      double max_v = 0.;
      for (const double v : values.coordinates)
        max_v = std::max(max_v, std::abs(v));
      double error = 0.;
      for (std::size_t i = 0; i < direct.shift.size(); ++i)
        {
          if (std::binary_search(rejected.begin(), rejected.end(), i))
            continue;
          const double scale = std::exp(sums.shift[i] - direct.shift[i]);
          error              = std::max(error,
                           std::abs(scale * sums.normaliser[i] -
                                    direct.normaliser[i]) /
                             direct.normaliser[i]);
          for (unsigned int c = 0; c < values.dimension; ++c)
            error = std::max(error,
                             std::abs(scale * sums.values[i][c] -
                                      direct.values[i][c]) /
                               (direct.normaliser[i] * max_v));
        }
      return error;
    }

    /**
     * Checks @p method on @p problem: the kept targets within the
     * tolerance, and the guarded sums (rejected targets summed directly)
     * everywhere; returns the number of rejected targets.
     */
    std::size_t
    check_against_direct(const FieldMethod      &method,
                         const KernelSumProblem &problem,
                         const std::string      &label)
    {
      const KernelEngine engine;
      KernelSums         direct, sums, guarded;
      evaluate_direct(problem, engine, direct);
      std::vector<std::size_t> rejected;
      method.evaluate(problem, sums, rejected);
      EXPECT_TRUE(std::is_sorted(rejected.begin(), rejected.end())) << label;
      const double error = max_error(sums, direct, problem.values, rejected);
      EXPECT_LE(error, problem.tolerance) << label;
      const std::size_t n_rejected =
        evaluate_guarded(method, problem, engine, guarded);
      EXPECT_EQ(n_rejected, rejected.size()) << label;
      EXPECT_LE(max_error(guarded, direct, problem.values, {}),
                problem.tolerance)
        << label;
      std::cout << "  " << label << ": max error " << error << ", rejected "
                << rejected.size() << " of " << problem.targets.size()
                << std::endl;
      return rejected.size();
    }

    /** beta diag(1, 0.7, 1.3) in R^d. */
    std::vector<double>
    diagonal_matrix(const unsigned int d, const double beta)
    {
      const double        scale[3] = {1., 0.7, 1.3};
      std::vector<double> A(d * d, 0.);
      for (unsigned int k = 0; k < d; ++k)
        A[k * d + k] = beta * scale[k];
      return A;
    }

    template <int dim>
    void
    check_mesh_grids(const unsigned int n_cells)
    {
      const TensorProductMethod method;
      for (unsigned int degree = 0; degree <= 3; ++degree)
        {
          const testing::MeshPoints points =
            testing::mesh_points<dim>(n_cells, degree, 2., 7 + degree);
          const PointSet values = linear_values(points.sources);
          for (const double beta : {0.1, 1., 4., 9., 25.})
            {
              const std::vector<double> A = diagonal_matrix(dim, beta);
              const KernelSumProblem    problem{points.targets,
                                             points.sources,
                                             points.weights,
                                             values,
                                             A,
                                             tolerance};
              const std::string label = "dim " + std::to_string(dim) + " k " +
                                        std::to_string(degree) + " beta " +
                                        std::to_string(beta);
              EXPECT_EQ(check_against_direct(method, problem, label), 0u)
                << label;
            }
        }
    }
  } // namespace



  TEST(TensorProductMethod, MatchesDirectOnMeshGridsInOneDimension)
  {
    check_mesh_grids<1>(8);
  }



  TEST(TensorProductMethod, MatchesDirectOnMeshGridsInTwoDimensions)
  {
    check_mesh_grids<2>(6);
  }



  TEST(TensorProductMethod, MatchesDirectOnMeshGridsInThreeDimensions)
  {
    check_mesh_grids<3>(3);
  }



  TEST(TensorProductMethod, ServesNonDiagonalMatricesThroughTransformedTargets)
  {
    // <x, A y> = <A^T x, y>: the kernel factorises over the source axes for
    // any A. A triangular A (Q = [1, 0.5; 0, 1], K = I as in
    // examples/gaussian_r2) keeps z_2 = x_2 and is served at the cost of a
    // diagonal one; a rotation (every z_2 distinct) on a small mesh and a
    // general 3-D matrix are served too, all within the tolerance of the
    // direct sum.
    const TensorProductMethod method;
    const testing::MeshPoints square = testing::mesh_points<2>(6, 2, 2., 3);
    const PointSet            values = linear_values(square.sources);
    const std::vector<std::pair<std::string, std::vector<double>>> matrices = {
      {"triangular", {1., 0., 0.5, 1.}},
      {"rotation", {0.6, -0.8, 0.8, 0.6}},
      {"general beta = 4", {4., -1.2, 2.8, 3.2}}};
    for (const auto &[label, A] : matrices)
      {
        const KernelSumProblem problem{square.targets,
                                       square.sources,
                                       square.weights,
                                       values,
                                       A,
                                       tolerance};
        EXPECT_EQ(method.refusal(problem), "") << label;
        EXPECT_EQ(check_against_direct(method, problem, label), 0u) << label;
      }
    const testing::MeshPoints cube = testing::mesh_points<3>(3, 1, 1., 5);
    const std::vector<double> A3   = {1., 0.3, -0.2, 0., 2., 0.5, 0.4, 0., 1.5};
    const KernelSumProblem    problem{cube.targets,
                                   cube.sources,
                                   cube.weights,
                                   linear_values(cube.sources),
                                   A3,
                                   tolerance};
    EXPECT_EQ(check_against_direct(method, problem, "3-D general"), 0u);
  }



  TEST(TensorProductMethod, ServesMeshGridsAndRefusesOtherProblems)
  {
    const TensorProductMethod method;
    const testing::MeshPoints square = testing::mesh_points<2>(6, 2, 1., 3);
    const PointSet            values = linear_values(square.sources);
    const std::vector<double> A      = diagonal_matrix(2, 1.);
    EXPECT_EQ(
      method.refusal(
        {square.targets, square.sources, square.weights, values, A, tolerance}),
      "");

    // A rotation by 1 radian mixes the coordinates: z = A^T x takes a
    // distinct value per target along the last axis, and on a mesh of
    // 64 x 64 cells the contraction would hold O(N^1.5) numbers: refused.
    // (A rotation with rational cos and sin, as 0.6 and 0.8, maps the
    // uniform grid onto few distinct values and is served.)
    const std::vector<double> rotation = {std::cos(1.),
                                          -std::sin(1.),
                                          std::sin(1.),
                                          std::cos(1.)};
    const testing::MeshPoints fine     = testing::mesh_points<2>(64, 2, 1., 4);
    EXPECT_NE(method
                .refusal({fine.targets,
                          fine.sources,
                          fine.weights,
                          linear_values(fine.sources),
                          rotation,
                          tolerance})
                .find("too much memory"),
              std::string::npos);

    // Sources that are not a tensor grid: random points, and the mesh grid
    // with one point moved.
    const PointSet      scattered = testing::random_points(2, 500, 11);
    std::vector<double> ones(500, 1.);
    EXPECT_NE(method
                .refusal({square.targets,
                          scattered,
                          ones,
                          linear_values(scattered),
                          A,
                          tolerance})
                .find("not a tensor grid"),
              std::string::npos);
    PointSet moved = square.sources;
    moved[17][0] += 1e-3;
    EXPECT_NE(method
                .refusal(
                  {square.targets, moved, square.weights, values, A, tolerance})
                .find("not a tensor grid"),
              std::string::npos);

    // In one dimension every target coordinate is distinct: no gain.
    const testing::MeshPoints line = testing::mesh_points<1>(64, 2, 1., 5);
    const std::vector<double> a    = {1.};
    EXPECT_NE(method
                .refusal({line.targets,
                          line.sources,
                          line.weights,
                          linear_values(line.sources),
                          a,
                          tolerance})
                .find("no gain"),
              std::string::npos);
  }



  TEST(TensorProductMethod, SampledRefusalIsTheRefusalOfTheWholeGrid)
  {
    // 5000 points on S^2: the sample of 1024 already has more distinct
    // coordinates than a grid of 5000 could; a 16 x 16 mesh grid (4096
    // sources) with point 17 moved, which the sample (every fourth point)
    // misses: refused by the distinct coordinates of all the sources. The
    // same reason either way.
    const TensorProductMethod method;
    const PointSet            sphere =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, 5000, 21);
    const std::vector<double> ones(sphere.size(), 1.);
    const std::vector<double> A3 = diagonal_matrix(3, 4.);
    const std::string         sampled =
      method.refusal({sphere, sphere, ones, sphere, A3, tolerance});
    testing::MeshPoints square = testing::mesh_points<2>(16, 2, 1., 22);
    ASSERT_EQ(square.sources.size(), 4096u);
    square.sources[17][0] += 1e-3;
    const std::vector<double> A2 = diagonal_matrix(2, 1.);
    const std::string         whole =
      TensorProductMethod().refusal({square.targets,
                                     square.sources,
                                     square.weights,
                                     linear_values(square.sources),
                                     A2,
                                     tolerance});
    EXPECT_NE(sampled.find("more combinations than there are sources"),
              std::string::npos)
      << sampled;
    EXPECT_EQ(sampled, whole);
  }



  TEST(TensorProductMethod, KeptPlanFollowsChangedPointsAndMatrix)
  {
    // One method through a sequence of problems whose points change in
    // place (the same PointSet objects) and whose matrix changes: each
    // answer must be that of a fresh method, bit for bit. 4096 sources:
    // the moved source 17 is outside the sample of the quick refusal, so
    // the kept plan itself must notice it.
    const testing::MeshPoints mesh    = testing::mesh_points<2>(16, 2, 1., 23);
    PointSet                  sources = mesh.sources, targets = mesh.targets;
    const PointSet            values = linear_values(mesh.sources);
    std::vector<double>       A      = diagonal_matrix(2, 1.);
    const KernelSumProblem    problem{targets,
                                   sources,
                                   mesh.weights,
                                   values,
                                   A,
                                   tolerance};
    const TensorProductMethod kept;
    const auto                same_as_fresh = [&](const std::string &label) {
      const TensorProductMethod fresh;
      const std::string         reason = fresh.refusal(problem);
      EXPECT_EQ(kept.refusal(problem), reason) << label;
      if (!reason.empty())
        return reason;
      KernelSums               a, b;
      std::vector<std::size_t> rejected_a, rejected_b;
      kept.evaluate(problem, a, rejected_a);
      fresh.evaluate(problem, b, rejected_b);
      EXPECT_EQ(a.shift, b.shift) << label;
      EXPECT_EQ(a.normaliser, b.normaliser) << label;
      EXPECT_EQ(a.values.coordinates, b.values.coordinates) << label;
      EXPECT_EQ(rejected_a, rejected_b) << label;
      return reason;
    };
    EXPECT_EQ(same_as_fresh("first"), "");
    EXPECT_EQ(same_as_fresh("repeated"), "");
    for (double &x : targets.coordinates)
      x *= 0.5;
    EXPECT_EQ(same_as_fresh("targets moved"), "");
    A = diagonal_matrix(2, 4.);
    EXPECT_EQ(same_as_fresh("another A"), "");
    sources[17][0] += 1e-3;
    EXPECT_NE(same_as_fresh("a source moved").find("not a tensor grid"),
              std::string::npos);
    sources[17][0] = mesh.sources[17][0];
    EXPECT_EQ(same_as_fresh("restored"), "");
  }



  TEST(TensorProductMethod, RejectsTargetsWhoseNormaliserUnderflows)
  {
    // One weighted source in the corner (-1, -1) of a 5 x 5 grid: at the
    // target (1, 1) the only term is exp(-1600) below the per-axis shifts,
    // which underflows; the target must be rejected and summed directly.
    PointSet            sources(2, 25);
    std::vector<double> weights(25, 0.);
    for (unsigned int a = 0; a < 5; ++a)
      for (unsigned int b = 0; b < 5; ++b)
        {
          sources[5 * a + b][0] = -1. + 0.5 * a;
          sources[5 * a + b][1] = -1. + 0.5 * b;
        }
    weights[0] = 1.;
    PointSet targets(2, 3);
    targets[0][0] = targets[0][1] = 1.;
    targets[1][0] = targets[1][1]    = -1.;
    targets[2][0]                    = 0.3;
    const PointSet            values = linear_values(sources);
    const std::vector<double> A      = diagonal_matrix(2, 400.);
    const TensorProductMethod method;
    const KernelSumProblem problem{targets, sources, weights, values, A, 1e-10};
    KernelSums             sums;
    std::vector<std::size_t> rejected;
    method.evaluate(problem, sums, rejected);
    EXPECT_EQ(rejected, std::vector<std::size_t>({0}));
    check_against_direct(method, problem, "underflow");
  }



  namespace
  {
    const char *
    measure_name(const testing::SphereMeasure measure)
    {
      return measure == testing::SphereMeasure::uniform   ? "uniform" :
             measure == testing::SphereMeasure::clustered ? "clustered" :
                                                            "antipodal";
    }

    /** A rotation of R^d (a product of two plane rotations). */
    std::vector<double>
    rotation(const unsigned int d, const double c)
    {
      std::vector<double> R(d * d, 0.);
      for (unsigned int k = 0; k < d; ++k)
        R[k * d + k] = 1.;
      const double s = std::sin(0.7), co = std::cos(0.7);
      R[0] = co, R[1] = -s, R[d] = s, R[d + 1] = co;
      if (d == 3)
        {
          // times a rotation in the (1, 2) plane
          std::vector<double> T(9, 0.);
          const double        t[9] = {1, 0, 0, 0, 0.6, -0.8, 0, 0.8, 0.6};
          for (unsigned int r = 0; r < 3; ++r)
            for (unsigned int col = 0; col < 3; ++col)
              for (unsigned int k = 0; k < 3; ++k)
                T[r * 3 + col] += R[r * 3 + k] * t[k * 3 + col];
          R = T;
        }
      for (double &r : R)
        r *= c;
      return R;
    }

    void
    check_sphere(const unsigned int d)
    {
      const SpherePrunedMethod method;
      for (const auto measure : {testing::SphereMeasure::uniform,
                                 testing::SphereMeasure::clustered,
                                 testing::SphereMeasure::antipodal})
        {
          const PointSet sources = testing::sphere_points(measure, d, 3000, 21);
          // Targets: the tokens themselves and uniform points elsewhere.
          const PointSet tokens = testing::sphere_points(measure, d, 1500, 22);
          const PointSet others =
            testing::sphere_points(testing::SphereMeasure::uniform, d, 500, 23);
          PointSet targets = tokens;
          targets.coordinates.insert(targets.coordinates.end(),
                                     others.coordinates.begin(),
                                     others.coordinates.end());
          RandomGenerator     random(24);
          std::vector<double> weights(sources.size());
          for (double &w : weights)
            w = random.uniform() < 0.1 ? 0. : random.uniform();
          const PointSet values = linear_values(sources);
          for (const double c : {4., 9., 25., 100.})
            for (const bool rotated : {false, true})
              {
                std::vector<double> A =
                  rotated ? rotation(d, c) : rotation(d, 0.);
                if (!rotated)
                  for (unsigned int k = 0; k < d; ++k)
                    A[k * d + k] = c;
                const KernelSumProblem problem{targets,
                                               sources,
                                               weights,
                                               values,
                                               A,
                                               tolerance};
                const std::string      label =
                  "S^" + std::to_string(d - 1) + " " + measure_name(measure) +
                  " c " + std::to_string(c) + (rotated ? " rotated" : "");
                check_against_direct(method, problem, label);
              }
        }
    }
  } // namespace



  TEST(SpherePrunedMethod, MatchesDirectOnTheCircle)
  {
    check_sphere(2);
  }



  TEST(SpherePrunedMethod, MatchesDirectOnTheSphere)
  {
    check_sphere(3);
  }



  TEST(SpherePrunedMethod, RefusesWhatItCannotServe)
  {
    const SpherePrunedMethod method;
    const PointSet           points =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, 200, 5);
    const std::vector<double> weights(200, 1.);
    const PointSet            values = linear_values(points);
    const std::vector<double> A      = rotation(3, 100.);
    EXPECT_EQ(method.refusal({points, points, weights, values, A, tolerance}),
              "");

    // c = 4: a uniform measure needs the whole sphere.
    const std::vector<double> small = rotation(3, 4.);
    EXPECT_NE(method
                .refusal({points, points, weights, values, small, tolerance})
                .find("no gain"),
              std::string::npos);

    // Not c times an orthogonal matrix.
    std::vector<double> skew = A;
    skew[1] += 10.;
    EXPECT_NE(method.refusal({points, points, weights, values, skew, tolerance})
                .find("orthogonal"),
              std::string::npos);

    // Points off the sphere.
    const PointSet off = testing::random_points(3, 200, 6);
    EXPECT_NE(method.refusal({off, points, weights, values, A, tolerance})
                .find("targets are not on the unit sphere"),
              std::string::npos);
    EXPECT_NE(method.refusal({points, off, weights, values, A, tolerance})
                .find("sources are not on the unit sphere"),
              std::string::npos);
  }



  TEST(SpherePrunedMethod, SummedFractionOfTheTwoSphereIsTheCapArea)
  {
    // On S^2 the cap <x, y> >= t0 has the area fraction (1 - t0)/2.
    const double c = 100., L = std::log(2. / tolerance) + std::log(c);
    EXPECT_NEAR(SpherePrunedMethod::summed_fraction(3, c, tolerance),
                L / (2 * c),
                1e-9);
    // On S^1 the arc |t| <= arccos(t0) has the fraction arccos(t0)/pi.
    const double L1 = std::log(2. / tolerance) + std::log(c) / 2;
    EXPECT_NEAR(SpherePrunedMethod::summed_fraction(2, c, tolerance),
                std::acos(1 - L1 / c) / M_PI,
                1e-9);
    EXPECT_EQ(SpherePrunedMethod::summed_fraction(3, 4., tolerance), 1.);
  }
} // namespace attnflow
