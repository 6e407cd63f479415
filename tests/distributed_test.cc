/**
 * @file
 * The MPI helpers (distributed.h) on every rank of MPI_COMM_WORLD: the owned
 * blocks cover the indices once, in rank order; the all-gather joins them;
 * an error on one rank is thrown on every rank with its kind and message;
 * the field of a block-distributed AttentionField equals the serial one bit
 * for bit; the ranks choose one method together and share its moments,
 * and the field keeps the serial bits, with the targets in blocks or each
 * rank's own. Run in serial by the suite and under `mpirun -np 3` by ctest
 * (mpi_unit_np3).
 */
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/field_method_choice.h>
#include <attnflow/model.h>
#include <attnflow/output_folder.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "method_points.h"
#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    const MPI_Comm world = MPI_COMM_WORLD;

    int
    rank()
    {
      int r = 0;
      MPI_Comm_rank(world, &r);
      return r;
    }

    /**
     * A test's model from the settings @p model_section of its Model
     * section, with its parameters and a one-thread engine.
     */
    struct ModelCase
    {
      ModelCase(const std::string &model_section, const std::string &name)
          : parameters(testing::parameters_from("subsection Model\n" +
                                                  model_section + "end\n",
                                                name))
          , model(parameters.model)
          , engine(1)
      {}

      /** The field at each rank's own targets (the density's sharing). */
      AttentionField
      own_targets_field() const
      {
        return AttentionField(model,
                              engine,
                              parameters.field,
                              world,
                              AttentionField::Sharing::own_targets);
      }

      const Parameters   parameters;
      const Model        model;
      const KernelEngine engine;
    };

    /** The rows @p range of @p points. */
    PointSet
    rows(const PointSet &points, const IndexRange range)
    {
      PointSet block(points.dimension, range.size());
      std::copy(points.coordinates.begin() + range.begin * points.dimension,
                points.coordinates.begin() + range.end * points.dimension,
                block.coordinates.begin());
      return block;
    }

  } // namespace



  TEST(Distributed, OwnedRangesCoverEveryIndexOnceInRankOrder)
  {
    const unsigned int P = n_ranks(world);
    for (const std::size_t n : {0ul, 1ul, 2ul, 7ul, 1000ul})
      {
        const IndexRange mine = owned_range(n, world);
        // The ends of all blocks, gathered: block r ends where r + 1 starts.
        std::vector<unsigned long> begins(P), ends(P);
        const unsigned long        b = mine.begin, e = mine.end;
        MPI_Allgather(&b,
                      1,
                      MPI_UNSIGNED_LONG,
                      begins.data(),
                      1,
                      MPI_UNSIGNED_LONG,
                      world);
        MPI_Allgather(&e,
                      1,
                      MPI_UNSIGNED_LONG,
                      ends.data(),
                      1,
                      MPI_UNSIGNED_LONG,
                      world);
        EXPECT_EQ(begins.front(), 0u);
        EXPECT_EQ(ends.back(), n);
        for (unsigned int r = 0; r < P; ++r)
          {
            EXPECT_LE(begins[r], ends[r]);
            EXPECT_LE(ends[r] - begins[r], n / P + 1);
            if (r + 1 < P)
              {
                EXPECT_EQ(ends[r], begins[r + 1]);
              }
          }
      }
  }



  TEST(Distributed, AllGatherJoinsTheBlocksInOrder)
  {
    const std::size_t   n = 11, row = 3;
    const IndexRange    mine = owned_range(n, world);
    std::vector<double> local;
    for (std::size_t i = mine.begin; i < mine.end; ++i)
      for (std::size_t k = 0; k < row; ++k)
        local.push_back(10. * i + k);
    std::vector<double> all;
    all_gather_rows(world, n, row, local, all);
    ASSERT_EQ(all.size(), n * row);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < row; ++k)
        EXPECT_EQ(all[i * row + k], 10. * i + k);
  }



  TEST(Distributed, AnErrorOnTheLastRankIsThrownOnEveryRank)
  {
    const int last = n_ranks(world) - 1;
    // Each kind keeps its type and its message on every rank.
    try
      {
        collective(world, [&]() {
          if (rank() == last)
            throw InputError("Model/beta", "is x, not a number");
        });
        FAIL() << "no exception";
      }
    catch (const InputError &e)
      {
        EXPECT_EQ(std::string(e.what()), "Model/beta: is x, not a number");
      }
    try
      {
        collective(world, [&]() {
          if (rank() == last)
            throw NumericalError("the attention field is not finite");
        });
        FAIL() << "no exception";
      }
    catch (const NumericalError &e)
      {
        EXPECT_EQ(std::string(e.what()), "the attention field is not finite");
      }
    try
      {
        on_root(world, [&]() {
          throw OutputError("/out/metrics.csv", "the disk is full");
        });
        FAIL() << "no exception";
      }
    catch (const OutputError &e)
      {
        EXPECT_EQ(std::string(e.what()),
                  "cannot write '/out/metrics.csv': the disk is full");
      }
    // Each rank's kind travels as a digit: out of memory has no message.
    try
      {
        collective(world, [&]() {
          if (rank() == last)
            throw std::bad_alloc();
        });
        FAIL() << "no exception";
      }
    catch (const std::bad_alloc &)
      {}
    // Nothing thrown anywhere: nothing thrown, and the work ran everywhere.
    int ran = 0;
    EXPECT_NO_THROW(collective(world, [&]() { ran = 1; }));
    EXPECT_EQ(ran, 1);
  }



  TEST(Distributed, BlockFieldEqualsTheSerialFieldBitForBit)
  {
    // Tokens in R^3, two heads, USA and softmax: the field at n targets
    // from the ranks' blocks against one rank's whole sum (MPI_COMM_SELF).
    for (const char *normalization : {"softmax", "uniform"})
      {
        const Parameters p = testing::parameters_from(
          std::string("subsection Model\n set geometry = euclidean\n"
                      " set dimension = 3\n set beta = 2\n"
                      " set number of heads = 2\n set normalization = ") +
            normalization +
            "\n set Q = random\n set K = random\n set V = random\nend\n",
          "distributed_field");
        const Model          model(p.model);
        const KernelEngine   engine(1);
        const AttentionField serial(model, engine, p.field, MPI_COMM_SELF);
        const AttentionField shared(model, engine, p.field, world);
        PointSet             points(3, 517);
        for (std::size_t i = 0; i < points.size(); ++i)
          for (unsigned int k = 0; k < 3; ++k)
            points[i][k] = std::sin(1.3 * i + 0.7 * k);
        const std::vector<double> weights(points.size(), 1. / points.size());
        PointSet                  expected, velocity;
        serial.evaluate(model.layers[0], points, points, weights, expected);
        shared.evaluate(model.layers[0], points, points, weights, velocity);
        EXPECT_EQ(velocity.coordinates, expected.coordinates);
        EXPECT_EQ(shared.energy(model.layers[0], points, weights),
                  serial.energy(model.layers[0], points, weights));
      }
  }



  TEST(Distributed, FirstMessageIsTheLowestRanksOnEveryRank)
  {
    const unsigned int P = n_ranks(world);
    // Every rank but 0 has a message: rank 1's wins (none with one rank).
    const RankMessage first =
      first_message(world, rank() > 0 ? "rank " + std::to_string(rank()) : "");
    EXPECT_EQ(first.message, P > 1 ? "rank 1" : "");
    EXPECT_EQ(first.rank, P > 1 ? 1u : P);
    const RankMessage none = first_message(world, "");
    EXPECT_EQ(none.message, "");
    EXPECT_EQ(none.rank, P);
  }



  TEST(Distributed, TheRanksChooseOneMethodForTheirOwnTargets)
  {
    // On S^2 at beta = 4 the harmonics serve 3000 targets of 3000 sources,
    // and refuse a single target (the direct sum is cheaper): when the last
    // rank has one, every rank takes the direct sum, and says why.
    const unsigned int P = n_ranks(world);
    const PointSet     sources =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, 3000, 32);
    const std::vector<double> w(sources.size(), 1. / sources.size());
    const std::vector<double> A     = {4., 0., 0., 0., 4., 0., 0., 0., 4.};
    const bool                last  = rank() == static_cast<int>(P) - 1;
    const PointSet            first = rows(sources, {0, 1});
    const KernelSumProblem
      uneven{last ? first : sources, sources, w, sources, A, 1e-10, world};
    const FieldMethodChoice choice =
      make_field_methods(FieldMethodKind::automatic, 1);
    EXPECT_EQ(choice.choose(uneven, "head"), nullptr);
    // Every rank refuses the first two alike; the harmonics only the last.
    EXPECT_TRUE(
      testing::mentions(choice.report(),
                        "head: direct; refused tensor product: the sources "
                        "are not a tensor grid (the distinct coordinates per "
                        "axis form more combinations than there are "
                        "sources); refused sphere pruned: no gain"))
      << choice.report()[0];
    const std::string on_rank = P > 1 ? " (on rank " + std::to_string(P - 1) +
                                          " of " + std::to_string(P) + ")" :
                                        "";
    const std::string shared =
      P > 1 ? " shared by " + std::to_string(P) + " ranks" : "";
    EXPECT_TRUE(
      testing::mentions(choice.report(),
                        "refused sphere harmonics: no gain over the direct "
                        "sum: degree L = 21 for 3000 sources" +
                          shared + " and 1 targets cost about "))
      << choice.report()[0];
    const std::string line = choice.report()[0];
    const std::string tail = "kernel pairs, the direct sum 3000" + on_rank;
    ASSERT_GE(line.size(), tail.size());
    EXPECT_EQ(line.substr(line.size() - tail.size()), tail);

    // No target on the last rank: the others decide (one rank: no gain).
    const PointSet none(3, 0);
    const KernelSumProblem
      empty_last{last ? none : sources, sources, w, sources, A, 1e-10, world};
    const FieldMethod *for_empty = choice.choose(empty_last, "empty");
    if (P > 1)
      {
        ASSERT_NE(for_empty, nullptr);
        EXPECT_EQ(for_empty->name(), "sphere harmonics");
        // The rank without targets still sums its share of the moments:
        // the others get the sums of one rank alone, bit for bit.
        const KernelEngine     engine(1);
        const KernelSumProblem alone{last ? none : sources,
                                     sources,
                                     w,
                                     sources,
                                     A,
                                     1e-10};
        KernelSums shared, serial;
        evaluate_guarded(*for_empty, empty_last, engine, shared);
        evaluate_guarded(*for_empty, alone, engine, serial);
        EXPECT_EQ(shared.normaliser, serial.normaliser);
        EXPECT_EQ(shared.values.coordinates, serial.values.coordinates);
      }
    else
      {
        EXPECT_EQ(for_empty, nullptr);
      }

    // 3000 targets on every rank: the harmonics on every rank.
    const KernelSumProblem even{sources, sources, w, sources, A, 1e-10, world};
    const FieldMethod     *chosen = choice.choose(even, "even");
    ASSERT_NE(chosen, nullptr);
    EXPECT_EQ(chosen->name(), "sphere harmonics");
  }



  TEST(Distributed, ARankWithoutTargetsLeavesTheTensorProductToTheOthers)
  {
    // The quadrature points of a 16 x 16 mesh, none on the last rank (a mesh
    // of fewer cells than ranks): the tensor product on every rank, with the
    // serial sums on the others; on one rank alone, no gain.
    const unsigned int        P    = n_ranks(world);
    const bool                last = rank() == static_cast<int>(P) - 1;
    const testing::MeshPoints mesh = testing::mesh_points<2>(16, 2, 1., 31);
    const PointSet            values(2, mesh.sources.size());
    const PointSet            none(2, 0);
    const std::vector<double> A       = {1., 0., 0., 1.};
    const PointSet           &targets = last ? none : mesh.targets;
    const KernelSumProblem
      shared{targets, mesh.sources, mesh.weights, values, A, 1e-10, world};
    const FieldMethodChoice choice =
      make_field_methods(FieldMethodKind::automatic, 1);
    const FieldMethod *chosen = choice.choose(shared, "head");
    if (P == 1)
      {
        EXPECT_EQ(chosen, nullptr);
        return;
      }
    ASSERT_NE(chosen, nullptr);
    EXPECT_EQ(chosen->name(), "tensor product");
    const KernelSumProblem alone{targets,
                                 mesh.sources,
                                 mesh.weights,
                                 values,
                                 A,
                                 1e-10};
    const KernelEngine     engine(1);
    KernelSums             in_parallel, serial;
    evaluate_guarded(*chosen, shared, engine, in_parallel);
    evaluate_guarded(*chosen, alone, engine, serial);
    EXPECT_EQ(in_parallel.normaliser.size(), targets.size());
    EXPECT_EQ(in_parallel.normaliser, serial.normaliser);
    EXPECT_EQ(in_parallel.shift, serial.shift);
  }



  TEST(Distributed, TheRanksShareTheMomentsAndKeepTheSerialBits)
  {
    // The circle and S^2 at beta = 4, 6007 sources on every rank (an odd
    // number, so that the tree halves unevenly) and 3000 targets: the
    // expansions' moments shared by the ranks give the serial field bit for
    // bit, both with the targets in blocks (the tokens) and with each rank's
    // own block (the density), and the direct field to the tolerance.
    for (const unsigned int d : {2u, 3u})
      {
        const ModelCase     c(" set geometry = sphere\n set dimension = " +
                            std::to_string(d) +
                            "\n set beta = 4\n set normalization = softmax\n",
                          "own_targets");
        const Model        &model  = c.model;
        const KernelEngine &engine = c.engine;
        const Parameters   &p      = c.parameters;
        Parameters          direct = p;
        direct.field.method        = FieldMethodKind::direct;
        const AttentionField serial(model, engine, p.field);
        const AttentionField exact(model, engine, direct.field);
        const AttentionField blocks(model, engine, p.field, world);
        const AttentionField own = c.own_targets_field();
        const PointSet       sources =
          testing::sphere_points(testing::SphereMeasure::uniform, d, 6007, 5);
        const PointSet targets =
          testing::sphere_points(testing::SphereMeasure::uniform, d, 3000, 6);
        const std::vector<double> w(sources.size(), 1. / sources.size());
        const IndexRange          mine = owned_range(targets.size(), world);
        PointSet                  expected, reference, in_blocks, velocity;
        serial.evaluate(model.layers[0], targets, sources, w, expected);
        exact.evaluate(model.layers[0], targets, sources, w, reference);
        blocks.evaluate(model.layers[0], targets, sources, w, in_blocks);
        own.evaluate(model.layers[0],
                     rows(targets, mine),
                     sources,
                     w,
                     velocity);
        EXPECT_EQ(in_blocks.coordinates, expected.coordinates) << "d = " << d;
        EXPECT_EQ(velocity.coordinates, rows(expected, mine).coordinates)
          << "d = " << d;
        double to_direct = 0.;
        for (std::size_t k = 0; k < expected.coordinates.size(); ++k)
          to_direct = std::max(to_direct,
                               std::abs(expected.coordinates[k] -
                                        reference.coordinates[k]));
        EXPECT_LT(to_direct, 4e-10) << "d = " << d;
        // One method for all ranks, and the targets of all ranks counted.
        const std::string method =
          d == 2 ? "circle fourier" : "sphere harmonics";
        for (const AttentionField *field : {&blocks, &own})
          EXPECT_TRUE(testing::mentions(field->method_report(),
                                        "layer 1, head 1: " + method +
                                          " (0 of 3000 targets summed "
                                          "directly by the guard)"))
            << field->method_report()[0];
        // The energy, its sums shared alike.
        EXPECT_EQ(blocks.energy(model.layers[0], sources, w),
                  serial.energy(model.layers[0], sources, w));
      }
  }



  TEST(Distributed, TokensNearTheNoGainThresholdChooseAsInASerialRun)
  {
    // S^2 at beta = 4: the energy of 400 tokens and the field of 1700 are
    // near the harmonics' no-gain threshold. With the targets in blocks the
    // ranks choose what one rank chooses, so the report and the bits are
    // the serial ones on any number of ranks.
    const ModelCase     c(" set geometry = sphere\n set dimension = 3\n"
                          " set beta = 4\n set normalization = softmax\n",
                      "threshold");
    const Model        &model  = c.model;
    const KernelEngine &engine = c.engine;
    const Parameters   &p      = c.parameters;
    for (const std::size_t n : {400ul, 1700ul})
      {
        const AttentionField serial(model, engine, p.field);
        const AttentionField blocks(model, engine, p.field, world);
        const PointSet       x =
          testing::sphere_points(testing::SphereMeasure::uniform, 3, n, 7);
        const std::vector<double> w(n, 1. / n);
        PointSet                  expected, velocity;
        serial.evaluate(model.layers[0], x, x, w, expected);
        blocks.evaluate(model.layers[0], x, x, w, velocity);
        EXPECT_EQ(velocity.coordinates, expected.coordinates) << "n = " << n;
        EXPECT_EQ(blocks.energy(model.layers[0], x, w),
                  serial.energy(model.layers[0], x, w))
          << "n = " << n;
        EXPECT_EQ(blocks.method_report(), serial.method_report())
          << "n = " << n;
      }
  }



  TEST(Distributed, AnErrorInTheFieldOnSomeRanksIsThrownOnEveryRank)
  {
    // Two heads through the harmonics at each rank's own targets, the last
    // rank without targets (unless it is the only one), and one NaN weight:
    // the guard rejects every target, and the direct sum of the ranks with
    // targets throws, while the last rank goes on to the second head's
    // choice. Every rank must end with that error, none wait.
    const ModelCase      c(" set geometry = sphere\n set dimension = 3\n"
                           " set beta = 4\n set normalization = softmax\n"
                           " set number of heads = 2\n",
                      "error_in_field");
    const Model         &model = c.model;
    const AttentionField own   = c.own_targets_field();
    const PointSet       sources =
      testing::sphere_points(testing::SphereMeasure::uniform, 3, 3000, 8);
    std::vector<double> w(sources.size(), 1. / sources.size());
    w[17]                 = std::nan("");
    const unsigned int P  = n_ranks(world);
    const bool         no = P > 1 && rank() == static_cast<int>(P) - 1;
    const PointSet     targets =
      no ? PointSet(3, 0) : rows(sources, {0, sources.size()});
    PointSet velocity;
    try
      {
        own.evaluate(model.layers[0], targets, sources, w, velocity);
        FAIL() << "no exception";
      }
    catch (const std::exception &e)
      {
        EXPECT_EQ(std::string(e.what()),
                  "KernelEngine: weights must be non-negative");
      }
  }



  TEST(Distributed, AFieldThatOverflowsOnOneRanksTargetsStopsEveryRank)
  {
    // Uniform attention in R^2 at each rank's own targets: rank 0's target
    // at x = (800, 0) overflows exp(<x, y>), the others' at the origin do
    // not. Every rank throws the NumericalError, none waits.
    const ModelCase      c(" set geometry = euclidean\n set dimension = 2\n"
                           " set beta = 1\n set normalization = uniform\n",
                      "overflow_on_one_rank");
    const Model         &model = c.model;
    const AttentionField own   = c.own_targets_field();
    const PointSet       sources =
      testing::sphere_points(testing::SphereMeasure::uniform, 2, 100, 9);
    const std::vector<double> w(sources.size(), 1. / sources.size());
    PointSet                  target(2, 1);
    if (rank() == 0)
      target[0][0] = 800.;
    PointSet velocity;
    EXPECT_THROW(own.evaluate(model.layers[0], target, sources, w, velocity),
                 NumericalError);
  }
} // namespace attnflow
