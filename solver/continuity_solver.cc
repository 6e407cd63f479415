#include <attnflow/continuity_solver.h>
#include <attnflow/domain.h>
#include <attnflow/exceptions.h>

#include <deal.II/base/quadrature_lib.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/fe_interface_values.h>
#include <deal.II/fe/fe_system.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/grid/grid_refinement.h>
#include <deal.II/grid/grid_tools.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_solver.h>
#include <deal.II/numerics/data_out.h>
#include <deal.II/numerics/solution_transfer.h>
#include <deal.II/numerics/vector_tools_interpolate.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

namespace attnflow
{
  using namespace dealii;

  namespace
  {
    /**
     * The Gauss–Lobatto end weight w of degree k: with N = max(2,
     * ceil((k + 3)/2)) points, the weight under which Zhang–Shu's limiter
     * keeps the cell means of an SSP scheme non-negative (k = 0: w = 1/2,
     * the upwind finite-volume bound when a cell empties through two
     * faces).
     */
    double
    lobatto_weight(const unsigned int degree)
    {
      if (degree == 0)
        return 0.5; // a cell may lose mass through both of its faces
      const unsigned int n = std::max(2u, (degree + 4) / 2);
      return 2. / (n * (n - 1.)) / 2.;
    }

    /**
     * The points of the unit cell where the limiter makes rho >= 0: the
     * cell quadrature points and, for k >= 1, in each direction the
     * Gauss–Lobatto points of lobatto_weight() times the Gauss points of
     * the other directions (Zhang & Shu 2010).
     */
    template <int dim>
    Quadrature<dim>
    make_positivity_points(const unsigned int     degree,
                           const Quadrature<dim> &cell_quadrature)
    {
      std::vector<Point<dim>> points = cell_quadrature.get_points();
      if (degree > 0)
        {
          const QGaussLobatto<1> lobatto(std::max(2u, (degree + 4) / 2));
          const QGauss<1>        gauss(degree + 2);
          for (unsigned int direction = 0; direction < dim; ++direction)
            {
              std::vector<Quadrature<1>> factors(dim, gauss);
              factors[direction] = lobatto;
              std::vector<Point<dim>> tensor(1);
              for (unsigned int k = 0; k < dim; ++k)
                {
                  std::vector<Point<dim>> next;
                  for (const Point<dim> &p : tensor)
                    for (const Point<1> &q : factors[k].get_points())
                      {
                        Point<dim> r = p;
                        r[k]         = q[0];
                        next.push_back(r);
                      }
                  tensor.swap(next);
                }
              points.insert(points.end(), tensor.begin(), tensor.end());
            }
        }
      return Quadrature<dim>(points, std::vector<double>(points.size(), 0.));
    }

    /** @p p, projected radially onto the unit sphere if @p on_sphere. */
    template <int spacedim>
    Point<spacedim>
    on_domain(const Point<spacedim> &p, const bool on_sphere)
    {
      return on_sphere ? Point<spacedim>(p / p.norm()) : p;
    }
  } // namespace



  /**
   * FEFaceValues for the boundary faces and FEInterfaceValues for the
   * interior ones, both with one update flag set, reinitialised from a
   * FaceRecord.
   */
  template <int dim, int spacedim>
  struct ContinuitySolver<dim, spacedim>::FaceValues
  {
    FaceValues(const Mapping<dim, spacedim> &mapping,
               const FE_DGQ<dim, spacedim>  &fe,
               const Quadrature<dim - 1>    &quadrature,
               const UpdateFlags             flags)
        : interface(mapping, fe, quadrature, flags)
        , boundary(mapping, fe, quadrature, flags)
    {}

    /**
     * Reinitialises for @p face: returns true for a boundary face (then
     * @p boundary describes it), false for an interior one (@p interface).
     */
    bool
    reinit(const FaceRecord &face)
    {
      if (face.neighbor_face == numbers::invalid_unsigned_int)
        {
          boundary.reinit(face.cell, face.face);
          return true;
        }
      interface.reinit(face.cell,
                       face.face,
                       face.subface,
                       face.neighbor,
                       face.neighbor_face,
                       face.neighbor_subface);
      return false;
    }

    FEInterfaceValues<dim, spacedim> interface;
    FEFaceValues<dim, spacedim>      boundary;
  };



  template <int dim, int spacedim>
  ContinuitySolver<dim, spacedim>::ContinuitySolver(
    const Model             &model,
    const DensityParameters &parameters,
    const KernelEngine      &engine,
    const InitialMeasure    &initial_measure)
      : model(model)
      , parameters(parameters)
      , field(model, engine)

      , fe(parameters.degree)
      , dof_handler(triangulation)
      , cell_quadrature(QGauss<dim>(parameters.degree + 2))
      , face_quadrature(QGauss<dim - 1>(parameters.degree + 2))
      , positivity_points(
          make_positivity_points(parameters.degree, cell_quadrature))
      , min_cell_size(0.)
      , current_time(0.)
      , outflow(0.)
      , n_steps(0)
      , last_step(0.)
  {
    create_domain(triangulation, parameters);
    setup();
    project_initial_density(initial_measure);
    // An adaptive mesh starts adapted to rho0: flag, refine, project anew.
    if (parameters.adaptive_refinement)
      for (unsigned int cycle = parameters.refinements;
           cycle < parameters.max_refinement_level;
           ++cycle)
        {
          mark_cells();
          triangulation.execute_coarsening_and_refinement();
          setup();
          project_initial_density(initial_measure);
        }
  }



  template <int dim, int spacedim>
  ContinuitySolver<dim, spacedim>::~ContinuitySolver()
  {
    dof_handler.clear();
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::setup()
  {
    mapping = create_mapping(parameters, triangulation);
    dof_handler.distribute_dofs(fe);
    density.reinit(dof_handler.n_dofs());

    const bool         on_sphere = dim < spacedim;
    const unsigned int n_q       = cell_quadrature.size();
    const unsigned int n_dofs    = fe.n_dofs_per_cell();
    sources = PointSet(spacedim, triangulation.n_active_cells() * n_q);
    source_JxW.resize(sources.size());
    inverse_mass.assign(triangulation.n_active_cells(),
                        FullMatrix<double>(n_dofs, n_dofs));
    min_cell_size  = std::numeric_limits<double>::max();
    domain_measure = 0.;

    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values |
                                        update_quadrature_points);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        const unsigned int c = cell->active_cell_index();
        FullMatrix<double> mass(n_dofs, n_dofs);
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Point<spacedim> x =
              on_domain(fe_values.quadrature_point(q), on_sphere);
            for (unsigned int k = 0; k < spacedim; ++k)
              sources[c * n_q + q][k] = x[k];
            source_JxW[c * n_q + q] = fe_values.JxW(q);
            domain_measure += fe_values.JxW(q);
            for (unsigned int i = 0; i < n_dofs; ++i)
              for (unsigned int j = 0; j < n_dofs; ++j)
                mass(i, j) += fe_values.shape_value(i, q) *
                              fe_values.shape_value(j, q) * fe_values.JxW(q);
          }
        inverse_mass[c].invert(mass);
        min_cell_size =
          std::min(min_cell_size, cell->minimum_vertex_distance());
      }
    collect_faces();
    if (parameters.scheme != DensityScheme::ssp_rk3)
      {
        flux_sparsity.reinit(dof_handler.n_dofs(), dof_handler.n_dofs());
        DoFTools::make_flux_sparsity_pattern(dof_handler, flux_sparsity);
      }
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::collect_faces()
  {
    faces.clear();
    const unsigned int invalid = numbers::invalid_unsigned_int;
    for (const auto &cell : dof_handler.active_cell_iterators())
      for (const unsigned int f : cell->face_indices())
        {
          if (cell->at_boundary(f))
            {
              faces.push_back({cell, cell, f, invalid, invalid, invalid, 0});
              continue;
            }
          const auto neighbor = cell->neighbor(f);
          if (neighbor->has_children())
            continue; // the finer side lists this face
          if (dim > 1 && cell->neighbor_is_coarser(f))
            {
              const auto faces_of_neighbor =
                cell->neighbor_of_coarser_neighbor(f);
              faces.push_back({cell,
                               neighbor,
                               f,
                               invalid,
                               faces_of_neighbor.first,
                               faces_of_neighbor.second,
                               0});
              continue;
            }
          // Same level (or, in 1D, a coarser neighbour): list it once.
          if (neighbor->level() == cell->level() &&
              neighbor->index() < cell->index())
            continue;
          unsigned int neighbor_face = invalid;
          for (const unsigned int nf : neighbor->face_indices())
            if (neighbor->face(nf)->index() == cell->face(f)->index())
              neighbor_face = nf;
          faces.push_back(
            {cell, neighbor, f, invalid, neighbor_face, invalid, 0});
        }

    // The face quadrature points become targets after the sources.
    const bool         on_sphere = dim < spacedim;
    const unsigned int n_q       = face_quadrature.size();
    targets                      = sources;
    targets.coordinates.resize((sources.size() + faces.size() * n_q) *
                               spacedim);
    FaceValues face_values(*mapping,
                           fe,
                           face_quadrature,
                           update_quadrature_points);
    for (std::size_t r = 0; r < faces.size(); ++r)
      {
        FaceRecord &face = faces[r];
        face.offset      = sources.size() + r * n_q;
        const std::vector<Point<spacedim>> &points =
          face_values.reinit(face) ?
            face_values.boundary.get_quadrature_points() :
            face_values.interface.get_quadrature_points();
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Point<spacedim> x = on_domain(points[q], on_sphere);
            for (unsigned int k = 0; k < spacedim; ++k)
              targets[face.offset + q][k] = x[k];
          }
      }
    velocity.assign(targets.size(), Tensor<1, spacedim>());
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::project_initial_density(
    const InitialMeasure &initial_measure)
  {
    const unsigned int                   n_q    = cell_quadrature.size();
    const unsigned int                   n_dofs = fe.n_dofs_per_cell();
    FEValues<dim, spacedim>              fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values);
    std::vector<types::global_dof_index> dofs(n_dofs);
    Vector<double>                       rhs(n_dofs), local(n_dofs);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        const unsigned int c = cell->active_cell_index();
        rhs                  = 0.;
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const double rho0 = initial_measure.density(sources[c * n_q + q]);
            for (unsigned int i = 0; i < n_dofs; ++i)
              rhs(i) += rho0 * fe_values.shape_value(i, q) * fe_values.JxW(q);
          }
        inverse_mass[c].vmult(local, rhs);
        cell->get_dof_indices(dofs);
        for (unsigned int i = 0; i < n_dofs; ++i)
          density(dofs[i]) = local(i);
      }
    limit(density);
    const std::vector<double> values = values_at_quadrature_points(density);
    double                    mass   = 0.;
    for (std::size_t q = 0; q < values.size(); ++q)
      mass += values[q] * source_JxW[q];
    if (!(mass > 0.))
      throw InputError("Initial condition/type",
                       "the initial density has no mass on the mesh of the "
                       "density (is the box, Density/lower corner .. upper "
                       "corner, where mu0 lives?)");
    initial_mass = mass;
    density /= mass;
  }



  template <int dim, int spacedim>
  std::vector<double>
  ContinuitySolver<dim, spacedim>::values_at_quadrature_points(
    const Vector<double> &rho) const
  {
    const unsigned int      n_q = cell_quadrature.size();
    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values);
    std::vector<double>     values(sources.size()), cell_values(n_q);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, cell_values);
        std::copy(cell_values.begin(),
                  cell_values.end(),
                  values.begin() + cell->active_cell_index() * n_q);
      }
    return values;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::evaluate_field(const Vector<double> &rho,
                                                  const Layer          &layer)
  {
    std::unique_ptr<TimerOutput::Scope> scope;
    if (timer)
      scope = std::make_unique<TimerOutput::Scope>(*timer, "density field");
    const std::vector<double> values = values_at_quadrature_points(rho);
    std::vector<double>       weights(values.size());
    for (std::size_t q = 0; q < values.size(); ++q)
      weights[q] = std::max(0., values[q]) * source_JxW[q];
    PointSet X;
    field.evaluate(layer, targets, sources, weights, X);
    for (std::size_t t = 0; t < targets.size(); ++t)
      for (unsigned int k = 0; k < spacedim; ++k)
        velocity[t][k] = X[t][k];
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::apply_operator(const Vector<double> &rho,
                                                  Vector<double> &rho_dot) const
  {
    std::unique_ptr<TimerOutput::Scope> scope;
    if (timer)
      scope = std::make_unique<TimerOutput::Scope>(*timer, "density transport");
    const unsigned int n_q    = cell_quadrature.size();
    const unsigned int n_qf   = face_quadrature.size();
    const unsigned int n_dofs = fe.n_dofs_per_cell();
    Vector<double>     residual(dof_handler.n_dofs());

    // Cells: (rho X, grad phi).
    FEValues<dim, spacedim>              fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_gradients |
                                        update_JxW_values);
    std::vector<double>                  values(n_q);
    std::vector<types::global_dof_index> dofs(n_dofs);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, values);
        cell->get_dof_indices(dofs);
        const std::size_t offset = cell->active_cell_index() * n_q;
        for (unsigned int q = 0; q < n_q; ++q)
          {
            const Tensor<1, spacedim> flux =
              values[q] * fe_values.JxW(q) * velocity[offset + q];
            for (unsigned int i = 0; i < n_dofs; ++i)
              residual(dofs[i]) += flux * fe_values.shape_grad(i, q);
          }
      }

    // Faces: the upwind flux (X.n) rho^upwind; nothing enters a box.
    FaceValues                              face_values(*mapping,
                           fe,
                           face_quadrature,
                           update_values | update_JxW_values |
                             update_normal_vectors);
    const FEFaceValues<dim, spacedim>      &fe_face = face_values.boundary;
    const FEInterfaceValues<dim, spacedim> &fe_interface =
      face_values.interface;
    std::vector<double> here(n_qf), there(n_qf);
    double              outflow_rate = 0.;
    for (const FaceRecord &face : faces)
      {
        if (face_values.reinit(face))
          {
            fe_face.get_function_values(rho, here);
            face.cell->get_dof_indices(dofs);
            for (unsigned int q = 0; q < n_qf; ++q)
              {
                const double normal_velocity =
                  velocity[face.offset + q] * fe_face.normal_vector(q);
                if (normal_velocity <= 0.)
                  continue;
                const double flux = normal_velocity * here[q] * fe_face.JxW(q);
                outflow_rate += flux;
                for (unsigned int i = 0; i < n_dofs; ++i)
                  residual(dofs[i]) -= flux * fe_face.shape_value(i, q);
              }
            continue;
          }
        fe_interface.get_fe_face_values(0).get_function_values(rho, here);
        fe_interface.get_fe_face_values(1).get_function_values(rho, there);
        const std::vector<types::global_dof_index> interface_dofs =
          fe_interface.get_interface_dof_indices();
        for (unsigned int q = 0; q < n_qf; ++q)
          {
            const double normal_velocity =
              velocity[face.offset + q] * fe_interface.normal(q);
            const double flux = normal_velocity *
                                (normal_velocity > 0. ? here[q] : there[q]) *
                                fe_interface.JxW(q);
            for (unsigned int i = 0; i < interface_dofs.size(); ++i)
              residual(interface_dofs[i]) -=
                flux * fe_interface.jump_in_shape_values(i, q);
          }
      }

    // rho_dot = M^{-1} residual, cell by cell.
    rho_dot.reinit(dof_handler.n_dofs());
    Vector<double> local(n_dofs), result(n_dofs);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        cell->get_dof_indices(dofs);
        for (unsigned int i = 0; i < n_dofs; ++i)
          local(i) = residual(dofs[i]);
        inverse_mass[cell->active_cell_index()].vmult(result, local);
        for (unsigned int i = 0; i < n_dofs; ++i)
          rho_dot(dofs[i]) = result(i);
      }
    return outflow_rate;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::limit(Vector<double> &rho,
                                         const bool clip_negative_means) const
  {
    std::unique_ptr<TimerOutput::Scope> scope;
    if (timer)
      scope = std::make_unique<TimerOutput::Scope>(*timer, "density transport");
    const unsigned int                   n_q    = cell_quadrature.size();
    const unsigned int                   n_p    = positivity_points.size();
    const unsigned int                   n_dofs = fe.n_dofs_per_cell();
    FEValues<dim, spacedim>              fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values);
    FEValues<dim, spacedim>              fe_points(*mapping,
                                      fe,
                                      positivity_points,
                                      update_values);
    std::vector<double>                  values(n_q), point_values(n_p);
    std::vector<types::global_dof_index> dofs(n_dofs);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(rho, values);
        double mass = 0., volume = 0.;
        for (unsigned int q = 0; q < n_q; ++q)
          {
            mass += values[q] * fe_values.JxW(q);
            volume += fe_values.JxW(q);
          }
        const double mean = mass / volume;
        // Round-off relative to the average density (mass ~1).
        if (mean < -1e-10 / domain_measure && !clip_negative_means)
          {
            std::ostringstream message;
            message << "the density has a negative cell mean (" << mean
                    << ") at t = " << current_time
                    << ": the positivity of the explicit scheme is lost (CFL "
                       "condition violated?); reduce Density/cfl number";
            throw NumericalError(message.str());
          }
        fe_points.reinit(cell);
        fe_points.get_function_values(rho, point_values);
        // Scale towards the mean (a constant: every DGQ nodal value equal)
        // until the minimum is epsilon = 1e-12 mean >= 0, a margin for the
        // round-off of evaluating rho at the points.
        const double target  = std::max(0., mean);
        const double epsilon = 1e-12 * target;
        const double minimum =
          *std::min_element(point_values.begin(), point_values.end());
        if (minimum >= epsilon)
          continue;
        const double theta = (target - epsilon) / (target - minimum);
        cell->get_dof_indices(dofs);
        for (const types::global_dof_index i : dofs)
          rho(i) = target + theta * (rho(i) - mean);
      }
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::explicit_step(const Layer &layer,
                                                 const double max_step)
  {
    evaluate_field(density, layer);
    double max_speed = 0.;
    for (const Tensor<1, spacedim> &v : velocity)
      max_speed = std::max(max_speed, v.norm());
    const double stable = parameters.cfl_number *
                          lobatto_weight(parameters.degree) * min_cell_size /
                          (dim * max_speed);
    double dt = std::min(
      {max_speed > 0. ? stable : max_step, max_step, parameters.time_step});
    // No sliver of a step left before the stop.
    if (max_step - dt < 1e-10 * max_step)
      dt = max_step;

    // Shu–Osher SSP-RK3, limited after each stage.
    Vector<double> rho_dot, stage(density.size()), stage2(density.size());
    const auto     limited = [this](Vector<double> &v) {
      if (parameters.positivity_limiter)
        limit(v);
    };
    const double o1 = apply_operator(density, rho_dot);
    stage           = density;
    stage.add(dt, rho_dot);
    limited(stage);

    evaluate_field(stage, layer);
    const double o2 = apply_operator(stage, rho_dot);
    stage2.equ(0.75, density);
    stage2.add(0.25, stage);
    stage2.add(0.25 * dt, rho_dot);
    limited(stage2);

    evaluate_field(stage2, layer);
    const double o3 = apply_operator(stage2, rho_dot);
    density.sadd(1. / 3., 2. / 3., stage2);
    density.add(2. / 3. * dt, rho_dot);
    limited(density);

    outflow += dt * (o1 / 6. + o2 / 6. + 2. * o3 / 3.);
    for (const double v : density)
      if (!std::isfinite(v))
        throw NumericalError("the density is not finite at t = " +
                             std::to_string(current_time));
    ++n_steps;
    last_step = dt;
    return dt;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::assemble_matrices(
    TrilinosWrappers::SparseMatrix &mass,
    TrilinosWrappers::SparseMatrix &transport) const
  {
    const unsigned int n_q    = cell_quadrature.size();
    const unsigned int n_qf   = face_quadrature.size();
    const unsigned int n_dofs = fe.n_dofs_per_cell();
    mass.reinit(flux_sparsity);
    transport.reinit(flux_sparsity);

    // Cells: M_ij = (phi_j, phi_i), A_ij = (phi_j X, grad phi_i).
    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_gradients |
                                        update_JxW_values);
    FullMatrix<double>      cell_mass(n_dofs, n_dofs),
      cell_transport(n_dofs, n_dofs);
    std::vector<types::global_dof_index> dofs(n_dofs);
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        cell_mass                = 0.;
        cell_transport           = 0.;
        const std::size_t offset = cell->active_cell_index() * n_q;
        for (unsigned int q = 0; q < n_q; ++q)
          for (unsigned int i = 0; i < n_dofs; ++i)
            {
              const double advection = velocity[offset + q] *
                                       fe_values.shape_grad(i, q) *
                                       fe_values.JxW(q);
              for (unsigned int j = 0; j < n_dofs; ++j)
                {
                  cell_mass(i, j) += fe_values.shape_value(i, q) *
                                     fe_values.shape_value(j, q) *
                                     fe_values.JxW(q);
                  cell_transport(i, j) +=
                    advection * fe_values.shape_value(j, q);
                }
            }
        cell->get_dof_indices(dofs);
        mass.add(dofs, cell_mass);
        transport.add(dofs, cell_transport);
      }

    // Faces: -(X.n) phi_j^upwind [phi_i]; outflow only on a box's boundary.
    FaceValues                              face_values(*mapping,
                           fe,
                           face_quadrature,
                           update_values | update_JxW_values |
                             update_normal_vectors);
    const FEFaceValues<dim, spacedim>      &fe_face = face_values.boundary;
    const FEInterfaceValues<dim, spacedim> &fe_interface =
      face_values.interface;
    for (const FaceRecord &face : faces)
      {
        if (face_values.reinit(face))
          {
            face.cell->get_dof_indices(dofs);
            FullMatrix<double> face_matrix(n_dofs, n_dofs);
            for (unsigned int q = 0; q < n_qf; ++q)
              {
                const double normal_velocity =
                  velocity[face.offset + q] * fe_face.normal_vector(q);
                if (normal_velocity <= 0.)
                  continue;
                for (unsigned int i = 0; i < n_dofs; ++i)
                  for (unsigned int j = 0; j < n_dofs; ++j)
                    face_matrix(i, j) -=
                      normal_velocity * fe_face.shape_value(j, q) *
                      fe_face.shape_value(i, q) * fe_face.JxW(q);
              }
            transport.add(dofs, face_matrix);
            continue;
          }
        const std::vector<types::global_dof_index> interface_dofs =
          fe_interface.get_interface_dof_indices();
        const unsigned int n = interface_dofs.size();
        FullMatrix<double> face_matrix(n, n);
        for (unsigned int q = 0; q < n_qf; ++q)
          {
            const double normal_velocity =
              velocity[face.offset + q] * fe_interface.normal(q);
            for (unsigned int i = 0; i < n; ++i)
              for (unsigned int j = 0; j < n; ++j)
                face_matrix(i, j) -=
                  normal_velocity *
                  fe_interface.shape_value(normal_velocity > 0., j, q) *
                  fe_interface.jump_in_shape_values(i, q) * fe_interface.JxW(q);
          }
        transport.add(interface_dofs, face_matrix);
      }
    mass.compress(VectorOperation::add);
    transport.compress(VectorOperation::add);
  }



  template <int dim, int spacedim>
  unsigned int
  ContinuitySolver<dim, spacedim>::count_clusters(
    const std::vector<double> &values) const
  {
    // Cells denser than twice the average, joined through shared faces
    // (union-find over the face records).
    const unsigned int  n_q     = cell_quadrature.size();
    const unsigned int  n_cells = triangulation.n_active_cells();
    std::vector<double> mass(n_cells, 0.), volume(n_cells, 0.);
    for (std::size_t q = 0; q < values.size(); ++q)
      {
        mass[q / n_q] += values[q] * source_JxW[q];
        volume[q / n_q] += source_JxW[q];
      }
    const double average = std::accumulate(mass.begin(), mass.end(), 0.) /
                           std::accumulate(volume.begin(), volume.end(), 0.);
    std::vector<bool> dense(n_cells);
    for (unsigned int c = 0; c < n_cells; ++c)
      dense[c] = mass[c] > 2. * average * volume[c];
    std::vector<unsigned int> parent(n_cells);
    std::iota(parent.begin(), parent.end(), 0u);
    const auto root = [&parent](unsigned int c) {
      while (parent[c] != c)
        c = parent[c] = parent[parent[c]];
      return c;
    };
    for (const FaceRecord &face : faces)
      if (face.neighbor_face != numbers::invalid_unsigned_int)
        {
          const unsigned int a = face.cell->active_cell_index(),
                             b = face.neighbor->active_cell_index();
          if (dense[a] && dense[b])
            parent[root(a)] = root(b);
        }
    unsigned int n_clusters = 0;
    for (unsigned int c = 0; c < n_cells; ++c)
      if (dense[c] && root(c) == c)
        ++n_clusters;
    return n_clusters;
  }



  template <int dim, int spacedim>
  WeightedPoints
  ContinuitySolver<dim, spacedim>::quadrature_measure() const
  {
    const std::vector<double> values = values_at_quadrature_points(density);
    WeightedPoints measure{sources, std::vector<double>(values.size())};
    for (std::size_t q = 0; q < values.size(); ++q)
      measure.weights[q] = std::max(0., values[q]) * source_JxW[q];
    return measure;
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::mass_of(const Vector<double> &rho) const
  {
    const std::vector<double> values = values_at_quadrature_points(rho);
    double                    mass   = 0.;
    for (std::size_t q = 0; q < values.size(); ++q)
      mass += values[q] * source_JxW[q];
    return mass;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::adapt_if_due()
  {
    if (parameters.adaptive_refinement &&
        n_steps % parameters.adaptation_interval == 0)
      adapt_mesh();
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::adapt_mesh()
  {
    mark_cells();
    const double                                    mass = mass_of(density);
    const Vector<double>                            old  = density;
    SolutionTransfer<dim, Vector<double>, spacedim> transfer(dof_handler);
    transfer.prepare_for_coarsening_and_refinement(old);
    triangulation.execute_coarsening_and_refinement();
    setup();
    Vector<double> transferred(dof_handler.n_dofs());
    transfer.interpolate(old, transferred);
    density = transferred;
    // Curved cells: children and parents differ in shape, so the transfer
    // changes the mass by the geometry error; restore it exactly.
    density *= mass / mass_of(density);
    if (parameters.positivity_limiter)
      limit(density);
    ++adaptations;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::mark_cells()
  {
    // The mean density of each cell, relative to the average mass/|domain|.
    const unsigned int        n_q    = cell_quadrature.size();
    const std::vector<double> values = values_at_quadrature_points(density);
    Vector<float>             cell_mass(triangulation.n_active_cells()),
      volume(triangulation.n_active_cells());
    for (std::size_t q = 0; q < values.size(); ++q)
      {
        cell_mass(q / n_q) += std::max(0., values[q]) * source_JxW[q];
        volume(q / n_q) += source_JxW[q];
      }
    const double  average = cell_mass.l1_norm() / volume.l1_norm();
    Vector<float> ratio(triangulation.n_active_cells());
    for (unsigned int c = 0; c < ratio.size(); ++c)
      ratio(c) = cell_mass(c) / volume(c) / average;
    GridRefinement::refine(triangulation, ratio, parameters.refine_ratio);
    GridRefinement::coarsen(triangulation, ratio, parameters.coarsen_ratio);
    const int coarsest = std::max(0, int(parameters.refinements) - 2);
    for (const auto &cell : triangulation.active_cell_iterators())
      {
        if (cell->level() >= int(parameters.max_refinement_level))
          cell->clear_refine_flag();
        if (cell->level() <= coarsest)
          cell->clear_coarsen_flag();
      }
    triangulation.prepare_coarsening_and_refinement();
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::outflow_rate(const Vector<double> &rho) const
  {
    const unsigned int          n_qf = face_quadrature.size();
    FEFaceValues<dim, spacedim> fe_face(*mapping,
                                        fe,
                                        face_quadrature,
                                        update_values | update_JxW_values |
                                          update_normal_vectors);
    std::vector<double>         values(n_qf);
    double                      rate = 0.;
    for (const FaceRecord &face : faces)
      if (face.neighbor_face == numbers::invalid_unsigned_int)
        {
          fe_face.reinit(face.cell, face.face);
          fe_face.get_function_values(rho, values);
          for (unsigned int q = 0; q < n_qf; ++q)
            rate +=
              std::max(0.,
                       velocity[face.offset + q] * fe_face.normal_vector(q)) *
              values[q] * fe_face.JxW(q);
        }
    return rate;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::implicit_step(const Layer &layer,
                                                 const double dt)
  {
    const double theta =
      parameters.scheme == DensityScheme::backward_euler ? 1. : 0.5;
    Vector<double> next = density, rhs(density.size()), work(density.size());
    TrilinosWrappers::SparseMatrix mass, transport;
    for (unsigned int k = 0; k < parameters.picard_iterations; ++k)
      {
        // The field of theta rho_new + (1 - theta) rho (frozen when k = 0).
        work.equ(theta, next);
        work.add(1. - theta, density);
        evaluate_field(work, layer);
        std::unique_ptr<TimerOutput::Scope> scope;
        if (timer)
          scope =
            std::make_unique<TimerOutput::Scope>(*timer, "density transport");
        assemble_matrices(mass, transport);
        mass.vmult(rhs, density);
        transport.vmult(work, density);
        rhs.add((1. - theta) * dt, work);
        transport *= -theta * dt;
        transport.add(1., mass);

        SolverControl                 control(1000,
                              parameters.solver_tolerance * rhs.l2_norm());
        TrilinosWrappers::SolverGMRES solver(control);
        try
          {
            if (parameters.preconditioner == Preconditioner::amg)
              {
                TrilinosWrappers::PreconditionAMG::AdditionalData data;
                data.elliptic              = false;
                data.higher_order_elements = parameters.degree > 0;
                TrilinosWrappers::PreconditionAMG amg;
                amg.initialize(transport, data);
                solver.solve(transport, next, rhs, amg);
              }
            else
              {
                TrilinosWrappers::PreconditionILU ilu;
                ilu.initialize(transport);
                solver.solve(transport, next, rhs, ilu);
              }
          }
        catch (const ExceptionBase &e)
          {
            std::ostringstream message;
            message << "the linear solver (GMRES with "
                    << selection_name(preconditioner_names,
                                      parameters.preconditioner)
                    << ") failed at t = " << current_time
                    << ": try Density/preconditioner = "
                    << (parameters.preconditioner == Preconditioner::amg ?
                          "ilu" :
                          "amg")
                    << ", a smaller Density/time step or a larger "
                       "Density/linear solver tolerance";
            throw NumericalError(message.str());
          }
        n_linear_iterations += control.last_step();
      }
    // The mass balance of the theta scheme: what left through the boundary.
    // The exact solution of the system keeps it; restore what the Krylov
    // solver's tolerance lost.
    const double leaving =
      dt * (theta * outflow_rate(next) + (1. - theta) * outflow_rate(density));
    const double kept = mass_of(density) - leaving;
    outflow += leaving;
    next *= kept / mass_of(next);
    density = next;
    // The implicit schemes do not preserve positivity for k >= 1: slightly
    // negative cell means are set to zero, and the mass is restored.
    if (parameters.positivity_limiter)
      {
        limit(density, true);
        density *= kept / mass_of(density);
      }
    for (const double v : density)
      if (!std::isfinite(v))
        throw NumericalError("the density is not finite at t = " +
                             std::to_string(current_time));
    ++n_steps;
    last_step = dt;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::advance_to(const double t_end)
  {
    for (const Model::Interval &interval : model.intervals(current_time, t_end))
      {
        const Layer &layer = *interval.layer;
        const double stop  = interval.end;
        if (parameters.scheme == DensityScheme::ssp_rk3)
          while (current_time < stop)
            {
              const double remaining = stop - current_time;
              const double dt        = explicit_step(layer, remaining);
              current_time = dt >= remaining ? stop : current_time + dt;
              adapt_if_due();
            }
        else
          {
            // Equal implicit steps no longer than Density/time step.
            const double        start = current_time;
            const unsigned long n =
              std::ceil((stop - start) / parameters.time_step * (1. - 1e-12));
            for (unsigned long step = 1; step <= n; ++step)
              {
                implicit_step(layer, (stop - start) / n);
                current_time =
                  step == n ? stop : start + step * (stop - start) / n;
                adapt_if_due();
              }
          }
      }
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::integrate(
    const std::function<double(const Point<spacedim> &)> &f) const
  {
    const std::vector<double> values = values_at_quadrature_points(density);
    double                    sum    = 0.;
    for (std::size_t q = 0; q < values.size(); ++q)
      {
        Point<spacedim> x;
        for (unsigned int k = 0; k < spacedim; ++k)
          x[k] = sources[q][k];
        sum += values[q] * source_JxW[q] * f(x);
      }
    return sum;
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_distance(
    const Vector<double> &other) const
  {
    Vector<double> difference = density;
    difference -= other;
    const std::vector<double> values = values_at_quadrature_points(difference);
    double                    distance = 0.;
    for (std::size_t q = 0; q < values.size(); ++q)
      distance += std::abs(values[q]) * source_JxW[q];
    return distance;
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_distance(
    const std::function<double(const Point<spacedim> &)> &exact) const
  {
    const QGauss<dim>       quadrature(parameters.degree + 4);
    FEValues<dim, spacedim> fe_values(*mapping,
                                      fe,
                                      quadrature,
                                      update_values | update_JxW_values |
                                        update_quadrature_points);
    std::vector<double>     values(quadrature.size());
    double                  distance = 0.;
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        fe_values.get_function_values(density, values);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          distance +=
            std::abs(values[q] - exact(on_domain(fe_values.quadrature_point(q),
                                                 dim < spacedim))) *
            fe_values.JxW(q);
      }
    return distance;
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_error(
    const std::function<double(const double *)> &exact) const
  {
    return l1_distance(
      [&exact](const Point<spacedim> &x) { return exact(&x[0]); });
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::l1_distance_to(
    const DensitySolver &other_solver) const
  {
    const auto *other =
      dynamic_cast<const ContinuitySolver<dim, spacedim> *>(&other_solver);
    if (other == nullptr ||
        other->triangulation.n_cells(0) != triangulation.n_cells(0))
      throw InputError("Convergence/reference",
                       "the runs compared do not share one coarse mesh");
    DoFHandler<dim, spacedim> on_other_mesh(other->triangulation);
    on_other_mesh.distribute_dofs(fe);
    Vector<double> interpolated(on_other_mesh.n_dofs());
    VectorTools::interpolate_to_different_mesh(dof_handler,
                                               density,
                                               on_other_mesh,
                                               interpolated);

    const QGauss<dim> quadrature(std::max(fe.degree, other->fe.degree) + 4);
    FEValues<dim, spacedim> mine(*other->mapping,
                                 fe,
                                 quadrature,
                                 update_values);
    FEValues<dim, spacedim> theirs(*other->mapping,
                                   other->fe,
                                   quadrature,
                                   update_values | update_JxW_values);
    std::vector<double>     a(quadrature.size()), b(quadrature.size());
    double                  distance = 0.;
    auto                    cell     = on_other_mesh.begin_active();
    for (const auto &other_cell : other->dof_handler.active_cell_iterators())
      {
        mine.reinit(cell);
        theirs.reinit(other_cell);
        mine.get_function_values(interpolated, a);
        theirs.get_function_values(other->density, b);
        for (unsigned int q = 0; q < quadrature.size(); ++q)
          distance += std::abs(a[q] - b[q]) * theirs.JxW(q);
        ++cell;
      }
    return distance;
  }



  template <int dim, int spacedim>
  double
  ContinuitySolver<dim, spacedim>::mesh_size() const
  {
    return GridTools::maximal_cell_diameter(triangulation, *mapping);
  }



  template <int dim, int spacedim>
  std::unique_ptr<PiecewisePolynomialDensity>
  ContinuitySolver<dim, spacedim>::interval_density() const
  {
    if constexpr (dim != 1 || spacedim != 1)
      return nullptr;
    else
      {
        // rho at the Gauss points of every cell, cells left to right.
        const QGauss<1>     nodes(fe.degree + 1);
        FEValues<1>         fe_values(fe, nodes, update_values);
        std::vector<double> cell_values(nodes.size());
        std::vector<std::pair<double, std::vector<double>>> cells;
        double right = -std::numeric_limits<double>::max();
        for (const auto &cell : dof_handler.active_cell_iterators())
          {
            fe_values.reinit(cell);
            fe_values.get_function_values(density, cell_values);
            cells.emplace_back(cell->vertex(0)[0], cell_values);
            right = std::max(right, cell->vertex(1)[0]);
          }
        std::sort(cells.begin(), cells.end());
        std::vector<double>              vertices;
        std::vector<std::vector<double>> values;
        for (const auto &[left, cell_values] : cells)
          {
            vertices.push_back(left);
            values.push_back(cell_values);
          }
        vertices.push_back(right);
        std::vector<double> unit_nodes;
        for (const Point<1> &node : nodes.get_points())
          unit_nodes.push_back(node[0]);
        return std::make_unique<PiecewisePolynomialDensity>(vertices,
                                                            unit_nodes,
                                                            values);
      }
  }



  template <int dim, int spacedim>
  DensityStatistics
  ContinuitySolver<dim, spacedim>::statistics() const
  {
    DensityStatistics         s;
    const std::vector<double> values = values_at_quadrature_points(density);
    std::vector<double>       weights(values.size());
    for (std::size_t q = 0; q < values.size(); ++q)
      {
        weights[q] = values[q] * source_JxW[q];
        s.mass += weights[q];
      }
    static_cast<Moments &>(s) = weighted_moments(sources, weights);

    FEValues<dim, spacedim> fe_points(*mapping,
                                      fe,
                                      positivity_points,
                                      update_values);
    std::vector<double>     point_values(positivity_points.size());
    s.min_density = std::numeric_limits<double>::max();
    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_points.reinit(cell);
        fe_points.get_function_values(density, point_values);
        for (const double v : point_values)
          s.min_density = std::min(s.min_density, v);
      }

    for (double &w : weights)
      w = std::max(0., w);
    s.energy       = field.energy(model.layers[model.layer_index(current_time)],
                            sources,
                            weights);
    s.n_clusters   = count_clusters(values);
    s.mass_outflow = outflow;
    s.n_linear_iterations = n_linear_iterations;
    s.n_steps             = n_steps;
    s.last_step           = last_step;
    return s;
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::write_output(
    const std::filesystem::path &directory,
    const unsigned int           index)
  {
    // The field of the current density, projected cell by cell onto
    // FE_DGQ(k)^spacedim for output.
    evaluate_field(density, model.layers[model.layer_index(current_time)]);
    const FESystem<dim, spacedim> velocity_fe(fe, spacedim);
    DoFHandler<dim, spacedim>     velocity_dofs(triangulation);
    velocity_dofs.distribute_dofs(velocity_fe);
    Vector<double>                       projected(velocity_dofs.n_dofs());
    const unsigned int                   n_q    = cell_quadrature.size();
    const unsigned int                   n_dofs = fe.n_dofs_per_cell();
    FEValues<dim, spacedim>              fe_values(*mapping,
                                      fe,
                                      cell_quadrature,
                                      update_values | update_JxW_values);
    std::vector<types::global_dof_index> dofs(velocity_fe.n_dofs_per_cell());
    Vector<double>                       rhs(n_dofs), local(n_dofs);
    for (const auto &cell : velocity_dofs.active_cell_iterators())
      {
        const typename DoFHandler<dim, spacedim>::active_cell_iterator
          scalar_cell(&triangulation,
                      cell->level(),
                      cell->index(),
                      &dof_handler);
        fe_values.reinit(scalar_cell);
        cell->get_dof_indices(dofs);
        const std::size_t offset = cell->active_cell_index() * n_q;
        for (unsigned int k = 0; k < spacedim; ++k)
          {
            rhs = 0.;
            for (unsigned int q = 0; q < n_q; ++q)
              for (unsigned int i = 0; i < n_dofs; ++i)
                rhs(i) += velocity[offset + q][k] *
                          fe_values.shape_value(i, q) * fe_values.JxW(q);
            inverse_mass[cell->active_cell_index()].vmult(local, rhs);
            for (unsigned int i = 0; i < velocity_fe.n_dofs_per_cell(); ++i)
              {
                const auto component = velocity_fe.system_to_component_index(i);
                if (component.first == k)
                  projected(dofs[i]) = local(component.second);
              }
          }
      }

    DataOut<dim, spacedim> data_out;
    data_out.attach_dof_handler(dof_handler);
    data_out.add_data_vector(density, "density");
    data_out.add_data_vector(
      velocity_dofs,
      projected,
      std::vector<std::string>(spacedim, "velocity"),
      std::vector<DataComponentInterpretation::DataComponentInterpretation>(
        spacedim,
        DataComponentInterpretation::component_is_part_of_vector));
    // Subdivide curved cells as finely as their mapping bends them.
    data_out.build_patches(
      *mapping,
      dim < spacedim ? std::max(parameters.degree, parameters.mapping_degree) :
                       std::max(1u, parameters.degree),
      dim < spacedim ? DataOut<dim, spacedim>::curved_inner_cells :
                       DataOut<dim, spacedim>::no_curved_cells);
    DataOutBase::VtkFlags flags(current_time, index);
    // deal.II 9.4 writes no higher-order 1-D cells (it gives VTK_LAGRANGE_CURVE
    // cells without their inner points): line segments per subdivision there.
    flags.write_higher_order_cells = dim > 1;
    data_out.set_flags(flags);

    std::ostringstream name;
    name << "density_" << std::setw(4) << std::setfill('0') << index << ".vtu";
    write_file_atomically(directory / name.str(),
                          [&](std::ostream &out) { data_out.write_vtu(out); });
    if (!pvd)
      pvd = std::make_unique<PvdRecord>(directory / "density.pvd");
    pvd->add(current_time, name.str());
    data_out.clear();
    velocity_dofs.clear();
  }



  std::unique_ptr<DensitySolver>
  create_density_solver(const Model             &model,
                        const DensityParameters &parameters,
                        const KernelEngine      &engine,
                        const InitialMeasure    &initial_measure)
  {
    const unsigned int d = model.dimension;
    if (model.geometry == Geometry::euclidean)
      switch (d)
        {
          case 1:
            return std::make_unique<ContinuitySolver<1, 1>>(model,
                                                            parameters,
                                                            engine,
                                                            initial_measure);
          case 2:
            return std::make_unique<ContinuitySolver<2, 2>>(model,
                                                            parameters,
                                                            engine,
                                                            initial_measure);
          case 3:
            return std::make_unique<ContinuitySolver<3, 3>>(model,
                                                            parameters,
                                                            engine,
                                                            initial_measure);
        }
    else if (d == 2)
      return std::make_unique<ContinuitySolver<1, 2>>(model,
                                                      parameters,
                                                      engine,
                                                      initial_measure);
    else if (d == 3)
      return std::make_unique<ContinuitySolver<2, 3>>(model,
                                                      parameters,
                                                      engine,
                                                      initial_measure);
    throw InputError("Density/enabled",
                     "the finite-element density needs Model/dimension <= 3 "
                     "(boxes in R^1..R^3, S^1, S^2), got " +
                       std::to_string(d));
  }



  template class ContinuitySolver<1, 1>;
  template class ContinuitySolver<2, 2>;
  template class ContinuitySolver<3, 3>;
  template class ContinuitySolver<1, 2>;
  template class ContinuitySolver<2, 3>;
} // namespace attnflow
