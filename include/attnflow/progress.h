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
   *
   * Between two output times, a run that is slow to reach the next one gets
   * a line after 5 s of silence and then every 30 s (step()): the side being
   * advanced, its time, and the time left estimated from the fraction of the
   * run done, where the tokens' share of an output interval is the share of
   * wall time they took in the last one (a half before there is one).
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

    /**
     * Starts the interval from output time @p from to @p to, which the
     * tokens (if any) cross first, then the density (if any).
     */
    void
    begin_interval(const double from, const double to);

    /** The clock of the lines. */
    using Clock = std::chrono::steady_clock;

    /**
     * The line to print after a step of the @p density side (else the
     * tokens) that reached @p t at wall time @p now, or "" when no line is
     * due.
     */
    std::string
    step(const bool              density_side,
         const double            t,
         const Clock::time_point now = Clock::now());

    /** @p seconds as "42s", "12m05s", "3h05m". */
    static std::string
    format_duration(const double seconds);

  private:
    double            end_time;
    bool              tokens, density;
    std::string       distance;
    Clock::time_point start;
    /** The time and wall clock of the first line. */
    double            first_t = 0.;
    Clock::time_point first_wall;
    bool              started = false;
    /** The current output interval, its start and when the density began. */
    double            interval_from = 0., interval_to = 0.;
    Clock::time_point interval_wall, density_wall;
    bool              density_started = false;
    /** The tokens' share of the wall time of the last interval. */
    double tokens_share = 0.5;
    /** When the last line (of any kind) was printed, and how many steps. */
    Clock::time_point last_print;
    bool              quiet_since_output = true;
  };
} // namespace attnflow

#endif
