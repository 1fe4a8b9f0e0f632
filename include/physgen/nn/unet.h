#pragma once
// A small U-Net for periodic lattice fields, conditioned on a time t (and optionally on a
// condition vector c): the noise / score / denoiser network of diffusion models on lattices.
//
//   emb  = W2 silu(W1 TimeEmbedding(t)) [+ W_c c]                       (n, 4 base_channels)
//   down: per level l, blocks_per_level residual blocks to base_channels * multipliers[l]
//         channels (each output kept as a skip), then 2x2 average pooling (except the last level)
//   mid:  one residual block
//   up:   per level, coarsest first, blocks_per_level residual blocks on [h, skip], then
//         nearest-neighbour 2x upsampling (except the finest level)
//   out:  GroupNorm, SiLU, 3x3 convolution back to `channels` (zero-initialised by default)
//   residual block: h = conv(silu(gn(x))) + Linear(silu(emb)); out = conv(silu(gn(h))) + skip(x)
//
// Every convolution pads circularly, so the network commutes with lattice translations by
// multiples of 2^(levels - 1) sites (pooling breaks finer translations) and sees the lattice
// as a torus. Lattice sides must be divisible by 2^(levels - 1).
//
// Shapes: x (n, channels, H, W); t a scalar, (n) or (n, 1); c (n, condition_dim) or (1, ...).
// Output (n, channels, H, W).
//
// References: Ronneberger, Fischer & Brox, "U-Net", arXiv:1505.04597; Ho et al.,
// arXiv:2006.11239 (time-conditioned residual U-Net); Dhariwal & Nichol, arXiv:2105.05233.
#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/nn/time_embedding.h"

namespace physgen {

struct UNetOptions {
  /* implicit */ UNetOptions(int64_t channels = 1) : channels_(channels) {}
  /// Input and output channels (>= 1).
  TORCH_ARG(int64_t, channels);
  /// Channels of the first level (>= 1) [32].
  TORCH_ARG(int64_t, base_channels) = 32;
  /// Channel multiplier per level (non-empty, entries >= 1) [{1, 2}].
  TORCH_ARG(std::vector<int64_t>, channel_multipliers) = std::vector<int64_t>{1, 2};
  /// Residual blocks per level (>= 1) [1].
  TORCH_ARG(int64_t, blocks_per_level) = 1;
  /// Sinusoidal time features (even, >= 2) [32] and their frequencies [1, 200].
  TORCH_ARG(int64_t, time_embedding_dim) = 32;
  TORCH_ARG(double, min_frequency) = 1.0;
  TORCH_ARG(double, max_frequency) = 200.0;
  /// Features of an optional condition vector (>= 0; 0 = none) [0].
  TORCH_ARG(int64_t, condition_dim) = 0;
  /// Largest number of GroupNorm groups (the gcd with each channel count is used) [8].
  TORCH_ARG(int64_t, groups) = 8;
  /// Zero the output convolution (the network starts at 0) [true].
  TORCH_ARG(bool, zero_init_output) = true;
};

/// A residual block with a time-embedding shift (see the header comment).
class UNetBlockImpl : public torch::nn::Cloneable<UNetBlockImpl> {
 public:
  UNetBlockImpl(int64_t in_channels, int64_t out_channels, int64_t embedding_dim, int64_t groups);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb);

  int64_t in_channels, out_channels, embedding_dim, groups;
  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
  torch::nn::Linear emb_proj{nullptr};
};
TORCH_MODULE(UNetBlock);

class UNetImpl : public torch::nn::Cloneable<UNetImpl> {
 public:
  explicit UNetImpl(const UNetOptions& options);
  void reset() override;
  /// See the header comment; c may be undefined when condition_dim = 0.
  torch::Tensor forward(const torch::Tensor& t, const torch::Tensor& x,
                        const torch::Tensor& c = torch::Tensor());
  /// Number of pooling levels minus one: sides must be divisible by 2^(levels - 1).
  int64_t levels() const { return static_cast<int64_t>(options.channel_multipliers().size()); }

  UNetOptions options;
  TimeEmbedding embedding{nullptr};
  torch::nn::Linear time1{nullptr}, time2{nullptr}, cond{nullptr};
  torch::nn::Conv2d in_conv{nullptr}, out_conv{nullptr};
  torch::nn::GroupNorm out_norm{nullptr};
  torch::nn::ModuleList down{nullptr}, mid{nullptr}, up{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace physgen
