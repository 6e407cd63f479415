/**
 * @file
 * The MPI helpers (distributed.h) on every rank of MPI_COMM_WORLD: the owned
 * blocks cover the indices once, in rank order; the all-gather joins them;
 * an error on one rank is thrown on every rank with its kind and message;
 * the field of a block-distributed AttentionField equals the serial one bit
 * for bit. Run in serial by the suite and under `mpirun -np 3` by ctest
 * (mpi_unit_np3).
 */
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/model.h>
#include <attnflow/output_folder.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

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
} // namespace attnflow
