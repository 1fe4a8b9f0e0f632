#include "physgen/zoo/kit.h"

#include "physgen/core/check.h"

namespace physgen::zoo {

bool is_lattice(const std::vector<int64_t>& event_shape) { return event_shape.size() == 2; }

bool is_square_lattice(const std::vector<int64_t>& event_shape) {
  return is_lattice(event_shape) && event_shape[0] == event_shape[1];
}

OdeOptions solver_with(const OdeOptions& base, const SamplerSettings& s, double t0, double t1) {
  const std::string method = s.solver.empty() ? base.method() : s.solver;
  check_choice("solver (--solver)", method, ode_methods().names());
  OdeOptions o = method == base.method() ? base : make_ode_options(method);
  const OdeMethodInfo& info = ode_methods().get(method);
  if (!info.adaptive && s.steps > 0) o.n_steps(s.steps).step_size(0.0);
  if (info.adaptive && s.rtol > 0) o.rtol(s.rtol);
  if (info.adaptive && s.atol > 0) o.atol(s.atol);
  check_ode_options(o, t0, t1);
  return o;
}

void require_data(const TrainingData& data, const std::string& what) {
  check_arg(data.x.defined(), "data", "(none)", "training samples (--data FILE.npy) for " + what);
}

}  // namespace physgen::zoo
