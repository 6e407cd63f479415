#include <attnflow/convergence_sweep.h>

namespace attnflow
{
  const std::vector<Sweep> &
  sweeps()
  {
    using A = Sweep::Abscissa;
    using D = Sweep::Direction;
    using R = Sweep::Rate;
    using S = Sweep::ReferenceSlope;
    using C = Sweep::Changes;
    using Q = Sweep::Requirement;
    // clang-format off
    static const std::vector<Sweep> table = {
      // parameter                 short name     variable abscissa
      //   direction      rate                 reference slope
      //   changes     requirement
      {"Density/refinements",     "refinements", "h",   A::inverse_mesh_size,
        D::increasing, R::order,            S::degree_plus_one,
        C::density, Q::none},
      {"Density/degree",          "k",           "k",   A::value,
        D::increasing, R::reduction_factor, S::none,
        C::density, Q::none},
      {"Density/cfl number",      "cfl",         "cfl", A::inverse_value,
        D::decreasing, R::order,            S::density_scheme_order,
        C::density, Q::explicit_density_scheme},
      {"Density/time step",       "dt",          "dt",  A::inverse_density_step,
        D::decreasing, R::order,            S::density_scheme_order,
        C::density, Q::none},
      {"Time/time step",          "dt",          "dt",  A::inverse_token_step,
        D::decreasing, R::order,            S::token_scheme_order,
        C::tokens,  Q::fixed_token_steps},
      {"Tokens/number of tokens", "n",           "n",   A::value,
        D::increasing, R::order,            S::one_half,
        C::number_of_tokens, Q::none}};
    // clang-format on
    return table;
  }



  SelectionTable<const Sweep *>
  sweep_selection(const bool with_none)
  {
    SelectionTable<const Sweep *> selection;
    if (with_none)
      selection.emplace_back(nullptr, "none");
    for (const Sweep &sweep : sweeps())
      selection.emplace_back(&sweep, sweep.parameter);
    return selection;
  }
} // namespace attnflow
