/**
 * @file
 * The checkpoint of the density (doc/theory.md section 11): the mesh with
 * rho in one archive, the replicated state (time, counters, PVD record) in
 * another. Under MPI the first becomes
 * parallel::distributed::SolutionTransfer::prepare_for_serialization(rho)
 * followed by Triangulation::save(file), and SolutionTransfer::deserialize
 * after Triangulation::load(file) (step-83); the second is written by rank
 * 0 and read by all.
 */
#include <attnflow/continuity_solver.h>
#include <attnflow/exceptions.h>

#include <deal.II/grid/manifold.h>

#include <fstream>
#include <memory>
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
  void
  DGSpace<dim, spacedim>::save_mesh(
    boost::archive::binary_oarchive &archive) const
  {
    triangulation.save(archive, 0);
  }



  template <int dim, int spacedim>
  void
  DGSpace<dim, spacedim>::load_mesh(boost::archive::binary_iarchive &archive)
  {
    // Triangulation::load() clears the mesh, which it refuses while a
    // DoFHandler uses it: the DoFHandler looks at an empty mesh meanwhile.
    // Clearing also forgets the manifolds (the sphere's curved cells),
    // which are not in the archive: they are set again.
    std::vector<
      std::pair<types::manifold_id, std::unique_ptr<Manifold<dim, spacedim>>>>
      manifolds;
    for (const types::manifold_id id : triangulation.get_manifold_ids())
      if (id != numbers::flat_manifold_id)
        manifolds.emplace_back(id, triangulation.get_manifold(id).clone());
    const Triangulation<dim, spacedim> placeholder;
    dof_handler.reinit(placeholder);
    triangulation.load(archive, 0);
    for (const auto &[id, manifold] : manifolds)
      triangulation.set_manifold(id, *manifold);
    dof_handler.reinit(triangulation);
    reinit();
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::save_checkpoint(OutputFolder &folder) const
  {
    write_file_atomically(folder.add("density.mesh"), [&](std::ostream &out) {
      boost::archive::binary_oarchive archive(out);
      space.save_mesh(archive);
      archive << density;
    });
    write_file_atomically(folder.add("density.state"), [&](std::ostream &out) {
      boost::archive::binary_oarchive archive(out);
      const bool                      has_pvd = pvd != nullptr;
      archive << current_time << initial_mass << outflow << n_steps << last_step
              << n_linear_iterations << adaptations << has_pvd;
      if (has_pvd)
        archive << *pvd;
    });
  }



  template <int dim, int spacedim>
  void
  ContinuitySolver<dim, spacedim>::load_checkpoint(
    const std::filesystem::path &checkpoint,
    const std::filesystem::path &run_folder)
  {
    read_archive(checkpoint / "density.mesh",
                 [&](boost::archive::binary_iarchive &archive) {
                   space.load_mesh(archive);
                   reinit();
                   archive >> density;
                 });
    if (density.size() != space.get_dof_handler().n_dofs())
      throw InputError((checkpoint / "density.mesh").string(),
                       "holds a density of another mesh or degree than "
                       "this run's");
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



  template void
  DGSpace<1, 1>::save_mesh(boost::archive::binary_oarchive &) const;
  template void
  DGSpace<1, 1>::load_mesh(boost::archive::binary_iarchive &);
  template void
  ContinuitySolver<1, 1>::save_checkpoint(OutputFolder &) const;
  template void
  ContinuitySolver<1, 1>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template void
  DGSpace<2, 2>::save_mesh(boost::archive::binary_oarchive &) const;
  template void
  DGSpace<2, 2>::load_mesh(boost::archive::binary_iarchive &);
  template void
  ContinuitySolver<2, 2>::save_checkpoint(OutputFolder &) const;
  template void
  ContinuitySolver<2, 2>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template void
  DGSpace<3, 3>::save_mesh(boost::archive::binary_oarchive &) const;
  template void
  DGSpace<3, 3>::load_mesh(boost::archive::binary_iarchive &);
  template void
  ContinuitySolver<3, 3>::save_checkpoint(OutputFolder &) const;
  template void
  ContinuitySolver<3, 3>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template void
  DGSpace<1, 2>::save_mesh(boost::archive::binary_oarchive &) const;
  template void
  DGSpace<1, 2>::load_mesh(boost::archive::binary_iarchive &);
  template void
  ContinuitySolver<1, 2>::save_checkpoint(OutputFolder &) const;
  template void
  ContinuitySolver<1, 2>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
  template void
  DGSpace<2, 3>::save_mesh(boost::archive::binary_oarchive &) const;
  template void
  DGSpace<2, 3>::load_mesh(boost::archive::binary_iarchive &);
  template void
  ContinuitySolver<2, 3>::save_checkpoint(OutputFolder &) const;
  template void
  ContinuitySolver<2, 3>::load_checkpoint(const std::filesystem::path &,
                                          const std::filesystem::path &);
} // namespace attnflow
