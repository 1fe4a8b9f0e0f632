#include "physgen/models/flow_matching/paths.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

std::pair<torch::Tensor, torch::Tensor> ProbabilityPath::point_and_velocity(
    const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& t) const {
  PathCoefficients c = coefficients(t.to(x1.scalar_type()));
  // Broadcast per-sample coefficients over the event dimensions.
  std::vector<int64_t> shape(x1.dim(), 1);
  if (c.alpha.dim() > 0) shape[0] = c.alpha.numel();
  auto b = [&](const torch::Tensor& v) { return c.alpha.dim() > 0 ? v.reshape(shape) : v; };
  auto xt = b(c.alpha) * x1 + b(c.sigma) * x0;
  auto ut = b(c.d_alpha) * x1 + b(c.d_sigma) * x0;
  return {xt, ut};
}

LinearPath::LinearPath(double sigma_min) : sigma_min_(sigma_min) {
  check_arg(sigma_min >= 0 && sigma_min < 1, "sigma_min", sigma_min, "a value in [0, 1)");
}

PathCoefficients LinearPath::coefficients(const torch::Tensor& t) const {
  PathCoefficients c;
  c.alpha = t;
  c.sigma = 1.0 - (1.0 - sigma_min_) * t;
  c.d_alpha = torch::ones_like(t);
  c.d_sigma = torch::full_like(t, -(1.0 - sigma_min_));
  return c;
}

VPPath::VPPath(double beta_min, double beta_max, double eps)
    : beta_min_(beta_min), beta_max_(beta_max), eps_(eps) {
  check_arg(beta_min >= 0, "beta_min", beta_min, "a value >= 0");
  check_arg(beta_max >= beta_min && beta_max > 0, "beta_max", beta_max,
            "a value >= beta_min and > 0");
  check_arg(eps > 0 && eps < 1, "time_epsilon", eps, "a value in (0, 1)");
}

PathCoefficients VPPath::coefficients(const torch::Tensor& t) const {
  auto s = 1.0 - t;
  auto big_t = beta_min_ * s + 0.5 * (beta_max_ - beta_min_) * s * s;
  auto beta = beta_min_ + (beta_max_ - beta_min_) * s;
  PathCoefficients c;
  c.alpha = torch::exp(-0.5 * big_t);
  // sigma^2 = 1 - e^{-T}, computed as -expm1(-T) for accuracy near t = 1.
  c.sigma = torch::sqrt(-torch::expm1(-big_t));
  c.d_alpha = 0.5 * beta * c.alpha;
  c.d_sigma = -c.alpha * c.d_alpha / c.sigma;
  return c;
}

std::vector<std::string> path_names() { return {"linear", "vp"}; }

std::shared_ptr<ProbabilityPath> make_path(const std::string& name, double sigma_min,
                                           double beta_min, double beta_max, double eps) {
  check_choice("path", name, path_names());
  if (name == "linear") return std::make_shared<LinearPath>(sigma_min);
  return std::make_shared<VPPath>(beta_min, beta_max, eps);
}

}  // namespace physgen
