/**
 * @file
 * Weight matrices, heads and layers of the Model, and the AttentionField
 * against closed forms.
 */
#include <attnflow/exceptions.h>
#include <attnflow/model.h>

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    ModelParameters
    euclidean(const unsigned int d, const double beta)
    {
      ModelParameters p;
      p.geometry  = Geometry::euclidean;
      p.dimension = d;
      p.beta      = beta;
      return p;
    }
  } // namespace

  TEST(MatrixSpec, ParsesEveryForm)
  {
    double scale = 0.;
    EXPECT_TRUE(parse_matrix("identity", 3, "Q").is_scaled_identity(scale));
    EXPECT_EQ(scale, 1.);
    EXPECT_TRUE(parse_matrix("-identity", 3, "Q").is_scaled_identity(scale));
    EXPECT_EQ(scale, -1.);
    EXPECT_TRUE(parse_matrix("2.5*identity", 2, "Q").is_scaled_identity(scale));
    EXPECT_EQ(scale, 2.5);
    EXPECT_TRUE(parse_matrix("zero", 2, "Q").is_scaled_identity(scale));
    EXPECT_EQ(scale, 0.);
    const SquareMatrix d = parse_matrix("diagonal 1, 2", 2, "Q");
    EXPECT_EQ(d(1, 1), 2.);
    EXPECT_EQ(d(0, 1), 0.);
    const SquareMatrix m = parse_matrix("1, 2; 3, 4", 2, "Q");
    EXPECT_EQ(m(0, 1), 2.);
    EXPECT_EQ(m(1, 0), 3.);
    EXPECT_FALSE(m.is_scaled_identity(scale));
    const SquareMatrix r1 = parse_matrix("random", 4, "Q", 7, 1);
    const SquareMatrix r2 = parse_matrix("random", 4, "Q", 7, 1);
    const SquareMatrix r3 = parse_matrix("random", 4, "Q", 7, 2);
    EXPECT_EQ(r1.entries, r2.entries);
    EXPECT_NE(r1.entries, r3.entries);
  }

  TEST(MatrixSpec, RejectsMalformedMatricesNamingTheParameter)
  {
    for (const char *text : {"1, 2; 3",
                             "1, 2, 3; 4, 5, 6",
                             "1, x; 3, 4",
                             "identy",
                             "2identity",
                             "diagonal 1",
                             "",
                             "1, nan; 0, 1",
                             "1, inf; 0, 1"})
      {
        try
          {
            parse_matrix(text, 2, "Model/Q");
            ADD_FAILURE() << "accepted '" << text << "'";
          }
        catch (const InputError &e)
          {
            EXPECT_NE(std::string(e.what()).find("Model/Q"), std::string::npos)
              << e.what();
          }
      }
  }

  TEST(MatrixSpec, MessagesCountWhatWasGiven)
  {
    const auto message = [](const std::string &text, const unsigned int d) {
      try
        {
          parse_matrix(text, d, "Model/Q");
        }
      catch (const InputError &e)
        {
          return std::string(e.what());
        }
      return std::string("accepted");
    };
    EXPECT_NE(message("diagonal 1", 2).find("has 1 diagonal entry, "),
              std::string::npos);
    EXPECT_NE(message("1, 2; 3", 2).find("'1, 2; 3' has 1 entry, "),
              std::string::npos);
    EXPECT_NE(message("1, 2", 2).find("has 1 row "), std::string::npos);
    EXPECT_NE(message("1, 2; 3, 4; 5, 6", 2).find("has 3 rows "),
              std::string::npos);
    EXPECT_NE(message("identy", 2).find("'identy' is not a matrix"),
              std::string::npos);
    EXPECT_NE(message("identy", 1).find("'identy' is not a matrix"),
              std::string::npos);
  }

  TEST(Model, BuildsHeadsAndLayers)
  {
    ModelParameters p = euclidean(2, 1.);
    p.n_heads         = 2;
    p.V               = "identity | 2*identity / zero";
    p.layer_durations = {0.5, 1.};
    const Model model(p);
    ASSERT_EQ(model.layers.size(), 2u);
    ASSERT_EQ(model.layers[0].heads.size(), 2u);
    double scale = 0.;
    model.layers[0].heads[1].V.is_scaled_identity(scale);
    EXPECT_EQ(scale, 2.);
    model.layers[1].heads[1].V.is_scaled_identity(scale);
    EXPECT_EQ(scale, 0.);
    EXPECT_EQ(model.layer_index(0.49), 0u);
    EXPECT_EQ(model.layer_index(0.5), 1u);
    EXPECT_EQ(model.layer_index(7.), 1u);
    EXPECT_EQ(model.switch_times(3.), std::vector<double>{0.5});
    EXPECT_TRUE(model.switch_times(0.4).empty());
    const std::vector<Model::Interval> pieces = model.intervals(0.2, 3.);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0].start, 0.2);
    EXPECT_EQ(pieces[0].end, 0.5);
    EXPECT_EQ(pieces[0].layer, &model.layers[0]);
    EXPECT_EQ(pieces[1].end, 3.);
    EXPECT_EQ(pieces[1].layer, &model.layers[1]);
    EXPECT_TRUE(model.intervals(0.7, 0.7).empty());

    p.V = "identity | identity | identity";
    EXPECT_THROW(Model{p}, InputError);
    p.V = "identity / identity / identity";
    EXPECT_THROW(Model{p}, InputError);
  }

  TEST(AttentionField, BetaZeroIsTheMeanTimesV)
  {
    // E1: at beta = 0, X[mu](x) = V m(mu) for SA, for any x.
    ModelParameters p = euclidean(3, 0.);
    p.V               = "1, 2, 0; -1, 0.5, 0; 0, 0, -1";
    const Model          model(p);
    const KernelEngine   engine;
    const AttentionField field(model, engine);
    const PointSet       x = testing::random_points(3, 50, 3);
    std::vector<double>  w(50, 1. / 50);
    PointSet             v;
    field.evaluate(model.layers[0], x, x, w, v);
    std::vector<double> m(3, 0.);
    for (std::size_t i = 0; i < 50; ++i)
      for (unsigned int k = 0; k < 3; ++k)
        m[k] += x[i][k] / 50;
    const SquareMatrix &V = model.layers[0].heads[0].V;
    for (std::size_t i = 0; i < 50; ++i)
      for (unsigned int k = 0; k < 3; ++k)
        EXPECT_NEAR(v[i][k],
                    V(k, 0) * m[0] + V(k, 1) * m[1] + V(k, 2) * m[2],
                    1e-14);
  }

  TEST(AttentionField, HeadsAddUp)
  {
    ModelParameters one = euclidean(2, 3.), two = euclidean(2, 3.);
    one.Q = two.Q = "1, 0.5; 0, 1";
    one.V         = "1, 1; 0, 2";
    two.n_heads   = 2;
    two.V         = "0.25, 0.25; 0, 0.5 | 0.75, 0.75; 0, 1.5";
    const KernelEngine  engine;
    const Model         m1(one), m2(two);
    const PointSet      x = testing::random_points(2, 40, 4);
    std::vector<double> w(40, 1. / 40);
    PointSet            v1, v2;
    AttentionField(m1, engine).evaluate(m1.layers[0], x, x, w, v1);
    AttentionField(m2, engine).evaluate(m2.layers[0], x, x, w, v2);
    for (std::size_t k = 0; k < v1.coordinates.size(); ++k)
      EXPECT_NEAR(v1.coordinates[k], v2.coordinates[k], 1e-14);
  }

  TEST(AttentionField, IsTangentialOnTheSphere)
  {
    ModelParameters p;
    p.dimension = 3;
    p.beta      = 9.;
    p.Q         = "random";
    const Model         model(p);
    const KernelEngine  engine;
    const PointSet      x = testing::random_points(3, 100, 8, true);
    std::vector<double> w(100, 0.01);
    PointSet            v;
    AttentionField(model, engine).evaluate(model.layers[0], x, x, w, v);
    for (std::size_t i = 0; i < 100; ++i)
      EXPECT_NEAR(x[i][0] * v[i][0] + x[i][1] * v[i][1] + x[i][2] * v[i][2],
                  0.,
                  1e-15);
  }

  TEST(AttentionField, UniformAttentionOverflowIsReported)
  {
    ModelParameters p = euclidean(2, 500.);
    p.normalization   = Normalization::uniform;
    const Model model(p);
    PointSet    x = testing::random_points(2, 10, 9);
    for (double &c : x.coordinates)
      c *= 10.;
    std::vector<double> w(10, 0.1);
    PointSet            v;
    const KernelEngine  engine;
    EXPECT_THROW(
      AttentionField(model, engine).evaluate(model.layers[0], x, x, w, v),
      NumericalError);
  }

  TEST(AttentionField, EnergyMatchesTheDoubleSum)
  {
    ModelParameters p;
    p.dimension = 3;
    p.beta      = 30.;
    const Model         model(p);
    const KernelEngine  engine;
    const PointSet      x = testing::random_points(3, 60, 10, true);
    std::vector<double> w(60, 1. / 60);
    long double         sum = 0.;
    for (std::size_t i = 0; i < 60; ++i)
      for (std::size_t j = 0; j < 60; ++j)
        sum +=
          std::exp((long double)30. * (x[i][0] * x[j][0] + x[i][1] * x[j][1] +
                                       x[i][2] * x[j][2])) /
          3600.;
    const double expected = (double)(sum / 60.);
    EXPECT_NEAR(AttentionField(model, engine).energy(model.layers[0], x, w),
                expected,
                1e-13 * expected);
  }
} // namespace attnflow
