#include "physgen/models/pfgm/pfgmpp.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/io/config.h"
#include "physgen/models/cnf/log_density.h"

namespace physgen {

nlohmann::json PFGMPPOptions::to_json() const { return options_to_json(*this); }

PFGMPPOptions PFGMPPOptions::from_json(const nlohmann::json& j) {
  PFGMPPOptions o;
  options_from_json(o, j, "pfgmpp");
  return o;
}

PFGMPPImpl::PFGMPPImpl(const PFGMPPOptions& options_) : options(options_) {
  event_shape_numel(options.event_shape());
  check_arg(options.extra_dims() >= 0, "extra_dims", options.extra_dims(),
            "an integer >= 0 (0: the diffusion limit)");
  options.condition().validate();
  check_choice("preconditioning", options.preconditioning(), {"edm", "eps"});
  check_arg(options.data_std() > 0, "data_std", options.data_std(), "a value > 0");
  check_arg(options.p_std() > 0, "p_std", options.p_std(), "a value > 0");
  check_arg(options.sigma_min() > 0 && options.sigma_max() > options.sigma_min(), "sigma_max",
            options.sigma_max(), "a value > sigma_min > 0");
  check_ode_options(options.solver(), std::log(options.sigma_max()), std::log(options.sigma_min()));
  check_arg(options.guidance() >= 0, "guidance", options.guidance(), "a value >= 0");
  reset();
}

void PFGMPPImpl::reset() {
  net = register_module("net", DenoiserNet(options.event_shape(), options.condition().feature_dim(),
                                           options.network()));
}

std::vector<int64_t> PFGMPPImpl::batch_shape(int64_t n) const {
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  return shape;
}

torch::Tensor PFGMPPImpl::denoise(const torch::Tensor& x, const torch::Tensor& sigma,
                                  const torch::Tensor& features) {
  const int64_t n = x.size(0);
  auto s = sigma.to(x.options().requires_grad(false)).reshape({-1});
  if (s.size(0) == 1 && n != 1) s = s.expand({n});
  std::vector<int64_t> bshape(static_cast<size_t>(x.dim()), 1);
  bshape[0] = n;
  const double sd = options.data_std();
  auto s2 = s.square() + sd * sd;
  auto c_in = torch::rsqrt(s2).reshape(bshape);
  auto F = net->forward(0.25 * torch::log(s), c_in * x, features);
  if (options.preconditioning() == "eps") return x - s.reshape(bshape) * F;
  auto c_skip = (sd * sd / s2).reshape(bshape);
  auto c_out = (s * sd * torch::rsqrt(s2)).reshape(bshape);
  return c_skip * x + c_out * F;
}

torch::Tensor PFGMPPImpl::loss(const torch::Tensor& batch, const torch::Tensor& cond) {
  const int64_t n = batch.defined() && batch.dim() > 0 ? batch.size(0) : -1;
  check_arg(batch.defined() && n >= 1 && batch.sizes().vec() == batch_shape(n) &&
                batch.is_floating_point(),
            "batch.shape", batch.defined() ? c10::str(batch.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(options.event_shape())) + ")");
  auto opts = batch.options().requires_grad(false);
  auto sigma = torch::exp(options.p_mean() + options.p_std() * torch::randn({n}, opts));
  auto x = pfgmpp_perturb(batch.detach(), sigma, options.extra_dims());
  auto features = condition_features_with_dropout(options.condition(), cond, n, batch);
  const double sd = options.data_std();
  auto weight = options.preconditioning() == "eps"
                    ? 1.0 / sigma.square()
                    : (sigma.square() + sd * sd) / (sigma * sd).square();
  auto err = (denoise(x, sigma, features) - batch).square().reshape({n, -1}).mean(1);
  return (weight * err).mean();
}

DenoiserFunction PFGMPPImpl::denoiser_function(const torch::Tensor& cond, double w) {
  auto self = this;
  if (options.condition().kind() == "none" || !cond.defined()) {
    return [self](const torch::Tensor& x, double sigma) {
      auto null = condition_features(self->options.condition(), torch::Tensor(), x.size(0), x);
      return self->denoise(x, torch::full({1}, sigma, x.options()), null);
    };
  }
  return [self, cond, w](const torch::Tensor& x, double sigma) {
    const int64_t n = x.size(0);
    auto s = torch::full({1}, sigma, x.options());
    auto fc = condition_features(self->options.condition(), cond, n, x);
    if (w == 0.0) return self->denoise(x, s, fc);
    auto fu = condition_features(self->options.condition(), torch::Tensor(), n, x);
    auto both = self->denoise(torch::cat({x, x}), s, torch::cat({fc, fu}));
    return guided(both.slice(0, 0, n), both.slice(0, n, 2 * n), w);
  };
}

torch::Tensor PFGMPPImpl::prior(int64_t n, torch::TensorOptions opts) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  return pfgmpp_perturb(torch::zeros(batch_shape(n), opts),
                        torch::full({n}, options.sigma_max(), opts), options.extra_dims());
}

torch::Tensor PFGMPPImpl::sample_from(const torch::Tensor& x_max, const torch::Tensor& cond) {
  const int64_t n = x_max.defined() && x_max.dim() > 0 ? x_max.size(0) : -1;
  check_arg(x_max.defined() && n >= 1 && x_max.sizes().vec() == batch_shape(n), "x_max.shape",
            x_max.defined() ? c10::str(x_max.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(options.event_shape())) + ")");
  if (cond.defined())
    check_arg(cond.size(0) == n, "cond.size(0)", cond.size(0),
              "x_max.size(0) = " + std::to_string(n));
  return pfgmpp_sample(denoiser_function(cond, options.guidance()), x_max, options.sigma_max(),
                       options.sigma_min(), options.solver(), true, &last_stats_);
}

torch::Tensor PFGMPPImpl::sample(int64_t n) {
  auto w = net->parameters().front();
  return sample_from(prior(n, w.options().requires_grad(false)));
}

torch::Tensor PFGMPPImpl::sample_conditional(const torch::Tensor& cond) {
  check_arg(cond.defined() && cond.dim() >= 1 && cond.size(0) >= 1, "cond.dim()",
            cond.defined() ? cond.dim() : -1, "conditions (n >= 1, ...)");
  auto w = net->parameters().front();
  return sample_from(prior(cond.size(0), w.options().requires_grad(false)), cond);
}

}  // namespace physgen
