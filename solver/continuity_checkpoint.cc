/**
 * @file
 * The checkpoint of the density (doc/theory.md section 11): the mesh as the
 * ids of its active cells with the coefficients of rho on each, in the order
 * of the ids, in one archive; the state (time, counters, PVD record) in
 * another. Neither depends on the ranks that wrote it: a run resumes on any
 * number of them, the mesh rebuilt from the coarse one and shared out anew.
 */
#include <attnflow/continuity_solver.h>
#include <attnflow/distributed.h>
#include <attnflow/exceptions.h>

#include <deal.II/base/mpi.h>
#include <deal.II/lac/vector.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

namespace attnflow
{
  using namespace dealii;

  namespace
  {
    /**
     * Reads @p file of @p checkpoint through @p read; InputError naming the
     * file if it is missing or cut short.
     */
    void
    read_archive(
      const std::filesystem::path                                  &file,
      const std::function<void(boost::archive::binary_iarchive &)> &read)
    {
      std::ifstream in(file, std::ios::binary);
      if (!in)
        throw InputError(file.string(), "is missing from the checkpoint");
      try
        {
          boost::archive::binary_iarchive archive(in);
          read(archive);
        }
      catch (const boost::archive::archive_exception &e)
        {
          throw InputError(file.string(),
                           std::string("is not a checkpoint of this run (") +
                             e.what() + ")");
        }
    }
  } // namespace



  template <int dim, int spacedim>
  bool
  DGSpace<dim, spacedim>::rebuild_mesh(const std::vector<CellId> &cells)
  {
    const std::set<CellId> wanted(cells.begin(), cells.end());
    // Each pass refines the cells that hold a wanted cell and coarsens those
    // inside one, until every cell is wanted (or nothing changes).
    for (unsigned int pass = 0; pass < 2 * 64; ++pass)
      {
        int changed = 0, foreign = 0;
        // A mesh whole on every rank (dim = 1) is flagged alike everywhere.
        for (const auto &cell : triangulation.active_cell_iterators())
          if (dim == 1 || cell->is_locally_owned())
            {
              const CellId id = cell->id();
              if (wanted.count(id) != 0)
                continue;
              const auto next = wanted.lower_bound(id);
              if (next != wanted.end() && id.is_ancestor_of(*next))
                cell->set_refine_flag();
              else if (cell->level() > 0)
                cell->set_coarsen_flag();
              else
                foreign = 1; // a coarse cell that holds no wanted cell
              changed = 1;
            }
        if (Utilities::MPI::max(foreign, get_communicator()) != 0)
          return false;
        if (Utilities::MPI::max(changed, get_communicator()) == 0)
          {
            reinit();
            return Utilities::MPI::sum(owned.size(), get_communicator()) ==
                   wanted.size();
          }
        triangulation.execute_coarsening_and_refinement();
      }
    return false;
  }



  template <int dim, int spacedim>
  std::vector<std::pair<std::string, std::vector<double>>>
  ContinuitySolver<dim, spacedim>::cell_coefficients(const bool to_all) const
  {
    using Cells = std::vector<std::pair<std::string, std::vector<double>>>;
    Cells          cells;
    Vector<double> values(space.get_fe().n_dofs_per_cell());
    density.update_ghost_values();
    for (const auto &cell : space.owned_cells())
      {
        cell->get_dof_values(density, values);
        cells.emplace_back(cell->id().to_string(),
                           std::vector<double>(values.begin(), values.end()));
      }
    Cells all =
      concatenated(to_all ? Utilities::MPI::all_gather(communicator, cells) :
                            Utilities::MPI::gather(communicator, cells, 0));
    std::sort(all.begin(), all.end(), [](const auto &a, const auto &b) {
      return CellId(a.first) < CellId(b.first);
    });
    return all;
  }



  template <int dim, int spacedim>
  std::map<CellId, std::vector<double>>
  ContinuitySolver<dim, spacedim>::by_cell_id(
    std::vector<std::pair<std::string, std::vector<double>>> cells)
  {
    std::map<CellId, std::vector<double>> by_id;
    for (auto &[id, values] : cells)
      by_id.emplace(CellId(id), std::move(values));
    return by_id;
  }



  template <int dim, int spacedim>
  std::vector<std::pair<std::string, std::string>>
  ContinuitySolver<dim, spacedim>::checkpoint_files() const
  {
    // The cells of all ranks, gathered on rank 0, which alone writes.
    const auto all = cell_coefficients(false);
    if (!is_root(communicator))
      return {};

    std::ostringstream mesh, state;
    {
      boost::archive::binary_oarchive archive(mesh);
      archive << all;
    }
    {
      boost::archive::binary_oarchive archive(state);
      const bool                      has_pvd = pvd != nullptr;
      archive << current_time << initial_mass << outflow << n_steps << last_step
              << n_linear_iterations << adaptations << has_pvd;
      if (has_pvd)
        archive << *pvd;
    }
    return {{"density.mesh", mesh.str()}, {"density.state", state.str()}};
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::load_checkpoint(
    const std::filesystem::path &checkpoint,
    const std::filesystem::path &run_folder)
  {
    const std::filesystem::path mesh_file = checkpoint / "density.mesh";
    std::vector<std::pair<std::string, std::vector<double>>> cells;
    read_archive(mesh_file, [&](boost::archive::binary_iarchive &archive) {
      archive >> cells;
    });
    std::map<CellId, std::vector<double>> values_of;
    try
      {
        values_of = by_cell_id(std::move(cells));
      }
    catch (const ExceptionBase &)
      {
        throw InputError(mesh_file.string(), "holds a cell of no mesh");
      }
    std::vector<CellId> ids;
    for (const auto &cell : values_of)
      ids.push_back(cell.first);
    if (!space.rebuild_mesh(ids))
      throw InputError(mesh_file.string(),
                       "holds the mesh of another domain than this run's");
    reinit();
    density = space.create_vector();
    Vector<double> values(space.get_fe().n_dofs_per_cell());
    for (const auto &cell : space.owned_cells())
      {
        const std::vector<double> &saved = values_of.at(cell->id());
        if (saved.size() != values.size())
          throw InputError(mesh_file.string(),
                           "holds a density of another degree than this run's");
        std::copy(saved.begin(), saved.end(), values.begin());
        cell->set_dof_values(values, density);
      }
    density.update_ghost_values();
    read_archive(checkpoint / "density.state",
                 [&](boost::archive::binary_iarchive &archive) {
                   bool has_pvd = false;
                   archive >> current_time >> initial_mass >> outflow >>
                     n_steps >> last_step >> n_linear_iterations >>
                     adaptations >> has_pvd;
                   pvd.reset();
                   if (has_pvd)
                     {
                       pvd = std::make_unique<PvdRecord>(run_folder /
                                                         "density.pvd");
                       archive >> *pvd;
                     }
                 });
  }



  template bool
  DGSpace<1, 1>::rebuild_mesh(const std::vector<CellId> &);
  template std::vector<std::pair<std::string, std::vector<double>>>
  ContinuitySolver<1, 1>::cell_coefficients(const bool) const;
  template std::map<CellId, std::vector<double>>
    ContinuitySolver<1, 1>::by_cell_id(
      std::vector<std::pair<std::string, std::vector<double>>>);
  template std::vector<std::pair<std::string, std::string>>
  ContinuitySolver<1, 1>::checkpoint_files() const;
  template void
  ContinuitySolver<1, 1>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template bool
  DGSpace<2, 2>::rebuild_mesh(const std::vector<CellId> &);
  template std::vector<std::pair<std::string, std::vector<double>>>
  ContinuitySolver<2, 2>::cell_coefficients(const bool) const;
  template std::map<CellId, std::vector<double>>
    ContinuitySolver<2, 2>::by_cell_id(
      std::vector<std::pair<std::string, std::vector<double>>>);
  template std::vector<std::pair<std::string, std::string>>
  ContinuitySolver<2, 2>::checkpoint_files() const;
  template void
  ContinuitySolver<2, 2>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template bool
  DGSpace<3, 3>::rebuild_mesh(const std::vector<CellId> &);
  template std::vector<std::pair<std::string, std::vector<double>>>
  ContinuitySolver<3, 3>::cell_coefficients(const bool) const;
  template std::map<CellId, std::vector<double>>
    ContinuitySolver<3, 3>::by_cell_id(
      std::vector<std::pair<std::string, std::vector<double>>>);
  template std::vector<std::pair<std::string, std::string>>
  ContinuitySolver<3, 3>::checkpoint_files() const;
  template void
  ContinuitySolver<3, 3>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template bool
  DGSpace<1, 2>::rebuild_mesh(const std::vector<CellId> &);
  template std::vector<std::pair<std::string, std::vector<double>>>
  ContinuitySolver<1, 2>::cell_coefficients(const bool) const;
  template std::map<CellId, std::vector<double>>
    ContinuitySolver<1, 2>::by_cell_id(
      std::vector<std::pair<std::string, std::vector<double>>>);
  template std::vector<std::pair<std::string, std::string>>
  ContinuitySolver<1, 2>::checkpoint_files() const;
  template void
  ContinuitySolver<1, 2>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template bool
  DGSpace<2, 3>::rebuild_mesh(const std::vector<CellId> &);
  template std::vector<std::pair<std::string, std::vector<double>>>
  ContinuitySolver<2, 3>::cell_coefficients(const bool) const;
  template std::map<CellId, std::vector<double>>
    ContinuitySolver<2, 3>::by_cell_id(
      std::vector<std::pair<std::string, std::vector<double>>>);
  template std::vector<std::pair<std::string, std::string>>
  ContinuitySolver<2, 3>::checkpoint_files() const;
  template void
  ContinuitySolver<2, 3>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
} // namespace attnflow
