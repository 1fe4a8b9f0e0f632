#pragma once
// Rational-quadratic spline (RQS) coupling: the neural spline flow.
//
// Each transformed entry goes through a monotone rational-quadratic spline on [-B, B] with
// K bins (knots (x_k, y_k), derivatives d_k at the knots) and the identity outside it
// (linear tails). In bin k, with xi = (x - x_k) / w_k, s_k = h_k / w_k:
//   y = y_k + h_k [s_k xi^2 + d_k xi (1 - xi)] / [s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi)]
//   dy/dx = s_k^2 [d_{k+1} xi^2 + 2 s_k xi (1 - xi) + d_k (1 - xi)^2] / [denominator]^2
// The inverse solves the quadratic for xi with the cancellation-free root 2c / (-b - sqrt(b^2 - 4ac)).
// Widths and heights are softmaxes of the conditioner outputs (at least 1e-3 of 2B each);
// interior derivatives are 1e-3 + softplus(raw + c0), with c0 chosen so that raw = 0 gives
// d = 1, and the boundary derivatives are 1: the spline joins the identity tails with
// matching value and slope, so the map is C^1 and finite at and beyond +-B, and zero
// conditioner outputs give exactly the identity. Inputs are clamped into [-B, B] before the
// spline arithmetic, so nothing non-finite appears (also not in gradients) for any input.
//
// With a mask m (1 = conditioning) the spline parameters come from the conditioner on m * x
// (MLP for vectors, periodic conv net for lattices). With z2_equivariant the parameters are
// symmetrised, theta = (n(x_f) + R n(-x_f)) / 2 with R reversing the bin order of widths,
// heights and derivatives: the spline for -x_f is the point reflection of the one for x_f,
// hence f(-x) = -f(x).
//
// References: Durkan, Bekasov, Murray, Papamakarios, "Neural spline flows", NeurIPS 2019,
// arXiv:1906.04032; Gregory & Delbourgo, IMA J. Numer. Anal. 2 (1982) 123.
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "physgen/models/flows/bijector.h"
#include "physgen/models/flows/conditioner.h"

namespace physgen {

/// Elementwise RQS with linear tails. x (...) and params (..., 3K - 1) = [K width logits,
/// K height logits, K - 1 interior derivative pre-activations]. Returns (y, log|dy/dx|) or,
/// with inverse = true, (x = g^{-1}(input), log|dx/dy|), both shaped like x.
std::pair<torch::Tensor, torch::Tensor> rational_quadratic_spline(const torch::Tensor& x,
                                                                  const torch::Tensor& params,
                                                                  int64_t bins,
                                                                  double tail_bound,
                                                                  bool inverse);

/// Options of SplineCoupling. Required: the mask (its shape is the event shape).
struct SplineCouplingOptions {
  explicit SplineCouplingOptions(torch::Tensor mask) : mask_(std::move(mask)) {}
  TORCH_ARG(torch::Tensor, mask);
  /// Number of bins K >= 2. Default 8.
  TORCH_ARG(int64_t, bins) = 8;
  /// Half-width B of the spline interval [-B, B]. Default 3.
  TORCH_ARG(double, tail_bound) = 3.0;
  /// Conditioner architecture. Default ConditionerOptions() (MLP {64, 64}).
  TORCH_ARG(ConditionerOptions, conditioner) = ConditionerOptions();
  /// Width of the context input. Default 0.
  TORCH_ARG(int64_t, context_features) = 0;
  /// Symmetrise the spline parameters so that f(-x) = -f(x). Default false.
  TORCH_ARG(bool, z2_equivariant) = false;
};

/// RQS coupling; buffer "mask", child "conditioner".
class SplineCouplingImpl : public torch::nn::Cloneable<SplineCouplingImpl>, public Bijector {
 public:
  explicit SplineCouplingImpl(SplineCouplingOptions options);
  void reset() override;
  std::pair<torch::Tensor, torch::Tensor> forward_and_log_det(
      const torch::Tensor& x, const torch::Tensor& context = torch::Tensor()) override;
  std::pair<torch::Tensor, torch::Tensor> inverse_and_log_det(
      const torch::Tensor& y, const torch::Tensor& context = torch::Tensor()) override;
  std::vector<int64_t> event_shape() const override { return event_shape_; }
  int64_t context_features() const override { return options.context_features(); }
  bool z2_equivariant() const override { return options.z2_equivariant(); }

  SplineCouplingOptions options;

 private:
  std::pair<torch::Tensor, torch::Tensor> transform(const torch::Tensor& x,
                                                    const torch::Tensor& context, bool inverse);
  std::vector<int64_t> event_shape_;
  torch::Tensor mask_;
  Conditioner conditioner_{nullptr};
};
TORCH_MODULE(SplineCoupling);

}  // namespace physgen
