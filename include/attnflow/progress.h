/**
 * @file
 * The progress line a run prints at every output time: short enough for a
 * terminal of 100 columns, with the time spent, the rate and the time left.
 */
#ifndef attnflow_progress_h
#define attnflow_progress_h

#include <chrono>
#include <cmath>
#include <string>

namespace attnflow
{
  /**
   * The progress lines of a run: a header naming the columns, then one line
   * per output time with t, the energy, order parameter and clusters of the
   * tokens, the energy, mass error and clusters of the density, the first
   * distance between them, and the wall time spent, the rate (simulated time
   * per wall-clock second, column "rate") and the estimated time left, measured
   * from the first output on. Every line is at most max_width characters; the
   * full detail goes to metrics.csv and log.txt.
   */
  class ProgressReport
  {
  public:
    /** The widest line. */
    static constexpr unsigned int max_width = 100;

    /** The values of one line (NaN where a side is absent). */
    struct Values
    {
      double       t                = NAN;
      double       energy_tokens    = NAN;
      double       order_tokens     = NAN;
      unsigned int clusters_tokens  = 0;
      double       energy_density   = NAN;
      double       mass_error       = NAN;
      unsigned int clusters_density = 0;
      double       distance         = NAN;
    };

    /**
     * Lines of a run to @p end_time with tokens and/or density; @p distance
     * names the distance column ("" for none).
     */
    ProgressReport(const double       end_time,
                   const bool         tokens,
                   const bool         density,
                   const std::string &distance);

    /** The header line. */
    std::string
    header() const;

    /** The line of the output with @p values, timed now. */
    std::string
    line(const Values &values);

    /**
     * Continues the lines of a run resumed at time @p t after
     * @p seconds_spent of wall time before (checkpoints): the time spent
     * counts on from there, the rate is measured from @p t on.
     */
    void
    resume(const double t, const double seconds_spent);

    /** The wall time since the run started (with resume(), before too). */
    double
    seconds_spent() const;

    /** @p seconds as "42s", "12m05s", "3h05m". */
    static std::string
    format_duration(const double seconds);

  private:
    using Clock = std::chrono::steady_clock;
    double            end_time;
    bool              tokens, density;
    std::string       distance;
    Clock::time_point start;
    /** The time and wall clock of the first line. */
    double            first_t = 0.;
    Clock::time_point first_wall;
    bool              started = false;
  };
} // namespace attnflow

#endif
