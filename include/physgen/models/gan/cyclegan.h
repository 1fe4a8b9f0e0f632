#pragma once
// CycleGAN: unpaired translation between two ensembles A and B (e.g. phi^4 at two couplings,
// Ising at two temperatures, two toy densities).
//
// Two generators G_ab: A -> B and G_ba: B -> A and two discriminators D_a, D_b. The
// generators minimise
//   L_G = l_gen(D_b(G_ab(a))) + l_gen(D_a(G_ba(b)))                               adversarial
//       + lambda_cycle    ( E|G_ba(G_ab(a)) - a|_1 + E|G_ab(G_ba(b)) - b|_1 )      cycle consistency
//       + lambda_identity ( E|G_ab(b) - b|_1     + E|G_ba(a) - a|_1 )              identity
// (E|.|_1: mean absolute difference per component), and each discriminator minimises its
// discriminator_loss on real vs translated samples (non-saturating by default; the paper's
// least squares and any gan_loss_names() loss work too). One trainer step = one generator step, then one step of
// both discriminators on the same translated samples.
//
// Generators are residual maps x + f(x) with f zero at initialisation (the identity):
// "mlp": f = VectorMLP on flattened samples; "conv": f = periodic fully convolutional
// LatticeResNet (event_shape {L, L}). Discriminators: VectorMLP or LatticeDiscriminator.
// Data: unpaired samples packed as (N, 2, *event_shape) rows [a_i, b_i] (pack_unpaired), so
// the shared trainer's minibatches draw from both ensembles.
// Submodules: "g_ab", "g_ba", "d_a", "d_b".
//
// References: J.-Y. Zhu, T. Park, P. Isola, A. A. Efros, "Unpaired image-to-image translation
// using cycle-consistent adversarial networks", arXiv:1703.10593.
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
#include "physgen/models/gan/losses.h"
#include "physgen/nn/dcgan.h"
#include "physgen/nn/vector_nets.h"
#include "physgen/train/trainer.h"

namespace physgen {

/// Options of CycleGan. Required: event_shape. Defaults in brackets.
struct CycleGanOptions {
  explicit CycleGanOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample of either ensemble ({L, L} for "conv").
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// "mlp" | "conv" ["mlp"].
  TORCH_ARG(std::string, network) = "mlp";
  /// MLP hidden widths (generators and discriminators) [{64, 64}].
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  /// MLP hidden activation ["leaky_relu"].
  TORCH_ARG(std::string, activation) = "leaky_relu";
  /// conv: generator channels and depth, discriminator channels and downsamplings [32, 4, 16, 1].
  TORCH_ARG(int64_t, channels) = 32;
  TORCH_ARG(int64_t, depth) = 4;
  TORCH_ARG(int64_t, discriminator_channels) = 16;
  TORCH_ARG(int64_t, scales) = 1;
  /// conv: periodic padding [true].
  TORCH_ARG(bool, periodic) = true;
  /// Adversarial loss (gan_loss_names()) ["non-saturating"]. The paper's least squares loss
  /// leaves the identity-initialised generators in place on 2D Gaussian ensembles (its
  /// generator gradient is too weak against the cycle term; measured), the non-saturating
  /// loss translates them.
  TORCH_ARG(std::string, loss) = "non-saturating";
  /// Cycle-consistency weight [10].
  TORCH_ARG(double, lambda_cycle) = 10.0;
  /// Identity weight [0]. The paper uses 0.5 lambda_cycle where colours must be preserved; between
  /// ensembles that differ in location or scale its L1 subgradient pins the generators at their
  /// identity start (measured on 2D Gaussians), so it is off by default.
  TORCH_ARG(double, lambda_identity) = 0.0;
  /// Adam moment coefficients set by CycleGanTask [0.5, 0.999].
  TORCH_ARG(double, adam_beta1) = 0.5;
  TORCH_ARG(double, adam_beta2) = 0.999;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static CycleGanOptions from_json(const nlohmann::json& j);

  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("network", network());
    v("hidden", hidden());
    v("activation", activation());
    v("channels", channels());
    v("depth", depth());
    v("discriminator_channels", discriminator_channels());
    v("scales", scales());
    v("periodic", periodic());
    v("loss", loss());
    v("lambda_cycle", lambda_cycle());
    v("lambda_identity", lambda_identity());
    v("adam_beta1", adam_beta1());
    v("adam_beta2", adam_beta2());
  }
};

class CycleGanImpl : public torch::nn::Cloneable<CycleGanImpl> {
 public:
  explicit CycleGanImpl(const CycleGanOptions& options);
  void reset() override;

  /// G_ab(a): (n, *event_shape) -> (n, *event_shape).
  torch::Tensor translate_ab(const torch::Tensor& a);
  /// G_ba(b).
  torch::Tensor translate_ba(const torch::Tensor& b);
  /// D_a(x), D_b(x): (n, *event_shape) -> (n).
  torch::Tensor discriminate_a(const torch::Tensor& x);
  torch::Tensor discriminate_b(const torch::Tensor& x);

  /// Translation without autograd, in chunks of `batch` rows; direction "ab" or "ba".
  torch::Tensor translate(const torch::Tensor& x, const std::string& direction = "ab", int64_t batch = 4096);

  std::vector<torch::Tensor> generator_parameters() const;
  std::vector<torch::Tensor> discriminator_parameters() const;
  std::vector<int64_t> event_shape() const { return options.event_shape(); }

  CycleGanOptions options;
  std::shared_ptr<torch::nn::Module> g_ab, g_ba, d_a, d_b;

 private:
  torch::Tensor run_generator(int which, const torch::Tensor& x);
  torch::Tensor run_discriminator(int which, const torch::Tensor& x);
  VectorMLP g_mlp_[2] = {VectorMLP{nullptr}, VectorMLP{nullptr}};
  VectorMLP d_mlp_[2] = {VectorMLP{nullptr}, VectorMLP{nullptr}};
  LatticeResNet g_conv_[2] = {LatticeResNet{nullptr}, LatticeResNet{nullptr}};
  LatticeDiscriminator d_conv_[2] = {LatticeDiscriminator{nullptr}, LatticeDiscriminator{nullptr}};
  int64_t dim_ = 1;
};
TORCH_MODULE(CycleGan);

/// Unpaired training rows (N, 2, *event_shape), N = min(N_a, N_b): row i holds a[p_i] and
/// b[q_i] for independent random permutations p, q (LibTorch's default generator) of the
/// first N indices of each. a (N_a, *event_shape), b (N_b, *event_shape), same event shape;
/// the result has a's floating dtype (float32 for integer input, e.g. Ising int8).
torch::Tensor pack_unpaired(const torch::Tensor& a, const torch::Tensor& b);

/// Training task of a CycleGan: groups {"generators", "discriminators"}. Diagnostics:
/// "adversarial", "cycle", "identity" (generator terms), "d_a", "d_b" (discriminator losses).
/// The step's loss is L_G.
class CycleGanTask : public TrainingTask {
 public:
  explicit CycleGanTask(CycleGan model);
  torch::nn::Module& module() override { return *model_; }
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> parameter_groups() override;
  /// Both groups: Adam betas (adam_beta1, adam_beta2).
  GroupSettings group_settings(const std::string& name) const override;
  /// L_G on a packed batch without updates (a monitor).
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override;
  double train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers, double clip,
                    int64_t step, Diagnostics& diag) override;
  nlohmann::json options() const override;
  CycleGan& model() { return model_; }

 private:
  struct Translations {
    torch::Tensor a, b, fake_a, fake_b;
  };
  torch::Tensor generator_objective(const torch::Tensor& batch, Translations& t, Diagnostics& diag);
  CycleGan model_;
  GanLoss loss_;
};

}  // namespace physgen
