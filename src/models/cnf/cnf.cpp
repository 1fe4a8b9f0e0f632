#include "physgen/models/cnf/cnf.h"

#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/ode/trace.h"

namespace physgen {

CNFImpl::CNFImpl(const CNFOptions& options_) : options(options_) {
  dim_ = event_shape_numel(options.event_shape());
  options.field().dim(dim_);
  if (options.conv_field()) {
    const auto& s = options.event_shape();
    check_arg(s.size() == 2, "event_shape", c10::str(c10::IntArrayRef(s)),
              "a lattice shape (H, W) for a conv_field");
    options.conv_field()->height(s[0]).width(s[1]);
  }
  check_choice("trace", options.trace(), trace_estimators());
  check_choice("eval_trace", options.eval_trace(), trace_estimators());
  check_choice("probe", options.probe(), probe_distributions());
  check_arg(options.kinetic_weight() >= 0, "kinetic_weight", options.kinetic_weight(), "a value >= 0");
  check_arg(options.jacobian_weight() >= 0, "jacobian_weight", options.jacobian_weight(),
            "a value >= 0");
  check_ode_options(options.solver(), 1.0, 0.0);
  if (options.sample_solver()) check_ode_options(*options.sample_solver(), 0.0, 1.0);
  reset();
}

void CNFImpl::reset() {
  if (options.conv_field())
    conv_field = register_module("conv_field", TimeConvField(*options.conv_field()));
  else
    field = register_module("field", TimeMLP(options.field()));
}

torch::Tensor CNFImpl::velocity(double t, const torch::Tensor& x) {
  return conv_field ? conv_field->forward(t, x) : field->forward(t, x);
}

VelocityField CNFImpl::velocity_field() {
  if (conv_field) {
    auto impl = conv_field.ptr();
    return [impl](double t, const torch::Tensor& x) { return impl->forward(t, x); };
  }
  auto impl = field.ptr();
  return [impl](double t, const torch::Tensor& x) { return impl->forward(t, x); };
}

LogDensityOptions CNFImpl::density_options(bool regularise) const {
  return LogDensityOptions()
      .trace(is_training() ? options.trace() : options.eval_trace())
      .probe(options.probe())
      .kinetic_energy(regularise && options.kinetic_weight() > 0)
      .jacobian_frobenius(regularise && options.jacobian_weight() > 0)
      .solver(options.solver())
      .adjoint(options.adjoint());
}

torch::Tensor CNFImpl::check_batch(const torch::Tensor& x, const char* name) const {
  std::vector<int64_t> expected = {x.defined() && x.dim() > 0 ? x.size(0) : -1};
  expected.insert(expected.end(), options.event_shape().begin(), options.event_shape().end());
  check_arg(x.defined() && x.sizes().vec() == expected, std::string(name) + ".shape",
            x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "(n, " + c10::str(c10::IntArrayRef(options.event_shape())) + ")");
  return x.reshape({x.size(0), dim_});
}

torch::Tensor CNFImpl::log_prob(const torch::Tensor& x) {
  auto flat = check_batch(x, "x");
  FlowDensity fd = flow_log_prob(velocity_field(), parameters(), flat, density_options(false));
  last_stats_ = fd.ode;
  return fd.log_prob;
}

CNFLoss CNFImpl::loss_terms(const torch::Tensor& batch) {
  auto flat = check_batch(batch, "batch");
  FlowDensity fd = flow_log_prob(velocity_field(), parameters(), flat, density_options(true));
  last_stats_ = fd.ode;
  CNFLoss out;
  out.nll = -fd.log_prob.mean();
  out.loss = out.nll;
  if (fd.kinetic.defined()) {
    out.kinetic = fd.kinetic.mean();
    out.loss = out.loss + options.kinetic_weight() * out.kinetic;
  }
  if (fd.jacobian.defined()) {
    out.jacobian = fd.jacobian.mean();
    out.loss = out.loss + options.jacobian_weight() * out.jacobian;
  }
  return out;
}

std::pair<torch::Tensor, torch::Tensor> CNFImpl::sample_and_log_prob(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = parameters().front();
  auto z = torch::randn({n, dim_}, w.options().requires_grad(false));
  LogDensityOptions o = density_options(false);
  o.solver(options.sample_solver().value_or(options.solver()));
  FlowDensity fd = flow_sample_and_log_prob(velocity_field(), parameters(), z, o);
  last_stats_ = fd.ode;
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  return {fd.x.reshape(shape), fd.log_prob};
}

torch::Tensor CNFImpl::sample(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = parameters().front();
  auto z = torch::randn({n, dim_}, w.options().requires_grad(false));
  OdeResult r = odeint(velocity_field(), z, 0.0, 1.0,
                       options.sample_solver().value_or(options.solver()));
  last_stats_ = r;
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  auto x = r.ok() ? r.y() : torch::full_like(r.y(), std::numeric_limits<double>::quiet_NaN());
  return x.reshape(shape);
}

}  // namespace physgen
