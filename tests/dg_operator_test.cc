/**
 * @file
 * The DG transport operator against its own matrix: on every geometry
 * (boxes in R^1..R^3, S^1, S^2, each with a locally refined cell) and
 * degree 0..3, the residual A v of random coefficients v for the frozen
 * field of a non-trivial density equals the assembled matrix times v, the
 * outflow rate is the one the residual reports, and the residual is
 * conservative: sum_i (A v)_i = (A v, 1) = -outflow (doc/theory.md
 * section 4.3).
 */
#include <attnflow/density_field.h>
#include <attnflow/dg_space.h>
#include <attnflow/dg_transport_operator.h>
#include <attnflow/model.h>
#include <attnflow/random.h>

#include <deal.II/base/timer.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "test_helpers.h"

namespace attnflow
{
  namespace
  {
    /**
     * Checks the operator on the geometry of @p model_text for degrees
     * 0..3, the mesh refined globally @p refinements times and then once
     * more in its first cell.
     */
    template <int dim, int spacedim>
    void
    check_operator_against_matrix(const std::string &name,
                                  const std::string &model_text,
                                  const std::string &box_text,
                                  const unsigned int refinements)
    {
      for (unsigned int degree = 0; degree <= 3; ++degree)
        {
          const Parameters p = testing::parameters_from(
            model_text + "subsection Density\n" + box_text +
              " set degree = " + std::to_string(degree) +
              "\n set refinements = " + std::to_string(refinements) + "\nend\n",
            "dg_operator");
          const Model            model(p.model);
          const KernelEngine     engine(1);
          DGSpace<dim, spacedim> space(p.density);
          space.get_triangulation().begin_active()->set_refine_flag();
          space.get_triangulation().execute_coarsening_and_refinement();
          space.reinit();

          // The frozen field of rho = exp(-|x - c|^2), projected.
          const PointSet     &points = space.cell_points();
          std::vector<double> values(points.size());
          for (std::size_t q = 0; q < points.size(); ++q)
            {
              const double c[3] = {0.3, -0.2, 0.1};
              double       r2   = 0.;
              for (unsigned int k = 0; k < spacedim; ++k)
                r2 += (points[q][k] - c[k]) * (points[q][k] - c[k]);
              values[q] = std::exp(-r2);
            }
          dealii::TimerOutput         timer(std::cout,
                                    dealii::TimerOutput::never,
                                    dealii::TimerOutput::wall_times);
          DensityField<dim, spacedim> field(model,
                                            engine,
                                            space,
                                            timer,
                                            FieldParameters());
          field.reinit();
          field.evaluate(space.project(values), model.layers[0]);

          const unsigned int n = space.get_dof_handler().n_dofs();
          DensityVector      v = space.create_vector();
          RandomGenerator    random(17 + degree);
          for (unsigned int i = 0; i < n; ++i)
            v(i) = random.normal();

          const DGTransportOperator<dim, spacedim> transport(space);
          DensityVector                            residual;
          const double                             outflow =
            transport.residual(field.velocity(), v, residual);

          dealii::DynamicSparsityPattern sparsity(n, n);
          dealii::DoFTools::make_flux_sparsity_pattern(space.get_dof_handler(),
                                                       sparsity);
          dealii::TrilinosWrappers::SparseMatrix mass, matrix;
          transport.assemble_matrices(field.velocity(), sparsity, mass, matrix);
          DensityVector product = space.create_owned_vector();
          matrix.vmult(product, v);

          DensityVector difference = residual;
          difference -= product;
          const double relative = difference.l2_norm() / product.l2_norm();
          EXPECT_LE(relative, 1e-13) << name << " k = " << degree;

          EXPECT_EQ(transport.outflow_rate(field.velocity(), v), outflow)
            << name << " k = " << degree;
          double sum = 0.;
          for (const double r : residual)
            sum += r;
          const double conservation =
            std::abs(sum + outflow) / residual.l1_norm();
          EXPECT_LE(conservation, 1e-13) << name << " k = " << degree;
          if (dim == spacedim)
            EXPECT_NE(outflow, 0.) << name << ": the field leaves the box";
          else
            EXPECT_EQ(outflow, 0.) << name << ": no boundary";

          char line[160];
          std::snprintf(line,
                        sizeof(line),
                        "%s k = %u: %u DoFs, |Av - A*v|/|A*v| = %.2e, "
                        "|sum(Av) + outflow|/|Av|_1 = %.2e\n",
                        name.c_str(),
                        degree,
                        n,
                        relative,
                        conservation);
          std::cout << line;
        }
    }

    std::string
    model_section(const std::string &geometry,
                  const unsigned int d,
                  const std::string &V)
    {
      return "subsection Model\n set geometry = " + geometry +
             "\n set dimension = " + std::to_string(d) +
             "\n set beta = 2\n set V = " + V + "\nend\n";
    }

    const char *const box = " set lower corner = -1\n set upper corner = 1\n"
                            " set subdivisions = 3\n";
  } // namespace

  TEST(DGTransportOperator, ResidualEqualsMatrixTimesVectorOnAnInterval)
  {
    check_operator_against_matrix<1, 1>("R^1",
                                        model_section("euclidean", 1, "1"),
                                        box,
                                        1);
  }

  TEST(DGTransportOperator, ResidualEqualsMatrixTimesVectorOnASquare)
  {
    check_operator_against_matrix<2, 2>("R^2",
                                        model_section("euclidean",
                                                      2,
                                                      "1, 0.5; -0.5, 1"),
                                        box,
                                        1);
  }

  TEST(DGTransportOperator, ResidualEqualsMatrixTimesVectorOnACube)
  {
    check_operator_against_matrix<3, 3>(
      "R^3",
      model_section("euclidean", 3, "identity"),
      " set lower corner = -1\n set upper corner = 1\n"
      " set subdivisions = 2\n",
      0);
  }

  TEST(DGTransportOperator, ResidualEqualsMatrixTimesVectorOnTheCircle)
  {
    check_operator_against_matrix<1, 2>("S^1",
                                        model_section("sphere",
                                                      2,
                                                      "0, -1; 1, 1"),
                                        "",
                                        2);
  }

  TEST(DGTransportOperator, ResidualEqualsMatrixTimesVectorOnTheSphere)
  {
    check_operator_against_matrix<2, 3>("S^2",
                                        model_section("sphere", 3, "identity"),
                                        "",
                                        1);
  }
} // namespace attnflow
