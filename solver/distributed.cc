#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>
#include <attnflow/output_folder.h>

#include <chrono>
#include <exception>
#include <new>
#include <stdexcept>
#include <thread>

namespace attnflow
{
  namespace
  {
    /**
     * The kinds of exception collective() carries from rank to rank, one
     * digit each: the first character of the message it sends.
     */
    enum ErrorKind : int
    {
      input_error   = 1,
      numerical     = 2,
      output_error  = 3,
      out_of_memory = 4,
      other_error   = 5
    };

    /**
     * The exception that collective() last threw after the ranks agreed on
     * it. A collective() whose work runs another one (a field evaluation
     * whose methods agree and communicate) sees it come out of the inner one
     * on the ranks that were there, and throws it without agreeing again:
     * the failing rank's agreement has already met theirs.
     */
    thread_local std::exception_ptr agreed_error;

    /** The rank of this process in @p communicator. */
    int
    rank_of(const MPI_Comm communicator)
    {
      int rank = 0;
      MPI_Comm_rank(communicator, &rank);
      return rank;
    }

    /** The kind and message of the exception @p error. */
    ErrorKind
    classify(const std::exception_ptr &error, std::string &message)
    {
      try
        {
          std::rethrow_exception(error);
        }
      catch (const InputError &e)
        {
          message = e.what();
          return input_error;
        }
      catch (const NumericalError &e)
        {
          message = e.what();
          return numerical;
        }
      catch (const OutputError &e)
        {
          message = e.what();
          return output_error;
        }
      catch (const std::bad_alloc &)
        {
          return out_of_memory;
        }
      catch (const std::exception &e)
        {
          message = e.what();
          return other_error;
        }
      catch (...)
        {
          message = "an unknown exception";
          return other_error;
        }
    }

    /**
     * Throws an exception of @p kind whose what() is @p message: the
     * messages of InputError ("what: message") and OutputError ("cannot
     * write 'file': cause") are split back into their parts.
     */
    [[noreturn]] void
    throw_as(const ErrorKind kind, const std::string &message)
    {
      switch (kind)
        {
          case input_error:
            {
              const std::size_t colon = message.find(": ");
              if (colon != std::string::npos)
                throw InputError(message.substr(0, colon),
                                 message.substr(colon + 2));
              throw InputError("input", message);
            }
          case numerical:
            throw NumericalError(message);
          case output_error:
            {
              const std::string prefix = "cannot write '";
              const std::size_t quote  = message.find("': ", prefix.size());
              if (message.rfind(prefix, 0) == 0 && quote != std::string::npos)
                throw OutputError(message.substr(prefix.size(),
                                                 quote - prefix.size()),
                                  message.substr(quote + 3));
              throw OutputError("the run folder", message);
            }
          case out_of_memory:
            throw std::bad_alloc();
          default:
            throw std::runtime_error(message);
        }
    }
  } // namespace



  bool
  is_root(const MPI_Comm communicator)
  {
    return rank_of(communicator) == 0;
  }



  unsigned int
  n_ranks(const MPI_Comm communicator)
  {
    int size = 1;
    MPI_Comm_size(communicator, &size);
    return size;
  }



  IndexRange
  owned_range(const std::size_t n, const MPI_Comm communicator)
  {
    const std::size_t P = n_ranks(communicator);
    const std::size_t r = rank_of(communicator);
    return {r * n / P, (r + 1) * n / P};
  }



  std::vector<double>
  all_gather_concatenated(const MPI_Comm             communicator,
                          const std::vector<double> &local)
  {
    const unsigned int P = n_ranks(communicator);
    if (P == 1)
      return local;
    std::vector<int> counts(P), offsets(P);
    const int        size = static_cast<int>(local.size());
    MPI_Allgather(&size, 1, MPI_INT, counts.data(), 1, MPI_INT, communicator);
    std::size_t n = 0;
    for (unsigned int r = 0; r < P; ++r)
      {
        offsets[r] = static_cast<int>(n);
        n += counts[r];
      }
    std::vector<double> all(n);
    MPI_Allgatherv(local.data(),
                   size,
                   MPI_DOUBLE,
                   all.data(),
                   counts.data(),
                   offsets.data(),
                   MPI_DOUBLE,
                   communicator);
    return all;
  }



  void
  all_gather_rows(const MPI_Comm             communicator,
                  const std::size_t          n,
                  const unsigned int         row_size,
                  const std::vector<double> &local,
                  std::vector<double>       &all)
  {
    // The blocks of owned_range() in rank order are the rows in order.
    all = all_gather_concatenated(communicator, local);
    if (all.size() != n * row_size)
      throw std::logic_error("all_gather_rows: the ranks' blocks are not the "
                             "owned_range() of " +
                             std::to_string(n) + " rows");
  }



  void
  collective(const MPI_Comm communicator, const std::function<void()> &work)
  {
    std::exception_ptr error;
    try
      {
        work();
      }
    catch (...)
      {
        error = std::current_exception();
      }
    // One rank, or an error that a collective() inside the work has agreed
    // on: every rank throws it now, without a second agreement.
    if (n_ranks(communicator) == 1 || (error && error == agreed_error))
      {
        if (error)
          std::rethrow_exception(error);
        return;
      }
    // The kind and message of the lowest failing rank, on every rank.
    std::string message;
    std::string mine;
    if (error)
      {
        const ErrorKind kind = classify(error, message);
        mine                 = std::to_string(kind) + message;
      }
    const RankMessage first = first_message(communicator, mine);
    if (first.message.empty())
      return;
    if (!error)
      try
        {
          throw_as(static_cast<ErrorKind>(first.message[0] - '0'),
                   first.message.substr(1));
        }
      catch (...)
        {
          error = std::current_exception();
        }
    agreed_error = error;
    std::rethrow_exception(error);
  }



  RankMessage
  first_message(const MPI_Comm communicator, const std::string &message)
  {
    const int P    = n_ranks(communicator);
    int       mine = message.empty() ? P : rank_of(communicator), first = P;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, communicator);
    if (first == P)
      return {"", static_cast<unsigned int>(P), 0};
    int has = message.empty() ? 0 : 1, count = 0;
    MPI_Allreduce(&has, &count, 1, MPI_INT, MPI_SUM, communicator);
    std::string   text   = message;
    unsigned long length = text.size();
    MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG, first, communicator);
    text.resize(length);
    MPI_Bcast(text.data(), length, MPI_CHAR, first, communicator);
    return {text,
            static_cast<unsigned int>(first),
            static_cast<unsigned int>(count)};
  }



  void
  on_root(const MPI_Comm communicator, const std::function<void()> &work)
  {
    collective(communicator, [&]() {
      if (is_root(communicator))
        work();
    });
  }



  int
  finish_on_every_rank(const MPI_Comm     communicator,
                       const int          code,
                       const std::string &message,
                       std::ostream      &err,
                       const double       wait_seconds)
  {
    const unsigned int P = n_ranks(communicator);
    if (P == 1)
      {
        err << message;
        return code;
      }
    const int   rank = rank_of(communicator);
    MPI_Request arrived;
    MPI_Ibarrier(communicator, &arrived);
    if (code == 0)
      MPI_Wait(&arrived, MPI_STATUS_IGNORE);
    else
      {
        const auto start = std::chrono::steady_clock::now();
        int        done  = 0;
        while (MPI_Test(&arrived, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS &&
               !done)
          {
            const std::chrono::duration<double> waited =
              std::chrono::steady_clock::now() - start;
            if (waited.count() > wait_seconds)
              {
                err << "[rank " << rank << " of " << P << "] " << message
                    << "attnflow: the other ranks did not fail alike: ending "
                       "all ranks with exit code "
                    << code << std::endl;
                MPI_Abort(communicator, code);
              }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
      }
    int worst = code;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, communicator);
    const unsigned long hash   = std::hash<std::string>()(message);
    unsigned long       lowest = hash, highest = hash;
    MPI_Allreduce(&hash, &lowest, 1, MPI_UNSIGNED_LONG, MPI_MIN, communicator);
    MPI_Allreduce(&hash, &highest, 1, MPI_UNSIGNED_LONG, MPI_MAX, communicator);
    if (lowest == highest)
      {
        if (rank == 0)
          err << message;
      }
    else if (!message.empty())
      err << "[rank " << rank << " of " << P << "] " << message;
    return worst;
  }
} // namespace attnflow
