#include "physgen/models/diffusion/sde.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"

namespace physgen {

std::vector<std::string> sde_names() { return {"ve", "vp"}; }

nlohmann::json SdeOptions::to_json() const { return options_to_json(*this); }

SdeOptions SdeOptions::from_json(const nlohmann::json& j) {
  SdeOptions o;
  options_from_json(o, j, "sde");
  return o;
}

double Sde::mean_scale(double t) const {
  return mean_scale(torch::full({1}, t, torch::kFloat64)).item<double>();
}

double Sde::marginal_std(double t) const {
  return marginal_std(torch::full({1}, t, torch::kFloat64)).item<double>();
}

torch::Tensor Sde::probability_flow_drift(const torch::Tensor& x, const torch::Tensor& score,
                                          double t) const {
  return drift_coefficient(t) * x - (0.5 * diffusion_squared(t)) * score;
}

// ---------------------------------------------------------------- VP

VPSde::VPSde(double beta_min, double beta_max) : beta_min_(beta_min), beta_max_(beta_max) {
  check_arg(beta_min >= 0 && std::isfinite(beta_min), "beta_min", beta_min, "a finite value >= 0");
  check_arg(beta_max > 0 && beta_max >= beta_min && std::isfinite(beta_max), "beta_max", beta_max,
            "a finite value > 0 and >= beta_min");
}

double VPSde::drift_coefficient(double t) const { return -0.5 * diffusion_squared(t); }

double VPSde::diffusion_squared(double t) const { return beta_min_ + t * (beta_max_ - beta_min_); }

torch::Tensor VPSde::mean_scale(const torch::Tensor& t) const {
  auto B = beta_min_ * t + 0.5 * (beta_max_ - beta_min_) * t * t;
  return torch::exp(-0.5 * B);
}

torch::Tensor VPSde::marginal_std(const torch::Tensor& t) const {
  auto B = beta_min_ * t + 0.5 * (beta_max_ - beta_min_) * t * t;
  return torch::sqrt(-torch::expm1(-B));
}

// ---------------------------------------------------------------- VE

VESde::VESde(double sigma_min, double sigma_max) : sigma_min_(sigma_min), sigma_max_(sigma_max) {
  check_arg(sigma_min > 0 && std::isfinite(sigma_min), "sigma_min", sigma_min,
            "a finite value > 0");
  check_arg(sigma_max > sigma_min && std::isfinite(sigma_max), "sigma_max", sigma_max,
            "a finite value > sigma_min");
}

double VESde::diffusion_squared(double t) const {
  const double s = sigma_min_ * std::pow(sigma_max_ / sigma_min_, t);
  return 2.0 * s * s * std::log(sigma_max_ / sigma_min_);
}

torch::Tensor VESde::mean_scale(const torch::Tensor& t) const { return torch::ones_like(t); }

torch::Tensor VESde::marginal_std(const torch::Tensor& t) const {
  // sigma(t)^2 - sigma_min^2 = sigma_min^2 (exp(2 t ln r) - 1), accurate near t = 0.
  const double log_ratio = std::log(sigma_max_ / sigma_min_);
  return sigma_min_ * torch::sqrt(torch::expm1(2.0 * log_ratio * t));
}

double VESde::prior_std() const {
  return std::sqrt(sigma_max_ * sigma_max_ - sigma_min_ * sigma_min_);
}

std::shared_ptr<Sde> make_sde(const SdeOptions& o) {
  check_choice("sde", o.name(), sde_names());
  if (o.name() == "vp") return std::make_shared<VPSde>(o.beta_min(), o.beta_max());
  return std::make_shared<VESde>(o.sigma_min(), o.sigma_max());
}

}  // namespace physgen
