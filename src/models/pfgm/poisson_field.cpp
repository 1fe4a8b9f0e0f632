#include "physgen/models/pfgm/poisson_field.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

namespace {

void check_charges(const torch::Tensor& charges, const torch::Tensor& x) {
  check_arg(charges.defined() && charges.dim() == 2 && charges.size(0) >= 1, "charges.shape",
            charges.defined() ? c10::str(charges.sizes()) : std::string("undefined"),
            "(M >= 1, N)");
  check_arg(
      x.defined() && x.dim() >= 1 && x.numel() / std::max<int64_t>(x.size(0), 1) == charges.size(1),
      "x.shape", x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
      "(n, ...) with N = " + std::to_string(charges.size(1)) + " entries per point");
}

/// Squared distances (n, M) between the rows of a (n, N) and b (M, N), float64, >= 0.
torch::Tensor squared_distances(const torch::Tensor& a, const torch::Tensor& b) {
  auto d2 = a.square().sum(1, true) - 2.0 * a.matmul(b.t()) + b.square().sum(1).unsqueeze(0);
  return torch::clamp_min(d2, 0.0);
}

}  // namespace

torch::Tensor pfgmpp_posterior_mean(const torch::Tensor& charges, const torch::Tensor& x,
                                    double sigma, int64_t D) {
  check_charges(charges, x);
  check_arg(sigma > 0 && std::isfinite(sigma), "sigma", sigma, "a finite value > 0");
  check_arg(D >= 0, "D", D, "an integer >= 0 (0: the Gaussian limit D -> infinity)");
  const int64_t n = x.size(0), N = charges.size(1);
  auto y = charges.to(torch::kFloat64).to(x.device());
  auto xf = x.reshape({n, N}).to(torch::kFloat64);
  auto d2 = squared_distances(xf, y);
  torch::Tensor logw;
  if (D == 0) {
    logw = -d2 / (2.0 * sigma * sigma);
  } else {
    const double r2 = sigma * sigma * static_cast<double>(D);
    logw = -0.5 * static_cast<double>(N + D) * torch::log1p(d2 / r2);
  }
  auto w = torch::softmax(logw, 1);
  return w.matmul(y).to(x.scalar_type()).reshape(x.sizes());
}

torch::Tensor empirical_poisson_field(const torch::Tensor& charges, const torch::Tensor& x,
                                      const torch::Tensor& z) {
  check_charges(charges, x);
  const int64_t n = x.size(0), N = charges.size(1);
  check_arg(z.defined() && z.numel() == n, "z.numel()", z.defined() ? z.numel() : -1,
            "one height per point (" + std::to_string(n) + ")");
  auto y = charges.to(torch::kFloat64).to(x.device());
  auto xf = x.reshape({n, N}).to(torch::kFloat64);
  auto zz = z.reshape({n, 1}).to(torch::kFloat64);
  auto d2 = squared_distances(xf, y) + zz.square();
  auto w = torch::softmax(-0.5 * static_cast<double>(N + 1) * torch::log(d2), 1);
  return torch::cat({xf - w.matmul(y), zz}, 1).to(x.scalar_type());
}

torch::Tensor pfgmpp_kernel_radius(int64_t n, int64_t N, int64_t D, torch::TensorOptions options) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  check_arg(N >= 1, "N", N, "an integer >= 1");
  check_arg(D >= 0, "D", D, "an integer >= 0 (0: the Gaussian limit)");
  auto dopts = options.dtype(torch::kFloat64);
  auto g1 = torch::_standard_gamma(torch::full({n}, 0.5 * static_cast<double>(N), dopts));
  if (D == 0) return torch::sqrt(2.0 * g1).to(options);
  auto g2 = torch::_standard_gamma(torch::full({n}, 0.5 * static_cast<double>(D), dopts));
  return (std::sqrt(static_cast<double>(D)) * torch::sqrt(g1 / g2)).to(options);
}

torch::Tensor pfgmpp_perturb(const torch::Tensor& y, const torch::Tensor& sigma, int64_t D) {
  check_arg(y.defined() && y.dim() >= 1 && y.is_floating_point(), "y.dim()",
            y.defined() ? y.dim() : -1, "a floating-point tensor (n, ...)");
  const int64_t n = y.size(0);
  check_arg(sigma.defined() && sigma.numel() == n, "sigma.numel()",
            sigma.defined() ? sigma.numel() : -1, "one noise level per row");
  const int64_t N = y.numel() / std::max<int64_t>(n, 1);
  auto opts = y.options().requires_grad(false);
  auto u = torch::randn({n, N}, opts);
  u = u / u.norm(2, 1, true);
  auto radius = pfgmpp_kernel_radius(n, N, D, opts) * sigma.reshape({n}).to(opts);
  return y + (radius.unsqueeze(1) * u).reshape(y.sizes());
}

torch::Tensor pfgmpp_sample(const DenoiserFunction& denoiser, const torch::Tensor& x_max,
                            double sigma_max, double sigma_min, const OdeOptions& solver,
                            bool denoise_final, OdeStats* stats) {
  check_arg(static_cast<bool>(denoiser), "denoiser", "empty function", "a callable D(x, sigma)");
  check_arg(x_max.defined() && x_max.dim() >= 1 && x_max.is_floating_point(), "x_max.dim()",
            x_max.defined() ? x_max.dim() : -1, "a floating-point tensor (n, ...)");
  check_arg(sigma_min > 0 && sigma_max > sigma_min && std::isfinite(sigma_max), "sigma_max",
            sigma_max, "a finite value > sigma_min > 0");
  const double s0 = std::log(sigma_max), s1 = std::log(sigma_min);
  check_ode_options(solver, s0, s1);
  torch::NoGradGuard no_grad;
  OdeFunction f = [&denoiser](double s, const torch::Tensor& x) {
    return x - denoiser(x, std::exp(s));
  };
  OdeResult r = odeint(f, x_max, s0, s1, solver);
  if (stats) *stats = r;
  if (!r.ok()) return torch::full_like(x_max, std::numeric_limits<double>::quiet_NaN());
  return denoise_final ? denoiser(r.y(), sigma_min) : r.y();
}

torch::Tensor pfgm_sample(const PoissonFieldFunction& field, const torch::Tensor& x_max,
                          double z_max, double z_min, const OdeOptions& solver,
                          bool extrapolate_to_zero, OdeStats* stats) {
  check_arg(static_cast<bool>(field), "field", "empty function", "a callable E(x, z)");
  check_arg(x_max.defined() && x_max.dim() >= 1 && x_max.is_floating_point(), "x_max.dim()",
            x_max.defined() ? x_max.dim() : -1, "a floating-point tensor (n, ...)");
  check_arg(z_min > 0 && z_max > z_min && std::isfinite(z_max), "z_max", z_max,
            "a finite value > z_min > 0");
  const double s0 = std::log(z_max), s1 = std::log(z_min);
  check_ode_options(solver, s0, s1);
  torch::NoGradGuard no_grad;
  const int64_t n = x_max.size(0);
  const int64_t N = x_max.numel() / std::max<int64_t>(n, 1);
  OdeFunction f = [&field, n, N](double s, const torch::Tensor& x) {
    const double z = std::exp(s);
    auto E = field(x, z).reshape({n, N + 1});
    auto ex = E.slice(1, 0, N);
    auto ez = E.slice(1, N, N + 1);
    auto floor = 1e-6 * E.norm(2, 1, true) + 1e-30;
    auto sign = torch::where(ez >= 0, torch::ones_like(ez), -torch::ones_like(ez));
    ez = sign * torch::maximum(ez.abs(), floor);
    return (z * ex / ez).reshape(x.sizes());
  };
  OdeResult r = odeint(f, x_max, s0, s1, solver);
  if (stats) *stats = r;
  if (!r.ok()) return torch::full_like(x_max, std::numeric_limits<double>::quiet_NaN());
  // dx/d ln z = z dx/dz, so the straight step to z = 0 is x - z dx/dz = x - f(ln z_min, x).
  return extrapolate_to_zero ? r.y() - f(s1, r.y()) : r.y();
}

}  // namespace physgen
