#include "physgen/models/flows/spline_coupling.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/flows/affine_coupling.h"

namespace physgen {

namespace {
constexpr double kMinBin = 1e-3;
constexpr double kMinDerivative = 1e-3;

// Knot positions (..., K + 1) from logits (..., K): -B, ..., +B exactly at the ends.
torch::Tensor knots(const torch::Tensor& logits, int64_t K, double B) {
  auto w = torch::softmax(logits, -1) * (1.0 - kMinBin * static_cast<double>(K)) + kMinBin;
  auto inner = torch::cumsum(w, -1).narrow(-1, 0, K - 1) * (2.0 * B) - B;
  auto shape = logits.sizes().vec();
  shape.back() = 1;
  return torch::cat({torch::full(shape, -B, logits.options()), inner,
                     torch::full(shape, B, logits.options())},
                    -1);
}

torch::Tensor gather_at(const torch::Tensor& t, const torch::Tensor& idx) {
  return t.gather(-1, idx).squeeze(-1);
}
}  // namespace

std::pair<torch::Tensor, torch::Tensor> rational_quadratic_spline(const torch::Tensor& x,
                                                                  const torch::Tensor& params,
                                                                  int64_t bins,
                                                                  double tail_bound,
                                                                  bool inverse) {
  const int64_t K = bins;
  const double B = tail_bound;
  auto inside = (x >= -B) & (x <= B);
  auto xc = x.clamp(-B, B);

  auto cw = knots(params.narrow(-1, 0, K), K, B);
  auto ch = knots(params.narrow(-1, K, K), K, B);
  static const double c0 = std::log(std::expm1(1.0 - kMinDerivative));
  auto d_inner = torch::softplus(params.narrow(-1, 2 * K, K - 1) + c0) + kMinDerivative;
  auto shape = d_inner.sizes().vec();
  shape.back() = 1;
  auto one = torch::ones(shape, params.options());
  auto d = torch::cat({one, d_inner, one}, -1);

  // Bin index: number of left knots <= input, minus one, within [0, K-1].
  const auto& grid = inverse ? ch : cw;
  auto idx = ((xc.unsqueeze(-1) >= grid.narrow(-1, 0, K)).sum(-1) - 1).clamp(0, K - 1).unsqueeze(-1);
  auto x_k = gather_at(cw, idx), y_k = gather_at(ch, idx);
  auto w_k = gather_at(cw, idx + 1) - x_k, h_k = gather_at(ch, idx + 1) - y_k;
  auto d_k = gather_at(d, idx), d_k1 = gather_at(d, idx + 1);
  auto s_k = h_k / w_k;
  auto curv = d_k + d_k1 - 2 * s_k;

  torch::Tensor xi, out;
  if (!inverse) {
    xi = ((xc - x_k) / w_k).clamp(0.0, 1.0);
  } else {
    auto dy = xc - y_k;
    auto a = h_k * (s_k - d_k) + dy * curv;
    auto b = h_k * d_k - dy * curv;
    auto c = -s_k * dy;
    auto disc = (b * b - 4 * a * c).clamp_min(0.0);
    xi = ((2 * c) / (-b - torch::sqrt(disc))).clamp(0.0, 1.0);
  }
  auto xi1 = xi * (1 - xi);
  auto den = s_k + curv * xi1;
  auto log_deriv = 2 * torch::log(s_k) +
                   torch::log(d_k1 * xi * xi + 2 * s_k * xi1 + d_k * (1 - xi) * (1 - xi)) -
                   2 * torch::log(den);
  if (!inverse) {
    out = y_k + h_k * (s_k * xi * xi + d_k * xi1) / den;
  } else {
    out = x_k + xi * w_k;
    log_deriv = -log_deriv;
  }
  return {torch::where(inside, out, x), torch::where(inside, log_deriv, torch::zeros_like(x))};
}

SplineCouplingImpl::SplineCouplingImpl(SplineCouplingOptions options_)
    : options(std::move(options_)) {
  const auto& m = options.mask();
  detail::check_coupling_mask(m);
  check_arg(options.bins() >= 2, "bins", options.bins(), "an integer >= 2");
  check_arg(options.tail_bound() > 0, "tail_bound", options.tail_bound(), "a number > 0");
  check_arg(options.context_features() >= 0, "context_features", options.context_features(),
            "an integer >= 0");
  event_shape_ = m.sizes().vec();
  reset();
}

void SplineCouplingImpl::reset() {
  mask_ = register_buffer("mask", options.mask().to(torch::kFloat32).clone());
  conditioner_ = register_module("conditioner",
                                 Conditioner(event_shape_, 3 * options.bins() - 1,
                                             options.context_features(), options.conditioner()));
}

std::pair<torch::Tensor, torch::Tensor> SplineCouplingImpl::transform(
    const torch::Tensor& x, const torch::Tensor& context, bool inverse) {
  const int64_t B = x.size(0), K = options.bins();
  auto outs = detail::conditioner_outputs(*conditioner_, x * mask_, context,
                                          options.z2_equivariant());
  auto params = outs.first;
  if (outs.second.defined()) {
    const auto& n = outs.second;
    auto reflected = torch::cat({n.narrow(2, 0, K).flip({2}), n.narrow(2, K, K).flip({2}),
                                 n.narrow(2, 2 * K, K - 1).flip({2})},
                                2);
    params = (params + reflected) * 0.5;
  }
  auto flat = x.reshape({B, -1});
  auto res = rational_quadratic_spline(flat, params, K, options.tail_bound(), inverse);
  auto m = mask_.reshape({-1});
  auto active = 1 - m;
  auto y = (flat * m + res.first * active).view(x.sizes());
  return {y, (res.second * active).sum(1)};
}

std::pair<torch::Tensor, torch::Tensor> SplineCouplingImpl::forward_and_log_det(
    const torch::Tensor& x, const torch::Tensor& context) {
  detail::check_event(x, event_shape_, "x");
  detail::check_context(context, x.size(0), options.context_features());
  return transform(x, context, false);
}

std::pair<torch::Tensor, torch::Tensor> SplineCouplingImpl::inverse_and_log_det(
    const torch::Tensor& y, const torch::Tensor& context) {
  detail::check_event(y, event_shape_, "y");
  detail::check_context(context, y.size(0), options.context_features());
  return transform(y, context, true);
}

}  // namespace physgen
