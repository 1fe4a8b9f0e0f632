#pragma once
// Optional capabilities of a generative model, beside GenerativeModel / LikelihoodModel
// (generative.h). A family that has one implements the interface (on its module or on a small
// adapter) and the zoo exposes it as a view on Model (zoo/model.h: Model::latent,
// Model::translator, Model::restorer); commands use the view, never a downcast to a family's
// class, so a later family gains `interpolate`, `translate` or `inpaint` by implementing it.
//
//  * LatentModel: x = decode(z, c) for a latent z (n, k) from a prior, and a latent for each
//    field, encode(x): the posterior mean for a VAE, z* = argmin_z |G(z) - x|^2 + |z|^2 / 2
//    (generator inversion) for a GAN. Latent interpolation and arithmetic
//    (models/gan/latent.h) work through it for every family alike.
//  * Translator: maps an ensemble of one system onto another (CycleGAN's G_ab and G_ba).
//  * Restorer: fills masked regions or denoises fields with the model as the prior
//    (RePaint / posterior denoising for DDPM).
//
// Shapes: fields (n, *event_shape); latents (n, latent_dim); condition features
// (n, condition width) or undefined for unconditional models.
//
// References: Kingma & Welling, arXiv:1312.6114 (VAE encoder); Creswell & Bharath,
// arXiv:1802.05701 (GAN inversion); Zhu et al., arXiv:1703.10593 (CycleGAN);
// Lugmayr et al., arXiv:2201.09865 (RePaint).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

namespace physgen {

class LatentModel {
 public:
  virtual ~LatentModel() = default;
  /// k, the width of a latent.
  virtual int64_t latent_dim() const = 0;
  /// n latents from the prior, (n, k), on the model's device and dtype.
  virtual torch::Tensor sample_latent(int64_t n) = 0;
  /// Fields of latents z (n, k) at condition features c (n, width) (undefined: none).
  virtual torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& c = torch::Tensor()) = 0;
  /// One latent per field, (n, *event_shape) -> (n, k) (see encoder()).
  virtual torch::Tensor encode(const torch::Tensor& x) = 0;
  /// How encode works: "posterior-mean" (VAE) or "inversion" (GAN).
  virtual std::string encoder() const = 0;
  /// Whether decode needs condition features.
  virtual bool conditional() const { return false; }
  /// Shape of one field.
  virtual std::vector<int64_t> event_shape() const = 0;
};

class Translator {
 public:
  virtual ~Translator() = default;
  /// x (n, *event_shape) of system A -> system B (reverse: B -> A), in batches of `batch`.
  virtual torch::Tensor translate(const torch::Tensor& x, bool reverse, int64_t batch) = 0;
  virtual std::vector<int64_t> event_shape() const = 0;
};

/// Settings of Restorer::restore. Defaults in brackets.
struct RestoreOptions {
  RestoreOptions() = default;
  /// Noise standard deviation of the observation; > 0 selects denoising (then no mask) [0].
  TORCH_ARG(double, noise_std) = 0.0;
  /// Inpainting: passes over each block of steps (RePaint resampling; 1 = none) [10].
  TORCH_ARG(int64_t, resample) = 10;
  /// Inpainting: reverse steps per block before re-noising [10].
  TORCH_ARG(int64_t, jump) = 10;
  /// Inpainting: ancestral variance "beta" | "posterior" [beta].
  TORCH_ARG(std::string, variance) = "beta";
  /// Project the result onto Ising spins (to_spins, lattice/ising.h) before the errors [false].
  TORCH_ARG(bool, sign_output) = false;
};

struct RestoreResult {
  torch::Tensor x;        ///< restored fields (n, *event_shape)
  nlohmann::json report;  ///< mode, n, nfe; rmse (+ rmse_input / rmse_known, rmse_mean_fill) with a truth
};

class Restorer {
 public:
  virtual ~Restorer() = default;
  /// Restores `observed` ((n, *event_shape) or one field): inpainting where `mask` (1 = known,
  /// 0 = filled in; the event shape or observed's) is defined, denoising where
  /// options.noise_std() > 0 (exactly one of the two). `truth` (optional) adds the errors.
  virtual RestoreResult restore(const torch::Tensor& observed, const torch::Tensor& mask,
                                const torch::Tensor& truth, const RestoreOptions& options) = 0;
};

}  // namespace physgen
