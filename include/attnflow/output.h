/**
 * @file
 * What a run writes: VTU files of the tokens with their PVD time record, the
 * metrics table as CSV, each file written whole (temporary name, then
 * rename), so a killed run never leaves a half-written file.
 */
#ifndef attnflow_output_h
#define attnflow_output_h

#include <attnflow/kernel_engine.h>
#include <attnflow/output_folder.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace attnflow
{
  /**
   * Writes @p path through @p write into "path.tmp", then renames it to
   * @p path (atomic on POSIX file systems). Throws OutputError naming the
   * file and the cause (disk full, permission), and removes the temporary
   * file, if anything fails.
   */
  void
  write_file_atomically(const std::filesystem::path               &path,
                        const std::function<void(std::ostream &)> &write);

  /**
   * A ParaView time series: the (time, file) pairs of one series, written as
   * a .pvd record after every new file (deal.II's write_pvd_record).
   */
  class PvdRecord
  {
  public:
    /** A record written to @p path. */
    explicit PvdRecord(const std::filesystem::path &path);

    /** Adds @p file_name (relative to the record) at @p time and rewrites. */
    void
    add(const double time, const std::string &file_name);

    /** Writes or reads the pairs (boost archive; checkpoints). */
    template <class Archive>
    void
    serialize(Archive &archive, const unsigned int)
    {
      archive &entries;
    }

  private:
    std::filesystem::path                       path;
    std::vector<std::pair<double, std::string>> entries;
  };

  /**
   * The tokens_NNNN.vtu series of a run and its tokens.pvd. Each token is a
   * VTK vertex; tokens in R^d with d < 3 are padded with zeros, and for
   * d > 3 the first three coordinates are shown (the full tokens are in no
   * VTU file: VTK points are 3-D). Point fields: id (the token's index),
   * speed |X(x_i)|, cluster (the label of cluster_labels()), velocity (the
   * first three components of X(x_i)). Optionally also tokens_NNNN.csv with
   * every coordinate, one token per line.
   */
  class TokenOutput
  {
  public:
    /**
     * Output into @p folder, which records every file in its manifest:
     * VTU/PVD if @p write_vtu, CSV if @p write_csv.
     */
    TokenOutput(OutputFolder &folder,
                const bool    write_vtu,
                const bool    write_csv);

    /** The name of output number @p index with @p extension, e.g.
     * tokens_0003.vtu. */
    static std::string
    file_name(const unsigned int index, const std::string &extension);

    /**
     * Writes the files of output number @p index (tokens_NNNN.*) and updates
     * tokens.pvd.
     */
    void
    write(const unsigned int               index,
          const double                     time,
          const PointSet                  &tokens,
          const PointSet                  &velocity,
          const std::vector<unsigned int> &cluster);

    /**
     * Writes or reads the PVD record of the files so far (boost archive;
     * checkpoints).
     */
    template <class Archive>
    void
    serialize(Archive &archive, const unsigned int)
    {
      if (!vtu)
        return;
      if (!record)
        record = std::make_unique<PvdRecord>(folder.add("tokens.pvd"));
      archive &*record;
    }

  private:
    /** tokens_NNNN.vtu and the PVD record. */
    void
    write_vtu(const std::string               &name,
              const unsigned int               index,
              const double                     time,
              const PointSet                  &tokens,
              const PointSet                  &velocity,
              const std::vector<unsigned int> &cluster);

    OutputFolder              &folder;
    bool                       vtu, csv;
    std::unique_ptr<PvdRecord> record;
  };

  /**
   * A table of numbers with named columns, one row per output time, written
   * as CSV (header row, full double precision) after each row.
   */
  class MetricsTable
  {
  public:
    /** Sets @p column of the current row (columns keep their first order). */
    void
    set(const std::string &column, const double value);

    /** Closes the current row; every row must have the first row's columns. */
    void
    finish_row();

    /** Writes the table to @p path (atomically). */
    void
    write(const std::filesystem::path &path) const;

    /** The finished rows (for tests and summaries). */
    const std::vector<std::vector<double>> &
    rows() const
    {
      return finished_rows;
    }

    /** The column names. */
    const std::vector<std::string> &
    columns() const
    {
      return column_names;
    }

    /** Writes or reads the table (boost archive; checkpoints). */
    template <class Archive>
    void
    serialize(Archive &archive, const unsigned int)
    {
      archive &column_names &current_row &finished_rows;
    }

  private:
    std::vector<std::string>         column_names;
    std::vector<double>              current_row;
    std::vector<std::vector<double>> finished_rows;
  };

  /**
   * Plots the metrics table @p metrics_csv (a run's metrics.csv, columns
   * @p columns) against t with gnuplot into metrics.png and metrics.svg of
   * @p folder: energy, order parameter, clusters of tokens and density, and
   * their distances (log scale). The script (metrics.gp) stays to redraw
   * the plot. Returns false, with a note on @p log, if gnuplot is missing or
   * fails; the run is complete without the plot.
   */
  bool
  plot_metrics(OutputFolder                   &folder,
               const std::vector<std::string> &columns,
               std::ostream                   &log);
} // namespace attnflow

#endif
