#include "physgen/models/cnf/neural_ode.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/cnf/log_density.h"
#include "physgen/ode/adjoint.h"

namespace physgen {

NeuralODEImpl::NeuralODEImpl(const NeuralODEOptions& options_) : options(options_) {
  options.field().dim(event_shape_numel(options.event_shape()));
  check_ode_options(options.solver(), options.t0(), options.t1());
  reset();
}

void NeuralODEImpl::reset() { field = register_module("field", TimeMLP(options.field())); }

OdeResult NeuralODEImpl::integrate(const torch::Tensor& x) {
  std::vector<int64_t> expected = {x.defined() ? x.size(0) : -1};
  expected.insert(expected.end(), options.event_shape().begin(), options.event_shape().end());
  check_arg(x.defined() && x.sizes().vec() == expected, "x.shape",
            x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "(n, *event_shape)");
  const int64_t n = x.size(0);
  auto flat = x.reshape({n, -1});
  auto impl = field.ptr();
  OdeFunction f = [impl](double t, const torch::Tensor& y) { return impl->forward(t, y); };
  OdeResult r = options.adjoint()
                    ? odeint_adjoint(f, impl->parameters(), flat, options.t0(), options.t1(),
                                     options.solver())
                    : odeint(f, flat, options.t0(), options.t1(), options.solver());
  r.state[0] = r.state[0].reshape(x.sizes());
  last_stats_ = r;
  return r;
}

torch::Tensor NeuralODEImpl::forward(const torch::Tensor& x) { return integrate(x).y(); }

}  // namespace physgen
