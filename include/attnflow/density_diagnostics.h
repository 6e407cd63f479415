/**
 * @file
 * What is measured of a finite-element density: integrals, clusters, the
 * density ratio that drives adaptivity, L1 distances and, on an interval,
 * the density as a piecewise polynomial (doc/theory.md sections 4.6 and 5).
 * Each is over the cells of all ranks that share the mesh, and collective.
 */
#ifndef attnflow_density_diagnostics_h
#define attnflow_density_diagnostics_h

#include <attnflow/comparison.h>
#include <attnflow/dg_space.h>

#include <deal.II/base/point.h>
#include <deal.II/lac/vector.h>

#include <functional>
#include <map>
#include <memory>

namespace attnflow
{
  /** int rho f over the domain, by the quadrature of the cell points. */
  template <int dim, int spacedim>
  double
  integrate(const DGSpace<dim, spacedim>                                 &space,
            const DensityVector                                          &rho,
            const std::function<double(const dealii::Point<spacedim> &)> &f);

  /**
   * The clusters of rho: the connected components (through faces) of the
   * cells K with int_K rho > 2 |K| (int rho / |domain|), twice the average.
   */
  template <int dim, int spacedim>
  unsigned int
  count_clusters(const DGSpace<dim, spacedim> &space, const DensityVector &rho);

  /**
   * The cell mean of rho^+ over the average int rho^+ / |domain|, by active
   * cell index (the owned cells, 0 on the others; every cell of a mesh that
   * is whole on every rank, dim = 1): what
   * mark_cells_by_density() refines by. @p source_weights are
   * DensityField::source_weights(rho).
   */
  template <int dim, int spacedim>
  dealii::Vector<double>
  relative_cell_density(const DGSpace<dim, spacedim> &space,
                        const std::vector<double>    &source_weights);

  /**
   * int |rho - @p exact| over the domain with a Gauss rule of k + 4 points
   * per direction; @p exact at points on the domain.
   */
  template <int dim, int spacedim>
  double
  l1_distance(
    const DGSpace<dim, spacedim>                                 &space,
    const DensityVector                                          &rho,
    const std::function<double(const dealii::Point<spacedim> &)> &exact);

  /**
   * int |rho - @p other| for two densities of one space, by the quadrature
   * of the cell points.
   */
  template <int dim, int spacedim>
  double
  l1_distance(const DGSpace<dim, spacedim> &space,
              const DensityVector          &rho,
              const DensityVector          &other);

  /**
   * int |rho - rho_other| for rho given by its coefficients in FE_DGQ
   * @p fe on each of its active @p cells (by id, the cells of all ranks)
   * and @p other_rho on @p other_space, a mesh of the same coarse mesh
   * refined alike or further: rho on the cell that holds each owned cell of
   * the other mesh, at the quadrature points mapped into that cell's unit
   * cell (exactly: DG polynomials embed in their children), against
   * @p other_rho, with a Gauss rule of max(k, k_other) + 4 points per
   * direction. InputError (Convergence/reference) if a cell holds no cell
   * of rho.
   */
  template <int dim, int spacedim>
  double
  l1_distance(const dealii::FE_DGQ<dim, spacedim>                 &fe,
              const std::map<dealii::CellId, std::vector<double>> &cells,
              const DGSpace<dim, spacedim>                        &other_space,
              const DensityVector                                 &other_rho);

  /**
   * On an interval of R^1 (dim == spacedim == 1): rho as a
   * PiecewisePolynomialDensity, by its values at the k + 1 Gauss points of
   * each cell (for the exact W1, W2 against the tokens, doc/theory.md
   * section 5.1); on the circle S^1 (dim = 1, spacedim = 2) the density of
   * the angle, cells from the first one's angle on; null otherwise.
   */
  template <int dim, int spacedim>
  std::unique_ptr<PiecewisePolynomialDensity>
  interval_density(const DGSpace<dim, spacedim> &space,
                   const DensityVector          &rho);
} // namespace attnflow

#endif
