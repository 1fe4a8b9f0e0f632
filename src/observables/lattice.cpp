#include "physgen/observables/lattice.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "lattice_util.h"

namespace physgen {

namespace {

// Kernels on validated float64 (N, L, L) tensors.
torch::Tensor g_full(const torch::Tensor& x) {
  const int64_t L = x.size(1);
  auto f = torch::fft::rfft2(x);
  return torch::fft::irfft2(f.abs().pow(2), c10::IntArrayRef{L, L}) / static_cast<double>(L * L);
}

torch::Tensor c_axis(const torch::Tensor& x, int64_t time_dim) {
  const int64_t L = x.size(1);
  auto phi_t = x.sum(time_dim == 1 ? 2 : 1);  // (N, L): Phi(t)
  auto f = torch::fft::rfft(phi_t, L, -1);
  return torch::fft::irfft(f.abs().pow(2), L, -1) / static_cast<double>(L);
}

}  // namespace

torch::Tensor magnetization(const torch::Tensor& x) {
  return detail::lattice_double(x, "x").mean({1, 2});
}

MagnetizationSeries magnetization_series(const torch::Tensor& x) {
  auto m = magnetization(x);
  auto m2 = m * m;
  return {m, m.abs(), m2, m2 * m2};
}

torch::Tensor ising_energy_density(const torch::Tensor& s, double J, double h) {
  check_arg(std::isfinite(J), "J", J, "a finite coupling");
  check_arg(std::isfinite(h), "h", h, "a finite field");
  auto x = detail::lattice_double(s, "s");
  const double v = static_cast<double>(x.size(1) * x.size(2));
  auto bonds = (x * (torch::roll(x, {-1}, {1}) + torch::roll(x, {-1}, {2}))).sum({1, 2});
  return (-J * bonds - h * x.sum({1, 2})) / v;
}

torch::Tensor two_point_function(const torch::Tensor& x) {
  return g_full(detail::lattice_double(x, "x"));
}

torch::Tensor two_point_axial(const torch::Tensor& x) {
  auto g = two_point_function(x);
  const int64_t half = g.size(1) / 2;
  auto along0 = g.select(2, 0).slice(1, 0, half + 1);
  auto along1 = g.select(1, 0).slice(1, 0, half + 1);
  auto out = 0.5 * (along0 + along1);
  // G(0) = <phi^2> directly: exact for spins (no FFT round-off).
  out.select(1, 0).copy_(detail::lattice_double(x, "x").pow(2).mean({1, 2}));
  return out;
}

torch::Tensor zero_momentum_correlator(const torch::Tensor& x, bool average_axes) {
  auto y = detail::lattice_double(x, "x");
  if (!average_axes) return c_axis(y, 1);
  return 0.5 * (c_axis(y, 1) + c_axis(y, 2));
}

torch::Tensor effective_mass(const torch::Tensor& c) {
  check_arg(c.defined() && c.dim() >= 1 && c.size(-1) >= 3, "c", detail::lattice_shape_string(c),
            "a correlator (..., T) with T >= 3");
  auto y = c.detach().to(torch::kFloat64);
  const int64_t t = y.size(-1);
  auto num = y.slice(-1, 0, t - 2) + y.slice(-1, 2, t);
  return torch::acosh(num / (2 * y.slice(-1, 1, t - 1)));
}

torch::Tensor power_spectrum(const torch::Tensor& x) {
  auto y = detail::lattice_double(x, "x");
  return torch::fft::fft2(y).abs().pow(2) / static_cast<double>(y.size(1) * y.size(2));
}

RadialSpectrum radial_power_spectrum(const torch::Tensor& x) {
  auto p = power_spectrum(x);
  const int64_t L = p.size(1);
  std::vector<int64_t> bin(L * L);
  int64_t n_bins = 0;
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t j = 0; j < L; ++j) {
      const double ni = (2 * i <= L) ? i : i - L;
      const double nj = (2 * j <= L) ? j : j - L;
      bin[i * L + j] = std::llround(std::sqrt(ni * ni + nj * nj));
      n_bins = std::max(n_bins, bin[i * L + j] + 1);
    }
  }
  RadialSpectrum out;
  out.modes.assign(n_bins, 0);
  for (auto b : bin) ++out.modes[b];
  for (int64_t b = 0; b < n_bins; ++b) out.k.push_back(2 * M_PI * b / L);
  auto index = torch::tensor(bin, torch::kLong).to(p.device());
  auto sums = torch::zeros({p.size(0), n_bins}, p.options());
  sums.index_add_(1, index, p.reshape({p.size(0), L * L}));
  auto counts = torch::tensor(out.modes, torch::kFloat64).to(p.device());
  out.power = sums / counts.clamp_min(1.0);
  return out;
}

}  // namespace physgen
