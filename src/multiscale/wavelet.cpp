#include "physgen/multiscale/wavelet.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

namespace {

std::string shape_of(const torch::Tensor& x) { return detail::to_display(x.sizes()); }

/// High pass g_k = (-1)^k h_{K-1-k}.
std::vector<double> high_pass(const std::vector<double>& h) {
  const size_t K = h.size();
  std::vector<double> g(K);
  for (size_t k = 0; k < K; ++k) g[k] = (k % 2 == 0 ? 1.0 : -1.0) * h[K - 1 - k];
  return g;
}

/// Analysis along `dim`: (low, high), each half the size along dim.
std::pair<torch::Tensor, torch::Tensor> analyse(const torch::Tensor& x, int64_t dim, const std::vector<double>& h) {
  const auto g = high_pass(h);
  const int64_t n = x.size(dim);
  torch::Tensor lo, hi;
  for (size_t k = 0; k < h.size(); ++k) {
    // roll by -k: entry 2i holds x_{(2i + k) mod n}; then the even entries.
    const auto s = torch::roll(x, {-static_cast<int64_t>(k)}, {dim}).slice(dim, 0, n, 2);
    lo = k == 0 ? h[k] * s : lo + h[k] * s;
    hi = k == 0 ? g[k] * s : hi + g[k] * s;
  }
  return {lo, hi};
}

/// Synthesis along `dim` (the transpose of analyse): x_m = sum_{i,k: 2i+k = m mod n} h_k a_i + g_k d_i.
torch::Tensor synthesise(const torch::Tensor& lo, const torch::Tensor& hi, int64_t dim, const std::vector<double>& h) {
  const auto g = high_pass(h);
  torch::Tensor x;
  for (size_t k = 0; k < h.size(); ++k) {
    const auto v = h[k] * lo + g[k] * hi;
    // v at the even entries, zeros at the odd ones, then rolled by +k.
    const auto up = torch::stack({v, torch::zeros_like(v)}, dim + 1).flatten(dim, dim + 1);
    const auto term = torch::roll(up, {static_cast<int64_t>(k)}, {dim});
    x = k == 0 ? term : x + term;
  }
  return x;
}

void check_field(const torch::Tensor& x, const char* what) {
  check_arg(x.dim() == 3 && x.size(1) % 2 == 0 && x.size(2) % 2 == 0 && x.size(1) >= 2 && x.size(2) >= 2, what,
            shape_of(x), "fields (N, H, W) with H and W even");
  check_arg(x.is_floating_point(), what, "integer tensor", "floating-point fields");
}

torch::Tensor packed(const torch::Tensor& x, const std::vector<double>& h, int64_t J, const std::string& name) {
  if (J == 0) return x;
  const WaveletLevel lv = wavelet_decompose(x, name);
  const auto inner = packed(lv.coarse, h, J - 1, name);
  const auto top = torch::cat({inner, lv.details.select(1, 0)}, 2);
  const auto bottom = torch::cat({lv.details.select(1, 1), lv.details.select(1, 2)}, 2);
  return torch::cat({top, bottom}, 1);
}

torch::Tensor unpacked(const torch::Tensor& w, int64_t J, const std::string& name) {
  if (J == 0) return w;
  const int64_t h = w.size(1) / 2, v = w.size(2) / 2;
  const auto coarse = unpacked(w.narrow(1, 0, h).narrow(2, 0, v), J - 1, name);
  const auto details = torch::stack({w.narrow(1, 0, h).narrow(2, v, v), w.narrow(1, h, h).narrow(2, 0, v),
                                     w.narrow(1, h, h).narrow(2, v, v)},
                                    1);
  return wavelet_reconstruct(coarse, details, name);
}

void check_levels(const torch::Tensor& x, int64_t J, const char* what) {
  check_arg(x.dim() == 3, what, shape_of(x), "fields (N, H, W)");
  const int64_t f = J >= 0 && J < 30 ? (int64_t{1} << J) : 0;
  check_arg(J >= 0 && f > 0 && x.size(1) % f == 0 && x.size(2) % f == 0 && x.size(1) >= f && x.size(2) >= f, "J", J,
            "an integer >= 0 with H and W divisible by 2^J (fields " + shape_of(x) + ")");
}

}  // namespace

std::vector<std::string> wavelet_names() { return {"haar", "db4"}; }

std::vector<double> wavelet_low_pass(const std::string& wavelet) {
  if (wavelet == "haar") return {1.0 / std::sqrt(2.0), 1.0 / std::sqrt(2.0)};
  if (wavelet == "db4") {
    const double r3 = std::sqrt(3.0), c = 1.0 / (4.0 * std::sqrt(2.0));
    return {(1 + r3) * c, (3 + r3) * c, (3 - r3) * c, (1 - r3) * c};
  }
  check_arg(false, "wavelet", wavelet, "one of haar, db4");
  return {};
}

WaveletLevel wavelet_decompose(const torch::Tensor& x, const std::string& wavelet) {
  const auto h = wavelet_low_pass(wavelet);
  check_field(x, "x.sizes()");
  const auto [lo_c, hi_c] = analyse(x, 2, h);  // along the columns
  const auto [ll, hl] = analyse(lo_c, 1, h);   // rows of the column low pass: coarse, high-low
  const auto [lh, hh] = analyse(hi_c, 1, h);   // rows of the column high pass: low-high, high-high
  return {ll, torch::stack({lh, hl, hh}, 1)};
}

torch::Tensor wavelet_reconstruct(const torch::Tensor& coarse, const torch::Tensor& details, const std::string& wavelet) {
  const auto h = wavelet_low_pass(wavelet);
  check_arg(coarse.dim() == 3, "coarse.sizes()", shape_of(coarse), "coarse fields (N, H/2, W/2)");
  check_arg(details.dim() == 4 && details.size(0) == coarse.size(0) && details.size(1) == 3 &&
                details.size(2) == coarse.size(1) && details.size(3) == coarse.size(2),
            "details.sizes()", shape_of(details), "(N, 3, H/2, W/2) matching coarse " + shape_of(coarse));
  const auto lo_c = synthesise(coarse, details.select(1, 1), 1, h);
  const auto hi_c = synthesise(details.select(1, 0), details.select(1, 2), 1, h);
  return synthesise(lo_c, hi_c, 2, h);
}

torch::Tensor wavelet_transform(const torch::Tensor& x, const std::string& wavelet, int64_t J) {
  const auto h = wavelet_low_pass(wavelet);
  check_levels(x, J, "x.sizes()");
  return packed(x, h, J, wavelet);
}

torch::Tensor inverse_wavelet_transform(const torch::Tensor& w, const std::string& wavelet, int64_t J) {
  wavelet_low_pass(wavelet);
  check_levels(w, J, "w.sizes()");
  return unpacked(w, J, wavelet);
}

}  // namespace physgen
