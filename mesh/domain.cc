#include <attnflow/domain.h>
#include <attnflow/exceptions.h>

#include <deal.II/fe/mapping_q.h>
#include <deal.II/fe/mapping_q_cache.h>
#include <deal.II/grid/grid_generator.h>

namespace attnflow
{
  template <int dim, int spacedim>
  void
  create_domain(dealii::Triangulation<dim, spacedim> &triangulation,
                const DensityParameters              &parameters)
  {
    if constexpr (dim == spacedim)
      {
        const Box                 box = parse_box(parameters.lower_corner,
                                  parameters.upper_corner,
                                  dim,
                                  "Density");
        const std::vector<double> cells =
          parse_coordinates(parameters.subdivisions,
                            dim,
                            "Density/subdivisions");
        dealii::Point<dim>        p1, p2;
        std::vector<unsigned int> repetitions(dim);
        for (unsigned int k = 0; k < dim; ++k)
          {
            if (!(cells[k] >= 1. && cells[k] == std::floor(cells[k]) &&
                  cells[k] <= 1e4))
              throw InputError("Density/subdivisions",
                               "must be whole numbers from 1 to 10000");
            p1[k]          = box.lower[k];
            p2[k]          = box.upper[k];
            repetitions[k] = static_cast<unsigned int>(cells[k]);
          }
        dealii::GridGenerator::subdivided_hyper_rectangle(triangulation,
                                                          repetitions,
                                                          p1,
                                                          p2);
      }
    else
      dealii::GridGenerator::hyper_sphere(triangulation);
    triangulation.refine_global(parameters.refinements);
  }



  template <int dim, int spacedim>
  std::unique_ptr<dealii::Mapping<dim, spacedim>>
  create_mapping(const DensityParameters                    &parameters,
                 const dealii::Triangulation<dim, spacedim> &triangulation)
  {
    const unsigned int degree = dim == spacedim ? 1 : parameters.mapping_degree;
    auto cache = std::make_unique<dealii::MappingQCache<dim, spacedim>>(degree);
    cache->initialize(dealii::MappingQ<dim, spacedim>(degree), triangulation);
    return cache;
  }



  template void
  create_domain(dealii::Triangulation<1, 1> &, const DensityParameters &);
  template void
  create_domain(dealii::Triangulation<2, 2> &, const DensityParameters &);
  template void
  create_domain(dealii::Triangulation<3, 3> &, const DensityParameters &);
  template void
  create_domain(dealii::Triangulation<1, 2> &, const DensityParameters &);
  template void
  create_domain(dealii::Triangulation<2, 3> &, const DensityParameters &);
  template std::unique_ptr<dealii::Mapping<1, 1>>
  create_mapping(const DensityParameters &,
                 const dealii::Triangulation<1, 1> &);
  template std::unique_ptr<dealii::Mapping<2, 2>>
  create_mapping(const DensityParameters &,
                 const dealii::Triangulation<2, 2> &);
  template std::unique_ptr<dealii::Mapping<3, 3>>
  create_mapping(const DensityParameters &,
                 const dealii::Triangulation<3, 3> &);
  template std::unique_ptr<dealii::Mapping<1, 2>>
  create_mapping(const DensityParameters &,
                 const dealii::Triangulation<1, 2> &);
  template std::unique_ptr<dealii::Mapping<2, 3>>
  create_mapping(const DensityParameters &,
                 const dealii::Triangulation<2, 3> &);
} // namespace attnflow
