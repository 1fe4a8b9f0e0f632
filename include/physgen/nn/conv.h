#pragma once
// Periodic (circular-padding) 2D convolutions for lattice fields.
//
//   y[b, o, i, j] = bias[o] + sum_{c, a, e} w[o, c, a, e] x[b, c, (i + a - p) mod H, (j + e - p) mod W],
//   p = (k - 1) / 2,  k odd,
//
// i.e. the cross-correlation of torch::nn::Conv2d with padding_mode kCircular, in a
// site-major layout (B, H*W, C). On CPU (float/double) it is a direct stencil kernel in plain
// C++ (AVX2/FMA when the processor has it, picked at run time) with a hand-written backward:
// one autograd node per layer and no im2col buffer; elsewhere (CUDA) a gather (padding and
// im2col fused in one index_select) followed by one GEMM. First-order gradients only on CPU.
// On small lattices (L = 8, 8 channels, batch 64) this is faster than Conv2d(kCircular) on
// CPU (bench/bench_flows.cpp, BM_PeriodicConv). Weights are stored in GEMM order, shape (k, k, in, out), so
// weight[a][e][c][o] = w_Conv2d[o][c][a][e]; initialisation as Conv2d (weights and biases
// uniform in +-1/sqrt(in * k * k)).
#include <cstdint>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "physgen/nn/activation.h"

namespace physgen {

/// Neighbour table of a periodic k x k stencil on an H x W lattice: a (H*W*k*k) int64 tensor;
/// entry s*k*k + a*k + e is the flat index of site ((i + a - p) mod H, (j + e - p) mod W)
/// for site s = i*W + j.
torch::Tensor periodic_conv_index(int64_t H, int64_t W, int64_t kernel_size,
                                  const torch::Device& device = torch::kCPU);

/// Periodic convolution in the site-major layout: x (B, H*W, Cin) -> (B, H*W, Cout);
/// weight (k, k, Cin, Cout), bias (Cout) or undefined, index from periodic_conv_index().
torch::Tensor periodic_conv2d_sites(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias, const torch::Tensor& index);

/// Options of PeriodicConv2d.
struct PeriodicConv2dOptions {
  PeriodicConv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size = 3)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  /// Odd kernel size. Default 3.
  TORCH_ARG(int64_t, kernel_size);
  /// Learnable bias. Default true.
  TORCH_ARG(bool, bias) = true;
};

/// One periodic convolution layer; parameters "weight" (k, k, in, out) and "bias" (out).
class PeriodicConv2dImpl : public torch::nn::Cloneable<PeriodicConv2dImpl> {
 public:
  explicit PeriodicConv2dImpl(PeriodicConv2dOptions options);
  void reset() override;
  /// (B, Cin, H, W) -> (B, Cout, H, W).
  torch::Tensor forward(const torch::Tensor& x);
  /// Site-major form: (B, H*W, Cin) -> (B, H*W, Cout).
  torch::Tensor forward_sites(const torch::Tensor& x, int64_t H, int64_t W);

  PeriodicConv2dOptions options;
  torch::Tensor weight, bias;

 private:
  const torch::Tensor& index_for(int64_t H, int64_t W, const torch::Device& device);
  torch::Tensor index_;
  int64_t index_h_ = -1, index_w_ = -1;
};
TORCH_MODULE(PeriodicConv2d);

/// Options of PeriodicConvNet: in_channels -> hidden_channels... -> out_channels.
struct PeriodicConvNetOptions {
  PeriodicConvNetOptions(int64_t in_channels, std::vector<int64_t> hidden_channels,
                         int64_t out_channels)
      : in_channels_(in_channels),
        hidden_channels_(std::move(hidden_channels)),
        out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::vector<int64_t>, hidden_channels);
  TORCH_ARG(int64_t, out_channels);
  /// Odd kernel size of every layer. Default 3.
  TORCH_ARG(int64_t, kernel_size) = 3;
  /// Activation between layers (none after the last). Default LeakyReLU(0.01).
  TORCH_ARG(Activation, activation) = Activation::kLeakyReLU;
  /// Zero the last layer's weight and bias at reset() (the net outputs 0). Default false.
  TORCH_ARG(bool, zero_init_last) = false;
  /// Biases in every layer. Without them (and with an odd activation such as tanh) the
  /// network is odd: f(-x) = -f(x). Default true.
  TORCH_ARG(bool, bias) = true;
};

/// Stack of periodic convolutions with activations in between; parameters
/// "conv0.weight", "conv0.bias", ... Translation-equivariant on the torus.
/// References: Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072.
class PeriodicConvNetImpl : public torch::nn::Cloneable<PeriodicConvNetImpl> {
 public:
  explicit PeriodicConvNetImpl(PeriodicConvNetOptions options);
  void reset() override;
  /// (B, Cin, H, W) -> (B, Cout, H, W).
  torch::Tensor forward(const torch::Tensor& x);
  /// Site-major form, no layout copies: (B, H*W, Cin) -> (B, H*W, Cout).
  torch::Tensor forward_sites(const torch::Tensor& x, int64_t H, int64_t W);
  /// The last convolution (e.g. to re-initialise it).
  PeriodicConv2d last_layer() const { return layers_.back(); }

  PeriodicConvNetOptions options;

 private:
  std::vector<PeriodicConv2d> layers_;
  torch::Tensor index_;
  int64_t index_h_ = -1, index_w_ = -1;
};
TORCH_MODULE(PeriodicConvNet);

}  // namespace physgen
