#include "physgen/models/diffusion/ddpm.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/shape.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"
#include "physgen/models/cnf/log_density.h"

namespace physgen {

std::vector<std::string> ddpm_sampler_names() { return {"ddim", "ddpm"}; }

nlohmann::json DDPMOptions::to_json() const { return options_to_json(*this); }

DDPMOptions DDPMOptions::from_json(const nlohmann::json& j) {
  DDPMOptions o;
  options_from_json(o, j, "ddpm");
  return o;
}

DDPMImpl::DDPMImpl(const DDPMOptions& options_)
    : options(options_), schedule_(options_.schedule()) {
  event_shape_numel(options.event_shape());
  options.condition().validate();
  check_choice("sampler", options.sampler(), ddpm_sampler_names());
  check_choice("variance", options.ancestral().variance(), ancestral_variance_names());
  check_choice("spacing", options.ddim().spacing(), timestep_spacing_names());
  check_arg(options.ddim().steps() >= 1 && options.ddim().steps() <= schedule_.steps(),
            "ddim.steps", options.ddim().steps(),
            "an integer in [1, " + std::to_string(schedule_.steps()) + "]");
  check_arg(options.ddim().eta() >= 0, "ddim.eta", options.ddim().eta(), "a value >= 0");
  check_arg(options.guidance() >= 0 && std::isfinite(options.guidance()), "guidance",
            options.guidance(), "a finite value >= 0");
  reset();
}

void DDPMImpl::reset() {
  net = register_module("net", DenoiserNet(options.event_shape(), options.condition().feature_dim(),
                                           options.network()));
}

std::vector<int64_t> DDPMImpl::batch_shape(int64_t n) const {
  return physgen::batch_shape(n, options.event_shape());
}

torch::Tensor DDPMImpl::check_batch(const torch::Tensor& x, const char* name) const {
  return check_event_batch(x, options.event_shape(), name);
}

torch::Tensor DDPMImpl::loss_at(const torch::Tensor& x0, const torch::Tensor& step,
                                const torch::Tensor& noise, const torch::Tensor& features) {
  auto xt = q_sample(schedule_, x0, step, noise);
  auto t = (step.to(x0.scalar_type()) + 1.0) / static_cast<double>(schedule_.steps());
  return (net->forward(t, xt, features) - noise).square().mean();
}

torch::Tensor DDPMImpl::loss(const torch::Tensor& batch, const torch::Tensor& cond) {
  auto x0 = check_batch(batch, "batch");
  const int64_t n = x0.size(0);
  auto opts = x0.options().requires_grad(false);
  auto step = torch::randint(0, schedule_.steps(), {n}, opts.dtype(torch::kLong));
  auto noise = torch::randn(x0.sizes(), opts);
  auto features = condition_features_with_dropout(options.condition(), cond, n, x0);
  return loss_at(x0, step, noise, features);
}

torch::Tensor DDPMImpl::epsilon(const torch::Tensor& x, int64_t step,
                                const torch::Tensor& features) {
  auto t = torch::full({1}, schedule_.time(step), x.options().requires_grad(false));
  return net->forward(t, x, features);
}

EpsilonFunction DDPMImpl::epsilon_function(const torch::Tensor& cond, double w) {
  auto self = this;
  if (options.condition().kind() == "none" || !cond.defined()) {
    return [self](const torch::Tensor& x, int64_t i) {
      auto null = condition_features(self->options.condition(), torch::Tensor(), x.size(0), x);
      return self->epsilon(x, i, null);
    };
  }
  return [self, cond, w](const torch::Tensor& x, int64_t i) {
    const int64_t n = x.size(0);
    auto fc = condition_features(self->options.condition(), cond, n, x);
    if (w == 0.0) return self->epsilon(x, i, fc);
    // One network pass over [conditional; unconditional].
    auto fu = condition_features(self->options.condition(), torch::Tensor(), n, x);
    auto both = self->epsilon(torch::cat({x, x}), i, torch::cat({fc, fu}));
    return guided(both.slice(0, 0, n), both.slice(0, n, 2 * n), w);
  };
}

torch::Tensor DDPMImpl::sample_from(const torch::Tensor& x_T, const torch::Tensor& cond) {
  check_batch(x_T, "x_T");
  if (cond.defined())
    check_arg(cond.size(0) == x_T.size(0), "cond.size(0)", cond.size(0),
              "x_T.size(0) = " + std::to_string(x_T.size(0)));
  auto eps = epsilon_function(cond, options.guidance());
  if (options.sampler() == "ddim") return ddim_sample(eps, schedule_, x_T, options.ddim());
  return ddpm_sample(eps, schedule_, x_T, options.ancestral());
}

torch::Tensor DDPMImpl::sample(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = net->parameters().front();
  return sample_from(torch::randn(batch_shape(n), w.options().requires_grad(false)));
}

torch::Tensor DDPMImpl::sample_conditional(const torch::Tensor& cond) {
  check_arg(cond.defined() && cond.dim() >= 1 && cond.size(0) >= 1, "cond.dim()",
            cond.defined() ? cond.dim() : -1, "conditions (n >= 1, ...)");
  auto w = net->parameters().front();
  return sample_from(torch::randn(batch_shape(cond.size(0)), w.options().requires_grad(false)),
                     cond);
}

VPSde DDPMImpl::continuous_sde() const {
  check_arg(options.schedule().name() == "linear", "schedule.name", options.schedule().name(),
            "linear (the probability-flow ODE of a DDPM uses the linear schedule's VP SDE limit)");
  return VPSde(1000.0 * options.schedule().beta_start(), 1000.0 * options.schedule().beta_end());
}

torch::Tensor DDPMImpl::probability_flow_sample(const torch::Tensor& x_T, const torch::Tensor& cond,
                                                double guidance, const OdeOptions& solver,
                                                OdeStats* stats) {
  check_batch(x_T, "x_T");
  if (cond.defined())
    check_arg(cond.size(0) == x_T.size(0), "cond.size(0)", cond.size(0),
              "x_T.size(0) = " + std::to_string(x_T.size(0)));
  check_arg(guidance >= 0 && std::isfinite(guidance), "guidance", guidance, "a finite value >= 0");
  const VPSde sde = continuous_sde();
  const double t_min = schedule_.time(0);
  check_ode_options(solver, 1.0, t_min);
  auto self = this;
  const bool conditional = options.condition().kind() != "none" && cond.defined();
  // eps at continuous time t, as epsilon_function does on the grid.
  auto eps_at = [self, cond, guidance, conditional](const torch::Tensor& x, double t) {
    const int64_t n = x.size(0);
    auto tt = torch::full({1}, t, x.options().requires_grad(false));
    const auto& copt = self->options.condition();
    auto fu = condition_features(copt, torch::Tensor(), n, x);
    if (!conditional) return self->net->forward(tt, x, fu);
    auto fc = condition_features(copt, cond, n, x);
    if (guidance == 0.0) return self->net->forward(tt, x, fc);
    auto both = self->net->forward(tt, torch::cat({x, x}), torch::cat({fc, fu}));
    return guided(both.slice(0, 0, n), both.slice(0, n, 2 * n), guidance);
  };
  ScoreFunction score = [&sde, eps_at](const torch::Tensor& x, double t) {
    return eps_at(x, t) * (-1.0 / sde.marginal_std(t));
  };
  torch::NoGradGuard ng;
  auto x = physgen::probability_flow_sample(score, sde, x_T, t_min, solver, stats);
  const double ab = schedule_.alpha_bar(0);
  return (x - std::sqrt(1.0 - ab) * eps_at(x, t_min)) / std::sqrt(ab);
}

}  // namespace physgen
