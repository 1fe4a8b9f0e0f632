#pragma once
// Multilayer perceptron: the fully connected network shared by conditioners,
// encoders, discriminators and score networks.
//
//   h_0 = x,   h_{l+1} = act(W_l h_l + b_l)   (l < n_hidden),   y = W_out h + b_out
//
// Shapes: (B, in_features) -> (B, out_features). No activation after the last layer.
// Initialisation: LibTorch's Linear default (weights and biases uniform in
// +-1/sqrt(fan_in)); with zero_init_last the last layer starts at exactly zero, so the
// network outputs 0 for every input (flows then start at the identity).
#include <cstdint>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "physgen/nn/activation.h"

namespace physgen {

/// Options of MLP. Required: in_features, hidden sizes (may be empty: one affine map), out_features.
struct MLPOptions {
  MLPOptions(int64_t in_features, std::vector<int64_t> hidden, int64_t out_features)
      : in_features_(in_features), hidden_(std::move(hidden)), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(std::vector<int64_t>, hidden);
  TORCH_ARG(int64_t, out_features);
  /// Activation between layers. Default: ReLU.
  TORCH_ARG(Activation, activation) = Activation::kReLU;
  /// Zero the last layer's weight and bias at reset(). Default: false.
  TORCH_ARG(bool, zero_init_last) = false;
  /// Biases in every layer. Without them (and with an odd activation such as tanh) the
  /// network is odd: f(-x) = -f(x). Default: true.
  TORCH_ARG(bool, bias) = true;
};

/// Fully connected network; parameters "linear0.weight", "linear0.bias", ... (last = "linear<n_hidden>").
class MLPImpl : public torch::nn::Cloneable<MLPImpl> {
 public:
  explicit MLPImpl(MLPOptions options);
  void reset() override;
  /// (B, in_features) -> (B, out_features).
  torch::Tensor forward(const torch::Tensor& x);
  /// The last linear layer (e.g. to re-initialise it).
  torch::nn::Linear last_layer() const { return layers_.back(); }

  MLPOptions options;

 private:
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(MLP);

}  // namespace physgen
