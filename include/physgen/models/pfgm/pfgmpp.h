#pragma once
// PFGM++: Poisson flow with D extra dimensions, trained by the perturbation-kernel objective
// (no large-batch field) and sampled by the probability-flow ODE in sigma = r / sqrt(D)
// (poisson_field.h). D = 1 behaves like PFGM, D -> infinity (D = 0 here) is the VE / EDM
// diffusion model; hyperparameters carry over from EDM through r = sigma sqrt(D).
//
// Denoiser D_theta(x, sigma, c) = c_skip x + c_out F_theta(c_noise, c_in x, c) with
// c_in = 1 / sqrt(sigma^2 + sigma_d^2), c_noise = ln(sigma) / 4, sigma_d = data_std, and
//   "eps" (default): c_skip = 1, c_out = -sigma (F predicts the normalised perturbation
//                    (x - y) / sigma, as the noise prediction of DDPM / score SDEs),
//                    lambda = 1 / sigma^2;
//   "edm":           c_skip = sigma_d^2 / (sigma^2 + sigma_d^2),
//                    c_out = sigma sigma_d / sqrt(sigma^2 + sigma_d^2),
//                    lambda = (sigma^2 + sigma_d^2) / (sigma sigma_d)^2.
// Both make lambda c_out^2 = 1. (Measured on 8 Gaussians with the default 3 x 128 MLP: after
// 2000 steps "eps" reaches a loss of 0.47, while "edm" stays at the trivial 1.0.)
// Loss: ln sigma ~ N(p_mean, p_std^2), x = y + kernel(sigma, D),
//   loss = E lambda(sigma) mean_j (D_theta(x, sigma) - y)_j^2.
// Sampling: x ~ kernel(sigma_max, D) around 0, then dx/d ln sigma = x - D_theta(x, sigma) down
// to sigma_min, and a final denoising step.
//
// Shapes: (n, *event_shape); conditions as in models/diffusion/condition.h (classifier-free
// guidance on the denoiser). Submodule: "net" (DenoiserNet: MLP or U-Net).
//
// References: Xu et al., "PFGM++", arXiv:2302.04265; Karras et al., "Elucidating the design
// space of diffusion-based generative models", arXiv:2206.00364 (preconditioning, p_mean/p_std).
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/common/condition.h"
#include "physgen/models/diffusion/denoiser_net.h"
#include "physgen/models/generative.h"
#include "physgen/models/pfgm/poisson_field.h"
#include "physgen/ode/odeint.h"
#include "physgen/models/common/diffusion_task.h"

namespace physgen {

struct PFGMPPOptions {
  explicit PFGMPPOptions(std::vector<int64_t> event_shape = {1})
      : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Extra dimensions D >= 1, or 0 for the diffusion limit D -> infinity [128].
  TORCH_ARG(int64_t, extra_dims) = 128;
  /// Network [DenoiserNetOptions defaults].
  TORCH_ARG(DenoiserNetOptions, network) = DenoiserNetOptions();
  /// Condition [none].
  TORCH_ARG(ConditionOptions, condition) = ConditionOptions();
  /// Preconditioning: "eps" | "edm" [eps].
  TORCH_ARG(std::string, preconditioning) = "eps";
  /// sigma_d of the preconditioning (> 0) [1].
  TORCH_ARG(double, data_std) = 1.0;
  /// Training noise levels ln sigma ~ N(p_mean, p_std^2) [-1.2, 1.2].
  TORCH_ARG(double, p_mean) = -1.2;
  TORCH_ARG(double, p_std) = 1.2;
  /// Sampling range sigma_max > sigma_min > 0 [80, 0.002].
  TORCH_ARG(double, sigma_max) = 80.0;
  TORCH_ARG(double, sigma_min) = 0.002;
  /// ODE solver in ln sigma [dopri5, rtol = atol = 1e-4].
  TORCH_ARG(OdeOptions, solver) = OdeOptions("dopri5").rtol(1e-4).atol(1e-4);
  /// Classifier-free guidance weight w >= 0 [0].
  TORCH_ARG(double, guidance) = 0.0;

 public:
  nlohmann::json to_json() const;
  static PFGMPPOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("extra_dims", extra_dims());
    v("network", network());
    v("condition", condition());
    v("preconditioning", preconditioning());
    v("data_std", data_std());
    v("p_mean", p_mean());
    v("p_std", p_std());
    v("sigma_max", sigma_max());
    v("sigma_min", sigma_min());
    v("solver", solver());
    v("guidance", guidance());
  }
};

class PFGMPPImpl : public torch::nn::Cloneable<PFGMPPImpl>, public GenerativeModel {
 public:
  explicit PFGMPPImpl(const PFGMPPOptions& options);
  void reset() override;

  /// Perturbation-kernel loss of a batch (n, *event_shape).
  torch::Tensor loss(const torch::Tensor& batch, const torch::Tensor& cond = torch::Tensor());
  /// D_theta(x, sigma, c): sigma (n) or a one-element tensor; features c or undefined.
  torch::Tensor denoise(const torch::Tensor& x, const torch::Tensor& sigma,
                        const torch::Tensor& features);
  /// The sampler's D(x, sigma), conditional on cond with guidance w (unconditional when cond is
  /// undefined). Valid while this model lives.
  DenoiserFunction denoiser_function(const torch::Tensor& cond = torch::Tensor(),
                                     double guidance = 0.0);
  /// Prior draws kernel(sigma_max, D) around 0: (n, *event_shape).
  torch::Tensor prior(int64_t n, torch::TensorOptions options = torch::kFloat32);

  torch::Tensor sample(int64_t n) override;
  torch::Tensor sample_conditional(const torch::Tensor& cond);
  torch::Tensor sample_from(const torch::Tensor& x_max,
                            const torch::Tensor& cond = torch::Tensor());
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  const OdeStats& last_stats() const { return last_stats_; }

  PFGMPPOptions options;
  DenoiserNet net{nullptr};

 private:
  std::vector<int64_t> batch_shape(int64_t n) const;
  OdeStats last_stats_;
};
TORCH_MODULE(PFGMPP);

/// Trains a PFGMPP through the shared Trainer (models/common/diffusion_task.h).
using PFGMPPTask = DiffusionTask<PFGMPP>;

}  // namespace physgen
