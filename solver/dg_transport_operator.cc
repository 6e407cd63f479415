#include <attnflow/dg_face_values.h>
#include <attnflow/dg_transport_operator.h>

#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/lac/full_matrix.h>

namespace attnflow
{
  using namespace dealii;

  namespace
  {
    /**
     * The cell term: adds (u X, grad phi_i)_K, for @p u the trial function
     * at the quadrature points of the cell of @p fe_values, through
     * @p add(i, value); @p X points to the velocity at the first of them.
     */
    template <int dim, int spacedim, typename Add>
    void
    cell_term(const FEValues<dim, spacedim> &fe_values,
              const Tensor<1, spacedim>     *X,
              const std::vector<double>     &u,
              const Add                     &add)
    {
      for (const unsigned int q : fe_values.quadrature_point_indices())
        {
          const Tensor<1, spacedim> flux = u[q] * fe_values.JxW(q) * X[q];
          for (unsigned int i = 0; i < fe_values.dofs_per_cell; ++i)
            add(i, flux * fe_values.shape_grad(i, q));
        }
    }



    /**
     * The interior face term: adds -<(X.n) u^upwind, [phi_i]>_F for the
     * traces @p here and @p there of u on the two sides of the face of
     * @p fe_interface (n points from here to there, [phi] = phi^here -
     * phi^there), through @p add(i, value) over the interface DoFs.
     */
    template <int dim, int spacedim, typename Add>
    void
    interface_term(const FEInterfaceValues<dim, spacedim> &fe_interface,
                   const Tensor<1, spacedim>              *X,
                   const std::vector<double>              &here,
                   const std::vector<double>              &there,
                   const Add                              &add)
    {
      const unsigned int n_dofs = fe_interface.n_current_interface_dofs();
      for (const unsigned int q : fe_interface.quadrature_point_indices())
        {
          const double normal_velocity = X[q] * fe_interface.normal(q);
          const double flux            = normal_velocity *
                              (normal_velocity > 0. ? here[q] : there[q]) *
                              fe_interface.JxW(q);
          for (unsigned int i = 0; i < n_dofs; ++i)
            add(i, -(flux * fe_interface.jump_in_shape_values(i, q)));
        }
    }



    /**
     * The boundary term of a box: adds -<(X.n)^+ u, phi_i>_F, nothing
     * entering, through @p add(i, value), and the outflow (X.n)^+ u JxW of
     * each point to @p outflow.
     */
    template <int dim, int spacedim, typename Add>
    void
    boundary_term(const FEFaceValues<dim, spacedim> &fe_face,
                  const Tensor<1, spacedim>         *X,
                  const std::vector<double>         &here,
                  double                            &outflow,
                  const Add                         &add)
    {
      for (const unsigned int q : fe_face.quadrature_point_indices())
        {
          const double normal_velocity = X[q] * fe_face.normal_vector(q);
          if (normal_velocity <= 0.)
            continue; // nothing enters
          const double flux = normal_velocity * here[q] * fe_face.JxW(q);
          outflow += flux;
          for (unsigned int i = 0; i < fe_face.dofs_per_cell; ++i)
            add(i, -(flux * fe_face.shape_value(i, q)));
        }
    }
  } // namespace



  template <int dim, int spacedim>
  DGTransportOperator<dim, spacedim>::DGTransportOperator(
    const DGSpace<dim, spacedim> &space)
      : space(space)
  {}



  template <int dim, int spacedim>
  double
  DGTransportOperator<dim, spacedim>::residual(const Velocity      &velocity,
                                               const DensityVector &rho,
                                               DensityVector &residual) const
  {
    const unsigned int n_q    = space.get_cell_quadrature().size();
    const unsigned int n_qf   = space.get_face_quadrature().size();
    const unsigned int n_dofs = space.get_fe().n_dofs_per_cell();
    residual.reinit(space.locally_owned_dofs(), space.get_communicator());
    rho.update_ghost_values();
    // A face with a ghost side is integrated on both ranks: each adds to
    // the DoFs it owns.
    const auto add_owned = [&](const types::global_dof_index i,
                               const double                  value) {
      if (residual.in_local_range(i))
        residual(i) += value;
    };

    FEValues<dim, spacedim>              fe_values(space.get_mapping(),
                                      space.get_fe(),
                                      space.get_cell_quadrature(),
                                      update_values | update_gradients |
                                        update_JxW_values);
    std::vector<double>                  values(n_q);
    std::vector<types::global_dof_index> dofs(n_dofs);
    for (const auto &cell : space.owned_cells())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, values);
        cell->get_dof_indices(dofs);
        cell_term(fe_values,
                  &velocity[space.cell_index(cell) * n_q],
                  values,
                  [&](const unsigned int i, const double value) {
                    residual(dofs[i]) += value;
                  });
      }

    FaceValues<dim, spacedim> face_values(space,
                                          update_values | update_JxW_values |
                                            update_normal_vectors);
    std::vector<double>       here(n_qf), there(n_qf);
    double                    outflow = 0.;
    for (std::size_t r = 0; r < space.faces().size(); ++r)
      {
        const Tensor<1, spacedim> *X = &velocity[space.face_point_index(r, 0)];
        if (face_values.reinit(space.faces()[r]))
          {
            face_values.boundary.get_function_values(rho, here);
            space.faces()[r].cell->get_dof_indices(dofs);
            boundary_term(face_values.boundary,
                          X,
                          here,
                          outflow,
                          [&](const unsigned int i, const double value) {
                            residual(dofs[i]) += value;
                          });
            continue;
          }
        const FEInterfaceValues<dim, spacedim> &fe_interface =
          face_values.interface;
        fe_interface.get_fe_face_values(0).get_function_values(rho, here);
        fe_interface.get_fe_face_values(1).get_function_values(rho, there);
        const std::vector<types::global_dof_index> interface_dofs =
          fe_interface.get_interface_dof_indices();
        interface_term(fe_interface,
                       X,
                       here,
                       there,
                       [&](const unsigned int i, const double value) {
                         add_owned(interface_dofs[i], value);
                       });
      }
    return space.sum_over_ranks(outflow);
  }



  template <int dim, int spacedim>
  double
  DGTransportOperator<dim, spacedim>::apply(const Velocity      &velocity,
                                            const DensityVector &rho,
                                            DensityVector       &rho_dot) const
  {
    DensityVector r;
    const double  outflow = residual(velocity, rho, r);

    // rho_dot = M^{-1} r, cell by cell.
    const unsigned int n_dofs = space.get_fe().n_dofs_per_cell();
    std::vector<types::global_dof_index> dofs(n_dofs);
    Vector<double>                       local(n_dofs), result(n_dofs);
    rho_dot.reinit(space.locally_owned_dofs(), space.get_communicator());
    for (const auto &cell : space.owned_cells())
      {
        cell->get_dof_indices(dofs);
        for (unsigned int i = 0; i < n_dofs; ++i)
          local(i) = r(dofs[i]);
        space.inverse_mass_matrix(space.cell_index(cell)).vmult(result, local);
        for (unsigned int i = 0; i < n_dofs; ++i)
          rho_dot(dofs[i]) = result(i);
      }
    return outflow;
  }



  template <int dim, int spacedim>
  void
  DGTransportOperator<dim, spacedim>::assemble_matrices(
    const Velocity                 &velocity,
    const DynamicSparsityPattern   &sparsity,
    TrilinosWrappers::SparseMatrix &mass,
    TrilinosWrappers::SparseMatrix &transport) const
  {
    const unsigned int n_q    = space.get_cell_quadrature().size();
    const unsigned int n_qf   = space.get_face_quadrature().size();
    const unsigned int n_dofs = space.get_fe().n_dofs_per_cell();
    const IndexSet    &owned  = space.locally_owned_dofs();
    mass.reinit(owned, owned, sparsity, space.get_communicator());
    transport.reinit(owned, owned, sparsity, space.get_communicator());

    // Column j of each local matrix: the terms applied to phi_j.
    FEValues<dim, spacedim>              fe_values(space.get_mapping(),
                                      space.get_fe(),
                                      space.get_cell_quadrature(),
                                      update_values | update_gradients |
                                        update_JxW_values);
    FullMatrix<double>                   cell_matrix(n_dofs, n_dofs);
    std::vector<double>                  phi(n_q);
    std::vector<types::global_dof_index> dofs(n_dofs);
    for (const auto &cell : space.owned_cells())
      {
        fe_values.reinit(cell);
        cell_matrix = 0.;
        for (unsigned int j = 0; j < n_dofs; ++j)
          {
            for (unsigned int q = 0; q < n_q; ++q)
              phi[q] = fe_values.shape_value(j, q);
            cell_term(fe_values,
                      &velocity[space.cell_index(cell) * n_q],
                      phi,
                      [&](const unsigned int i, const double value) {
                        cell_matrix(i, j) += value;
                      });
          }
        cell->get_dof_indices(dofs);
        mass.add(dofs, DGSpace<dim, spacedim>::cell_mass_matrix(fe_values));
        transport.add(dofs, cell_matrix);
      }

    FaceValues<dim, spacedim> face_values(space,
                                          update_values | update_JxW_values |
                                            update_normal_vectors);
    std::vector<double>       here(n_qf), there(n_qf);
    double                    outflow = 0.;
    for (std::size_t r = 0; r < space.faces().size(); ++r)
      {
        const Tensor<1, spacedim> *X = &velocity[space.face_point_index(r, 0)];
        if (face_values.reinit(space.faces()[r]))
          {
            const FEFaceValues<dim, spacedim> &fe_face = face_values.boundary;
            FullMatrix<double>                 face_matrix(n_dofs, n_dofs);
            for (unsigned int j = 0; j < n_dofs; ++j)
              {
                for (unsigned int q = 0; q < n_qf; ++q)
                  here[q] = fe_face.shape_value(j, q);
                boundary_term(fe_face,
                              X,
                              here,
                              outflow,
                              [&](const unsigned int i, const double value) {
                                face_matrix(i, j) += value;
                              });
              }
            space.faces()[r].cell->get_dof_indices(dofs);
            transport.add(dofs, face_matrix);
            continue;
          }
        const FEInterfaceValues<dim, spacedim> &fe_interface =
          face_values.interface;
        const std::vector<types::global_dof_index> interface_dofs =
          fe_interface.get_interface_dof_indices();
        const unsigned int n = interface_dofs.size();
        FullMatrix<double> face_matrix(n, n);
        for (unsigned int j = 0; j < n; ++j)
          {
            for (unsigned int q = 0; q < n_qf; ++q)
              {
                here[q]  = fe_interface.shape_value(true, j, q);
                there[q] = fe_interface.shape_value(false, j, q);
              }
            interface_term(fe_interface,
                           X,
                           here,
                           there,
                           [&](const unsigned int i, const double value) {
                             // Rows of this rank only: a face with a ghost
                             // side is assembled on both ranks.
                             if (space.locally_owned_dofs().is_element(
                                   interface_dofs[i]))
                               face_matrix(i, j) += value;
                           });
          }
        transport.add(interface_dofs, face_matrix);
      }
    mass.compress(VectorOperation::add);
    transport.compress(VectorOperation::add);
  }



  template <int dim, int spacedim>
  double
  DGTransportOperator<dim, spacedim>::outflow_rate(
    const Velocity      &velocity,
    const DensityVector &rho) const
  {
    rho.update_ghost_values();
    FEFaceValues<dim, spacedim> fe_face(space.get_mapping(),
                                        space.get_fe(),
                                        space.get_face_quadrature(),
                                        update_values | update_JxW_values |
                                          update_normal_vectors);
    std::vector<double>         here(space.get_face_quadrature().size());
    double                      outflow = 0.;
    for (std::size_t r = 0; r < space.faces().size(); ++r)
      if (space.faces()[r].at_boundary())
        {
          fe_face.reinit(space.faces()[r].cell, space.faces()[r].face);
          fe_face.get_function_values(rho, here);
          boundary_term(fe_face,
                        &velocity[space.face_point_index(r, 0)],
                        here,
                        outflow,
                        [](const unsigned int, const double) {});
        }
    return space.sum_over_ranks(outflow);
  }



  template class DGTransportOperator<1, 1>;
  template class DGTransportOperator<2, 2>;
  template class DGTransportOperator<3, 3>;
  template class DGTransportOperator<1, 2>;
  template class DGTransportOperator<2, 3>;
} // namespace attnflow
