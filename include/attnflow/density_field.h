/**
 * @file
 * The attention field X[rho] of a finite-element density at the quadrature
 * points of its DG space: the one place where the density meets the kernel
 * engine (doc/theory.md sections 2 and 4.3; the fast methods of section 6
 * plug in here).
 */
#ifndef attnflow_density_field_h
#define attnflow_density_field_h

#include <attnflow/dg_space.h>
#include <attnflow/kernel_engine.h>
#include <attnflow/model.h>
#include <attnflow/point_sets.h>

#include <deal.II/base/tensor.h>
#include <deal.II/base/timer.h>

#include <vector>

namespace attnflow
{
  /**
   * X[rho] on a DGSpace. The density is the weighted point measure
   *
   *   rho ~ sum_q w_q delta_{x_q},  w_q = max(rho(x_q), 0) JxW_q,
   *
   * with sources x_q the cell quadrature points of all ranks
   * (DGSpace::cell_points() of each, all-gathered: the positions once per
   * mesh, the weights at every evaluation); the targets are this rank's
   * cell points followed by its face quadrature points, numbered as in
   * DGSpace, so that the DG operator finds the velocity of each of its
   * quadrature points at that index (doc/theory.md section 10). The ranks
   * share out the fast methods' work on the sources (the moments of the
   * expansions; AttentionField::Sharing::own_targets). Each evaluate() is
   * timed as "density field".
   */
  template <int dim, int spacedim>
  class DensityField
  {
  public:
    /**
     * The field of @p model computed with @p engine on @p space (over the
     * ranks that share its mesh), timed in @p timer; the three must outlive
     * it. Call reinit() before use and after every change of the mesh.
     */
    DensityField(const Model                  &model,
                 const KernelEngine           &engine,
                 const DGSpace<dim, spacedim> &space,
                 dealii::TimerOutput          &timer,
                 const FieldParameters        &field_parameters);

    /**
     * Collects the targets of the current mesh of the space and the
     * sources of all ranks (collective).
     */
    void
    reinit();

    /**
     * The weights w_q = max(rho(x_q), 0) JxW_q of this rank's cell points:
     * the non-negative part of rho as a measure.
     */
    std::vector<double>
    source_weights(const DensityVector &rho) const;

    /**
     * The sources of all ranks (cell points, rank after rank) with their
     * source_weights(@p rho): the density as a weighted point measure, on
     * every rank (collective).
     */
    WeightedPoints
    measure(const DensityVector &rho) const;

    /**
     * X[rho] under @p layer at every target of this rank, into velocity():
     * one kernel sum of the sources of all ranks with source_weights(@p rho)
     * (collective).
     */
    void
    evaluate(const DensityVector &rho, const Layer &layer);

    /** The field at the targets (the last evaluate()). */
    const std::vector<dealii::Tensor<1, spacedim>> &
    velocity() const
    {
      return velocity_at_targets;
    }

    /** max |X| over the targets of all ranks (the last evaluate()). */
    double
    max_speed() const;

    /**
     * The interaction energy (AttentionField::energy()) of @p density, the
     * measure() of a density, under @p layer, its targets shared out over
     * the ranks (collective).
     */
    double
    energy(const WeightedPoints &density, const Layer &layer) const;

    /** The methods of the field, one line per head (AttentionField). */
    std::vector<std::string>
    method_report() const
    {
      return field.method_report();
    }

  private:
    /** The field at this rank's own targets, the sources' work shared. */
    const AttentionField field;
    /** The field with its targets shared out over the ranks (the energy). */
    const AttentionField                     shared_field;
    const DGSpace<dim, spacedim>            &space;
    dealii::TimerOutput                     &timer;
    PointSet                                 targets;
    PointSet                                 sources;
    std::vector<dealii::Tensor<1, spacedim>> velocity_at_targets;
  };
} // namespace attnflow

#endif
