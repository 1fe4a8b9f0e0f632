#pragma once
// Samplers of discrete-time diffusion given a noise predictor eps(x_i, i).
//
// Ancestral (DDPM), for i = T-1 .. 0 with z ~ N(0, I):
//   x_{i-1} = (x_i - beta_i / sqrt(1 - abar_i) eps(x_i, i)) / sqrt(1 - beta_i) + sigma_i z,
//   sigma_i^2 = beta_i ("beta") or the posterior variance (1 - abar_{i-1}) / (1 - abar_i) beta_i
//   ("posterior"); no noise at the last step (i = 0).
// DDIM, over an increasing subsequence tau_0 = 0 < ... < tau_{S-1} = T-1 of the steps:
//   x0_hat = (x_i - sqrt(1 - abar_i) eps) / sqrt(abar_i),
//   sigma^2 = eta^2 (1 - abar_p) / (1 - abar_i) (1 - abar_i / abar_p),
//   x_p = sqrt(abar_p) x0_hat + sqrt(1 - abar_p - sigma^2) eps + sigma z,
// with p the previous step of the subsequence and abar_p = 1 after tau_0 (so the last update
// returns x0_hat). eta = 0 is deterministic (a discretised probability-flow ODE); eta = 1
// with S = T is the ancestral sampler with the posterior variance.
//
// Both start from a given x_T (normally N(0, I)); the noise comes from LibTorch's default
// generator. They run under NoGradGuard and work in x_T's dtype and device.
//
// Shapes: x (n, *event_shape); eps(x, i) returns x's shape. The step i is shared by the batch.
//
// References: Ho et al., arXiv:2006.11239 (Algorithm 2); Song, Meng & Ermon, "Denoising
// diffusion implicit models", arXiv:2010.02502 (Eq. 12, 16; timestep subsequences, Sec. 4.2).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/models/diffusion/schedule.h"

namespace physgen {

/// Noise prediction eps(x_i, i): x (n, *event_shape) at 0-based step i -> x's shape.
using EpsilonFunction = std::function<torch::Tensor(const torch::Tensor& x, int64_t step)>;

/// Names accepted by AncestralOptions::variance: "beta", "posterior".
std::vector<std::string> ancestral_variance_names();
/// Names accepted by DdimOptions::spacing: "quadratic", "uniform".
std::vector<std::string> timestep_spacing_names();

struct AncestralOptions {
  AncestralOptions() = default;
  /// "beta" (sigma_i^2 = beta_i) | "posterior" (sigma_i^2 = beta_tilde_i) [beta].
  TORCH_ARG(std::string, variance) = "beta";
};

struct DdimOptions {
  DdimOptions() = default;
  /// Number of sampling steps S, 1 <= S <= T [50].
  TORCH_ARG(int64_t, steps) = 50;
  /// Stochasticity eta >= 0: 0 deterministic DDIM, 1 DDPM-like [0].
  TORCH_ARG(double, eta) = 0.0;
  /// "uniform" | "quadratic" [uniform].
  TORCH_ARG(std::string, spacing) = "uniform";
  /// Clamp x0_hat to [-clip_x0, clip_x0] and recompute eps from it; 0 = off [0]. The first
  /// step from abar_{T-1} ~ 0 multiplies the network's error by sqrt(abar_p / abar_{T-1}) (huge
  /// for the cosine schedule, whose abar_{T-1} ~ 1e-9 at T = 1000); clamping to the data's
  /// range removes it.
  TORCH_ARG(double, clip_x0) = 0.0;
};

/// The S steps of a DDIM subsequence over T diffusion steps, increasing, from 0 to T - 1
/// (both ends included for S >= 2; {T - 1} for S = 1):
///   uniform   tau_k = round(k (T - 1) / (S - 1)),
///   quadratic tau_k = round((k / (S - 1))^2 (T - 1)), then made strictly increasing
///             (collisions at small k move up by one step).
/// InvalidArgument unless 1 <= S <= T and spacing is known.
std::vector<int64_t> ddim_timesteps(int64_t diffusion_steps, int64_t sampling_steps,
                                    const std::string& spacing);

/// One ancestral step x_i -> x_{i-1} given eps = eps(x_i, i) and noise z (x's shape;
/// ignored at i = 0).
torch::Tensor ddpm_step(const NoiseSchedule& schedule, const torch::Tensor& x, int64_t step,
                        const torch::Tensor& eps, const torch::Tensor& noise,
                        const std::string& variance = "beta");

/// One DDIM step from step i to step p < i (p = -1: to the data) given eps = eps(x_i, i);
/// clip_x0 > 0 clamps x0_hat (see DdimOptions).
torch::Tensor ddim_step(const NoiseSchedule& schedule, const torch::Tensor& x, int64_t step,
                        int64_t prev_step, const torch::Tensor& eps, double eta,
                        const torch::Tensor& noise, double clip_x0 = 0.0);

/// Ancestral sampling from x_T (n, *event_shape) through all T steps.
torch::Tensor ddpm_sample(const EpsilonFunction& eps, const NoiseSchedule& schedule,
                          const torch::Tensor& x_T,
                          const AncestralOptions& options = AncestralOptions());

/// DDIM sampling from x_T over ddim_timesteps(T, options.steps, options.spacing).
torch::Tensor ddim_sample(const EpsilonFunction& eps, const NoiseSchedule& schedule,
                          const torch::Tensor& x_T, const DdimOptions& options = DdimOptions());

}  // namespace physgen
