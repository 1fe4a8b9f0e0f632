#pragma once
// Discrete noise schedules of denoising diffusion (DDPM).
//
// The forward (noising) chain over steps i = 0..T-1,
//   q(x_i | x_{i-1}) = N(sqrt(1 - beta_i) x_{i-1}, beta_i I),   x_{-1} = x_0 (the data),
// has the closed-form marginal
//   q(x_i | x_0) = N(sqrt(abar_i) x_0, (1 - abar_i) I),   abar_i = prod_{j <= i} (1 - beta_j).
//
// Schedules (registry "schedule", see noise_schedule_names()):
//   "linear"  beta_i = linspace(s beta_start, s beta_end, T), s = 1000 / T
//             (Ho et al. with beta_start = 1e-4, beta_end = 0.02 at T = 1000; the factor s keeps
//             abar_T of the same order for any T, as in Nichol & Dhariwal);
//   "cosine"  abar(u) = f(u) / f(0), f(u) = cos^2(pi/2 (u + s) / (1 + s)), u = (i + 1) / T,
//             beta_i = min(1 - abar(u_i) / abar(u_{i-1}), max_beta), abar recomputed from the
//             clipped betas (s = cosine_offset = 0.008, max_beta = 0.999).
//
// Steps are 0-based here (x_i is the state after i + 1 noising steps); networks see the
// continuous time t_i = (i + 1) / T in (0, 1].
//
// References: Ho, Jain & Abbeel, "Denoising diffusion probabilistic models",
// arXiv:2006.11239; Nichol & Dhariwal, "Improved denoising diffusion probabilistic
// models", arXiv:2102.09672 (cosine schedule).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/core/options.h"

namespace physgen {

struct NoiseScheduleOptions {
  NoiseScheduleOptions() = default;
  /// "linear" | "cosine" [linear].
  TORCH_ARG(std::string, name) = "linear";
  /// Number of diffusion steps T (>= 1) [1000].
  TORCH_ARG(int64_t, steps) = 1000;
  /// Linear: beta at the first and last step for T = 1000 (scaled by 1000 / T) [1e-4, 0.02].
  TORCH_ARG(double, beta_start) = 1e-4;
  TORCH_ARG(double, beta_end) = 0.02;
  /// Cosine: offset s [0.008] and the largest beta [0.999].
  TORCH_ARG(double, cosine_offset) = 0.008;
  TORCH_ARG(double, max_beta) = 0.999;

 public:
  nlohmann::json to_json() const;
  /// Reads the keys present (unknown keys -> InvalidArgument).
  static NoiseScheduleOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("name", name());
    v("steps", steps());
    v("beta_start", beta_start());
    v("beta_end", beta_end());
    v("cosine_offset", cosine_offset());
    v("max_beta", max_beta());
  }
};

/// Names accepted by NoiseScheduleOptions::name: "cosine", "linear".
std::vector<std::string> noise_schedule_names();

/// A discrete schedule: beta_i and abar_i for i = 0..T-1 (float64, host).
class NoiseSchedule {
 public:
  /// Validates the options (InvalidArgument naming the offending one) and builds the schedule.
  explicit NoiseSchedule(const NoiseScheduleOptions& options = NoiseScheduleOptions());

  int64_t steps() const { return static_cast<int64_t>(beta_.size()); }
  double beta(int64_t i) const { return beta_.at(static_cast<size_t>(i)); }
  /// abar_i; abar_{-1} = 1 (the clean data).
  double alpha_bar(int64_t i) const { return i < 0 ? 1.0 : alpha_bar_.at(static_cast<size_t>(i)); }
  /// Network time of step i: (i + 1) / T.
  double time(int64_t i) const { return static_cast<double>(i + 1) / static_cast<double>(steps()); }
  /// Posterior variance of q(x_{i-1} | x_i, x_0): (1 - abar_{i-1}) / (1 - abar_i) beta_i
  /// (0 at i = 0).
  double posterior_variance(int64_t i) const;
  /// abar as a (T) float64 tensor.
  torch::Tensor alpha_bar_tensor() const;
  const NoiseScheduleOptions& options() const { return options_; }

 private:
  NoiseScheduleOptions options_;
  std::vector<double> beta_, alpha_bar_;
};

/// Forward noising x_i = sqrt(abar_i) x0 + sqrt(1 - abar_i) noise for per-sample steps
/// `step` (n) (int64, in [0, T)); x0 and noise (n, ...). Differentiable in x0 and noise.
torch::Tensor q_sample(const NoiseSchedule& schedule, const torch::Tensor& x0,
                       const torch::Tensor& step, const torch::Tensor& noise);

}  // namespace physgen
