/**
 * @file
 * The model features of doc/theory.md sections 1.3 and 1.4 through the
 * whole field and solvers: the causal mask with ALiBi (the first token
 * fixed, two tokens on the circle against their closed-form angle ODE, the
 * fast methods refused, the density solver refusing a mask),
 * transformer-shaped heads (d_k < d against a brute-force sum, weights
 * from a safetensors file, errors naming file, tensor and shape), and the
 * feed-forward flow (tokens against an independent integration, the
 * density pushed forward by an affine flow at order k + 1, E2's Gaussian
 * with a linear feed-forward flow).
 */
#include <attnflow/continuity_solver.h>
#include <attnflow/exact_solution.h>
#include <attnflow/exceptions.h>
#include <attnflow/initial_measure.h>
#include <attnflow/token_solver.h>
#include <attnflow/weight_files.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "gaussian_moments.h"
#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /** The message of the InputError that @p f raises ("" if none). */
    std::string
    input_error_of(const std::function<void()> &f)
    {
      try
        {
          f();
        }
      catch (const InputError &e)
        {
          return e.what();
        }
      return "";
    }

    /** Whether @p text contains every one of @p words. */
    void
    expect_words(const std::string &text, const std::vector<std::string> &words)
    {
      for (const std::string &word : words)
        EXPECT_NE(text.find(word), std::string::npos)
          << "'" << word << "' missing in: '" << text << "'";
    }

    /** Time parameters of a tight adaptive integration. */
    TimeParameters
    tight_time()
    {
      TimeParameters time;
      time.relative_tolerance = 1e-13;
      time.absolute_tolerance = 1e-14;
      return time;
    }

    /** One classical RK4 step of x' = @p f(x) with step @p h. */
    std::vector<double>
    rk4_step(
      const std::function<std::vector<double>(const std::vector<double> &)> &f,
      std::vector<double>                                                    x,
      const double                                                           h)
    {
      const auto axpy = [](std::vector<double>        y,
                           const double               a,
                           const std::vector<double> &k) {
        for (std::size_t i = 0; i < y.size(); ++i)
          y[i] += a * k[i];
        return y;
      };
      const std::vector<double> k1 = f(x), k2 = f(axpy(x, h / 2, k1)),
                                k3 = f(axpy(x, h / 2, k2)),
                                k4 = f(axpy(x, h, k3));
      for (std::size_t i = 0; i < x.size(); ++i)
        x[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
      return x;
    }

    /** A safetensors file of F64 tensors (name, shape, values). */
    struct F64Tensor
    {
      std::string              name;
      std::vector<std::size_t> shape;
      std::vector<double>      values;
    };

    std::string
    write_safetensors(const std::string            &name,
                      const std::vector<F64Tensor> &tensors)
    {
      std::string json = "{", data;
      for (const F64Tensor &t : tensors)
        {
          json += (json.size() > 1 ? ", \"" : "\"") + t.name +
                  "\": {\"dtype\": \"F64\", \"shape\": [";
          for (std::size_t k = 0; k < t.shape.size(); ++k)
            json += (k > 0 ? ", " : "") + std::to_string(t.shape[k]);
          const std::size_t begin = data.size();
          data.append(reinterpret_cast<const char *>(t.values.data()),
                      t.values.size() * sizeof(double));
          json += "], \"data_offsets\": [" + std::to_string(begin) + ", " +
                  std::to_string(data.size()) + "]}";
        }
      json += "}";
      while (json.size() % 8 != 0)
        json += ' ';
      std::string length;
      for (unsigned int b = 0; b < 8; ++b)
        length += static_cast<char>((json.size() >> (8 * b)) & 0xff);
      static const std::filesystem::path directory =
        testing::scratch_directory("model_weights");
      const std::string path = (directory / name).string();
      std::ofstream(path, std::ios::binary) << length << json << data;
      return path;
    }

    /** The values 0.1 * (seed + k) mod 1 - 0.5, k = 0..n-1: distinct. */
    std::vector<double>
    values(const std::size_t n, const unsigned int seed)
    {
      std::vector<double> v(n);
      for (std::size_t k = 0; k < n; ++k)
        v[k] = std::fmod(0.37 * (seed + k) + 0.1 * seed, 1.) - 0.5;
      return v;
    }
  } // namespace



  TEST(CausalMask, FirstTokenStaysFixedOnTheSphere)
  {
    // A full run: token 1 attends to itself alone, V x_1 = x_1 is normal to
    // the sphere, so its velocity is 0 whatever Q, K and the slope.
    const Parameters p = testing::parameters_from(
      "subsection Model\n set dimension = 3\n set beta = 2\n"
      " set Q = random\n set K = random\n set mask = causal\n"
      " set alibi slope = 0.5\nend\n"
      "subsection Tokens\n set number of tokens = 40\nend\n");
    const Model        model(p.model);
    const KernelEngine engine;
    const PointSet x0 = InitialMeasure(p.initial_condition, model).sample(40);
    TokenSolver    solver(model, p.time, engine, x0, p.field);
    solver.advance_to(3.);
    double moved = 0.;
    for (std::size_t i = 1; i < 40; ++i)
      for (unsigned int k = 0; k < 3; ++k)
        moved = std::max(moved, std::abs(solver.tokens()[i][k] - x0[i][k]));
    for (unsigned int k = 0; k < 3; ++k)
      EXPECT_NEAR(solver.tokens()[0][k], x0[0][k], 1e-13);
    EXPECT_GT(moved, 0.1);
  }



  TEST(CausalMask, TwoTokensOnTheCircleFollowTheAngleOde)
  {
    // doc/theory.md 1.4: phi' = -sin(phi) a / (a + e^beta),
    // a = exp(beta cos(phi) - lambda / 2), token 1 fixed.
    const double    beta = 1.5, lambda = 1., T = 4., theta1 = 0.3, phi0 = 2.;
    ModelParameters parameters;
    parameters.beta        = beta;
    parameters.mask        = AttentionMask::Kind::causal;
    parameters.alibi_slope = lambda;
    const Model        model(parameters);
    const KernelEngine engine;
    PointSet           x(2, 2);
    x[0][0] = std::cos(theta1);
    x[0][1] = std::sin(theta1);
    x[1][0] = std::cos(theta1 + phi0);
    x[1][1] = std::sin(theta1 + phi0);
    TokenSolver solver(model, tight_time(), engine, x);
    solver.advance_to(T);

    const auto phi_dot = [&](const std::vector<double> &phi) {
      const double a = std::exp(beta * std::cos(phi[0]) - lambda / 2.);
      return std::vector<double>{-std::sin(phi[0]) * a / (a + std::exp(beta))};
    };
    std::vector<double> phi{phi0};
    const unsigned int  n_steps = 20000;
    for (unsigned int s = 0; s < n_steps; ++s)
      phi = rk4_step(phi_dot, phi, T / n_steps);

    const PointSet &y = solver.tokens();
    EXPECT_NEAR(std::atan2(y[0][1], y[0][0]), theta1, 1e-13);
    EXPECT_NEAR(std::atan2(y[1][1], y[1][0]) - theta1, phi[0], 1e-10);
    EXPECT_GT(phi0 - phi[0], 0.2); // it moved: the test can fail
  }



  TEST(CausalMask, MaskedHeadsAreSummedDirectlyAndSaySo)
  {
    // On the circle every fast method would serve the unmasked head; under
    // the mask the field is the masked softmax average, summed directly.
    ModelParameters parameters;
    parameters.beta        = 3.;
    parameters.mask        = AttentionMask::Kind::causal;
    parameters.alibi_slope = 2.;
    const Model         model(parameters);
    const KernelEngine  engine;
    const std::size_t   n = 300;
    const PointSet      x = testing::random_points(2, n, 5, true);
    std::vector<double> w(n, 1. / n);
    for (const double beta : {3., 0.})
      {
        Model masked = model;
        masked.beta  = beta;
        const AttentionField field(masked, engine, FieldParameters());
        PointSet             v;
        field.evaluate(masked.layers[0], x, x, w, v);
        for (const std::size_t i : {std::size_t(0), std::size_t(7), n - 1})
          {
            double z = 0., s[2] = {0., 0.};
            for (std::size_t j = 0; j <= i; ++j)
              {
                const double k =
                  std::exp(beta * (x[i][0] * x[j][0] + x[i][1] * x[j][1]) -
                           2. * double(i - j) / n);
                z += k;
                s[0] += k * x[j][0];
                s[1] += k * x[j][1];
              }
            const double dot = (s[0] * x[i][0] + s[1] * x[i][1]) / z;
            for (unsigned int c = 0; c < 2; ++c)
              EXPECT_NEAR(v[i][c], s[c] / z - dot * x[i][c], 1e-13)
                << "beta " << beta << ", token " << i;
          }
        if (beta > 0.)
          {
            const std::vector<std::string> report = field.method_report();
            ASSERT_EQ(report.size(), 1u);
            expect_words(report[0],
                         {"direct", "circle fourier", "causal mask"});
          }
      }
  }



  TEST(CausalMask, TheDensitySolverAndAStraySlopeAreRefused)
  {
    expect_words(input_error_of([] {
                   testing::parameters_from(
                     "subsection Model\n set mask = causal\nend\n"
                     "subsection Density\n set enabled = true\nend\n");
                 }),
                 {"Model/mask", "density", "M x [0, 1]"});
    expect_words(input_error_of([] {
                   testing::parameters_from(
                     "subsection Model\n set alibi slope = 1\nend\n");
                 }),
                 {"Model/alibi slope", "causal"});
    EXPECT_EQ(input_error_of([] {
                testing::parameters_from(
                  "subsection Model\n set mask = causal\n"
                  " set alibi slope = 1\nend\n");
              }),
              "");
  }



  TEST(TransformerHeads, TheExponentIsEvaluatedInDkDimensions)
  {
    // d = 4, d_k = 2: X(x_i) = sum_j k_ij V x_j / sum_j k_ij with
    // k_ij = exp(beta <Q x_i, K x_j>), Q and K 2 x 4, by hand.
    ModelParameters parameters;
    parameters.geometry       = Geometry::euclidean;
    parameters.dimension      = 4;
    parameters.head_dimension = 2;
    parameters.beta           = 0.7;
    parameters.Q              = "1, 0, 0.5, 0; 0, 1, 0, -0.5";
    parameters.K              = "random";
    parameters.V              = "diagonal 1, -1, 0.5, 2";
    const Model   model(parameters);
    const Matrix &K = model.layers[0].heads[0].K;
    ASSERT_EQ(K.rows, 2u);
    ASSERT_EQ(K.columns, 4u);
    const double              Q[2][4] = {{1, 0, 0.5, 0}, {0, 1, 0, -0.5}};
    const double              V[4]    = {1, -1, 0.5, 2};
    const KernelEngine        engine;
    const std::size_t         n = 50;
    const PointSet            x = testing::random_points(4, n, 3);
    const std::vector<double> w(n, 1. / n);
    for (const FieldMethodKind method :
         {FieldMethodKind::direct, FieldMethodKind::automatic})
      {
        FieldParameters field_parameters;
        field_parameters.method = method;
        const AttentionField field(model, engine, field_parameters);
        PointSet             v;
        field.evaluate(model.layers[0], x, x, w, v);
        for (std::size_t i = 0; i < n; ++i)
          {
            double z = 0., s[4] = {};
            for (std::size_t j = 0; j < n; ++j)
              {
                double e = 0.;
                for (unsigned int r = 0; r < 2; ++r)
                  {
                    double q = 0., k = 0.;
                    for (unsigned int c = 0; c < 4; ++c)
                      {
                        q += Q[r][c] * x[i][c];
                        k += K(r, c) * x[j][c];
                      }
                    e += q * k;
                  }
                const double kij = std::exp(0.7 * e);
                z += kij;
                for (unsigned int c = 0; c < 4; ++c)
                  s[c] += kij * V[c] * x[j][c];
              }
            for (unsigned int c = 0; c < 4; ++c)
              EXPECT_NEAR(v[i][c], s[c] / z, 1e-12);
          }
      }
  }



  TEST(TransformerHeads, MatricesOfTheWrongShapeAreRefused)
  {
    ModelParameters parameters;
    parameters.dimension      = 4;
    parameters.head_dimension = 2;
    parameters.Q              = "1, 0, 0, 0; 0, 1, 0, 0; 0, 0, 1, 0";
    expect_words(input_error_of([&] { Model model(parameters); }),
                 {"Model/Q", "3 rows", "2 x 4"});
    parameters.Q = "diagonal 1, 2, 3, 4";
    expect_words(input_error_of([&] { Model model(parameters); }),
                 {"Model/Q", "4 diagonal entries", "give 2"});
    parameters.Q = "file";
    expect_words(input_error_of([&] { Model model(parameters); }),
                 {"Model/Q", "Model/weights file"});
    expect_words(input_error_of([] {
                   testing::parameters_from(
                     "subsection Model\n set dimension = 3\n"
                     " set head dimension = 4\nend\n");
                 }),
                 {"Model/head dimension", "<= Model/dimension = 3"});
  }



  TEST(TransformerHeads, WeightsAreReadFromAFileByLayerAndHead)
  {
    // Two layers of two heads (d = 3, d_k = 2) and a feed-forward flow, all
    // from one safetensors file, read back exactly.
    const unsigned int     d = 3, d_k = 2;
    std::vector<F64Tensor> tensors;
    unsigned int           seed = 1;
    for (unsigned int l = 0; l < 2; ++l)
      {
        for (unsigned int h = 0; h < 2; ++h)
          for (const std::string m : {"Q", "K", "V"})
            {
              const std::size_t rows = m == "V" ? d : d_k;
              tensors.push_back({WeightNames::head(l, h, m),
                                 {rows, d},
                                 values(rows * d, seed++)});
            }
        tensors.push_back(
          {WeightNames::feed_forward(l, "W"), {d, d}, values(d * d, seed++)});
        tensors.push_back(
          {WeightNames::feed_forward(l, "b"), {d}, values(d, seed++)});
      }
    ModelParameters parameters;
    parameters.dimension       = d;
    parameters.head_dimension  = d_k;
    parameters.n_heads         = 2;
    parameters.layer_durations = {1., 1.};
    parameters.Q = parameters.K = parameters.V = "file";
    parameters.feed_forward                    = true;
    parameters.feed_forward_W                  = "file";
    parameters.feed_forward_b                  = "file";
    parameters.weights_file = write_safetensors("model.safetensors", tensors);
    const Model model(parameters);
    std::size_t t = 0;
    for (unsigned int l = 0; l < 2; ++l)
      {
        for (unsigned int h = 0; h < 2; ++h)
          {
            const AttentionHead &head = model.layers[l].heads[h];
            EXPECT_EQ(head.Q.entries, tensors[t++].values);
            EXPECT_EQ(head.K.entries, tensors[t++].values);
            EXPECT_EQ(head.V.entries, tensors[t++].values);
          }
        EXPECT_EQ(model.layers[l].feed_forward.W.entries, tensors[t++].values);
        EXPECT_EQ(model.layers[l].feed_forward.b, tensors[t++].values);
      }

    // A key matrix of shape d x d where d_k x d is expected.
    tensors[1].shape        = {d, d};
    tensors[1].values       = values(d * d, 99);
    parameters.weights_file = write_safetensors("wrong.safetensors", tensors);
    expect_words(input_error_of([&] { Model model(parameters); }),
                 {"wrong.safetensors",
                  "layers.0.heads.0.K",
                  "expected shape (2, 3), found (3, 3)"});
  }



  TEST(TransformerHeads, TheGpt2ExampleReadsTheWeightsOfTheScript)
  {
    // examples/gpt2_heads/run_with_weights.sh at a small size: the
    // script's file, every matrix 'file', read back exactly.
    const std::filesystem::path directory =
      testing::scratch_directory("gpt2_example");
    const std::string out = (directory / "gpt2").string();
    // Debian's python3 with python3-numpy, which scripts/setup.sh installs.
    const std::string command = "/usr/bin/python3 " ATTNFLOW_SOURCE_DIR
                                "/scripts/make_gpt2_weights.py --out " +
                                out +
                                " --layers 3 --heads 2 --dimension 16 "
                                "--head-dimension 4 > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const Parameters p =
      read_parameters(ATTNFLOW_SOURCE_DIR "/examples/gpt2_heads/gpt2_heads.prm",
                      {"Model/weights file=" + out + ".safetensors",
                       "Model/Q=file",
                       "Model/K=file",
                       "Model/V=file",
                       "Model/dimension=16",
                       "Model/head dimension=4",
                       "Model/number of heads=2",
                       "Output/directory=" + (directory / "run").string()});
    const Model model(p.model);
    ASSERT_EQ(model.layers.size(), 3u);
    for (unsigned int l = 0; l < 3; ++l)
      for (unsigned int h = 0; h < 2; ++h)
        {
          const AttentionHead &head = model.layers[l].heads[h];
          EXPECT_EQ(
            head.Q.entries,
            read_tensor(out + ".npz", WeightNames::head(l, h, "Q")).values);
          EXPECT_EQ(
            head.K.entries,
            read_tensor(out + ".npz", WeightNames::head(l, h, "K")).values);
          EXPECT_EQ(
            head.V.entries,
            read_tensor(out + ".npz", WeightNames::head(l, h, "V")).values);
        }
  }



  TEST(FeedForward, TokensWithoutAttentionFollowTheFeedForwardOde)
  {
    // V = 0: x' = sigma(W x + b) in R^2 (tanh), and on S^2 projected on
    // the tangent space (gelu), against RK4 with small steps.
    for (const Geometry geometry : {Geometry::euclidean, Geometry::sphere})
      {
        ModelParameters parameters;
        parameters.geometry     = geometry;
        parameters.dimension    = geometry == Geometry::sphere ? 3 : 2;
        parameters.V            = "zero";
        parameters.feed_forward = true;
        parameters.feed_forward_activation =
          geometry == Geometry::sphere ? Activation::gelu : Activation::tanh;
        parameters.feed_forward_W = geometry == Geometry::sphere ?
                                      "0.5, -1, 0; 1, 0.2, 0.3; 0, -0.4, 1" :
                                      "0.5, -1; 1, 0.2";
        parameters.feed_forward_b =
          geometry == Geometry::sphere ? "0.1, -0.3, 0.2" : "0.1, -0.3";
        const Model        model(parameters);
        const unsigned int d = parameters.dimension;
        const KernelEngine engine;
        const PointSet     x0 =
          testing::random_points(d, 5, 11, geometry == Geometry::sphere);
        const double T = 2.;
        TokenSolver  solver(model, tight_time(), engine, x0);
        solver.advance_to(T);

        const SquareMatrix &W = model.layers[0].feed_forward.W;
        const auto          f = [&](const std::vector<double> &x) {
          std::vector<double> v(d);
          double              norm = 0., dot = 0.;
          for (unsigned int k = 0; k < d; ++k)
            norm += x[k] * x[k];
          norm = geometry == Geometry::sphere ? std::sqrt(norm) : 1.;
          for (unsigned int r = 0; r < d; ++r)
            {
              double z = model.layers[0].feed_forward.b[r];
              for (unsigned int c = 0; c < d; ++c)
                z += W(r, c) * x[c] / norm;
              v[r] = geometry == Geometry::sphere ?
                                0.5 * z * std::erfc(-z / std::sqrt(2.)) :
                                std::tanh(z);
              dot += v[r] * x[r] / norm;
            }
          if (geometry == Geometry::sphere)
            for (unsigned int k = 0; k < d; ++k)
              v[k] -= dot * x[k] / norm;
          return v;
        };
        for (std::size_t i = 0; i < 5; ++i)
          {
            std::vector<double> x(x0[i], x0[i] + d);
            for (unsigned int s = 0; s < 20000; ++s)
              x = rk4_step(f, x, T / 20000);
            double moved = 0.;
            for (unsigned int k = 0; k < d; ++k)
              {
                EXPECT_NEAR(solver.tokens()[i][k], x[k], 1e-9);
                moved = std::max(moved, std::abs(x[k] - x0[i][k]));
              }
            EXPECT_GT(moved, 0.1);
          }
      }
  }



  TEST(FeedForward, TheDensityIsPushedForwardByTheAffineFlowAtOrderKPlusOne)
  {
    // beta = 0, V = 0, sigma = identity: x' = a x + c, so
    // N(m0, s0^2) -> N(e^{aT} m0 + (c/a)(e^{aT} - 1), e^{2aT} s0^2).
    const double a = 0.3, c = 0.2, T = 1., m0 = -0.3, s0 = 0.15;
    const double m     = std::exp(a * T) * m0 + c / a * (std::exp(a * T) - 1.);
    const double s     = std::exp(a * T) * s0;
    const auto   exact = [&](const dealii::Point<1> &x) {
      return std::exp(-0.5 * (x[0] - m) * (x[0] - m) / (s * s)) /
             std::sqrt(2. * M_PI * s * s);
    };
    for (const unsigned int degree : {0u, 1u, 2u})
      {
        std::vector<double> errors;
        for (const unsigned int refinements : {1u, 2u, 3u})
          {
            const Parameters p = testing::parameters_from(
              "subsection Model\n set geometry = euclidean\n"
              " set dimension = 1\n set beta = 0\n set V = zero\n"
              " set feed forward = true\n set feed forward W = 0.3\n"
              " set feed forward b = 0.2\nend\n"
              "subsection Initial condition\n set type = gaussian\n"
              " set means = -0.3\n set covariances = 0.0225\nend\n"
              "subsection Density\n set enabled = true\n"
              " set lower corner = -2\n set upper corner = 2\n"
              " set subdivisions = 10\nend\n",
              "feed_forward_density",
              {"Density/degree=" + std::to_string(degree),
               "Density/refinements=" + std::to_string(refinements)});
            const Model            model(p.model);
            const KernelEngine     engine;
            const InitialMeasure   measure(p.initial_condition, model, 0.);
            dealii::TimerOutput    timer(std::cout,
                                      dealii::TimerOutput::never,
                                      dealii::TimerOutput::wall_times);
            ContinuitySolver<1, 1> solver(model,
                                          p.density,
                                          engine,
                                          measure,
                                          timer);
            solver.advance_to(T);
            errors.push_back(solver.l1_distance(exact));
          }
        EXPECT_GE(std::log2(errors[1] / errors[2]), degree + 0.5)
          << "k = " << degree << " errors " << errors[0] << " " << errors[1]
          << " " << errors[2];
      }
  }



  TEST(FeedForward, TheGaussianOfE2StaysGaussianWithALinearFeedForwardFlow)
  {
    // E2 plus x' += W x + b: m' = (A + W) m + V m + b, S' = (A + W) S +
    // S (A + W)^T (doc/theory.md 1.3). The exact solution against an
    // independent integration of these equations, and 4000 tokens against
    // it within five standard errors.
    using testing::Matrix2;
    const double  beta = 1., T = 1.;
    const Matrix2 Q               = testing::matrix(1., 0.5, 0., 1.),
                  K               = testing::matrix(1., 0., 0., 1.),
                  V               = testing::matrix(-1., 0.3, 0., -0.5),
                  W               = testing::matrix(0.2, -0.8, 0.6, -0.1);
    const std::array<double, 2> b = {{0.4, -0.2}};
    const std::string           text =
      "subsection Model\n set geometry = euclidean\n set dimension = 2\n"
      " set beta = 1\n set Q = 1, 0.5; 0, 1\n set V = -1, 0.3; 0, -0.5\n"
      " set feed forward = true\n set feed forward W = 0.2, -0.8; 0.6, -0.1\n"
      " set feed forward b = 0.4, -0.2\nend\n"
      "subsection Initial condition\n set type = gaussian\n"
      " set means = 0.5, -0.2\n set covariances = 0.5, 0.1; 0.1, 0.3\nend\n"
      "subsection Tokens\n set number of tokens = 4000\nend\n"
      "subsection Time\n set integrator = rk4\n set time step = 0.05\nend\n";
    const Parameters     p = testing::parameters_from(text, "e2_feed_forward");
    const Model          model(p.model);
    const InitialMeasure measure(p.initial_condition, model);
    const ExactSolution  exact(model, measure, "test");
    const Moments        moments = exact.moments(T);

    testing::GaussianMoments y{{{0.5, -0.2}},
                               testing::matrix(0.5, 0.1, 0.1, 0.3)};
    const unsigned int       n_steps = 4000;
    const auto               f       = [&](const testing::GaussianMoments &z) {
      testing::GaussianMoments dz = testing::derivative(z, beta, Q, K, V);
      const Matrix2            WS = testing::product(W, z.S);
      for (unsigned int i = 0; i < 2; ++i)
        {
          dz.m[i] += W[i][0] * z.m[0] + W[i][1] * z.m[1] + b[i];
          for (unsigned int j = 0; j < 2; ++j)
            dz.S[i][j] += WS[i][j] + WS[j][i];
        }
      return dz;
    };
    const auto axpy = [](testing::GaussianMoments        z,
                         const double                    h,
                         const testing::GaussianMoments &dz) {
      for (unsigned int i = 0; i < 2; ++i)
        {
          z.m[i] += h * dz.m[i];
          for (unsigned int j = 0; j < 2; ++j)
            z.S[i][j] += h * dz.S[i][j];
        }
      return z;
    };
    for (unsigned int s = 0; s < n_steps; ++s)
      {
        const double                   h  = T / n_steps;
        const testing::GaussianMoments k1 = f(y), k2 = f(axpy(y, h / 2, k1)),
                                       k3 = f(axpy(y, h / 2, k2)),
                                       k4 = f(axpy(y, h, k3));
        y =
          axpy(axpy(axpy(axpy(y, h / 6, k1), h / 3, k2), h / 3, k3), h / 6, k4);
      }
    for (unsigned int i = 0; i < 2; ++i)
      {
        EXPECT_NEAR(moments.mean[i], y.m[i], 1e-10);
        for (unsigned int j = 0; j < 2; ++j)
          EXPECT_NEAR(moments.covariance(i, j), y.S[i][j], 1e-10);
      }

    const KernelEngine engine;
    const std::size_t  n = 4000;
    TokenSolver        solver(model, p.time, engine, measure.sample(n));
    solver.advance_to(T);
    const Moments tokens =
      weighted_moments(solver.tokens(), std::vector<double>(n, 1. / n));
    const Matrix2 &S = y.S;
    for (unsigned int k = 0; k < 2; ++k)
      {
        EXPECT_NEAR(tokens.mean[k], y.m[k], 5. * std::sqrt(S[k][k] / n));
        for (unsigned int l = 0; l < 2; ++l)
          EXPECT_NEAR(tokens.covariance(k, l),
                      S[k][l],
                      5. *
                        std::sqrt((S[k][k] * S[l][l] + S[k][l] * S[k][l]) / n));
      }
    // The feed-forward flow moved the mean far beyond the tolerance.
    const testing::GaussianMoments without =
      testing::integrate_moments({{{0.5, -0.2}},
                                  testing::matrix(0.5, 0.1, 0.1, 0.3)},
                                 T,
                                 beta,
                                 Q,
                                 K,
                                 V);
    EXPECT_GT(std::abs(without.m[0] - y.m[0]), 20. * std::sqrt(S[0][0] / n));
  }
} // namespace attnflow
