#include "physgen/models/diffusion/score_sde.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/shape.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"
#include "physgen/ode/trace.h"

namespace physgen {

std::vector<std::string> score_sde_sampler_names() { return {"em", "ode", "pc"}; }

nlohmann::json ScoreSDEOptions::to_json() const { return options_to_json(*this); }

ScoreSDEOptions ScoreSDEOptions::from_json(const nlohmann::json& j) {
  ScoreSDEOptions o;
  options_from_json(o, j, "score-sde");
  return o;
}

ScoreSDEImpl::ScoreSDEImpl(const ScoreSDEOptions& options_) : options(options_) {
  event_shape_numel(options.event_shape());
  sde_ = make_sde(options.sde());
  options.condition().validate();
  check_choice("sampler", options.sampler(), score_sde_sampler_names());
  check_choice("trace", options.trace(), trace_estimators());
  check_choice("probe", options.probe(), probe_distributions());
  check_arg(options.train_t_min() > 0 && options.train_t_min() < 1, "train_t_min",
            options.train_t_min(), "a value in (0, 1)");
  check_arg(options.data_std() > 0 && std::isfinite(options.data_std()), "data_std",
            options.data_std(), "a finite value > 0");
  const auto& s = options.sampling();
  check_arg(s.steps() >= 1, "sampling.steps", s.steps(), "an integer >= 1");
  check_arg(s.t_min() > 0 && s.t_min() < 1, "sampling.t_min", s.t_min(),
            "a value in (0, 1) (the learned score is singular at t = 0)");
  check_arg(s.snr() > 0, "sampling.snr", s.snr(), "a value > 0");
  check_arg(s.corrector_steps() >= 0, "sampling.corrector_steps", s.corrector_steps(),
            "an integer >= 0");
  check_ode_options(options.solver(), 1.0, s.t_min());
  check_arg(options.guidance() >= 0 && std::isfinite(options.guidance()), "guidance",
            options.guidance(), "a finite value >= 0");
  reset();
}

void ScoreSDEImpl::reset() {
  net = register_module("net", DenoiserNet(options.event_shape(), options.condition().feature_dim(),
                                           options.network()));
}

std::vector<int64_t> ScoreSDEImpl::batch_shape(int64_t n) const {
  return physgen::batch_shape(n, options.event_shape());
}

torch::Tensor ScoreSDEImpl::check_batch(const torch::Tensor& x, const char* name) const {
  return check_event_batch(x, options.event_shape(), name);
}

torch::Tensor ScoreSDEImpl::loss(const torch::Tensor& batch, const torch::Tensor& cond) {
  auto x0 = check_batch(batch, "batch");
  const int64_t n = x0.size(0);
  auto opts = x0.options().requires_grad(false);
  const double t0 = options.train_t_min();
  auto t = t0 + (1.0 - t0) * torch::rand({n}, opts);
  std::vector<int64_t> bshape(static_cast<size_t>(x0.dim()), 1);
  bshape[0] = n;
  auto a = sde_->mean_scale(t).reshape(bshape);
  auto s = sde_->marginal_std(t).reshape(bshape);
  auto z = torch::randn(x0.sizes(), opts);
  const double sd2 = options.data_std() * options.data_std();
  auto c_in = torch::rsqrt(a * a * sd2 + s * s);
  auto features = condition_features_with_dropout(options.condition(), cond, n, x0);
  auto pred = net->forward(t, c_in * (a * x0 + s * z), features);
  return (pred - z).square().mean();
}

torch::Tensor ScoreSDEImpl::score(const torch::Tensor& x, double t, const torch::Tensor& features) {
  const double a = sde_->mean_scale(t), s = sde_->marginal_std(t);
  const double c_in = 1.0 / std::sqrt(a * a * options.data_std() * options.data_std() + s * s);
  auto tt = torch::full({1}, t, x.options().requires_grad(false));
  return net->forward(tt, c_in * x, features) * (-1.0 / s);
}

ScoreFunction ScoreSDEImpl::score_function(const torch::Tensor& cond, double w) {
  auto self = this;
  if (options.condition().kind() == "none" || !cond.defined()) {
    return [self](const torch::Tensor& x, double t) {
      auto null = condition_features(self->options.condition(), torch::Tensor(), x.size(0), x);
      return self->score(x, t, null);
    };
  }
  return [self, cond, w](const torch::Tensor& x, double t) {
    const int64_t n = x.size(0);
    auto fc = condition_features(self->options.condition(), cond, n, x);
    if (w == 0.0) return self->score(x, t, fc);
    auto fu = condition_features(self->options.condition(), torch::Tensor(), n, x);
    auto both = self->score(torch::cat({x, x}), t, torch::cat({fc, fu}));
    return guided(both.slice(0, 0, n), both.slice(0, n, 2 * n), w);
  };
}

torch::Tensor ScoreSDEImpl::sample_from(const torch::Tensor& x_1, const torch::Tensor& cond) {
  check_batch(x_1, "x_1");
  if (cond.defined())
    check_arg(cond.size(0) == x_1.size(0), "cond.size(0)", cond.size(0),
              "x_1.size(0) = " + std::to_string(x_1.size(0)));
  auto score = score_function(cond, options.guidance());
  if (options.sampler() == "ode") {
    return probability_flow_sample(score, *sde_, x_1, options.sampling().t_min(), options.solver(),
                                   &last_stats_);
  }
  if (options.sampler() == "pc") {
    return predictor_corrector_sample(score, *sde_, x_1, options.sampling());
  }
  return euler_maruyama_sample(score, *sde_, x_1, options.sampling());
}

torch::Tensor ScoreSDEImpl::sample(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = net->parameters().front();
  auto x_1 = sde_->prior_std() * torch::randn(batch_shape(n), w.options().requires_grad(false));
  return sample_from(x_1);
}

torch::Tensor ScoreSDEImpl::sample_conditional(const torch::Tensor& cond) {
  check_arg(cond.defined() && cond.dim() >= 1 && cond.size(0) >= 1, "cond.dim()",
            cond.defined() ? cond.dim() : -1, "conditions (n >= 1, ...)");
  auto w = net->parameters().front();
  auto x_1 =
      sde_->prior_std() * torch::randn(batch_shape(cond.size(0)), w.options().requires_grad(false));
  return sample_from(x_1, cond);
}

LogDensityOptions ScoreSDEImpl::density_options() const {
  return LogDensityOptions().trace(options.trace()).probe(options.probe()).solver(options.solver());
}

torch::Tensor ScoreSDEImpl::log_prob(const torch::Tensor& x) {
  check_batch(x, "x");
  FlowDensity fd = probability_flow_log_prob(score_function(), parameters(), *sde_, x,
                                             options.sampling().t_min(), density_options());
  last_stats_ = fd.ode;
  return fd.log_prob;
}

std::pair<torch::Tensor, torch::Tensor> ScoreSDEImpl::sample_and_log_prob(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto w = net->parameters().front();
  auto x_1 = sde_->prior_std() * torch::randn(batch_shape(n), w.options().requires_grad(false));
  FlowDensity fd = probability_flow_sample_and_log_prob(
      score_function(), parameters(), *sde_, x_1, options.sampling().t_min(), density_options());
  last_stats_ = fd.ode;
  return {fd.x, fd.log_prob};
}

}  // namespace physgen
