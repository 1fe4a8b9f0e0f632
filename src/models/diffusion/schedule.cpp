#include "physgen/models/diffusion/schedule.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"

namespace physgen {

std::vector<std::string> noise_schedule_names() { return {"cosine", "linear"}; }

nlohmann::json NoiseScheduleOptions::to_json() const { return options_to_json(*this); }

NoiseScheduleOptions NoiseScheduleOptions::from_json(const nlohmann::json& j) {
  NoiseScheduleOptions o;
  options_from_json(o, j, "schedule");
  return o;
}

NoiseSchedule::NoiseSchedule(const NoiseScheduleOptions& o) : options_(o) {
  check_choice("schedule", o.name(), noise_schedule_names());
  check_arg(o.steps() >= 1, "schedule.steps", o.steps(), "an integer >= 1");
  const int64_t T = o.steps();
  beta_.resize(static_cast<size_t>(T));
  if (o.name() == "linear") {
    const double scale = 1000.0 / static_cast<double>(T);
    const double b0 = scale * o.beta_start(), b1 = scale * o.beta_end();
    check_arg(o.beta_start() > 0 && b0 <= b1, "schedule.beta_start", o.beta_start(),
              "a value in (0, beta_end]");
    check_arg(b1 < 1, "schedule.beta_end", o.beta_end(), "1000 / steps * beta_end < 1");
    for (int64_t i = 0; i < T; ++i) {
      const double u = T > 1 ? static_cast<double>(i) / static_cast<double>(T - 1) : 0.0;
      beta_[static_cast<size_t>(i)] = b0 + (b1 - b0) * u;
    }
  } else {
    check_arg(o.cosine_offset() >= 0, "schedule.cosine_offset", o.cosine_offset(), "a value >= 0");
    check_arg(o.max_beta() > 0 && o.max_beta() < 1, "schedule.max_beta", o.max_beta(),
              "a value in (0, 1)");
    const double s = o.cosine_offset();
    const double half_pi = 2.0 * std::atan(1.0);
    auto f = [&](double u) {
      const double c = std::cos(half_pi * (u + s) / (1.0 + s));
      return c * c;
    };
    const double f0 = f(0.0);
    for (int64_t i = 0; i < T; ++i) {
      const double a_prev = f(static_cast<double>(i) / T) / f0;
      const double a_next = f(static_cast<double>(i + 1) / T) / f0;
      beta_[static_cast<size_t>(i)] = std::min(1.0 - a_next / a_prev, o.max_beta());
    }
  }
  alpha_bar_.resize(beta_.size());
  double prod = 1.0;
  for (size_t i = 0; i < beta_.size(); ++i) {
    prod *= 1.0 - beta_[i];
    alpha_bar_[i] = prod;
  }
}

double NoiseSchedule::posterior_variance(int64_t i) const {
  if (i <= 0) return 0.0;
  return (1.0 - alpha_bar(i - 1)) / (1.0 - alpha_bar(i)) * beta(i);
}

torch::Tensor NoiseSchedule::alpha_bar_tensor() const {
  return torch::tensor(alpha_bar_, torch::kFloat64);
}

torch::Tensor q_sample(const NoiseSchedule& schedule, const torch::Tensor& x0,
                       const torch::Tensor& step, const torch::Tensor& noise) {
  check_arg(x0.defined() && x0.dim() >= 1 && x0.is_floating_point(), "x0.dim()",
            x0.defined() ? x0.dim() : -1, "a floating-point tensor (n, ...)");
  check_arg(noise.defined() && noise.sizes() == x0.sizes(), "noise.shape",
            noise.defined() ? c10::str(noise.sizes()) : std::string("undefined"), "x0's shape");
  check_arg(
      step.defined() && step.dim() == 1 && step.size(0) == x0.size(0) && !step.is_floating_point(),
      "step.shape", step.defined() ? c10::str(step.sizes()) : std::string("undefined"),
      "an integer tensor (n) matching x0.size(0)");
  if (step.numel() > 0) {
    const int64_t lo = step.min().item<int64_t>(), hi = step.max().item<int64_t>();
    check_arg(lo >= 0 && hi < schedule.steps(), "step", lo < 0 ? lo : hi,
              "steps in [0, " + std::to_string(schedule.steps()) + ")");
  }
  auto ab = schedule.alpha_bar_tensor().to(x0.device()).index_select(0, step.to(torch::kLong));
  std::vector<int64_t> shape(static_cast<size_t>(x0.dim()), 1);
  shape[0] = x0.size(0);
  ab = ab.to(x0.scalar_type()).reshape(shape);
  return torch::sqrt(ab) * x0 + torch::sqrt(1.0 - ab) * noise;
}

}  // namespace physgen
