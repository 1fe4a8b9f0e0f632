#pragma once
// Time-conditioned periodic convolutional vector field v(t, phi) on an H x W torus, the
// translation-equivariant field of continuous flows on lattices (CNF, flow matching).
//
//   h_0 = phi (1 channel),  h_{i+1} = act(conv_i([h_i, t])),  v = conv_L([h_L, t]),
//
// where [h, t] appends a constant channel holding t (the "ConcatConv2d" layers of FFJORD),
// and conv_i is a k x k convolution with periodic (circular) padding, so v commutes with
// lattice translations. Built from LibTorch ops (circular padding by concatenation +
// conv2d), hence differentiable to any order: CNF training differentiates the divergence
// (trace of dv/dphi) with respect to the parameters.
//
// Shapes: x (n, H*W) flattened site-major (row i, column j -> i*W + j); t a scalar shared by
// the batch, or (n) / (n, 1) one time per sample. Output (n, H*W).
// Submodules: "layers" (ModuleList of Conv2d with in = channels + 1, no built-in padding).
//
// References: Grathwohl et al., "FFJORD", arXiv:1810.01367 (ConcatConv2d);
// Albergo, Kanwar & Shanahan, arXiv:1904.12072 (periodic convolutions for lattice fields).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace physgen {

struct TimeConvFieldOptions {
  TimeConvFieldOptions(int64_t height, int64_t width) : height_(height), width_(width) {}
  /// Lattice extent H, W (each >= 1).
  TORCH_ARG(int64_t, height);
  TORCH_ARG(int64_t, width);
  /// Hidden channel counts (each >= 1; may be empty: one linear periodic stencil). Default {16, 16}.
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{16, 16};
  /// Odd kernel size (>= 1). Default 3.
  TORCH_ARG(int64_t, kernel_size) = 3;
  /// "tanh" (default) | "softplus" | "silu" | "elu" (smooth: the trace is differentiated).
  TORCH_ARG(std::string, activation) = "tanh";
  /// Zero the last layer: v = 0 at initialisation. Default false.
  TORCH_ARG(bool, zero_init_output) = false;
};

class TimeConvFieldImpl : public torch::nn::Cloneable<TimeConvFieldImpl> {
 public:
  explicit TimeConvFieldImpl(const TimeConvFieldOptions& options);
  void reset() override;
  /// v(t, x) with one time per sample or one shared time.
  torch::Tensor forward(const torch::Tensor& t, const torch::Tensor& x);
  /// v(t, x) at one time t for the whole batch (the form odeint's f(t, y) takes).
  torch::Tensor forward(double t, const torch::Tensor& x);

  TimeConvFieldOptions options;
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(TimeConvField);

}  // namespace physgen
