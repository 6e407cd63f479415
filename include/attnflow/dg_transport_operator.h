/**
 * @file
 * The upwind DG discretisation of the transport term of the continuity
 * equation, each integral written once (doc/theory.md section 4.3).
 */
#ifndef attnflow_dg_transport_operator_h
#define attnflow_dg_transport_operator_h

#include <attnflow/dg_space.h>

#include <deal.II/base/tensor.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>

#include <vector>

namespace attnflow
{
  /**
   * The weak form of -div(rho X) on a DGSpace for a given (frozen) velocity
   * X with the upwind flux, nothing entering through the boundary of a box:
   *
   *   (A rho, phi)_K = (rho X, grad phi)_K - <(X.n) rho^upwind, phi>_dK,
   *
   * rho^upwind the trace from the side X.n > 0 points away from. X is given
   * at the quadrature points of the space in its numbering (cells, then
   * faces; DensityField::velocity()). The cell term, the interior face term
   * and the boundary (outflow) term are each written once: the residual
   * A rho, the matrix A (the terms applied to each shape function, as
   * ExaDG's operators compute their matrices) and the outflow rate use the
   * same three functions (cell_term(), interface_term() and boundary_term()
   * in the .cc file), so that the explicit and implicit schemes solve one
   * equation.
   */
  template <int dim, int spacedim>
  class DGTransportOperator
  {
  public:
    /** The velocity at the quadrature points of the space (cells, faces). */
    using Velocity = std::vector<dealii::Tensor<1, spacedim>>;

    /** The operator on @p space, which must outlive it. */
    explicit DGTransportOperator(const DGSpace<dim, spacedim> &space);

    /**
     * The residual A rho of @p rho into @p residual (the owned DoFs);
     * returns the outflow rate int (X.n)^+ rho ds through the boundary of a
     * box, over all ranks. Collective.
     */
    double
    residual(const Velocity      &velocity,
             const DensityVector &rho,
             DensityVector       &residual) const;

    /**
     * d rho/dt = M^{-1} A rho (M the block-diagonal mass matrix) into
     * @p rho_dot; returns the outflow rate of residual().
     */
    double
    apply(const Velocity      &velocity,
          const DensityVector &rho,
          DensityVector       &rho_dot) const;

    /**
     * The mass matrix M_ij = (phi_j, phi_i) and the transport matrix A of
     * residual() into @p mass and @p transport, both on @p sparsity (the
     * flux sparsity pattern of the space, DoFTools::make_flux_sparsity_pattern,
     * of the rows this rank owns), with the rows of the owned DoFs.
     */
    void
    assemble_matrices(const Velocity                         &velocity,
                      const dealii::DynamicSparsityPattern   &sparsity,
                      dealii::TrilinosWrappers::SparseMatrix &mass,
                      dealii::TrilinosWrappers::SparseMatrix &transport) const;

    /**
     * The rate int (X.n)^+ rho ds at which @p rho leaves a box, over all
     * ranks. Collective.
     */
    double
    outflow_rate(const Velocity &velocity, const DensityVector &rho) const;

  private:
    const DGSpace<dim, spacedim> &space;
  };
} // namespace attnflow

#endif
