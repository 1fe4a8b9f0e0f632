#pragma once
// RealNVP affine coupling layer.
//
// With a binary mask m (1 = conditioning entries) and x_f = m * x:
//   y = x * exp(s) + t,   s = (1 - m) * clamp(s_raw(x_f; c)),   t = (1 - m) * t_raw(x_f; c)
//   log|det dy/dx| = sum(s),   inverse: x = (y - t) * exp(-s)   (m * y = m * x, so s, t are known)
// The conditioner (MLP for vectors, periodic conv net for lattices) outputs (s_raw, t_raw)
// per entry; it starts at zero (identity layer) unless zero_init_last is off.
//
// Scale stabilisation (soft clamp): clamp(s) = c * tanh(s / c) with c = scale_clamp, so
// |s| < c and exp(s) stays within [e^-c, e^c] per layer (c = 1 is the plain tanh of the
// lattice tutorial); c <= 0 disables it (s = s_raw). t is not clamped.
//
// Z2 equivariance (z2_equivariant = true): the conditioner is evaluated on x_f and -x_f and
//   s_raw = (n_s(x_f) + n_s(-x_f)) / 2   (even),   t_raw = (n_t(x_f) - n_t(-x_f)) / 2   (odd),
// so f(-x) = -f(x) and log|det| is even for every parameter value; a symmetric base then
// gives log q(-x) = log q(x) exactly. The context, if any, is not flipped. Alternatively
// (z2_method = kOddNetwork) the conditioner itself has an even s-head and an odd t-head on
// an odd tanh trunk (conditioner.h): the same guarantee in one pass, at some cost in
// expressiveness (bias-free tanh trunk).
//
// Shapes: x (B, *event_shape), event_shape = mask.sizes(); context (B, C).
// References: Dinh, Sohl-Dickstein, Bengio, "Density estimation using Real NVP", ICLR 2017,
// arXiv:1605.08803; Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072.
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "physgen/models/flows/bijector.h"
#include "physgen/models/flows/conditioner.h"

namespace physgen {

/// Options of AffineCoupling. Required: the mask (its shape is the event shape).
struct AffineCouplingOptions {
  explicit AffineCouplingOptions(torch::Tensor mask) : mask_(std::move(mask)) {}
  /// 1 = conditioning entry, 0 = transformed entry; shape = event shape.
  TORCH_ARG(torch::Tensor, mask);
  /// Conditioner network architecture. Default: ConditionerOptions() (MLP {64, 64}).
  TORCH_ARG(ConditionerOptions, conditioner) = ConditionerOptions();
  /// Width of the context input (0: unconditional). Default 0.
  TORCH_ARG(int64_t, context_features) = 0;
  /// Soft clamp c of the log-scale, s = c tanh(s_raw / c); <= 0 disables. Default 3.
  TORCH_ARG(double, scale_clamp) = 3.0;
  /// Build f(-x) = -f(x) in. Default false.
  TORCH_ARG(bool, z2_equivariant) = false;
  /// How (with z2_equivariant): kSymmetrize (two conditioner passes, any network and context)
  /// or kOddNetwork (parity heads on an odd tanh trunk, one pass; see conditioner.h).
  /// Default kSymmetrize.
  TORCH_ARG(Z2Method, z2_method) = Z2Method::kSymmetrize;
};

/// Affine coupling; buffer "mask", child "conditioner".
class AffineCouplingImpl : public torch::nn::Cloneable<AffineCouplingImpl>, public Bijector {
 public:
  explicit AffineCouplingImpl(AffineCouplingOptions options);
  void reset() override;
  std::pair<torch::Tensor, torch::Tensor> forward_and_log_det(
      const torch::Tensor& x, const torch::Tensor& context = torch::Tensor()) override;
  std::pair<torch::Tensor, torch::Tensor> inverse_and_log_det(
      const torch::Tensor& y, const torch::Tensor& context = torch::Tensor()) override;
  std::vector<int64_t> event_shape() const override { return event_shape_; }
  int64_t context_features() const override { return options.context_features(); }
  bool z2_equivariant() const override { return options.z2_equivariant(); }

  AffineCouplingOptions options;

 private:
  /// (s, t), each (B, *event), zero on the conditioning entries.
  std::pair<torch::Tensor, torch::Tensor> scale_and_shift(const torch::Tensor& x,
                                                          const torch::Tensor& context);
  /// 1 - mask, cached (recomputed when the mask's dtype or device changes).
  const torch::Tensor& active_mask();
  std::vector<int64_t> event_shape_;
  torch::Tensor mask_, active_;
  std::tuple<void*, uint32_t, c10::ScalarType> active_key_{nullptr, 0, c10::ScalarType::Undefined};
  Conditioner conditioner_{nullptr};
};
TORCH_MODULE(AffineCoupling);

namespace detail {
/// Runs `net` on (x_f, c) or, when `symmetrise`, on the stacked batch (x_f; -x_f) with the
/// context repeated: returns (out(x_f), out(-x_f)) or (out(x_f), undefined). Outputs (B, D, P).
std::pair<torch::Tensor, torch::Tensor> conditioner_outputs(ConditionerImpl& net,
                                                            const torch::Tensor& x_f,
                                                            const torch::Tensor& context,
                                                            bool symmetrise);
/// c * tanh(s / c) for c > 0, s otherwise.
torch::Tensor soft_clamp(const torch::Tensor& s, double c);
}  // namespace detail

}  // namespace physgen
