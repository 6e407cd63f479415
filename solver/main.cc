/**
 * @file
 * The attnflow program: MPI, then run_program() (the command line, the run
 * or study, and the exit codes; see program.h), on every rank of
 * `mpirun -np P attnflow RUN.prm` (doc/theory.md, section 10).
 */
#include <attnflow/program.h>

#include <deal.II/base/mpi.h>

#include <iostream>
#include <string>
#include <vector>

int
main(int argc, char **argv)
{
  // MPI for the ranks of a distributed run and for Trilinos; TBB gets this
  // rank's share of the node's cores (Parallel/number of threads is checked
  // against it).
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  return attnflow::run_program(std::vector<std::string>(argv + 1, argv + argc),
                               std::cout,
                               std::cerr);
}
