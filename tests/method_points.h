/**
 * @file
 * Point sets for the tests and benchmarks of the fast field methods: the
 * quadrature points of a uniform DG mesh exactly as ContinuitySolver builds
 * them (deal.II FEValues with QGauss(k + 2) in the cells and on the faces),
 * and measures on the sphere (uniform, von Mises–Fisher, antipodal).
 */
#ifndef attnflow_method_points_h
#define attnflow_method_points_h

#include <attnflow/kernel_engine.h>
#include <attnflow/random.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/fe/fe_dgq.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q.h>
#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>

#include <cmath>
#include <vector>

namespace attnflow::testing
{
  /** Sources (cell points, with weights) and targets of a DG mesh. */
  struct MeshPoints
  {
    PointSet            sources;
    std::vector<double> weights;
    /** The cell points first, then the face points (each face once). */
    PointSet targets;
  };

  /**
   * The quadrature points of the uniform mesh of @p n_cells^dim cells on
   * [-half_width, half_width]^dim for degree @p degree: QGauss(degree + 2)
   * in every cell and on every face, mapped by MappingQ(1), as
   * ContinuitySolver's sources and targets. The weights are JxW times a
   * random density in [0, 1) that is zero on about one point in ten.
   */
  template <int dim>
  MeshPoints
  mesh_points(const unsigned int  n_cells,
              const unsigned int  degree,
              const double        half_width,
              const std::uint64_t seed)
  {
    dealii::Triangulation<dim> triangulation;
    dealii::GridGenerator::subdivided_hyper_cube(triangulation,
                                                 n_cells,
                                                 -half_width,
                                                 half_width);
    const dealii::MappingQ<dim>     mapping(1);
    const dealii::FE_DGQ<dim>       fe(degree);
    const dealii::QGauss<dim>       cell_quadrature(degree + 2);
    const dealii::QGauss<dim - 1>   face_quadrature(degree + 2);
    dealii::FEValues<dim>           cell_values(mapping,
                                      fe,
                                      cell_quadrature,
                                      dealii::update_quadrature_points |
                                        dealii::update_JxW_values);
    dealii::FEFaceValues<dim>       face_values(mapping,
                                          fe,
                                          face_quadrature,
                                          dealii::update_quadrature_points);
    RandomGenerator                 random(seed);
    std::vector<dealii::Point<dim>> cell_points, face_points;
    MeshPoints                      result;
    for (const auto &cell : triangulation.active_cell_iterators())
      {
        cell_values.reinit(cell);
        for (unsigned int q = 0; q < cell_quadrature.size(); ++q)
          {
            cell_points.push_back(cell_values.quadrature_point(q));
            const double density = random.uniform();
            result.weights.push_back(
              density < 0.1 ? 0. : density * cell_values.JxW(q));
          }
        for (const unsigned int f : cell->face_indices())
          if (cell->at_boundary(f) ||
              cell->neighbor(f)->index() < cell->index())
            {
              face_values.reinit(cell, f);
              for (unsigned int q = 0; q < face_quadrature.size(); ++q)
                face_points.push_back(face_values.quadrature_point(q));
            }
      }
    result.sources = PointSet(dim, cell_points.size());
    result.targets = PointSet(dim, cell_points.size() + face_points.size());
    for (std::size_t i = 0; i < cell_points.size(); ++i)
      for (unsigned int k = 0; k < dim; ++k)
        result.sources[i][k] = result.targets[i][k] = cell_points[i][k];
    for (std::size_t i = 0; i < face_points.size(); ++i)
      for (unsigned int k = 0; k < dim; ++k)
        result.targets[cell_points.size() + i][k] = face_points[i][k];
    return result;
  }

  /** A point of S^{d-1} drawn uniformly, into @p x. */
  inline void
  uniform_on_sphere(RandomGenerator &random, const unsigned int d, double *x)
  {
    double norm2 = 0.;
    for (unsigned int k = 0; k < d; ++k)
      {
        x[k] = random.normal();
        norm2 += x[k] * x[k];
      }
    for (unsigned int k = 0; k < d; ++k)
      x[k] /= std::sqrt(norm2);
  }

  /**
   * A point of the von Mises–Fisher law on S^{d-1} with mean e_0 (or -e_0
   * for @p antipode) and concentration @p kappa (Wood's algorithm).
   */
  inline void
  von_mises_fisher(RandomGenerator   &random,
                   const unsigned int d,
                   const double       kappa,
                   const bool         antipode,
                   double            *x)
  {
    const double m  = d - 1.;
    const double b  = (-2 * kappa + std::sqrt(4 * kappa * kappa + m * m)) / m;
    const double x0 = (1 - b) / (1 + b);
    const double c  = kappa * x0 + m * std::log(1 - x0 * x0);
    double       w;
    while (true)
      {
        const double z = random.beta(m / 2, m / 2);
        w              = (1 - (1 + b) * z) / (1 - (1 - b) * z);
        if (kappa * w + m * std::log(1 - x0 * w) - c >=
            std::log(random.uniform()))
          break;
      }
    // A uniform direction orthogonal to e_0.
    double norm2 = 0.;
    for (unsigned int k = 1; k < d; ++k)
      {
        x[k] = random.normal();
        norm2 += x[k] * x[k];
      }
    const double s = std::sqrt(std::max(0., 1 - w * w) / norm2);
    for (unsigned int k = 1; k < d; ++k)
      x[k] *= s;
    x[0] = antipode ? -w : w;
  }

  /** The measures on the sphere the tests use. */
  enum class SphereMeasure
  {
    uniform,
    clustered,
    antipodal
  };

  /**
   * @p n points of S^{d-1}: uniform, one von Mises–Fisher cluster of
   * concentration 100, or two antipodal ones.
   */
  inline PointSet
  sphere_points(const SphereMeasure measure,
                const unsigned int  d,
                const std::size_t   n,
                const std::uint64_t seed)
  {
    RandomGenerator random(seed);
    PointSet        points(d, n);
    for (std::size_t i = 0; i < n; ++i)
      if (measure == SphereMeasure::uniform)
        uniform_on_sphere(random, d, points[i]);
      else
        von_mises_fisher(random,
                         d,
                         100.,
                         measure == SphereMeasure::antipodal && i % 2 == 1,
                         points[i]);
    return points;
  }
} // namespace attnflow::testing

#endif
