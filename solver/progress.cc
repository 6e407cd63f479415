#include <attnflow/progress.h>

#include <cmath>
#include <cstdio>

namespace attnflow
{
  ProgressReport::ProgressReport(const double       end_time,
                                 const bool         tokens,
                                 const bool         density,
                                 const std::string &distance)
      : end_time(end_time)
      , tokens(tokens)
      , density(density)
      , distance(distance)
      , start(Clock::now())
      , last_print(start)
  {
    if (!tokens)
      tokens_share = 0.;
    else if (!density)
      tokens_share = 1.;
  }



  void
  ProgressReport::begin_interval(const double from, const double to)
  {
    interval_from   = from;
    interval_to     = to;
    interval_wall   = Clock::now();
    density_started = false;
  }



  std::string
  ProgressReport::step(const bool              density_side,
                       const double            t,
                       const Clock::time_point now)
  {
    if (density_side && !density_started)
      {
        density_wall    = now;
        density_started = true;
      }
    const double silent =
      std::chrono::duration<double>(now - last_print).count();
    if (!started || silent < (quiet_since_output ? 5. : 30.))
      return "";
    last_print         = now;
    quiet_since_output = false;

    // The fraction of the run done, counting the interval's two sides.
    const double length  = interval_to - interval_from;
    const double crossed = length > 0. ? (t - interval_from) / length : 1.;
    const double part    = density_side ?
                             tokens_share + (1. - tokens_share) * crossed :
                             tokens_share * crossed;
    const double done =
      (interval_from + part * length - first_t) / (end_time - first_t);
    const double spent = std::chrono::duration<double>(now - start).count();
    const double measured =
      std::chrono::duration<double>(now - first_wall).count();
    const std::string left =
      done > 0. ? format_duration(measured * (1. - done) / done) : "-";
    char text[max_width + 1];
    std::snprintf(text,
                  sizeof(text),
                  "   ... %s at t = %.4f, next output at t = %.4f | %s spent, "
                  "%s left",
                  density_side ? "density" : "tokens",
                  t,
                  interval_to,
                  format_duration(spent).c_str(),
                  left.c_str());
    return text;
  }



  void
  ProgressReport::resume(const double t, const double seconds_spent)
  {
    start = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(seconds_spent));
    first_t    = t;
    first_wall = Clock::now();
    started    = true;
  }



  double
  ProgressReport::seconds_spent() const
  {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }



  std::string
  ProgressReport::format_duration(const double seconds)
  {
    char       text[48]; // room for any long: no truncation
    const long s = std::lround(seconds);
    if (!std::isfinite(seconds) || seconds < 0.)
      return "-";
    if (s < 60)
      std::snprintf(text, sizeof(text), "%lds", s);
    else if (s < 3600)
      std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
    else if (s < 100 * 3600)
      std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else
      std::snprintf(text, sizeof(text), "%ldd", s / 86400);
    return text;
  }



  std::string
  ProgressReport::header() const
  {
    std::string text = "        t";
    if (tokens)
      text += " | tok energy  order  cl";
    if (density)
      text += " | den energy   mass-1  cl";
    if (!distance.empty())
      {
        char column[16];
        std::snprintf(column, sizeof(column), " | %9s", distance.c_str());
        text += column;
      }
    return text + " |  spent     rate   left";
  }



  std::string
  ProgressReport::line(const Values &v)
  {
    const Clock::time_point now = Clock::now();
    if (!started)
      {
        first_t    = v.t;
        first_wall = now;
        started    = true;
      }
    else if (tokens && density && density_started)
      {
        // The tokens' share of this interval, for the next one's estimate.
        const double all =
          std::chrono::duration<double>(now - interval_wall).count();
        if (all > 0.)
          tokens_share =
            std::chrono::duration<double>(density_wall - interval_wall)
              .count() /
            all;
      }
    last_print         = now;
    quiet_since_output = true;
    char part[64];
    std::snprintf(part, sizeof(part), "%9.4f", v.t);
    std::string text = part;
    if (tokens)
      {
        std::snprintf(part,
                      sizeof(part),
                      " | %11.4e %6.4f %3u",
                      v.energy_tokens,
                      v.order_tokens,
                      v.clusters_tokens);
        text += part;
      }
    if (density)
      {
        std::snprintf(part,
                      sizeof(part),
                      " | %11.4e %8.1e %3u",
                      v.energy_density,
                      v.mass_error,
                      v.clusters_density);
        text += part;
      }
    if (!distance.empty())
      {
        std::snprintf(part, sizeof(part), " | %9.2e", v.distance);
        text += part;
      }
    const double spent = std::chrono::duration<double>(now - start).count();
    const double measured =
      std::chrono::duration<double>(now - first_wall).count();
    const double rate =
      measured > 0. && v.t > first_t ? (v.t - first_t) / measured : NAN;
    std::string rate_text = "-", left_text = "-";
    if (std::isfinite(rate))
      {
        std::snprintf(part, sizeof(part), "%.2g", rate);
        rate_text = part;
        left_text = format_duration((end_time - v.t) / rate);
      }
    std::snprintf(part,
                  sizeof(part),
                  " | %6s %8s %6s",
                  format_duration(spent).c_str(),
                  rate_text.c_str(),
                  left_text.c_str());
    text += part;
    // A field wider than its column (huge counts) is cut, never wrapped.
    if (text.size() > max_width)
      text.resize(max_width);
    return text;
  }
} // namespace attnflow
