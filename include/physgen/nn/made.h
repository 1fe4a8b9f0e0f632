#pragma once
// MADE: masked autoencoder for distribution estimation, the autoregressive
// conditioner of masked autoregressive flows.
//
// Input i gets degree m(i) = its position in the ordering (1..D); hidden unit h of any
// layer gets a degree in [1, D-1] (in [0, D-1] when there is context: degree-0 units see
// the context only). Weights are multiplied by masks
//   input -> hidden:  M[h, i] = [m(h) >= m(i)],   hidden -> hidden:  M[h', h] = [m(h') >= m(h)],
//   hidden -> output: M[o, h] = [m(o) > m(h)]  with m(o) = m(i) for every output of feature i,
// so output (j, i) depends only on the inputs before i in the ordering (and on the context,
// which feeds every first-layer unit unmasked). Degrees are deterministic (h mod range), so
// the same options always give the same masks.
//
// Shapes: x (B, D), context (B, C) or undefined -> (B, outputs_per_feature, D).
// References: Germain, Gregor, Murray, Larochelle, "MADE", ICML 2015, arXiv:1502.03509.
#include <cstdint>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "physgen/nn/activation.h"

namespace physgen {

/// Options of MADE. Required: features D, hidden widths (>= 1 layer), outputs per feature.
struct MADEOptions {
  MADEOptions(int64_t features, std::vector<int64_t> hidden, int64_t outputs_per_feature = 2)
      : features_(features), hidden_(std::move(hidden)), outputs_per_feature_(outputs_per_feature) {}
  TORCH_ARG(int64_t, features);
  TORCH_ARG(std::vector<int64_t>, hidden);
  TORCH_ARG(int64_t, outputs_per_feature);
  /// Width C of the conditioning input (0: none). Default 0.
  TORCH_ARG(int64_t, context_features) = 0;
  /// Activation between layers. Default ReLU.
  TORCH_ARG(Activation, activation) = Activation::kReLU;
  /// Ordering D, D-1, ..., 1 instead of 1..D (flows alternate it between layers). Default false.
  TORCH_ARG(bool, reverse_order) = false;
  /// Zero the output layer's weight and bias at reset() (outputs 0). Default false.
  TORCH_ARG(bool, zero_init_last) = false;
};

/// Masked autoregressive network. Parameters "hidden<l>.weight/.bias", "context.weight"
/// (when C > 0), "output.weight/.bias"; masks are buffers "mask<l>", "output_mask".
class MADEImpl : public torch::nn::Cloneable<MADEImpl> {
 public:
  explicit MADEImpl(MADEOptions options);
  void reset() override;
  /// (B, D) [, (B, C)] -> (B, outputs_per_feature, D); output [:, j, i] depends on x_{<i}
  /// in the ordering only.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context = torch::Tensor());
  /// The context's contribution to the first hidden layer, context @ W_c^T (B, hidden[0]);
  /// undefined when there is no context. For sampling, where D calls share one context.
  torch::Tensor context_term(const torch::Tensor& context);
  /// Outputs (B, outputs_per_feature) of feature i alone, equal to forward(x, context)[:, :, i],
  /// from context_term(context) (undefined: no context): the hidden layers and only feature i's
  /// rows of the output layer.
  torch::Tensor forward_feature(const torch::Tensor& x, const torch::Tensor& context_term, int64_t i);
  /// Degree of input feature i (1..D) in the ordering.
  int64_t input_degree(int64_t i) const;

  MADEOptions options;

 private:
  /// The last hidden layer's activations given the first layer's context term (or undefined).
  torch::Tensor hidden_output(const torch::Tensor& x, const torch::Tensor& ctx_term);
  std::vector<torch::nn::Linear> hidden_;
  std::vector<torch::Tensor> masks_;
  torch::nn::Linear context_{nullptr};
  torch::nn::Linear output_{nullptr};
  torch::Tensor output_mask_;
};
TORCH_MODULE(MADE);

}  // namespace physgen
