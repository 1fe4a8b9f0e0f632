#pragma once
// Inverse problems on a trained model of the zoo, as `physgen inpaint` runs them: inpainting
// of a masked region (RePaint) or posterior denoising of a noisy field with a DDPM prior
// (inverse.h), with the inputs validated and the error against a known truth reported.
//
//   inpainting  observed y, mask m in {0, 1} (1 = known): x = repaint_inpaint(eps, y, m);
//               rmse over the filled entries (m = 0) against the truth;
//   denoising   y = x + noise_std n, n ~ N(0, I): x = diffusion_denoise(eps, y, noise_std);
//               rmse over all entries, and rmse_input = rmse(y, truth) for comparison.
// Conditional models restore with their unconditional (null-condition) noise predictor.
//
// Shapes: observed and truth (n, *event_shape) or one field (*event_shape); mask of the
// event shape (shared) or of observed's shape. Results (n, *event_shape).
//
// References: Lugmayr et al., arXiv:2201.09865 (RePaint); Kawar et al., arXiv:2201.11793.
#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/models/diffusion/inverse.h"
#include "physgen/models/zoo.h"

namespace physgen {

struct RestoreOptions {
  RestoreOptions() = default;
  /// Noise standard deviation of the observation; > 0 selects denoising (then no mask) [0].
  TORCH_ARG(double, noise_std) = 0.0;
  /// Inpainting options [resample 10, jump 10, variance beta].
  TORCH_ARG(InpaintOptions, inpaint) = InpaintOptions();
  /// Take the signs of the result before the errors (Ising spins) [false].
  TORCH_ARG(bool, sign_output) = false;
};

struct RestoreResult {
  torch::Tensor x;        ///< restored fields (n, *event_shape)
  nlohmann::json report;  ///< mode, n, nfe; rmse (+ rmse_input / rmse_known, rmse_mean_fill) with a truth
};

/// Restores `observed` with a trained "ddpm" model: inpainting where mask is defined,
/// denoising where options.noise_std > 0 (exactly one of the two). `truth` (optional, the
/// clean fields) adds the errors to the report. InvalidArgument for another family, shapes
/// that do not match the model's event shape, non-finite values, mask entries other than 0
/// and 1, or a noise level beyond the schedule's largest.
RestoreResult restore_fields(const Model& model, const torch::Tensor& observed,
                             const torch::Tensor& mask, const torch::Tensor& truth,
                             const RestoreOptions& options = RestoreOptions());

}  // namespace physgen
