#pragma once
// Inverse problems with a trained DDPM as the prior, as `physgen inpaint` runs them (the
// zoo exposes it as the model's Restorer view, models/capabilities.h): inpainting
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
#include "physgen/models/capabilities.h"
#include "physgen/models/diffusion/ddpm.h"

namespace physgen {

/// Restores `observed` with a trained DDPM: inpainting where mask is defined,
/// denoising where options.noise_std > 0 (exactly one of the two). `truth` (optional, the
/// clean fields) adds the errors to the report. InvalidArgument for shapes
/// that do not match the model's event shape, non-finite values, mask entries other than 0
/// and 1, a RePaint resample or jump below 1, or a noise level beyond the schedule's largest.
RestoreResult restore_fields(DDPMImpl& ddpm, const torch::Tensor& observed,
                             const torch::Tensor& mask, const torch::Tensor& truth,
                             const RestoreOptions& options = RestoreOptions());

}  // namespace physgen

namespace physgen {

/// The Restorer view of a DDPM (restore_fields on it).
class DDPMRestorer : public Restorer {
 public:
  explicit DDPMRestorer(DDPM ddpm) : ddpm_(std::move(ddpm)) {}
  RestoreResult restore(const torch::Tensor& observed, const torch::Tensor& mask, const torch::Tensor& truth,
                        const RestoreOptions& options) override {
    return restore_fields(*ddpm_, observed, mask, truth, options);
  }

 private:
  DDPM ddpm_;
};

}  // namespace physgen
