#pragma once
// Inverse problems with a diffusion prior (a noise predictor eps(x_i, i) and its schedule):
// inpainting of a masked region and denoising of a noisy field.
//
// Inpainting (RePaint). With mask m (1 = known) and known values x0_known, every reverse step
// to level i - 1 combines
//   x_{i-1} = m * [sqrt(abar_{i-1}) x0_known + sqrt(1 - abar_{i-1}) z] + (1 - m) * ddpm_step(x_i),
// and "resampling" harmonises the two parts: after a block of `jump` reverse steps the state
// is re-noised `jump` steps up with the forward kernel x_i = sqrt(1 - beta_i) x_{i-1} +
// sqrt(beta_i) z and the block is redone, `resample` times in all (resample = 1: no resampling,
// plain replacement). At level 0 the known region equals x0_known exactly.
//
// Denoising of y = x + noise_std * n, n ~ N(0, I). With sigma_i^2 = (1 - abar_i) / abar_i the
// noise level of step i, take the first step i* with sigma_{i*} >= noise_std and set
//   x_{i*} = sqrt(abar_{i*}) (y + sqrt(sigma_{i*}^2 - noise_std^2) z),
// which is distributed as the forward marginal q(x_{i*} | x) of the clean field x, so ancestral
// sampling from i* draws from p(x | x_{i*}): posterior sampling of x given y (exact for an exact
// eps when noise_std is a schedule level; otherwise the added noise loses a little information).
//
// Shapes: fields (n, *event_shape); mask broadcastable to them (e.g. (1, *event_shape)).
//
// References: Lugmayr et al., "RePaint: inpainting using denoising diffusion probabilistic
// models", arXiv:2201.09865; Kawar et al., "Denoising diffusion restoration models",
// arXiv:2201.11793 (diffusion denoising as posterior sampling); Meng et al., "SDEdit",
// arXiv:2108.01073.
#include <cstdint>

#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/models/diffusion/ddpm_sampling.h"
#include "physgen/models/diffusion/schedule.h"

namespace physgen {

struct InpaintOptions {
  InpaintOptions() = default;
  /// Passes over each block of steps (>= 1; 1 = no resampling) [10].
  TORCH_ARG(int64_t, resample) = 10;
  /// Reverse steps per block before re-noising (>= 1) [10].
  TORCH_ARG(int64_t, jump) = 10;
  /// Ancestral variance "beta" | "posterior" [beta].
  TORCH_ARG(std::string, variance) = "beta";
};

/// RePaint inpainting: fills the region where mask = 0, keeping `known` where mask = 1.
/// known (n, *event_shape) (values under mask = 0 are ignored); mask in {0, 1}.
torch::Tensor repaint_inpaint(const EpsilonFunction& eps, const NoiseSchedule& schedule,
                              const torch::Tensor& known, const torch::Tensor& mask,
                              const InpaintOptions& options = InpaintOptions());

/// The step i* of a noise level: the first i with (1 - abar_i) / abar_i >= noise_std^2
/// (InvalidArgument if noise_std exceeds the schedule's largest level).
int64_t noise_level_step(const NoiseSchedule& schedule, double noise_std);

/// Posterior samples of clean fields given noisy ones y (n, *event_shape) with Gaussian noise
/// of standard deviation noise_std >= 0 (0 returns y).
torch::Tensor diffusion_denoise(const EpsilonFunction& eps, const NoiseSchedule& schedule,
                                const torch::Tensor& y, double noise_std,
                                const AncestralOptions& options = AncestralOptions());

/// Root-mean-square error between estimate and truth over the entries where `weight` is 1
/// (weight undefined: all entries): sqrt(sum w (a - b)^2 / sum w).
double reconstruction_rmse(const torch::Tensor& estimate, const torch::Tensor& truth,
                           const torch::Tensor& weight = torch::Tensor());

}  // namespace physgen
