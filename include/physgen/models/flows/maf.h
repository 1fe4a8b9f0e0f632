#pragma once
// Masked autoregressive flow layer (MADE conditioner) and its inverse-autoregressive twin.
//
// MAF (default): data-side entries are produced autoregressively from the latent side,
//   forward (sampling direction):  y_i = u_i exp(s_i(y_{<i})) + t_i(y_{<i})     D sequential MADE passes
//   inverse (density direction):   u_i = (y_i - t_i(y_{<i})) exp(-s_i(y_{<i}))  one MADE pass
//   log|det dy/du| = sum_i s_i
// so log_prob of a flow of MAF layers is fast and sampling is D times slower.
// IAF (inverse_autoregressive = true) swaps the roles: s, t depend on u_{<i}; sampling is
// one pass and density evaluation sequential (suited to reverse-KL training).
// "<i" is in the layer's ordering (reverse_order flips it; flows alternate it).
// s uses the soft clamp c tanh(s_raw / c) of affine_coupling.h. With z2_equivariant the MADE
// outputs are symmetrised (s even, t odd in the input), so f(-u) = -f(u).
//
// Shapes: (B, features), context (B, C).
// References: Papamakarios, Pavlakou, Murray, "Masked autoregressive flow for density
// estimation", NeurIPS 2017, arXiv:1705.07057; Kingma et al., "Improved variational inference
// with inverse autoregressive flow", NeurIPS 2016, arXiv:1606.04934.
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "physgen/models/flows/bijector.h"
#include "physgen/nn/made.h"

namespace physgen {

/// Options of MaskedAutoregressive. Required: the number of features D.
struct MaskedAutoregressiveOptions {
  explicit MaskedAutoregressiveOptions(int64_t features) : features_(features) {}
  TORCH_ARG(int64_t, features);
  /// MADE hidden widths. Default {64, 64}.
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  /// MADE activation. Default ReLU.
  TORCH_ARG(Activation, activation) = Activation::kReLU;
  /// Width of the context input. Default 0.
  TORCH_ARG(int64_t, context_features) = 0;
  /// Autoregressive ordering D..1 instead of 1..D. Default false.
  TORCH_ARG(bool, reverse_order) = false;
  /// Soft clamp of s (see affine_coupling.h); <= 0 disables. Default 3.
  TORCH_ARG(double, scale_clamp) = 3.0;
  /// IAF instead of MAF (fast sampling, sequential density). Default false.
  TORCH_ARG(bool, inverse_autoregressive) = false;
  /// Zero MADE's output layer so the layer starts at the identity. Default true.
  TORCH_ARG(bool, zero_init_last) = true;
  /// Symmetrise s (even) and t (odd) so that f(-u) = -f(u). Default false.
  TORCH_ARG(bool, z2_equivariant) = false;
};

/// MAF / IAF layer; child "made".
class MaskedAutoregressiveImpl : public torch::nn::Cloneable<MaskedAutoregressiveImpl>,
                                 public Bijector {
 public:
  explicit MaskedAutoregressiveImpl(MaskedAutoregressiveOptions options);
  void reset() override;
  std::pair<torch::Tensor, torch::Tensor> forward_and_log_det(
      const torch::Tensor& x, const torch::Tensor& context = torch::Tensor()) override;
  std::pair<torch::Tensor, torch::Tensor> inverse_and_log_det(
      const torch::Tensor& y, const torch::Tensor& context = torch::Tensor()) override;
  std::vector<int64_t> event_shape() const override { return {options.features()}; }
  int64_t context_features() const override { return options.context_features(); }
  bool z2_equivariant() const override { return options.z2_equivariant(); }

  MaskedAutoregressiveOptions options;

 private:
  /// (s, t) from the autoregressive input a, each (B, D).
  std::pair<torch::Tensor, torch::Tensor> scale_and_shift(const torch::Tensor& a,
                                                          const torch::Tensor& context);
  /// One-pass direction: out = in * exp(sign * s(a)) ... see .cpp.
  std::pair<torch::Tensor, torch::Tensor> parallel(const torch::Tensor& in,
                                                   const torch::Tensor& context, bool affine);
  std::pair<torch::Tensor, torch::Tensor> sequential(const torch::Tensor& in,
                                                     const torch::Tensor& context, bool affine);
  MADE made_{nullptr};
};
TORCH_MODULE(MaskedAutoregressive);

}  // namespace physgen
