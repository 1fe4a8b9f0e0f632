#pragma once
// Time-conditioned MLP vector field v(t, x): R x R^d -> R^d.
//
//   tau = t (time_conditioning "concat", 1 feature) or TimeEmbedding(t) ("sinusoidal"),
//   h_0 = x,  h_{i+1} = act(W_i [h_i, tau] + b_i),  v = W_L [h_L, tau] + b_L,
//
// i.e. the time features are concatenated to the input of every layer (the
// "ConcatLinear" layers of FFJORD), so the field can depend on t at every depth.
// With condition_dim = k > 0, a condition vector c (n, k) (e.g. a one-hot class label or a
// physical parameter) is concatenated with tau in the same way: [h_i, tau, c].
// Use a smooth activation for continuous flows (the trace of dv/dx is differentiated
// in training): tanh (default), softplus, silu or elu.
//
// Shapes: x (n, dim); t a scalar (double or 0-d/1-element tensor, shared by the batch),
// (n) or (n, 1) (one time per sample). Output (n, dim).
// Submodules: "embedding" (always registered; unused with "concat"), "layers" (ModuleList
// of Linear).
//
// References: Grathwohl et al., "FFJORD", arXiv:1810.01367; Chen et al., "Neural
// Ordinary Differential Equations", arXiv:1806.07366.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/nn/time_embedding.h"

namespace physgen {

struct TimeMLPOptions {
  /* implicit */ TimeMLPOptions(int64_t dim) : dim_(dim) {}
  /// Data dimension d (input and output features, >= 1).
  TORCH_ARG(int64_t, dim);
  /// Hidden layer widths (each >= 1; may be empty: an affine field in [x, tau]).
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  /// "tanh" | "softplus" | "silu" | "elu".
  TORCH_ARG(std::string, activation) = "tanh";
  /// "concat" (raw t) | "sinusoidal" (TimeEmbedding of time_embedding_dim features).
  TORCH_ARG(std::string, time_conditioning) = "concat";
  /// Features of the sinusoidal embedding (even, >= 2).
  TORCH_ARG(int64_t, time_embedding_dim) = 16;
  /// Frequencies of the sinusoidal embedding (see TimeEmbeddingOptions).
  TORCH_ARG(double, min_frequency) = 1.0;
  TORCH_ARG(double, max_frequency) = 32.0;
  /// Zero the last layer: v = 0 at initialisation (the flow starts as the identity).
  TORCH_ARG(bool, zero_init_output) = false;
  /// Features k of an optional condition c (n, k) concatenated at every layer (>= 0; 0 = none).
  TORCH_ARG(int64_t, condition_dim) = 0;
};

/// Names accepted by TimeMLPOptions::activation.
std::vector<std::string> time_mlp_activations();

class TimeMLPImpl : public torch::nn::Cloneable<TimeMLPImpl> {
 public:
  explicit TimeMLPImpl(const TimeMLPOptions& options);
  void reset() override;
  /// v(t, x) with one time per sample or one shared time (see the header comment).
  torch::Tensor forward(const torch::Tensor& t, const torch::Tensor& x);
  /// v(t, x) at one time t for the whole batch (the form odeint's f(t, y) takes).
  torch::Tensor forward(double t, const torch::Tensor& x);
  /// v(t, x, c) with a condition c (n, condition_dim) (or (1, condition_dim), broadcast);
  /// c undefined is only allowed when condition_dim = 0.
  torch::Tensor forward(const torch::Tensor& t, const torch::Tensor& x, const torch::Tensor& c);

  TimeMLPOptions options;
  TimeEmbedding embedding{nullptr};
  torch::nn::ModuleList layers{nullptr};

 private:
  torch::Tensor time_features(const torch::Tensor& t, const torch::Tensor& x);
};
TORCH_MODULE(TimeMLP);

}  // namespace physgen
