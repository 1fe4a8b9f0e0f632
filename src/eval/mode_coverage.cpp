#include "physgen/eval/mode_coverage.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

nlohmann::json ModeCoverage::to_json() const {
  return {{"counts", counts},
          {"modes_hit", modes_hit},
          {"modes", counts.size()},
          {"n_samples", n_samples},
          {"high_quality_fraction", high_quality_fraction},
          {"kl_to_uniform", std::isfinite(kl_to_uniform) ? nlohmann::json(kl_to_uniform) : nlohmann::json()}};
}

ModeCoverage mode_coverage(const torch::Tensor& samples, const torch::Tensor& centers, double sigma, double n_sigma,
                           double min_fraction) {
  check_arg(samples.dim() == 2 && samples.size(0) >= 1, "samples", detail::to_display(samples.sizes()),
            "a non-empty (n, d) tensor");
  check_arg(centers.dim() == 2 && centers.size(0) >= 1 && centers.size(1) == samples.size(1), "centers",
            detail::to_display(centers.sizes()), "(K, d) with d = " + std::to_string(samples.size(1)));
  check_arg(sigma > 0, "sigma", sigma, "a number > 0");
  check_arg(n_sigma > 0, "n_sigma", n_sigma, "a number > 0");
  check_arg(min_fraction > 0 && min_fraction <= 1, "min_fraction", min_fraction, "a number in (0, 1]");
  torch::NoGradGuard no_grad;
  auto x = samples.detach().to(torch::kCPU, torch::kFloat64);
  auto c = centers.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t n = x.size(0), K = c.size(0);
  auto dist = torch::cdist(x, c);  // (n, K)
  auto [dmin, nearest] = dist.min(1);
  auto good = dmin <= n_sigma * sigma;
  auto counts_t = torch::bincount(nearest.masked_select(good), {}, K);
  ModeCoverage r;
  r.n_samples = n;
  const double threshold = min_fraction * static_cast<double>(n) / static_cast<double>(K);
  int64_t total = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t ck = counts_t[k].item<int64_t>();
    r.counts.push_back(ck);
    total += ck;
    if (static_cast<double>(ck) >= threshold) ++r.modes_hit;
  }
  r.high_quality_fraction = static_cast<double>(total) / static_cast<double>(n);
  if (total == 0) {
    r.kl_to_uniform = std::numeric_limits<double>::quiet_NaN();
  } else {
    double kl = 0;
    for (int64_t ck : r.counts) {
      if (ck == 0) continue;
      const double q = static_cast<double>(ck) / static_cast<double>(total);
      kl += q * std::log(K * q);
    }
    r.kl_to_uniform = kl;
  }
  return r;
}

torch::Tensor eight_gaussians_centers() {
  auto j = torch::arange(8, torch::kFloat64) * (2.0 * 3.14159265358979323846 / 8.0);
  return 2.0 * torch::stack({torch::cos(j), torch::sin(j)}, 1);
}

nlohmann::json BimodalityReport::to_json() const {
  return {{"histogram", histogram},
          {"edges", edges},
          {"peaks", peaks},
          {"fraction_positive", fraction_positive},
          {"fraction_positive_error", fraction_positive_error},
          {"bimodality_coefficient", bimodality_coefficient},
          {"bimodal", bimodal}};
}

BimodalityReport magnetization_bimodality(const torch::Tensor& m, int64_t bins, double min_side_fraction) {
  check_arg(m.dim() >= 1 && m.size(0) >= 4, "m", detail::to_display(m.sizes()),
            "(n) magnetisations or an ensemble (n, ...) with n >= 4");
  check_arg(bins >= 4, "bins", bins, "an integer >= 4");
  check_arg(min_side_fraction >= 0 && min_side_fraction <= 0.5, "min_side_fraction", min_side_fraction,
            "a number in [0, 0.5]");
  torch::NoGradGuard no_grad;
  auto v = m.detach().to(torch::kCPU, torch::kFloat64);
  if (v.dim() > 1) v = v.flatten(1).mean(1);
  const int64_t n = v.size(0);
  BimodalityReport r;
  const double M = std::max(v.abs().max().item<double>(), 1e-12);
  auto idx = ((v + M) / (2 * M) * bins).floor().clamp(0, bins - 1).to(torch::kLong);
  auto hist = torch::bincount(idx, {}, bins);
  for (int64_t b = 0; b < bins; ++b) r.histogram.push_back(hist[b].item<int64_t>());
  for (int64_t b = 0; b <= bins; ++b) r.edges.push_back(-M + 2 * M * b / static_cast<double>(bins));
  // Peaks of the 3-bin moving average above 10% of its maximum.
  std::vector<double> smooth(bins);
  for (int64_t b = 0; b < bins; ++b) {
    double s = 0;
    int cnt = 0;
    for (int64_t d = -1; d <= 1; ++d)
      if (b + d >= 0 && b + d < bins) {
        s += static_cast<double>(r.histogram[b + d]);
        ++cnt;
      }
    smooth[b] = s / cnt;
  }
  const double top = *std::max_element(smooth.begin(), smooth.end());
  for (int64_t b = 0; b < bins; ++b) {
    const double left = b > 0 ? smooth[b - 1] : -1.0, right = b + 1 < bins ? smooth[b + 1] : -1.0;
    if (smooth[b] >= 0.1 * top && smooth[b] > left && smooth[b] >= right) ++r.peaks;
  }
  r.fraction_positive = (v > 0).to(torch::kFloat64).mean().item<double>();
  r.fraction_positive_error = std::sqrt(r.fraction_positive * (1 - r.fraction_positive) / n);
  const double mean = v.mean().item<double>();
  auto d = v - mean;
  const double m2 = d.pow(2).mean().item<double>(), m3 = d.pow(3).mean().item<double>(),
               m4 = d.pow(4).mean().item<double>();
  const double nn = static_cast<double>(n);
  if (m2 > 0) {
    const double g = m3 / std::pow(m2, 1.5), k = m4 / (m2 * m2) - 3.0;
    r.bimodality_coefficient = (g * g + 1) / (k + 3 * (nn - 1) * (nn - 1) / ((nn - 2) * (nn - 3)));
  }
  const double side = std::min(r.fraction_positive, 1 - r.fraction_positive);
  r.bimodal = r.peaks >= 2 && side >= min_side_fraction;
  return r;
}

}  // namespace physgen
