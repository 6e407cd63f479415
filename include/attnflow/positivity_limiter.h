/**
 * @file
 * The Zhang–Shu positivity limiter of the DG density and the CFL weight
 * under which it keeps an SSP scheme positive (doc/theory.md section 4.4).
 */
#ifndef attnflow_positivity_limiter_h
#define attnflow_positivity_limiter_h

#include <attnflow/dg_space.h>

#include <deal.II/base/quadrature.h>

namespace attnflow
{
  /**
   * Zhang & Shu (2010): in every cell K with mean rho_K >= 0, rho is scaled
   * towards its mean, rho <- rho_K + theta (rho - rho_K), with the largest
   * theta in [0, 1] that makes rho >= 1e-12 rho_K at the positivity points
   * (the cell quadrature points and, for k >= 1, in each direction the
   * Gauss–Lobatto points times the Gauss points of the other directions).
   * The mean, hence the mass, is unchanged. An SSP scheme whose steps keep
   * the cell means non-negative, dt <= w h / (dim max|X|) with w =
   * cfl_weight(k), stays positive.
   */
  template <int dim, int spacedim>
  class PositivityLimiter
  {
  public:
    /** What limit() does with a negative cell mean. */
    enum class NegativeMeans
    {
      /** NumericalError: the CFL bound of an explicit scheme was broken. */
      raise,
      /**
       * Set the cell to zero: the implicit schemes do not preserve
       * positivity.
       */
      clip
    };

    /** The limiter on @p space, which must outlive it. */
    explicit PositivityLimiter(const DGSpace<dim, spacedim> &space);

    /**
     * Limits @p rho in every cell. A cell mean below -1e-10/|domain|
     * (round-off against the average density) is handled as @p negative
     * says; @p time goes into the error message.
     */
    void
    limit(DensityVector      &rho,
          const NegativeMeans negative,
          const double        time) const;

    /** The smallest value of @p rho at the positivity points. */
    double
    minimum(const DensityVector &rho) const;

    /**
     * The Gauss–Lobatto end weight w of degree k: with N = max(2,
     * ceil((k + 3)/2)) points, w = 1/(N (N - 1)); k = 0: w = 1/2, the upwind
     * finite-volume bound when a cell empties through two faces.
     */
    static double
    cfl_weight(const unsigned int degree);

  private:
    const DGSpace<dim, spacedim> &space;
    /** The positivity points on the unit cell. */
    const dealii::Quadrature<dim> points;
  };
} // namespace attnflow

#endif
