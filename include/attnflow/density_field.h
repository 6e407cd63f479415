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

#include <deal.II/base/tensor.h>
#include <deal.II/base/timer.h>
#include <deal.II/lac/vector.h>

#include <vector>

namespace attnflow
{
  /**
   * X[rho] on a DGSpace. The density is the weighted point measure
   *
   *   rho ~ sum_q w_q delta_{x_q},  w_q = max(rho(x_q), 0) JxW_q,
   *
   * with sources x_q the cell quadrature points (DGSpace::cell_points());
   * the targets are the cell points followed by the face quadrature points,
   * numbered as in DGSpace, so that the DG operator finds the velocity of
   * each of its quadrature points at that index. Each evaluate() is timed
   * as "density field".
   */
  template <int dim, int spacedim>
  class DensityField
  {
  public:
    /**
     * The field of @p model computed with @p engine on @p space, timed in
     * @p timer; the three must outlive it. Call reinit() before use and
     * after every change of the mesh. The targets are shared out over the
     * ranks of @p communicator (AttentionField).
     */
    DensityField(const Model                  &model,
                 const KernelEngine           &engine,
                 const DGSpace<dim, spacedim> &space,
                 dealii::TimerOutput          &timer,
                 const FieldParameters        &field_parameters,
                 const MPI_Comm                communicator = MPI_COMM_SELF);

    /** Collects the targets of the current mesh of the space. */
    void
    reinit();

    /**
     * The weights w_q = max(rho(x_q), 0) JxW_q of the sources: the
     * non-negative part of rho as a measure.
     */
    std::vector<double>
    source_weights(const dealii::Vector<double> &rho) const;

    /**
     * X[rho] under @p layer at every target, into velocity(): one kernel
     * sum of the sources with source_weights(@p rho).
     */
    void
    evaluate(const dealii::Vector<double> &rho, const Layer &layer);

    /** The field at the targets (the last evaluate()). */
    const std::vector<dealii::Tensor<1, spacedim>> &
    velocity() const
    {
      return velocity_at_targets;
    }

    /** max |X| over the targets (the last evaluate()). */
    double
    max_speed() const;

    /**
     * The interaction energy (AttentionField::energy()) of the measure of
     * source_weights(@p rho) under @p layer.
     */
    double
    energy(const dealii::Vector<double> &rho, const Layer &layer) const;

    /** The methods of the field, one line per head (AttentionField). */
    std::vector<std::string>
    method_report() const
    {
      return field.method_report();
    }

  private:
    const AttentionField                     field;
    const DGSpace<dim, spacedim>            &space;
    dealii::TimerOutput                     &timer;
    PointSet                                 targets;
    std::vector<dealii::Tensor<1, spacedim>> velocity_at_targets;
  };
} // namespace attnflow

#endif
