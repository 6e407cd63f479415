/**
 * @file
 * Field/method: which method AttentionField takes for each head, what the
 * log says about it, and that the fast field, the energy and the direct
 * engine agree to Field/tolerance (doc/theory.md section 6.5).
 */
#include <attnflow/model.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "method_points.h"
#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** The field of @p model at its own points @p x with Field/method @p kind.
     */
    PointSet
    field_with(const Model              &model,
               const PointSet           &x,
               const FieldMethodKind     kind,
               std::vector<std::string> *report = nullptr)
    {
      const KernelEngine engine;
      FieldParameters    parameters;
      parameters.method = kind;
      const AttentionField field(model, engine, parameters);
      std::vector<double>  w(x.size(), 1. / x.size());
      PointSet             v;
      field.evaluate(model.layers[0], x, x, w, v);
      if (report)
        *report = field.method_report();
      return v;
    }

    /** max_i |a_i - b_i| / max_i |b_i| over all coordinates. */
    double
    relative_difference(const PointSet &a, const PointSet &b)
    {
      double difference = 0., scale = 0.;
      for (std::size_t k = 0; k < a.coordinates.size(); ++k)
        {
          difference =
            std::max(difference, std::abs(a.coordinates[k] - b.coordinates[k]));
          scale = std::max(scale, std::abs(b.coordinates[k]));
        }
      return difference / scale;
    }
  } // namespace

  TEST(FieldChoice, CircleTakesTheFourierSeriesAndAgreesWithDirect)
  {
    ModelParameters p;
    p.beta = 4.;
    p.Q    = "1, 0.3; -0.2, 0.8";
    const Model              model(p);
    const PointSet           x = testing::random_points(2, 3000, 3, true);
    std::vector<std::string> report;
    const PointSet           fast =
      field_with(model, x, FieldMethodKind::automatic, &report);
    const PointSet direct = field_with(model, x, FieldMethodKind::direct);
    ASSERT_EQ(report.size(), 1u);
    EXPECT_TRUE(testing::mentions(report, "layer 1, head 1: circle fourier"))
      << report[0];
    EXPECT_LT(relative_difference(fast, direct), 1e-9);
  }

  TEST(FieldChoice, SphereAtLargeBetaIsPruned)
  {
    ModelParameters p;
    p.dimension = 3;
    p.beta      = 100.;
    const Model              model(p);
    const PointSet           x = testing::random_points(3, 4000, 5, true);
    std::vector<std::string> report;
    const PointSet           fast =
      field_with(model, x, FieldMethodKind::automatic, &report);
    const PointSet direct = field_with(model, x, FieldMethodKind::direct);
    EXPECT_TRUE(testing::mentions(report, "head 1: sphere pruned"))
      << report[0];
    EXPECT_LT(relative_difference(fast, direct), 1e-9);
  }

  TEST(FieldChoice, TokensInABoxFallBackWithTheReason)
  {
    ModelParameters p;
    p.geometry  = Geometry::euclidean;
    p.dimension = 2;
    p.beta      = 1.;
    p.Q         = "1, 0.5; 0, 1";
    const Model              model(p);
    const PointSet           x = testing::random_points(2, 500, 7);
    std::vector<std::string> report;
    const PointSet           fast =
      field_with(model, x, FieldMethodKind::automatic, &report);
    const PointSet direct = field_with(model, x, FieldMethodKind::direct);
    EXPECT_TRUE(testing::mentions(report, "head 1: direct")) << report[0];
    EXPECT_TRUE(
      testing::mentions(report,
                        "tensor product: the sources are not a tensor grid"))
      << report[0];
    // The fallback is the direct engine itself: the same numbers.
    EXPECT_EQ(fast.coordinates, direct.coordinates);
  }

  TEST(FieldChoice, DirectRecordsNothingAndANamedMethodIsUsedAlone)
  {
    ModelParameters p;
    p.beta = 2.;
    const Model              model(p);
    const PointSet           x = testing::random_points(2, 1000, 9, true);
    std::vector<std::string> report;
    field_with(model, x, FieldMethodKind::direct, &report);
    EXPECT_TRUE(report.empty());
    field_with(model, x, FieldMethodKind::sphere_harmonics, &report);
    ASSERT_EQ(report.size(), 1u);
    EXPECT_TRUE(
      testing::mentions(report, "head 1: direct; refused sphere harmonics"))
      << report[0];
  }

  TEST(FieldChoice, RepeatedChoicesAgreeAndChangedPointsAreExaminedAnew)
  {
    // The same problem chosen for again and again: the same method and the
    // same report; sources changed in place: chosen anew (the tensor grid
    // refused once a point moves, served again once it is back).
    const FieldMethodChoice choice =
      make_field_methods(FieldMethodKind::automatic, 1);
    const testing::MeshPoints mesh    = testing::mesh_points<2>(16, 2, 1., 31);
    PointSet                  sources = mesh.sources;
    const PointSet            values(2, sources.size());
    const std::vector<double> A = {1., 0., 0., 1.};
    const KernelSumProblem    grid{mesh.targets,
                                sources,
                                mesh.weights,
                                values,
                                A,
                                1e-10};
    const FieldMethod        *first = choice.choose(grid, "grid");
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->name(), "tensor product");
    const std::vector<std::string> report = choice.report();
    for (unsigned int repeat = 0; repeat < 3; ++repeat)
      {
        EXPECT_EQ(choice.choose(grid, "grid"), first);
        EXPECT_EQ(choice.report(), report);
      }
    sources[17][0] += 1e-3;
    EXPECT_EQ(choice.choose(grid, "grid"), nullptr);
    EXPECT_TRUE(
      testing::mentions(choice.report(),
                        "grid: direct; refused tensor product: the sources "
                        "are not a tensor grid"))
      << choice.report()[0];
    sources[17][0] = mesh.sources[17][0];
    EXPECT_EQ(choice.choose(grid, "grid"), first);
    EXPECT_EQ(choice.report(), report);

    // On S^2 at beta = 4: the harmonics, with the same three refusals at
    // every evaluation.
    const PointSet sphere =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, 3000, 32);
    const std::vector<double> w(sphere.size(), 1. / sphere.size());
    const std::vector<double> A3 = {4., 0., 0., 0., 4., 0., 0., 0., 4.};
    const KernelSumProblem    on_sphere{sphere, sphere, w, sphere, A3, 1e-10};
    const FieldMethodChoice   sphere_choice =
      make_field_methods(FieldMethodKind::automatic, 1);
    const FieldMethod *harmonics = sphere_choice.choose(on_sphere, "sphere");
    ASSERT_NE(harmonics, nullptr);
    EXPECT_EQ(harmonics->name(), "sphere harmonics");
    const std::vector<std::string> sphere_report = sphere_choice.report();
    ASSERT_EQ(sphere_report.size(), 1u);
    EXPECT_TRUE(
      testing::mentions(sphere_report,
                        "refused tensor product: the sources are not a "
                        "tensor grid (the distinct coordinates per axis "
                        "form more combinations than there are sources); "
                        "refused sphere pruned: no gain"))
      << sphere_report[0];
    for (unsigned int repeat = 0; repeat < 3; ++repeat)
      {
        EXPECT_EQ(sphere_choice.choose(on_sphere, "sphere"), harmonics);
        EXPECT_EQ(sphere_choice.report(), sphere_report);
      }
  }

  TEST(FieldChoice, EnergyThroughTheFastMethodAgreesWithDirect)
  {
    ModelParameters p;
    p.beta          = 9.;
    p.normalization = Normalization::uniform;
    const Model         model(p);
    const PointSet      x = testing::random_points(2, 2000, 11, true);
    std::vector<double> w(x.size(), 1. / x.size());
    const KernelEngine  engine;
    FieldParameters     fast, direct;
    direct.method = FieldMethodKind::direct;
    const double e_fast =
      AttentionField(model, engine, fast).energy(model.layers[0], x, w);
    const double e_direct =
      AttentionField(model, engine, direct).energy(model.layers[0], x, w);
    EXPECT_NEAR(e_fast, e_direct, 1e-9 * e_direct);
  }
} // namespace attnflow
