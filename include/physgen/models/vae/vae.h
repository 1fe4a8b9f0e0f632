#pragma once
// Variational autoencoder with a Gaussian encoder and a Gaussian decoder.
//
//   prior      p(z) = N(0, I_k)
//   decoder    p(x|z) = N(mu_theta(z), diag(sigma^2)),  sigma per component: a learned
//              parameter ("log_sigma", (d)) or fixed (decoder_variance "fixed")
//   encoder    q(z|x) = N(m_phi(x), diag(exp(v_phi(x))))
//   ELBO(x)    = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x)
//              (reparameterised z = m + exp(v/2) eps, eps ~ N(0, I); KL in closed form:
//               KL = 1/2 sum_j (exp(v_j) + m_j^2 - 1 - v_j))
//   IWAE_K(x)  = E log (1/K) sum_k p(x, z_k) / q(z_k|x),  z_k ~ q(.|x) iid,
//              ELBO = IWAE_1 <= IWAE_K <= IWAE_{K+1} -> log p(x) as K -> infinity.
//
// Training minimises -mean(E_q[log p(x|z)] - beta KL) with one reparameterised sample per
// data point (beta = 1: the ELBO). Samples: x = mu_theta(z) + sigma eps (the model's p(x)),
// or the decoder mean when sample_noise(false).
//
// Shapes: x (n, *event_shape), flattened to d components for the MLPs; z (n, k).
// Submodules: "encoder" (VectorMLP d -> 2k: means then log-variances), "decoder"
// (VectorMLP k -> d); parameter "log_sigma" (d) (a buffer when the variance is fixed).
//
// References: D. P. Kingma, M. Welling, "Auto-encoding variational Bayes", arXiv:1312.6114;
// Y. Burda, R. Grosse, R. Salakhutdinov, "Importance weighted autoencoders", arXiv:1509.00519;
// I. Higgins et al., "beta-VAE" (ICLR 2017).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/generative.h"
#include "physgen/nn/vector_nets.h"
#include "physgen/train/trainer.h"

namespace physgen {

/// Options of Vae. Required: event_shape. Defaults in brackets.
struct VaeOptions {
  explicit VaeOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Latent dimension k >= 1 [4].
  TORCH_ARG(int64_t, latent_dim) = 4;
  /// Hidden widths of encoder and decoder (empty: affine maps) [{128, 128}].
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{128, 128};
  /// Hidden activation (vector_mlp_activations()) ["silu"].
  TORCH_ARG(std::string, activation) = "silu";
  /// "learned" (log_sigma trained) | "fixed" ["learned"].
  TORCH_ARG(std::string, decoder_variance) = "learned";
  /// Initial (or fixed) decoder standard deviation sigma > 0 [1].
  TORCH_ARG(double, decoder_sigma) = 1.0;
  /// Weight of the KL term in the training loss (1 = ELBO) [1].
  TORCH_ARG(double, beta) = 1.0;
  /// sample() adds the decoder noise sigma eps [true].
  TORCH_ARG(bool, sample_noise) = true;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static VaeOptions from_json(const nlohmann::json& j);

  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("latent_dim", latent_dim());
    v("hidden", hidden());
    v("activation", activation());
    v("decoder_variance", decoder_variance());
    v("decoder_sigma", decoder_sigma());
    v("beta", beta());
    v("sample_noise", sample_noise());
  }
};

/// The two ELBO terms per sample, (n) each.
struct ElboTerms {
  torch::Tensor reconstruction;  ///< E_q log p(x|z) (Monte Carlo)
  torch::Tensor kl;              ///< KL(q(z|x) || p(z)) (closed form)
  torch::Tensor elbo() const { return reconstruction - kl; }
};

class VaeImpl : public torch::nn::Cloneable<VaeImpl>, public GenerativeModel {
 public:
  explicit VaeImpl(const VaeOptions& options);
  void reset() override;

  /// (m, v) = encoder means and log-variances, (n, k) each.
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x);
  /// Decoder mean mu_theta(z): (n, k) -> (n, *event_shape).
  torch::Tensor decode(const torch::Tensor& z);
  /// log p(x|z) per row: x (n, *event_shape), z (n, k) -> (n).
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& z);
  /// ELBO terms with `n_samples` >= 1 reparameterised samples per x (differentiable).
  ElboTerms elbo_terms(const torch::Tensor& x, int64_t n_samples = 1);
  /// ELBO(x) estimate (n).
  torch::Tensor elbo(const torch::Tensor& x, int64_t n_samples = 1) { return elbo_terms(x, n_samples).elbo(); }
  /// IWAE_K(x) estimate of log p(x) (n), K >= 1 importance samples per x from q(z|x),
  /// evaluated in chunks of at most `chunk` samples (a log-sum-exp accumulated across chunks).
  torch::Tensor iwae_log_likelihood(const torch::Tensor& x, int64_t K, int64_t chunk = 256);

  /// n draws from the model (decoder noise per options.sample_noise()), no autograd.
  torch::Tensor sample(int64_t n) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  /// Decoder standard deviations sigma (d).
  torch::Tensor decoder_sigma() const { return log_sigma.exp(); }

  VaeOptions options;
  VectorMLP encoder{nullptr}, decoder{nullptr};
  torch::Tensor log_sigma;

 private:
  torch::Tensor flat(const torch::Tensor& x) const;
  int64_t dim_ = 1;
};
TORCH_MODULE(Vae);

/// Training task of a Vae: loss = -mean(reconstruction - beta KL); diagnostics "elbo",
/// "reconstruction", "kl" (batch means).
class VaeTask : public TrainingTask {
 public:
  explicit VaeTask(Vae model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override;
  nlohmann::json options() const override;
  Vae& model() { return model_; }

 private:
  Vae model_;
};

}  // namespace physgen
