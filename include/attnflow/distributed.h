/**
 * @file
 * Runs under MPI (`mpirun -np P attnflow RUN.prm`): which rank writes, which
 * targets a rank owns, the all-gather of the owned rows, and errors that are
 * thrown on every rank alike, so that no rank waits for one that failed
 * (doc/theory.md, section 10).
 */
#ifndef attnflow_distributed_h
#define attnflow_distributed_h

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <mpi.h>

namespace attnflow
{
  /**
   * Whether this process is rank 0 of @p communicator: the one that writes
   * the run folder (metrics.csv, parameters.prm, the manifest, the .pvd
   * records, the tokens) and the screen.
   */
  bool
  is_root(const MPI_Comm communicator);

  /** The number of ranks of @p communicator. */
  unsigned int
  n_ranks(const MPI_Comm communicator);

  /** A contiguous range [begin, end) of indices. */
  struct IndexRange
  {
    std::size_t begin = 0, end = 0;

    /** The number of indices in the range. */
    std::size_t
    size() const
    {
      return end - begin;
    }
  };

  /**
   * The block of the targets 0 .. @p n - 1 that this rank of @p communicator
   * owns: rank r of P holds [r n / P, (r + 1) n / P), so the blocks are
   * contiguous, in rank order, and differ in size by at most one.
   */
  IndexRange
  owned_range(const std::size_t n, const MPI_Comm communicator);

  /**
   * The rows of all ranks, one after another in rank order, on every rank:
   * @p local holds the rows of owned_range(n, communicator), @p row_size
   * doubles each; @p all becomes the n rows (MPI_Allgatherv). With one rank
   * @p all is @p local.
   */
  void
  all_gather_rows(const MPI_Comm             communicator,
                  const std::size_t          n,
                  const unsigned int         row_size,
                  const std::vector<double> &local,
                  std::vector<double>       &all);

  /**
   * The vectors @p local of all ranks of @p communicator one after another
   * in rank order, on every rank (MPI_Allgatherv; the sizes may differ).
   * With one rank, @p local.
   */
  std::vector<double>
  all_gather_concatenated(const MPI_Comm             communicator,
                          const std::vector<double> &local);

  /**
   * The vectors @p parts one after another: the parts of all ranks that
   * Utilities::MPI::all_gather() or gather() returns, as one vector.
   */
  template <typename T>
  std::vector<T>
  concatenated(const std::vector<std::vector<T>> &parts)
  {
    std::vector<T> all;
    for (const std::vector<T> &part : parts)
      all.insert(all.end(), part.begin(), part.end());
    return all;
  }

  /**
   * Runs @p work on every rank of @p communicator. If it throws on any rank,
   * every rank throws: the failing rank its own exception, the others the
   * same kind (InputError, NumericalError, OutputError, std::bad_alloc, or
   * std::runtime_error for anything else) with the message of the lowest
   * failing rank. Collective: every rank must call it.
   *
   * @p work may call collective operations of its own if each begins with a
   * collective() (as FieldMethodChoice::choose() and the expansions' moments
   * do): a rank that fails before one of them agrees with the ranks waiting
   * in it, and the outer collective() then throws the agreed error without
   * agreeing again.
   */
  void
  collective(const MPI_Comm communicator, const std::function<void()> &work);

  /**
   * A message, the rank of the communicator it came from, and how many
   * ranks had one.
   */
  struct RankMessage
  {
    std::string  message;
    unsigned int rank = 0, count = 0;
  };

  /**
   * The lowest rank of @p communicator whose @p message is not empty, and
   * that message, on every rank, with the number of ranks whose message is
   * not empty; an empty message and the number of ranks as its rank when
   * every rank's is empty. Collective: every rank must call it.
   */
  RankMessage
  first_message(const MPI_Comm communicator, const std::string &message);

  /**
   * Runs @p work on the root only (files, the run folder) and throws its
   * exception on every rank, as collective() does.
   */
  void
  on_root(const MPI_Comm communicator, const std::function<void()> &work);

  /**
   * The end of attnflow on every rank: @p code and @p message are this
   * rank's outcome ("" when it succeeded). Waits for all ranks; when they
   * all arrive, returns the largest code of them on every rank and prints
   * the message once (on the root) when every rank has the same one, else
   * each failing rank's message with its rank. A rank that failed alone
   * (the others still compute or wait in a collective operation) prints its
   * message and ends all ranks by MPI_Abort with its code after
   * @p wait_seconds: no rank is left waiting.
   */
  int
  finish_on_every_rank(const MPI_Comm     communicator,
                       const int          code,
                       const std::string &message,
                       std::ostream      &err,
                       const double       wait_seconds = 10.);
} // namespace attnflow

#endif
