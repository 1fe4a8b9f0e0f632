#include "physgen/eval/distances.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

namespace {

/// W_p^p between the columns of sorted xs (n, K) and ys (m, K): (K).
torch::Tensor wasserstein_pp_sorted(const torch::Tensor& xs, const torch::Tensor& ys, double p) {
  const int64_t n = xs.size(0), m = ys.size(0);
  torch::Tensor diff, weight;
  if (n == m) {
    diff = xs - ys;
    weight = torch::full({n, 1}, 1.0 / static_cast<double>(n), xs.options());
  } else {
    // Breakpoints of both quantile functions; on each interval both are constant.
    auto ux = torch::arange(1, n + 1, xs.options()) / static_cast<double>(n);
    auto uy = torch::arange(1, m + 1, xs.options()) / static_cast<double>(m);
    auto u = std::get<0>(torch::sort(torch::cat({ux, uy})));
    auto lo = torch::cat({torch::zeros({1}, xs.options()), u.slice(0, 0, -1)});
    auto mid = 0.5 * (lo + u);
    auto ix = torch::clamp(torch::floor(mid * n), 0, n - 1).to(torch::kLong);
    auto iy = torch::clamp(torch::floor(mid * m), 0, m - 1).to(torch::kLong);
    diff = xs.index_select(0, ix) - ys.index_select(0, iy);
    weight = (u - lo).unsqueeze(1);
  }
  return (diff.abs().pow(p) * weight).sum(0);
}

}  // namespace

double wasserstein_1d(const torch::Tensor& x, const torch::Tensor& y, double p) {
  check_arg(x.defined() && x.dim() == 1 && x.size(0) >= 1, "x.shape",
            x.defined() ? c10::str(x.sizes()) : std::string("undefined"), "(n >= 1)");
  check_arg(y.defined() && y.dim() == 1 && y.size(0) >= 1, "y.shape",
            y.defined() ? c10::str(y.sizes()) : std::string("undefined"), "(m >= 1)");
  check_arg(p >= 1 && std::isfinite(p), "p", p, "a finite value >= 1");
  torch::NoGradGuard no_grad;
  auto xs = std::get<0>(torch::sort(x.detach().to(torch::kCPU, torch::kFloat64))).unsqueeze(1);
  auto ys = std::get<0>(torch::sort(y.detach().to(torch::kCPU, torch::kFloat64))).unsqueeze(1);
  return std::pow(wasserstein_pp_sorted(xs, ys, p).item<double>(), 1.0 / p);
}

double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, int64_t projections,
                          double p, uint64_t seed) {
  check_arg(x.defined() && x.dim() >= 1 && x.size(0) >= 1, "x.dim()", x.defined() ? x.dim() : -1,
            "a tensor (n >= 1, ...)");
  check_arg(y.defined() && y.dim() >= 1 && y.size(0) >= 1, "y.dim()", y.defined() ? y.dim() : -1,
            "a tensor (m >= 1, ...)");
  const int64_t d = x.numel() / x.size(0);
  check_arg(y.numel() / y.size(0) == d, "y event size", y.numel() / y.size(0),
            "x's event size " + std::to_string(d));
  check_arg(projections >= 1, "projections", projections, "an integer >= 1");
  check_arg(p >= 1 && std::isfinite(p), "p", p, "a finite value >= 1");
  torch::NoGradGuard no_grad;
  auto xf = x.detach().to(torch::kCPU, torch::kFloat64).reshape({x.size(0), d});
  auto yf = y.detach().to(torch::kCPU, torch::kFloat64).reshape({y.size(0), d});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto theta = torch::randn({d, projections}, gen, torch::kFloat64);
  theta = theta / theta.norm(2, 0, /*keepdim=*/true);
  auto xs = std::get<0>(torch::sort(xf.matmul(theta), 0));
  auto ys = std::get<0>(torch::sort(yf.matmul(theta), 0));
  const double mean_pp = wasserstein_pp_sorted(xs, ys, p).mean().item<double>();
  return std::pow(mean_pp, 1.0 / p);
}

}  // namespace physgen
