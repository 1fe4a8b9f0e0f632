#pragma once
// Energy-based models p_theta(x) = exp(-U_theta(x)) / Z_theta with a neural (or
// exponential-family) energy, trained by maximum likelihood with persistent Langevin
// negatives or by denoising score matching.
//
// Maximum likelihood ("ml"): the gradient of the mean negative log-likelihood is
//   grad_theta NLL = E_data[grad_theta U] - E_model[grad_theta U],
// estimated with the surrogate loss
//   L = mean U(x_data) - mean U(x_neg) + alpha (mean U(x_data)^2 + mean U(x_neg)^2)
// (alpha: energy-magnitude regulariser, Du & Mordatch), x_neg detached negatives from the
// persistent chains: a replay buffer of states advanced by `sampler` Langevin steps (ULA or
// MALA) per training step, each restarted with probability reinit_prob.
//
// Denoising score matching ("dsm"): with x~ = x + sigma eps, eps ~ N(0, I),
//   L = 1/2 E |eps - sigma grad_x U(x~)|^2   (sum over components, mean over the batch),
// whose minimiser is the score of the data smoothed with N(0, sigma^2): -grad U = grad log p_sigma.
// No sampling during training.
//
// Energies (EnergyModelOptions::network):
//   "mlp"   U = VectorMLP(flatten(x)) (smooth activation, default silu)
//   "conv"  U = sum_sites f(x)_site: periodic 3x3 convolutions (silu) and a 1x1 head, summed
//           over the lattice: extensive and translation invariant ({L, L} events)
//   "phi4"  U = sum_x [ sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi_x^2 + lambda phi_x^4 ] with
//           trainable m2, lambda (parameters "m2", "lambda"): the phi^4 exponential family,
//           whose ML fit recovers the couplings (see exponential_family.h for a direct fit)
//   "ising" U = -beta sum_<ij> s_i s_j on +-1 spins with trainable beta (parameter "beta"): the
//           Ising exponential family (J = 1, h = 0). Its negatives and samples come from
//           checkerboard heat-bath sweeps (sampler.method "heatbath", n_steps sweeps per training
//           step; init "spins"): p(s_x = +1 | rest) = 1 / (1 + exp(-2 beta h_x)), h_x the sum of
//           the four neighbours. ML then solves E_model[sum s s] = E_data[sum s s] for beta.
// plus confinement * sum x^2 when confinement > 0 (keeps Langevin chains bounded).
// Samples (sample(n)): n fresh chains from the initial distribution run for sample_steps
// steps (heat-bath sweeps for "ising") of the sampler; persistent_samples() returns the
// replay buffer's states.
// Persistent contrastive divergence (Tieleman) is buffer_size = batch size, reinit_prob = 0:
// every chain advances every step, and the negatives stay in equilibrium with the slowly
// changing model; this is what makes the ML fixed point the data's distribution.
//
// Shapes: x (n, *event_shape); energies (n). Submodules/buffers: "energy" (the network),
// buffer "replay" (capacity, *event_shape) (persistent chains; checkpointed).
//
// References: Y. Du, I. Mordatch, "Implicit generation and generalization in energy-based
// models", arXiv:1903.08689; E. Nijkamp et al., "On the anatomy of MCMC-based maximum
// likelihood learning of energy-based models", arXiv:1903.12370; P. Vincent, "A connection
// between score matching and denoising autoencoders", Neural Comput. 23, 1661 (2011);
// T. Tieleman (ICML 2008).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/ebm/langevin.h"
#include "physgen/models/generative.h"
#include "physgen/nn/vector_nets.h"
#include "physgen/train/trainer.h"

namespace physgen {

/// Translation-invariant extensive lattice energy U(x) = sum_sites head(act(conv(...act(conv(x))))).
/// x (n, L, L) -> (n). `depth` >= 1 periodic 3x3 convolutions of `channels` channels.
class LatticeEnergyImpl : public torch::nn::Cloneable<LatticeEnergyImpl> {
 public:
  LatticeEnergyImpl(int64_t channels = 32, int64_t depth = 2, std::string activation = "silu");
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  int64_t channels, depth;
  std::string activation;
  torch::nn::ModuleList convs{nullptr};
};
TORCH_MODULE(LatticeEnergy);

/// The phi^4 exponential family U = K(phi) + m2 sum phi^2 + lambda sum phi^4 with trainable
/// (m2, lambda), K = sum_x sum_mu (phi_{x+mu} - phi_x)^2. x (n, L, L) -> (n).
class Phi4FamilyEnergyImpl : public torch::nn::Cloneable<Phi4FamilyEnergyImpl> {
 public:
  Phi4FamilyEnergyImpl(double m2 = 0.0, double lambda = 1.0);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  double m2_init, lambda_init;
  torch::Tensor m2, lambda;
};
TORCH_MODULE(Phi4FamilyEnergy);

/// The Ising exponential family U = -beta sum_<ij> s_i s_j (J = 1, h = 0, periodic L x L, L even)
/// with trainable beta. s (n, L, L) of +-1 (floating) -> (n).
class IsingFamilyEnergyImpl : public torch::nn::Cloneable<IsingFamilyEnergyImpl> {
 public:
  explicit IsingFamilyEnergyImpl(double beta = 0.1);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& s);
  /// `sweeps` checkerboard heat-bath sweeps at the current beta (detached; s is not modified):
  /// each sublattice in turn draws s_x = +1 with probability 1 / (1 + exp(-2 beta h_x)).
  torch::Tensor heatbath(const torch::Tensor& s, int64_t sweeps);

  double beta_init;
  torch::Tensor beta;
};
TORCH_MODULE(IsingFamilyEnergy);

/// Options of EnergyModel. Required: event_shape. Defaults in brackets.
struct EnergyModelOptions {
  explicit EnergyModelOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// "mlp" | "conv" | "phi4" | "ising" ["mlp"].
  TORCH_ARG(std::string, network) = "mlp";
  /// MLP hidden widths [{128, 128}]; activation (smooth: Langevin differentiates U) ["silu"].
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{128, 128};
  TORCH_ARG(std::string, activation) = "silu";
  /// conv: channels and depth [32, 2].
  TORCH_ARG(int64_t, channels) = 32;
  TORCH_ARG(int64_t, depth) = 2;
  /// phi4: initial (m2, lambda) [0, 1].
  TORCH_ARG(double, init_m2) = 0.0;
  TORCH_ARG(double, init_lambda) = 1.0;
  /// ising: initial beta [0.1].
  TORCH_ARG(double, init_beta) = 0.1;
  /// Added confinement * sum x^2 (>= 0) [0].
  TORCH_ARG(double, confinement) = 0.0;
  /// "ml" | "dsm" ["ml"].
  TORCH_ARG(std::string, objective) = "ml";
  /// Energy-magnitude regulariser alpha (ml) [0].
  TORCH_ARG(double, alpha) = 0.0;
  /// Negative sampler per training step (ml) [ULA, eps 0.01, 20 steps]; "heatbath" (n_steps
  /// sweeps) for the "ising" network, which requires it.
  TORCH_ARG(LangevinOptions, sampler) = LangevinOptions().n_steps(20);
  /// Replay buffer: capacity, restart probability, initial distribution ("normal" | "uniform"
  /// | "spins": random +-1, required by and only for "ising") and scale [10000, 0.05, "normal", 1].
  TORCH_ARG(int64_t, buffer_size) = 10000;
  TORCH_ARG(double, reinit_prob) = 0.05;
  TORCH_ARG(std::string, init) = "normal";
  TORCH_ARG(double, init_scale) = 1.0;
  /// Sampler steps of sample(n) from fresh chains [1000].
  TORCH_ARG(int64_t, sample_steps) = 1000;
  /// DSM noise level sigma > 0 [0.1].
  TORCH_ARG(double, dsm_sigma) = 0.1;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static EnergyModelOptions from_json(const nlohmann::json& j);

  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("network", network());
    v("hidden", hidden());
    v("activation", activation());
    v("channels", channels());
    v("depth", depth());
    v("init_m2", init_m2());
    v("init_lambda", init_lambda());
    v("init_beta", init_beta());
    v("confinement", confinement());
    v("objective", objective());
    v("alpha", alpha());
    v("buffer_size", buffer_size());
    v("reinit_prob", reinit_prob());
    v("init", init());
    v("init_scale", init_scale());
    v("sample_steps", sample_steps());
    v("dsm_sigma", dsm_sigma());
    v("sampler", sampler());
  }
};

class EnergyModelImpl : public torch::nn::Cloneable<EnergyModelImpl>, public GenerativeModel {
 public:
  explicit EnergyModelImpl(const EnergyModelOptions& options);
  void reset() override;

  /// U(x): (n, *event_shape) -> (n).
  torch::Tensor energy(const torch::Tensor& x);
  /// -grad_x U(x), detached, x's shape.
  torch::Tensor score(const torch::Tensor& x);
  /// The energy as an EnergyFn (for langevin()).
  EnergyFn energy_fn();

  /// n negatives from the persistent chains: draw, run options.sampler, write back. Detached.
  /// `acceptance` (optional) receives the sampler's acceptance.
  torch::Tensor negatives(int64_t n, double* acceptance = nullptr);
  /// Training loss of options.objective on a data batch; fills diag ("e_data", "e_model",
  /// "acceptance" for ml; "dsm" for dsm).
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag);

  /// n samples: fresh chains run for options.sample_steps sampler steps (no parameter grads).
  torch::Tensor sample(int64_t n) override;
  /// The replay buffer's states (capacity, *event_shape).
  torch::Tensor persistent_samples() const { return replay_->states(); }
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  EnergyModelOptions options;
  std::shared_ptr<torch::nn::Module> network;

 private:
  VectorMLP mlp_{nullptr};
  LatticeEnergy conv_{nullptr};
  Phi4FamilyEnergy phi4_{nullptr};
  IsingFamilyEnergy ising_{nullptr};
  std::shared_ptr<ReplayBuffer> replay_;
  int64_t dim_ = 1;
};
TORCH_MODULE(EnergyModel);

/// Training task of an EnergyModel (one optimiser; loss = EnergyModelImpl::loss).
class EnergyModelTask : public TrainingTask {
 public:
  explicit EnergyModelTask(EnergyModel model) : model_(std::move(model)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override { return model_->loss(batch, diag); }
  nlohmann::json options() const override;
  EnergyModel& model() { return model_; }

 private:
  EnergyModel model_;
};

}  // namespace physgen
