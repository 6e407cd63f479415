/**
 * @file
 * The parameters a convergence study can sweep, as one table: each row says
 * which entry is set, how the run's abscissa is measured, which way the
 * values get finer, and the slope of the reference line (doc/theory.md
 * sections 5.5 and 7). Adding a sweep is adding a row to sweeps().
 */
#ifndef attnflow_convergence_sweep_h
#define attnflow_convergence_sweep_h

#include <attnflow/selection.h>

#include <string>
#include <vector>

namespace attnflow
{
  /**
   * A parameter a convergence study can sweep (Convergence/sweep and
   * Convergence/series) and what the study needs to know about it.
   */
  struct Sweep
  {
    /** How the abscissa x of a run is obtained. */
    enum class Abscissa
    {
      /** 1/h, h the largest cell diameter of the run's mesh. */
      inverse_mesh_size,
      /** 1/dt, dt the last step the token integrator took. */
      inverse_token_step,
      /**
       * 1/dt, dt the last step of an implicit density scheme (1/value for
       * SSP-RK3, whose steps the CFL number decides).
       */
      inverse_density_step,
      /** 1/value: the value is a step size itself. */
      inverse_value,
      /** The value itself (a count or a degree). */
      value
    };

    /** The order in which the values get finer. */
    enum class Direction
    {
      increasing,
      decreasing
    };

    /** What the table reports between consecutive values. */
    enum class Rate
    {
      /** The order p of e ~ x^(-p): log(e_(i-1)/e_i) / log(x_i/x_(i-1)). */
      order,
      /** The reduction factor e_(i-1)/e_i (a degree sweep: no abscissa). */
      reduction_factor
    };

    /** The slope p of the reference line C x^(-p) of the plot. */
    enum class ReferenceSlope
    {
      /** None drawn. */
      none,
      /** k + 1, the order of DG(k) in h. */
      degree_plus_one,
      /** 1/2, the sampling error of n tokens. */
      one_half,
      /** The order of Time/integrator: 4 (rk4) or 1 (euler). */
      token_scheme_order,
      /**
       * The order of Density/time integrator: 3 (SSP-RK3), 2
       * (Crank–Nicolson with two or more Picard iterations), 1 otherwise.
       */
      density_scheme_order
    };

    /** What the swept parameter changes. */
    enum class Changes
    {
      /** The density. */
      density,
      /** The token trajectories. */
      tokens,
      /**
       * The number of tokens sampled from mu0: the runs need sampled tokens
       * (no tokens file), and their positions cannot be compared.
       */
      number_of_tokens
    };

    /** What every run of the sweep must satisfy (checked before any run). */
    enum class Requirement
    {
      none,
      /** A token integrator with fixed steps (not dopri5). */
      fixed_token_steps,
      /** The explicit density scheme (the only one that takes the CFL). */
      explicit_density_scheme
    };

    /** The entry set, "Section/name" (the value of Convergence/sweep). */
    std::string parameter;
    /** The short name in run labels and column headers. */
    std::string short_name;
    /** The variable of the plot's abscissa: h, dt, cfl, k, n. */
    std::string variable;
    Abscissa    abscissa;
    Direction   direction;
    Rate        rate;
    /** The slope drawn when Convergence/reference slopes = auto. */
    ReferenceSlope reference_slope;
    Changes        changes;
    Requirement    requirement;

    /** Whether the abscissa is the inverse of a step (x = 1/h, 1/dt, ...). */
    bool
    inverse() const
    {
      return abscissa != Abscissa::value;
    }

    /** The name of the abscissa column: 1/h, 1/dt, 1/cfl, k or n. */
    std::string
    abscissa_name() const
    {
      return inverse() ? "1/" + variable : variable;
    }
  };

  /** Every sweepable parameter; the first is the default sweep. */
  const std::vector<Sweep> &
  sweeps();

  /**
   * The sweeps as a selection of their parameter names, for
   * Convergence/sweep; with @p with_none first "none" (null), for
   * Convergence/series.
   */
  SelectionTable<const Sweep *>
  sweep_selection(const bool with_none);
} // namespace attnflow

#endif
