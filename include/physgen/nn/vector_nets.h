#pragma once
// Small fully connected networks on flat vectors, with an optional condition input:
// the generators, critics, encoders, decoders and energies of the GAN, VAE and EBM
// families on toy 2D data and on small lattices flattened to vectors.
//
//   h_0 = [x, c]          (c: condition features, (n, condition_dim); omitted when 0)
//   h_{i+1} = act(W_i h_i + b_i),   y = out_act(W_L h_L + b_L)
//
// Shapes: x (n, in_features), c (n, condition_dim) -> y (n, out_features).
// Submodules: "layers" (ModuleList of Linear); checkpoint keys depend only on the widths.
//
// References: I. Goodfellow et al., "Generative adversarial nets", arXiv:1406.2661 (MLP
// generator and discriminator); A. Maas et al., "Rectifier nonlinearities improve neural
// network acoustic models" (ICML 2013) for the leaky ReLU.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace physgen {

/// Options of VectorMLP. Required: in_features, out_features (>= 1).
struct VectorMLPOptions {
  VectorMLPOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  /// Condition features concatenated to the input (>= 0) [0].
  TORCH_ARG(int64_t, condition_dim) = 0;
  /// Hidden widths (each >= 1; empty: one affine map) [{128, 128}].
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{128, 128};
  /// Hidden activation, one of vector_mlp_activations() ["leaky_relu" (slope 0.2)].
  TORCH_ARG(std::string, activation) = "leaky_relu";
  /// Output activation: "none" | "tanh" | "sigmoid" ["none"].
  TORCH_ARG(std::string, output_activation) = "none";
  /// Initialise the last layer to zero (output 0, or out_act(0)) [false].
  TORCH_ARG(bool, zero_init_output) = false;
};

/// Names accepted by VectorMLPOptions::activation:
/// {"leaky_relu", "relu", "tanh", "silu", "elu", "softplus"}.
std::vector<std::string> vector_mlp_activations();

/// Applies the named activation (vector_mlp_activations() or "none" / "sigmoid").
torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x);

class VectorMLPImpl : public torch::nn::Cloneable<VectorMLPImpl> {
 public:
  explicit VectorMLPImpl(const VectorMLPOptions& options);
  void reset() override;
  /// y = f([x, c]); c may be undefined when condition_dim == 0.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& c = torch::Tensor());

  VectorMLPOptions options;
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(VectorMLP);

}  // namespace physgen
