/**
 * @file
 * The attnflow program: MPI for Trilinos, then run_program() (the command
 * line, the run or study, and the exit codes; see program.h).
 */
#include <attnflow/program.h>

#include <deal.II/base/mpi.h>

#include <iostream>
#include <string>
#include <vector>

int
main(int argc, char **argv)
{
  // MPI for Trilinos' linear algebra (the implicit density schemes).
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  return attnflow::run_program(std::vector<std::string>(argv + 1, argv + argc),
                               std::cout,
                               std::cerr);
}
