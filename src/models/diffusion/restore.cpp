#include "physgen/models/diffusion/restore.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/lattice/ising.h"

namespace physgen {

namespace {

std::string shape_str(const torch::Tensor& t) { return c10::str(t.sizes()); }

/// observed/truth as (n, *event_shape) float tensors on `like`'s device.
torch::Tensor as_batch(const torch::Tensor& t, const std::vector<int64_t>& event, const char* name,
                       const torch::Tensor& like) {
  const std::string expected = "(n, " + c10::str(c10::IntArrayRef(event)) + ") or " +
                               c10::str(c10::IntArrayRef(event)) + " (the model's event shape)";
  check_arg(t.defined() && t.dim() >= 1, name, t.defined() ? shape_str(t) : "undefined", expected);
  torch::Tensor x = t;
  if (t.sizes().vec() == event) x = t.unsqueeze(0);
  std::vector<int64_t> tail(x.sizes().begin() + 1, x.sizes().end());
  check_arg(x.dim() == static_cast<int64_t>(event.size()) + 1 && tail == event && x.size(0) >= 1,
            std::string(name) + ".shape", shape_str(t), expected);
  x = x.to(like.device(), like.scalar_type());
  check_arg(torch::isfinite(x).all().item<bool>(), name, "non-finite entries", "finite values");
  return x;
}

}  // namespace

RestoreResult restore_fields(DDPMImpl& model, const torch::Tensor& observed,
                             const torch::Tensor& mask_in, const torch::Tensor& truth_in,
                             const RestoreOptions& options) {
  DDPMImpl* ddpm = &model;
  const double sigma = options.noise_std();
  check_arg(std::isfinite(sigma) && sigma >= 0, "noise_std", sigma, "a finite value >= 0");
  const bool denoise = sigma > 0;
  check_arg(denoise != mask_in.defined(), "mask/noise_std",
            denoise ? "both given" : "neither given",
            "exactly one: a mask (inpainting) or a noise level > 0 (denoising)");
  const std::vector<int64_t> event = ddpm->options.event_shape();
  torch::NoGradGuard ng;
  auto like = ddpm->net->parameters().front().detach();
  auto y = as_batch(observed, event, "observed", like);
  const int64_t n = y.size(0);
  torch::Tensor truth;
  if (truth_in.defined()) {
    truth = as_batch(truth_in, event, "truth", like);
    check_arg(truth.sizes() == y.sizes(), "truth.shape", shape_str(truth_in),
              "the shape of the observed fields " + shape_str(y));
  }
  int64_t calls = 0;
  EpsilonFunction base = ddpm->epsilon_function();
  EpsilonFunction eps = [&calls, base](const torch::Tensor& x, int64_t i) {
    ++calls;
    return base(x, i);
  };
  RestoreResult r;
  auto finish = [&options](const torch::Tensor& x) {
    return options.sign_output() ? to_spins(x).to(x.scalar_type()) : x;
  };
  r.report = {{"n", n}, {"mode", denoise ? "denoise" : "inpaint"}};
  if (denoise) {
    noise_level_step(ddpm->schedule(), sigma);  // InvalidArgument beyond the largest level
    r.x = finish(diffusion_denoise(eps, ddpm->schedule(), y, sigma, ddpm->options.ancestral()));
    r.report["noise_std"] = sigma;
    if (truth.defined()) {
      r.report["rmse"] = reconstruction_rmse(r.x, truth);
      r.report["rmse_input"] = reconstruction_rmse(y, truth);
    }
  } else {
    check_arg(mask_in.sizes().vec() == event || mask_in.sizes() == y.sizes(), "mask.shape",
              shape_str(mask_in),
              c10::str(c10::IntArrayRef(event)) + " or the observed fields' " + shape_str(y));
    auto mask = mask_in.to(like.device(), like.scalar_type());
    check_arg(((mask == 0) | (mask == 1)).all().item<bool>(), "mask", "values other than 0 and 1",
              "entries 0 (unknown: filled in) or 1 (known: kept)");
    mask = mask.dim() == static_cast<int64_t>(event.size()) ? mask.unsqueeze(0).expand_as(y)
                                                            : mask;
    const InpaintOptions io =
        InpaintOptions().resample(options.resample()).jump(options.jump()).variance(options.variance());
    check_arg(io.resample() >= 1, "resample", io.resample(), "an integer >= 1");
    check_arg(io.jump() >= 1, "jump", io.jump(), "an integer >= 1");
    r.x = finish(repaint_inpaint(eps, ddpm->schedule(), y, mask, io));
    const double unknown = (1 - mask).sum().item<double>();
    r.report["unknown_fraction"] = unknown / static_cast<double>(mask.numel());
    if (truth.defined() && unknown > 0) {
      r.report["rmse"] = reconstruction_rmse(r.x, truth, 1 - mask);
      // Baseline: each field's unknown entries set to the mean of its known ones.
      auto known_sum = (y * mask).flatten(1).sum(1);
      auto known_n = mask.flatten(1).sum(1).clamp_min(1);
      std::vector<int64_t> bshape(static_cast<size_t>(y.dim()), 1);
      bshape[0] = n;
      auto fill = mask * y + (1 - mask) * (known_sum / known_n).reshape(bshape);
      r.report["rmse_mean_fill"] = reconstruction_rmse(fill, truth, 1 - mask);
    }
    if (truth.defined() && unknown < static_cast<double>(mask.numel()))
      r.report["rmse_known"] = reconstruction_rmse(r.x, truth, mask);
  }
  r.report["nfe"] = calls;
  return r;
}

}  // namespace physgen
