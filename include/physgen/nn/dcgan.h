#pragma once
// DCGAN-style convolutional networks for L x L lattice fields (one channel):
// a generator that upsamples a latent vector with transposed convolutions, and a
// discriminator / critic that downsamples with strided convolutions. With periodic = true
// (the default: lattice physics is periodic) every convolution wraps around the torus,
// so the networks commute with lattice translations by multiples of their total stride.
//
// Periodic transposed convolution (LatticeUpsample, kernel 4, stride 2): the full
// transposed convolution of an n-periodic input has 2n + 2 outputs; output j lands on
// site (j - 1) mod 2n of the 2n-periodic result, i.e. the two overhanging rows (and
// columns) are added back onto the opposite edge. Shifting the input by one site shifts
// the output by exactly two.
//
// Generator:     z (n, latent_dim) [, c (n, condition_dim)]
//                -> Linear -> (n, C, L0, L0), L0 = L / 2^upsamplings -> act
//                -> upsamplings x [LatticeUpsample(C -> C/2) -> BatchNorm (optional) -> act]
//                -> Conv2d(3x3, -> 1 channel) -> output_activation -> (n, L, L)
// Discriminator: x (n, L, L) [, c broadcast as condition_dim constant input channels]
//                -> Conv2d(3x3, 1 + cdim -> C) -> leaky ReLU(0.2)
//                -> downsamplings x [Conv2d(4x4, stride 2, C -> 2C) -> leaky ReLU(0.2)]
//                -> spatial mean ("mean") or flatten ("flatten") -> Linear -> (n)
// No batch normalisation in the discriminator (it would couple the samples of a batch,
// which the WGAN-GP penalty forbids).
//
// References: A. Radford, L. Metz, S. Chintala, "Unsupervised representation learning with
// deep convolutional generative adversarial networks", arXiv:1511.06434; J. M. Pawlowski,
// J. M. Urban, "Reducing autocorrelation times in lattice simulations with generative
// adversarial networks", arXiv:1811.03533 (GANs for lattice phi^4).
#include <cstdint>
#include <string>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace physgen {

/// Transposed convolution, kernel 4, stride 2: (n, C_in, h, w) -> (n, C_out, 2h, 2w).
/// periodic = true folds the overhang back onto the torus (see the header comment);
/// periodic = false is the usual zero-padded ConvTranspose2d(4, stride 2, padding 1).
/// Submodule: "conv" (ConvTranspose2d without bias); parameter "bias" (C_out), added after the fold.
class LatticeUpsampleImpl : public torch::nn::Cloneable<LatticeUpsampleImpl> {
 public:
  LatticeUpsampleImpl(int64_t in_channels, int64_t out_channels, bool periodic = true);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  int64_t in_channels, out_channels;
  bool periodic;
  torch::nn::ConvTranspose2d conv{nullptr};
  torch::Tensor bias;
};
TORCH_MODULE(LatticeUpsample);

/// Options of LatticeGenerator. Required: L (divisible by 2^upsamplings), latent_dim >= 1.
struct LatticeGeneratorOptions {
  LatticeGeneratorOptions(int64_t L, int64_t latent_dim) : L_(L), latent_dim_(latent_dim) {}
  TORCH_ARG(int64_t, L);
  TORCH_ARG(int64_t, latent_dim);
  /// Condition features concatenated to z (>= 0) [0].
  TORCH_ARG(int64_t, condition_dim) = 0;
  /// Number of x2 upsampling stages (>= 0; L % 2^upsamplings == 0) [2].
  TORCH_ARG(int64_t, upsamplings) = 2;
  /// Channels at the coarsest grid, halved per stage (never below 8) [64].
  TORCH_ARG(int64_t, channels) = 64;
  /// Batch normalisation after each upsampling (DCGAN) [true].
  TORCH_ARG(bool, batch_norm) = true;
  /// Periodic (toroidal) convolutions [true].
  TORCH_ARG(bool, periodic) = true;
  /// Hidden activation (vector_mlp_activations()) ["relu"].
  TORCH_ARG(std::string, activation) = "relu";
  /// "none" | "tanh" (e.g. Ising spins in [-1, 1]) ["none"].
  TORCH_ARG(std::string, output_activation) = "none";
};

class LatticeGeneratorImpl : public torch::nn::Cloneable<LatticeGeneratorImpl> {
 public:
  explicit LatticeGeneratorImpl(const LatticeGeneratorOptions& options);
  void reset() override;
  /// z (n, latent_dim), c (n, condition_dim) or undefined -> (n, L, L).
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c = torch::Tensor());

  LatticeGeneratorOptions options;
  torch::nn::Linear project{nullptr};
  torch::nn::ModuleList upsample{nullptr};
  torch::nn::ModuleList norms{nullptr};
  torch::nn::Conv2d head{nullptr};

 private:
  int64_t base_size_ = 1, base_channels_ = 1;
};
TORCH_MODULE(LatticeGenerator);

/// Options of LatticeDiscriminator. Required: L (divisible by 2^downsamplings).
struct LatticeDiscriminatorOptions {
  /* implicit */ LatticeDiscriminatorOptions(int64_t L) : L_(L) {}
  TORCH_ARG(int64_t, L);
  /// Condition features, broadcast as constant input channels (>= 0) [0].
  TORCH_ARG(int64_t, condition_dim) = 0;
  /// Number of stride-2 stages (>= 0; L % 2^downsamplings == 0) [2].
  TORCH_ARG(int64_t, downsamplings) = 2;
  /// Channels of the first layer, doubled per stage [32].
  TORCH_ARG(int64_t, channels) = 32;
  /// Periodic (circular) padding [true].
  TORCH_ARG(bool, periodic) = true;
  /// "mean" (spatial average: invariant under translations by 2^downsamplings) | "flatten" ["mean"].
  TORCH_ARG(std::string, pooling) = "mean";
};

class LatticeDiscriminatorImpl : public torch::nn::Cloneable<LatticeDiscriminatorImpl> {
 public:
  explicit LatticeDiscriminatorImpl(const LatticeDiscriminatorOptions& options);
  void reset() override;
  /// x (n, L, L), c (n, condition_dim) or undefined -> logits / critic values (n).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& c = torch::Tensor());

  LatticeDiscriminatorOptions options;
  torch::nn::ModuleList convs{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(LatticeDiscriminator);

/// Fully convolutional residual map of L x L fields to L x L fields (CycleGAN generators
/// on lattices): y = x + Conv(act(Conv(... act(Conv(x))))) with `depth` 3x3 convolutions of
/// `channels` channels, periodic padding. The last convolution starts at zero (identity map).
/// Submodule: "convs" (ModuleList of Conv2d).
struct LatticeResNetOptions {
  TORCH_ARG(int64_t, channels) = 32;   ///< hidden channels [32]
  TORCH_ARG(int64_t, depth) = 4;       ///< convolutions (>= 2) [4]
  TORCH_ARG(bool, periodic) = true;    ///< circular padding [true]
  TORCH_ARG(std::string, activation) = "leaky_relu";  ///< [leaky_relu]
};

class LatticeResNetImpl : public torch::nn::Cloneable<LatticeResNetImpl> {
 public:
  explicit LatticeResNetImpl(const LatticeResNetOptions& options = {});
  void reset() override;
  /// x (n, L, L) -> (n, L, L).
  torch::Tensor forward(const torch::Tensor& x);

  LatticeResNetOptions options;
  torch::nn::ModuleList convs{nullptr};
};
TORCH_MODULE(LatticeResNet);

}  // namespace physgen
