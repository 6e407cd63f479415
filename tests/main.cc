/**
 * @file
 * The GoogleTest main of attnflow: deal.II's exceptions throw instead of
 * aborting, so that EXPECT_THROW works; MPI is initialised for the solvers
 * that use it.
 */
#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

int
main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  dealii::deal_II_exceptions::disable_abort_on_exception();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
