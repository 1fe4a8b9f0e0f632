#include "physgen/models/flow_matching/flow_matching.h"

#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/ode/assignment.h"
#include "physgen/ode/trace.h"

namespace physgen {

std::vector<std::string> coupling_names() { return {"independent", "ot"}; }

FlowMatchingImpl::FlowMatchingImpl(const FlowMatchingOptions& options_) : options(options_) {
  dim_ = event_shape_numel(options.event_shape());
  options.field().dim(dim_);
  if (options.conv_field()) {
    const auto& s = options.event_shape();
    check_arg(s.size() == 2, "event_shape", c10::str(c10::IntArrayRef(s)),
              "a lattice shape (H, W) for a conv_field");
    options.conv_field()->height(s[0]).width(s[1]);
  }
  check_choice("coupling", options.coupling(), coupling_names());
  check_choice("trace", options.trace(), trace_estimators());
  check_choice("probe", options.probe(), probe_distributions());
  check_ode_options(options.solver(), 0.0, 1.0);
  path_ = make_path(options.path(), options.sigma_min(), options.beta_min(), options.beta_max(),
                    options.time_epsilon());
  reset();
}

void FlowMatchingImpl::reset() {
  if (options.conv_field())
    conv_field = register_module("conv_field", TimeConvField(*options.conv_field()));
  else
    field = register_module("field", TimeMLP(options.field()));
}

torch::Tensor FlowMatchingImpl::velocity(double t, const torch::Tensor& x) {
  return conv_field ? conv_field->forward(t, x) : field->forward(t, x);
}

torch::Tensor FlowMatchingImpl::velocity(const torch::Tensor& t, const torch::Tensor& x) {
  return conv_field ? conv_field->forward(t, x) : field->forward(t, x);
}

VelocityField FlowMatchingImpl::velocity_field() {
  if (conv_field) {
    auto impl = conv_field.ptr();
    return [impl](double t, const torch::Tensor& x) { return impl->forward(t, x); };
  }
  auto impl = field.ptr();
  return [impl](double t, const torch::Tensor& x) { return impl->forward(t, x); };
}

LogDensityOptions FlowMatchingImpl::density_options() const {
  return LogDensityOptions().trace(options.trace()).probe(options.probe()).solver(options.solver());
}

std::vector<int64_t> FlowMatchingImpl::batch_shape(int64_t n) const {
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  return shape;
}

torch::Tensor FlowMatchingImpl::check_batch(const torch::Tensor& x, const char* name) const {
  const int64_t n = x.defined() && x.dim() > 0 ? x.size(0) : -1;
  check_arg(x.defined() && n >= 1 && x.sizes().vec() == batch_shape(n),
            std::string(name) + ".shape", x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(options.event_shape())) + ")");
  check_arg(x.is_floating_point(), std::string(name) + ".dtype", c10::str(x.scalar_type()),
            "a floating-point dtype");
  return x.reshape({n, dim_});
}

torch::Tensor FlowMatchingImpl::ot_pair(const torch::Tensor& x0, const torch::Tensor& x1) {
  check_arg(x0.size(0) == x1.size(0), "x1.size(0)", x1.size(0),
            "x0.size(0) = " + std::to_string(x0.size(0)));
  torch::Tensor cost;
  {
    torch::NoGradGuard no_grad;
    cost = squared_distance_cost(x0.to(torch::kFloat64), x1.to(torch::kFloat64));
  }
  std::vector<int64_t> assignment = linear_sum_assignment(cost);
  auto index = torch::tensor(assignment, torch::kLong).to(x1.device());
  return x1.index_select(0, index);
}

torch::Tensor FlowMatchingImpl::loss_pairs_at(const torch::Tensor& x0, const torch::Tensor& x1,
                                              const torch::Tensor& t) {
  auto f0 = check_batch(x0, "x0");
  auto f1 = check_batch(x1, "x1");
  check_arg(f0.size(0) == f1.size(0), "x1.size(0)", f1.size(0), "x0.size(0)");
  check_arg(t.dim() == 1 && t.size(0) == f1.size(0), "t.shape", c10::str(t.sizes()), "(n)");
  auto tt = t.to(f1.options().requires_grad(false));
  auto [xt, ut] = path_->point_and_velocity(f0, f1, tt);
  auto v = velocity(tt, xt);
  return (v - ut).square().mean();
}

torch::Tensor FlowMatchingImpl::loss_pairs(const torch::Tensor& x0, const torch::Tensor& x1) {
  auto t = torch::rand({x1.size(0)}, x1.options().requires_grad(false)) * path_->t_max();
  return loss_pairs_at(x0, x1, t);
}

torch::Tensor FlowMatchingImpl::loss(const torch::Tensor& batch) {
  auto x1 = check_batch(batch, "batch").reshape(batch.sizes());
  if (teacher_) {
    auto pairs = teacher_->reflow_pairs(x1.size(0));
    return loss_pairs(pairs.first.to(x1.options()), pairs.second.to(x1.options()));
  }
  if (options.z2_augment()) {
    std::vector<int64_t> sign_shape(static_cast<size_t>(x1.dim()), 1);
    sign_shape[0] = x1.size(0);
    auto sign = torch::randint(0, 2, sign_shape, x1.options().requires_grad(false)).mul_(2).sub_(1);
    x1 = x1 * sign;
  }
  auto x0 = torch::randn(x1.sizes(), x1.options().requires_grad(false));
  if (options.coupling() == "ot") x1 = ot_pair(x0, x1);
  return loss_pairs(x0, x1);
}

torch::Tensor FlowMatchingImpl::transport(const torch::Tensor& z) {
  auto flat = check_batch(z, "z");
  OdeResult r = odeint(velocity_field(), flat, 0.0, 1.0, options.solver());
  last_stats_ = r;
  auto x = r.ok() ? r.y() : torch::full_like(r.y(), std::numeric_limits<double>::quiet_NaN());
  return x.reshape(z.sizes());
}

std::pair<torch::Tensor, torch::Tensor> FlowMatchingImpl::reflow_pairs(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  torch::NoGradGuard no_grad;
  auto w = parameters().front();
  auto z = torch::randn(batch_shape(n), w.options().requires_grad(false));
  return {z, transport(z)};
}

void FlowMatchingImpl::set_reflow_teacher(std::shared_ptr<FlowMatchingImpl> teacher) {
  if (teacher) {
    check_arg(teacher->event_shape() == event_shape(), "teacher.event_shape",
              c10::str(c10::IntArrayRef(teacher->event_shape())), "this model's event_shape");
    teacher->eval();
    for (auto& p : teacher->parameters()) p.requires_grad_(false);
  }
  teacher_ = std::move(teacher);
}

torch::Tensor FlowMatchingImpl::sample(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = parameters().front();
  return transport(torch::randn(batch_shape(n), w.options().requires_grad(false)));
}

torch::Tensor FlowMatchingImpl::log_prob(const torch::Tensor& x) {
  auto flat = check_batch(x, "x");
  FlowDensity fd = flow_log_prob(velocity_field(), parameters(), flat, density_options());
  last_stats_ = fd.ode;
  return fd.log_prob;
}

std::pair<torch::Tensor, torch::Tensor> FlowMatchingImpl::sample_and_log_prob(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = parameters().front();
  auto z = torch::randn({n, dim_}, w.options().requires_grad(false));
  FlowDensity fd = flow_sample_and_log_prob(velocity_field(), parameters(), z, density_options());
  last_stats_ = fd.ode;
  return {fd.x.reshape(batch_shape(n)), fd.log_prob};
}

}  // namespace physgen
