#include "physgen/models/pfgm/pfgm.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/io/config.h"
#include "physgen/models/cnf/log_density.h"

namespace physgen {

PFGMOptions::PFGMOptions(std::vector<int64_t> event_shape)
    : event_shape_(std::move(event_shape)),
      network_(TimeMLPOptions(1).hidden({128, 128, 128}).activation("silu")) {}

nlohmann::json PFGMOptions::to_json() const { return options_to_json(*this); }

PFGMOptions PFGMOptions::from_json(const nlohmann::json& j) {
  PFGMOptions o;
  options_from_json(o, j, "pfgm");
  return o;
}

PFGMImpl::PFGMImpl(const PFGMOptions& options_) : options(options_) {
  dim_ = event_shape_numel(options.event_shape());
  check_arg(options.sigma() > 0, "sigma", options.sigma(), "a value > 0");
  check_arg(options.tau() > 0, "tau", options.tau(), "a value > 0");
  check_arg(options.M() >= 0, "M", options.M(), "a value >= 0");
  check_arg(options.gamma() > 0, "gamma", options.gamma(), "a value > 0");
  check_arg(options.perturbed_batch() >= 0, "perturbed_batch", options.perturbed_batch(),
            "an integer >= 0 (0: all rows)");
  check_arg(options.input_radius() > 0, "input_radius", options.input_radius(), "a value > 0");
  check_arg(options.max_prior_radius() > 1, "max_prior_radius", options.max_prior_radius(),
            "a value > 1");
  check_arg(options.z_min() > 0 && options.z_max() > options.z_min(), "z_max", options.z_max(),
            "a value > z_min > 0");
  check_ode_options(options.solver(), std::log(options.z_max()), std::log(options.z_min()));
  options.network().dim(dim_ + 1).condition_dim(0);
  reset();
}

void PFGMImpl::reset() { net = register_module("net", TimeMLP(options.network())); }

torch::Tensor PFGMImpl::field(const torch::Tensor& x, const torch::Tensor& z) {
  const int64_t n = x.size(0);
  auto zz = z.to(x.options().requires_grad(false)).reshape({-1, 1});
  if (zz.size(0) == 1 && n != 1) zz = zz.expand({n, 1});
  auto input = torch::cat({x.reshape({n, dim_}), zz}, 1);
  input = input / (1.0 + input.norm(2, 1, true) / options.input_radius());
  return net->forward(torch::log(zz), input);
}

torch::Tensor PFGMImpl::perturb(const torch::Tensor& y) {
  const int64_t n = y.size(0);
  auto opts = y.options().requires_grad(false);
  auto m = torch::rand({n, 1}, opts) * options.M();
  auto mult = torch::pow(1.0 + options.tau(), m);
  auto eps_x = torch::randn({n, dim_}, opts) * options.sigma();
  auto eps_z = torch::randn({n, 1}, opts) * options.sigma();
  auto u = torch::randn({n, dim_}, opts);
  u = u / u.norm(2, 1, true);
  auto x = y.reshape({n, dim_}) + eps_x.norm(2, 1, true) * mult * u;
  auto z = torch::clamp_min(eps_z.abs() * mult, 1e-10);
  return torch::cat({x, z}, 1);
}

torch::Tensor PFGMImpl::loss(const torch::Tensor& batch) {
  check_arg(batch.defined() && batch.dim() >= 1 && batch.size(0) >= 1 &&
                batch.numel() / batch.size(0) == dim_ && batch.is_floating_point(),
            "batch.shape", batch.defined() ? c10::str(batch.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(options.event_shape())) + ")");
  const int64_t n = batch.size(0);
  const int64_t b = options.perturbed_batch() > 0 ? std::min(options.perturbed_batch(), n) : n;
  auto charges = batch.reshape({n, dim_}).detach();
  auto pts = perturb(charges.slice(0, 0, b));
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    auto E = -empirical_poisson_field(charges, pts.slice(1, 0, dim_), pts.slice(1, dim_));
    auto norm = E.norm(2, 1, true);
    target = std::sqrt(static_cast<double>(dim_)) * E / (norm + options.gamma());
  }
  auto pred = field(pts.slice(1, 0, dim_), pts.slice(1, dim_));
  return (pred - target).square().mean();
}

torch::Tensor PFGMImpl::prior(int64_t n, torch::TensorOptions opts) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  const int64_t N = dim_;
  auto radius = torch::clamp(options.z_max() * pfgmpp_kernel_radius(n, N, 1, opts), 1.0,
                             options.max_prior_radius());
  auto u = torch::randn({n, N}, opts);
  u = u / u.norm(2, 1, true);
  return (radius.unsqueeze(1) * u).reshape(shape);
}

torch::Tensor PFGMImpl::sample_from(const torch::Tensor& x_max) {
  check_arg(x_max.defined() && x_max.dim() >= 1 && x_max.size(0) >= 1 &&
                x_max.numel() / x_max.size(0) == dim_,
            "x_max.shape", x_max.defined() ? c10::str(x_max.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(options.event_shape())) + ")");
  auto self = this;
  PoissonFieldFunction f = [self](const torch::Tensor& x, double z) {
    return self->field(x, torch::full({1}, z, x.options()));
  };
  return pfgm_sample(f, x_max, options.z_max(), options.z_min(), options.solver(), true,
                     &last_stats_);
}

torch::Tensor PFGMImpl::sample(int64_t n) {
  auto w = net->parameters().front();
  return sample_from(prior(n, w.options().requires_grad(false)));
}

}  // namespace physgen
