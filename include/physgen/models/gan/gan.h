#pragma once
// Generative adversarial networks: vanilla (minimax / non-saturating), conditional,
// WGAN with weight clipping, WGAN-GP; MLP networks for vectors, DCGAN networks for lattices.
//
// A generator G maps a latent z ~ N(0, I) (or U[-1, 1]^k) and an optional condition c to a
// sample x = G(z, c); a discriminator D(x, c) scores samples (losses.h). Training
// alternates (GanTask::train_step, one call per trainer step):
//   critic step (every step):  minimise discriminator_loss(D(x_real, c), D(G(z, c), c))
//                              [+ gradient_penalty on per-sample interpolates ("gp")],
//                              then clamp every critic parameter to [-clip, clip] ("clip");
//   generator step (every n_critic-th step): minimise generator_loss(D(G(z, c), c)).
// So a trainer step is one critic iteration and WGAN's n_critic = 5 takes five fresh real
// batches per generator update, as in Arjovsky et al. Algorithm 1.
//
// Conditioning: c is a (n, condition_dim) float tensor, a one-hot class label
// (one_hot_condition) or continuous physical parameters (e.g. beta, m2). Training data for
// a conditional GAN are packed rows [flatten(x), c] (pack_condition), so that the shared
// trainer's minibatches carry their conditions.
//
// Variants (GanOptions::preset):
//   "gan"      non-saturating loss, n_critic 1                     (Goodfellow et al. 2014)
//   "cgan"     "gan" + a condition                                  (Mirza & Osindero 2014)
//   "wgan"     wasserstein loss, weight clipping 0.01, n_critic 5  (Arjovsky et al. 2017)
//   "wgan-gp"  wasserstein loss, gradient penalty lambda 10, n_critic 5 (Gulrajani et al. 2017)
//
// Shapes: samples (n, *event_shape); networks: "mlp" (VectorMLP on flattened samples) or
// "dcgan" (LatticeGenerator / LatticeDiscriminator, event_shape {L, L}; the generator has
// batch norm: call eval() before sampling to use its running statistics).
// Submodules: "generator", "discriminator" [, "generator_average" with generator_ema > 0].
// Measured (tests/statistical/test_gan_training.cpp, 8gaussians, MLP 64-128 wide): the
// non-saturating GAN covers 8/8 modes in 2000 steps; WGAN-GP needs ~6000 critic steps
// (1200 generator steps) at lr 1e-3 and is seed-sensitive at that budget.
// Lattices (tests/long/test_gan_quality_long.cpp, docs/gan_ebm.md): on phi^4 (L = 8) the
// DCGAN default reproduces |m|, chi and U4 within ~10%; on Ising at T_c (L = 16) the DCGAN
// collapses and the best is an MLP with output_activation "sign" and minibatch_std 4.
//
// References: I. Goodfellow et al., arXiv:1406.2661; M. Mirza, S. Osindero, "Conditional
// generative adversarial nets", arXiv:1411.1784; M. Arjovsky, S. Chintala, L. Bottou,
// arXiv:1701.07875; I. Gulrajani et al., arXiv:1704.00028; A. Radford et al., arXiv:1511.06434.
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
#include "physgen/models/common/condition.h"
#include "physgen/models/gan/losses.h"
#include "physgen/models/generative.h"
#include "physgen/nn/dcgan.h"
#include "physgen/nn/vector_nets.h"
#include "physgen/train/trainer.h"

namespace physgen {

/// Options of Gan. Required: event_shape. Defaults in brackets.
struct GanOptions {
  explicit GanOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1; {L, L} for "dcgan").
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Latent dimension (>= 1) [8].
  TORCH_ARG(int64_t, latent_dim) = 8;
  /// "normal" (N(0, I)) | "uniform" (U[-1, 1]^k) ["normal"].
  TORCH_ARG(std::string, latent_distribution) = "normal";
  /// Adversarial loss, one of gan_loss_names() ["non-saturating"].
  TORCH_ARG(std::string, loss) = "non-saturating";
  /// Critic constraint: "none" | "clip" (weight clipping) | "gp" (gradient penalty) ["none"].
  TORCH_ARG(std::string, constraint) = "none";
  /// Weight-clipping bound c > 0 ("clip") [0.01].
  TORCH_ARG(double, clip_value) = 0.01;
  /// Gradient-penalty weight lambda >= 0 ("gp") [10].
  TORCH_ARG(double, gp_lambda) = 10.0;
  /// Critic steps per generator step (>= 1) [1].
  TORCH_ARG(int64_t, n_critic) = 1;
  /// Condition features (0 = unconditional) [0].
  TORCH_ARG(int64_t, condition_dim) = 0;
  /// "mlp" | "dcgan" ["mlp"].
  TORCH_ARG(std::string, network) = "mlp";
  /// MLP hidden widths of the generator and of the discriminator [{128, 128} each];
  /// hidden(h) sets both.
  TORCH_ARG(std::vector<int64_t>, generator_hidden) = std::vector<int64_t>{128, 128};
  TORCH_ARG(std::vector<int64_t>, discriminator_hidden) = std::vector<int64_t>{128, 128};
  /// MLP hidden activation ["leaky_relu"].
  TORCH_ARG(std::string, activation) = "leaky_relu";
  /// DCGAN: generator channels at the coarsest grid (the discriminator starts at channels / 2) [64].
  TORCH_ARG(int64_t, channels) = 64;
  /// DCGAN: up/down-sampling stages [2].
  TORCH_ARG(int64_t, scales) = 2;
  /// DCGAN: batch normalisation in the generator [true].
  TORCH_ARG(bool, batch_norm) = true;
  /// DCGAN: periodic convolutions [true].
  TORCH_ARG(bool, periodic) = true;
  /// Generator output activation: "none" | "tanh" | "sign" ["none"]. "sign" is for +-1 spins:
  /// the forward pass is sign(tanh(h)) (the discriminator sees exact spins, as in the data),
  /// the backward pass that of tanh (straight-through estimator, Bengio, Leonard & Courville,
  /// arXiv:1308.3432).
  TORCH_ARG(std::string, output_activation) = "none";
  /// Generator learning rate = the trainer's (discriminator) learning rate times this factor
  /// (> 0): a two time-scale update rule (Heusel et al., arXiv:1706.08500) [1].
  TORCH_ARG(double, generator_lr_scale) = 1.0;
  /// Exponential moving average of the generator weights used for sampling (0 = off, else in
  /// (0, 1)): after each generator step avg = d avg + (1 - d) w with d = min(generator_ema,
  /// (1 + k)/(10 + k)) at the k-th update (short runs are not dominated by the initial
  /// weights). Averaging damps the oscillations of long adversarial runs (Yazici et al.,
  /// arXiv:1806.04498); on short runs whose generator still moves it blurs the samples
  /// (measured on 8gaussians with WGAN-GP), hence off by default [0].
  TORCH_ARG(double, generator_ema) = 0.0;
  /// Adam moment coefficients used by GanTask for both optimisers (when the trainer's
  /// optimiser is Adam/AdamW): [0.5, 0.999] (DCGAN; WGAN-GP presets use 0.5, 0.9).
  TORCH_ARG(double, adam_beta1) = 0.5;
  TORCH_ARG(double, adam_beta2) = 0.999;
  /// Minibatch standard deviation (Karras et al., arXiv:1710.10196), 0 = off, else the group
  /// size G >= 2: the discriminator also sees, for the group of G samples each sample belongs
  /// to (real and generated batches are scored separately), two statistics
  ///   s_1 = mean_j std_group(x_j),   s_2 = std_group(mean_j x_j)
  /// (population std over the group, sqrt(var + 1e-8)), appended to the condition features.
  /// A per-sample discriminator cannot see a generator whose samples are too alike; with
  /// these it sees a too narrow spread of the fields and of their mean (on a lattice, the
  /// magnetization whose variance is chi / V). A batch not divisible by G is one group [0].
  TORCH_ARG(int64_t, minibatch_std) = 0;
  /// Z2-symmetric generator x = s G(z', c) with s = sign(z_0) and z' = (|z_0|, z_1, ...):
  /// the sample distribution is exactly symmetric under x -> -x (the symmetry of the Ising
  /// and phi^4 actions), and G only has to model one of the two magnetization modes instead
  /// of reaching both from one connected latent space (which puts spurious mass between
  /// them: a too small Binder cumulant in the ordered / critical Ising ensemble). A function
  /// of z, so latent interpolation stays deterministic (it flips where z_0 changes sign) [false].
  TORCH_ARG(bool, z2_symmetric) = false;
  /// Instance noise sigma >= 0 (Sonderby et al., arXiv:1610.04490; Arjovsky & Bottou,
  /// arXiv:1701.04862): in training mode the discriminator scores x + sigma eps, eps ~ N(0, I),
  /// for real and generated samples alike. On discrete data (Ising spins +-1 against a tanh
  /// generator) the two distributions otherwise have disjoint supports and the discriminator
  /// separates them by |x| = 1 alone; smoothing both gives it overlap and the generator a
  /// useful gradient. No effect in eval mode [0].
  TORCH_ARG(double, instance_noise) = 0.0;

 public:
  /// Sets generator_hidden and discriminator_hidden to h.
  GanOptions& hidden(const std::vector<int64_t>& h) {
    generator_hidden_ = h;
    discriminator_hidden_ = h;
    return *this;
  }
  /// Options of a named variant ("gan", "cgan", "wgan", "wgan-gp"; see the header comment).
  /// "cgan" needs condition_dim >= 1 (set it afterwards or pass it here).
  static GanOptions preset(const std::string& variant, std::vector<int64_t> event_shape,
                           int64_t condition_dim = 0);
  /// Throws InvalidArgument naming the offending option.
  void validate() const;
  nlohmann::json to_json() const;
  /// Reads the keys present (unknown keys -> InvalidArgument); "event_shape" required.
  static GanOptions from_json(const nlohmann::json& j);

  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("latent_dim", latent_dim());
    v("latent_distribution", latent_distribution());
    v("loss", loss());
    v("constraint", constraint());
    v("clip_value", clip_value());
    v("gp_lambda", gp_lambda());
    v("n_critic", n_critic());
    v("condition_dim", condition_dim());
    v("network", network());
    v("generator_hidden", generator_hidden());
    v("discriminator_hidden", discriminator_hidden());
    v("activation", activation());
    v("channels", channels());
    v("scales", scales());
    v("batch_norm", batch_norm());
    v("periodic", periodic());
    v("output_activation", output_activation());
    v("generator_lr_scale", generator_lr_scale());
    v("generator_ema", generator_ema());
    v("adam_beta1", adam_beta1());
    v("adam_beta2", adam_beta2());
    v("minibatch_std", minibatch_std());
    v("z2_symmetric", z2_symmetric());
    v("instance_noise", instance_noise());
  }
};

/// {"gan", "cgan", "wgan", "wgan-gp"}.
std::vector<std::string> gan_variant_names();

class GanImpl : public torch::nn::Cloneable<GanImpl>, public GenerativeModel {
 public:
  explicit GanImpl(const GanOptions& options);
  void reset() override;

  /// n latents (n, latent_dim) from the latent distribution, on the parameters' device/dtype.
  torch::Tensor sample_latent(int64_t n);
  /// x = G(z, c) with the sampling generator (the weight average when generator_ema > 0, else
  /// the trained one): z (n, latent_dim), c (n, condition_dim) (undefined if unconditional)
  /// -> (n, *event_shape). sample() and the latent tools use this.
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& c = torch::Tensor());
  /// x = G(z, c) with the trained generator (what the training steps differentiate).
  torch::Tensor generate_trained(const torch::Tensor& z, const torch::Tensor& c = torch::Tensor());
  /// Moves the weight average one step towards the trained generator (GanTask calls it after
  /// every generator step; a no-op when generator_ema == 0). Buffers (batch-norm statistics)
  /// are copied.
  void update_generator_average();
  /// D(x, c): (n, *event_shape) -> logits / critic values (n).
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& c = torch::Tensor());

  /// n samples G(z, c) without autograd. Conditional models use the condition set by
  /// set_sampling_condition (throws InvalidArgument if none was set).
  torch::Tensor sample(int64_t n) override;
  /// n samples at condition c: (n, condition_dim), or (condition_dim) / (1, condition_dim)
  /// shared by all samples.
  torch::Tensor sample(int64_t n, const torch::Tensor& c);
  /// The condition sample(n) uses (condition_dim) values.
  void set_sampling_condition(const torch::Tensor& c);
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  bool conditional() const { return options.condition_dim() > 0; }

  std::vector<torch::Tensor> generator_parameters() const { return generator->parameters(); }
  std::vector<torch::Tensor> discriminator_parameters() const { return discriminator->parameters(); }

  GanOptions options;
  /// The generator and discriminator as modules (concrete types per options.network()), and the
  /// generator's weight average ("generator_average", registered when generator_ema > 0; its
  /// parameters do not require gradients and belong to no optimiser group).
  std::shared_ptr<torch::nn::Module> generator, discriminator, generator_average;

 private:
  torch::Tensor expand_condition(const torch::Tensor& c, int64_t n) const;
  torch::Tensor run_generator(int which, const torch::Tensor& z, const torch::Tensor& c);
  VectorMLP g_mlp_{nullptr}, d_mlp_{nullptr}, g_mlp_avg_{nullptr};
  LatticeGenerator g_conv_avg_{nullptr};
  torch::Tensor average_updates_;
  LatticeGenerator g_conv_{nullptr};
  LatticeDiscriminator d_conv_{nullptr};
  /// The networks' own output activation ("tanh" under the straight-through "sign").
  std::string net_output_activation() const {
    return options.output_activation() == "sign" ? "tanh" : options.output_activation();
  }
  /// [c, minibatch statistics] when minibatch_std > 0, else c.
  torch::Tensor discriminator_features(const torch::Tensor& x, const torch::Tensor& c) const;
  int64_t dim_ = 1;
  torch::Tensor sampling_condition_;
};
TORCH_MODULE(Gan);

// pack_condition(x, c) -> rows [flatten(x), c] and one_hot_condition, shared with the
// diffusion family: see physgen/models/common/condition.h.

/// Training task of a Gan: parameter groups {"generator", "discriminator"} (one optimiser
/// each) and the alternating train_step of the header comment. Diagnostics every step:
/// "d_loss", "g_loss" (latest generator loss), "d_real", "d_fake" (mean outputs) and, for
/// "gp", "gp" and "grad_norm" (mean critic gradient norm at the interpolates). The step's
/// loss is the discriminator loss including the penalty (for "wasserstein" without penalty:
/// minus the critic's estimate of W1).
class GanTask : public TrainingTask {
 public:
  /// `variant`: the zoo family the model was built as ("gan", "cgan", "wgan", "wgan-gp"),
  /// recorded by options().
  explicit GanTask(Gan model, std::string variant = "gan");
  torch::nn::Module& module() override { return *model_; }
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> parameter_groups() override;
  /// Both groups: Adam betas (adam_beta1, adam_beta2); the generator's lr scaled by
  /// generator_lr_scale.
  GroupSettings group_settings(const std::string& name) const override;
  /// The discriminator loss on `batch` (no penalty, no update): a monitor.
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override;
  double train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers, double clip,
                    int64_t step, Diagnostics& diag) override;
  /// {"family": variant, "options": the GanOptions JSON}.
  nlohmann::json options() const override;
  Gan& model() { return model_; }

 private:
  std::string variant_;
  /// Splits a batch into samples and conditions (undefined if unconditional).
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& batch) const;
  Gan model_;
  GanLoss loss_;
  double last_g_loss_ = 0.0;
};

}  // namespace physgen
