/**
 * @file
 * The GoogleTest main of attnflow: deal.II's exceptions throw instead of
 * aborting, so that EXPECT_THROW works; MPI is initialised for the solvers
 * that use it; the scratch folders of the tests are removed at the end.
 */
#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

int
main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  dealii::deal_II_exceptions::disable_abort_on_exception();
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  // The scratch folders of this process (test_helpers.h).
  const std::string prefix = "attnflow_test_" + std::to_string(getpid()) + "_";
  for (const auto &entry : std::filesystem::directory_iterator(
         std::filesystem::temp_directory_path()))
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      std::filesystem::remove_all(entry.path());
  return result;
}
