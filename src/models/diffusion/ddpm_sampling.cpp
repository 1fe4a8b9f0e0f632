#include "physgen/models/diffusion/ddpm_sampling.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

std::vector<std::string> ancestral_variance_names() { return {"beta", "posterior"}; }
std::vector<std::string> timestep_spacing_names() { return {"quadratic", "uniform"}; }

std::vector<int64_t> ddim_timesteps(int64_t T, int64_t S, const std::string& spacing) {
  check_choice("spacing", spacing, timestep_spacing_names());
  check_arg(T >= 1, "diffusion_steps", T, "an integer >= 1");
  check_arg(S >= 1 && S <= T, "steps", S, "an integer in [1, " + std::to_string(T) + "]");
  std::vector<int64_t> tau(static_cast<size_t>(S));
  if (S == 1) {
    tau[0] = T - 1;
    return tau;
  }
  for (int64_t k = 0; k < S; ++k) {
    const double u = static_cast<double>(k) / static_cast<double>(S - 1);
    const double w = spacing == "uniform" ? u : u * u;
    tau[static_cast<size_t>(k)] = std::llround(w * static_cast<double>(T - 1));
  }
  // Strictly increasing with both ends kept: push collisions up, then cap from the top.
  for (size_t k = 1; k < tau.size(); ++k) tau[k] = std::max(tau[k], tau[k - 1] + 1);
  tau.back() = T - 1;
  for (size_t k = tau.size() - 1; k-- > 0;) tau[k] = std::min(tau[k], tau[k + 1] - 1);
  return tau;
}

torch::Tensor ddpm_step(const NoiseSchedule& s, const torch::Tensor& x, int64_t i,
                        const torch::Tensor& eps, const torch::Tensor& noise,
                        const std::string& variance) {
  const double beta = s.beta(i), abar = s.alpha_bar(i);
  auto mean = (x - (beta / std::sqrt(1.0 - abar)) * eps) / std::sqrt(1.0 - beta);
  if (i == 0) return mean;
  const double var = variance == "beta" ? beta : s.posterior_variance(i);
  return mean + std::sqrt(var) * noise;
}

torch::Tensor ddim_step(const NoiseSchedule& s, const torch::Tensor& x, int64_t i, int64_t p,
                        const torch::Tensor& eps_in, double eta, const torch::Tensor& noise,
                        double clip_x0) {
  const double a = s.alpha_bar(i), ap = s.alpha_bar(p);
  auto x0 = (x - std::sqrt(1.0 - a) * eps_in) / std::sqrt(a);
  auto eps = eps_in;
  if (clip_x0 > 0) {
    x0 = torch::clamp(x0, -clip_x0, clip_x0);
    eps = (x - std::sqrt(a) * x0) / std::sqrt(1.0 - a);
  }
  const double var = eta * eta * (1.0 - ap) / (1.0 - a) * (1.0 - a / ap);
  const double dir = std::sqrt(std::max(1.0 - ap - var, 0.0));
  auto out = std::sqrt(ap) * x0 + dir * eps;
  if (var > 0) out = out + std::sqrt(var) * noise;
  return out;
}

namespace {

void check_sampler_inputs(const EpsilonFunction& eps, const torch::Tensor& x_T) {
  check_arg(static_cast<bool>(eps), "eps", "empty function", "a callable eps(x, step)");
  check_arg(x_T.defined() && x_T.dim() >= 1 && x_T.is_floating_point(), "x_T.dim()",
            x_T.defined() ? x_T.dim() : -1, "a floating-point tensor (n, *event_shape)");
}

}  // namespace

torch::Tensor ddpm_sample(const EpsilonFunction& eps, const NoiseSchedule& schedule,
                          const torch::Tensor& x_T, const AncestralOptions& options) {
  check_sampler_inputs(eps, x_T);
  check_choice("variance", options.variance(), ancestral_variance_names());
  torch::NoGradGuard no_grad;
  auto x = x_T.clone();
  for (int64_t i = schedule.steps() - 1; i >= 0; --i) {
    auto e = eps(x, i);
    auto z = i > 0 ? torch::randn_like(x) : torch::Tensor();
    x = ddpm_step(schedule, x, i, e, z, options.variance());
  }
  return x;
}

torch::Tensor ddim_sample(const EpsilonFunction& eps, const NoiseSchedule& schedule,
                          const torch::Tensor& x_T, const DdimOptions& options) {
  check_sampler_inputs(eps, x_T);
  check_arg(options.eta() >= 0 && std::isfinite(options.eta()), "eta", options.eta(),
            "a finite value >= 0");
  check_arg(options.clip_x0() >= 0, "clip_x0", options.clip_x0(), "a value >= 0 (0: off)");
  const std::vector<int64_t> tau =
      ddim_timesteps(schedule.steps(), options.steps(), options.spacing());
  torch::NoGradGuard no_grad;
  auto x = x_T.clone();
  for (size_t k = tau.size(); k-- > 0;) {
    const int64_t i = tau[k], p = k > 0 ? tau[k - 1] : -1;
    auto e = eps(x, i);
    auto z = options.eta() > 0 && p >= 0 ? torch::randn_like(x) : torch::Tensor();
    x = ddim_step(schedule, x, i, p, e, options.eta(), z, options.clip_x0());
  }
  return x;
}

}  // namespace physgen
