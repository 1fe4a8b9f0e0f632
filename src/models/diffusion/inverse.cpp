#include "physgen/models/diffusion/inverse.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

namespace {

void check_fields(const EpsilonFunction& eps, const torch::Tensor& x, const char* name) {
  check_arg(static_cast<bool>(eps), "eps", "empty function", "a callable eps(x, step)");
  check_arg(x.defined() && x.dim() >= 1 && x.size(0) >= 1 && x.is_floating_point(),
            std::string(name) + ".dim()", x.defined() ? x.dim() : -1,
            "a floating-point tensor (n >= 1, *event_shape)");
}

}  // namespace

torch::Tensor repaint_inpaint(const EpsilonFunction& eps, const NoiseSchedule& s,
                              const torch::Tensor& known, const torch::Tensor& mask_in,
                              const InpaintOptions& o) {
  check_fields(eps, known, "known");
  check_arg(o.resample() >= 1, "resample", o.resample(), "an integer >= 1");
  check_arg(o.jump() >= 1, "jump", o.jump(), "an integer >= 1");
  check_choice("variance", o.variance(), ancestral_variance_names());
  check_arg(mask_in.defined(), "mask", "undefined", "a tensor broadcastable to known");
  torch::NoGradGuard no_grad;
  auto mask = mask_in.to(known.options());
  check_arg(torch::equal(mask * (1 - mask), torch::zeros_like(mask)), "mask", "non-binary values",
            "entries 0 (unknown) or 1 (known)");
  auto x0 = known * mask;
  mask = mask.expand_as(known);
  // Level L holds x_{L-1}: level T is pure noise, level 0 the data.
  auto known_at = [&](int64_t level) {
    const double ab = s.alpha_bar(level - 1);
    return std::sqrt(ab) * x0 + std::sqrt(1.0 - ab) * torch::randn_like(x0);
  };
  int64_t level = s.steps();
  auto x = torch::randn_like(known);
  while (level > 0) {
    const int64_t block_end = std::max<int64_t>(level - o.jump(), 0);
    const int64_t block_start = level;
    for (int64_t r = 0; r < o.resample(); ++r) {
      while (level > block_end) {
        const int64_t i = level - 1;
        auto z = i > 0 ? torch::randn_like(x) : torch::Tensor();
        x = ddpm_step(s, x, i, eps(x, i), z, o.variance());
        --level;
        x = mask * known_at(level) + (1 - mask) * x;
      }
      if (r + 1 < o.resample()) {
        while (level < block_start) {
          const double beta = s.beta(level);
          x = std::sqrt(1.0 - beta) * x + std::sqrt(beta) * torch::randn_like(x);
          ++level;
        }
      }
    }
  }
  return x;
}

int64_t noise_level_step(const NoiseSchedule& s, double noise_std) {
  check_arg(noise_std >= 0 && std::isfinite(noise_std), "noise_std", noise_std,
            "a finite value >= 0");
  const double v = noise_std * noise_std;
  for (int64_t i = 0; i < s.steps(); ++i) {
    const double ab = s.alpha_bar(i);
    if ((1.0 - ab) / ab >= v * (1.0 - 1e-12)) return i;
  }
  const double top = std::sqrt((1.0 - s.alpha_bar(s.steps() - 1)) / s.alpha_bar(s.steps() - 1));
  check_arg(false, "noise_std", noise_std,
            "at most the schedule's largest noise level " + std::to_string(top));
  return -1;
}

torch::Tensor diffusion_denoise(const EpsilonFunction& eps, const NoiseSchedule& s,
                                const torch::Tensor& y, double noise_std,
                                const AncestralOptions& o) {
  check_fields(eps, y, "y");
  check_choice("variance", o.variance(), ancestral_variance_names());
  if (noise_std == 0.0) return y.clone();
  const int64_t start = noise_level_step(s, noise_std);
  torch::NoGradGuard no_grad;
  const double ab = s.alpha_bar(start);
  const double extra = std::max((1.0 - ab) / ab - noise_std * noise_std, 0.0);
  auto x = std::sqrt(ab) * (y + std::sqrt(extra) * torch::randn_like(y));
  for (int64_t i = start; i >= 0; --i) {
    auto z = i > 0 ? torch::randn_like(x) : torch::Tensor();
    x = ddpm_step(s, x, i, eps(x, i), z, o.variance());
  }
  return x;
}

double reconstruction_rmse(const torch::Tensor& estimate, const torch::Tensor& truth,
                           const torch::Tensor& weight) {
  check_arg(
      estimate.defined() && truth.defined() && estimate.sizes() == truth.sizes(), "estimate.shape",
      estimate.defined() ? c10::str(estimate.sizes()) : std::string("undefined"), "truth's shape");
  torch::NoGradGuard no_grad;
  auto d2 = (estimate.to(torch::kFloat64) - truth.to(torch::kFloat64)).square();
  if (!weight.defined()) return std::sqrt(d2.mean().item<double>());
  auto w = weight.to(torch::kFloat64).expand_as(d2);
  const double total = w.sum().item<double>();
  check_arg(total > 0, "weight", "all zero", "at least one entry with weight 1");
  return std::sqrt((w * d2).sum().item<double>() / total);
}

}  // namespace physgen
