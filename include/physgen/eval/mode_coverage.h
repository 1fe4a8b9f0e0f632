#pragma once
// Mode-coverage diagnostics: make mode collapse visible.
//
// Mixtures (e.g. 8gaussians): a sample is "high quality" if it lies within n_sigma standard
// deviations (Euclidean distance <= n_sigma * sigma) of its nearest mode centre; a mode is
// "hit" if at least min_fraction of its fair share (n / K) of the samples are high-quality
// samples assigned to it. Reported: per-mode counts, modes hit, the high-quality fraction
// and the KL divergence of the high-quality mode histogram q from uniform,
// KL(q || 1/K) = sum_k q_k log(K q_k) (0 for perfectly balanced modes, log K for one mode).
//
// Lattices (Z2-symmetric ensembles such as Ising below T_c or broken-phase phi^4): the
// magnetisation histogram should have two peaks at +-|m| with equal weight; a collapsed
// generator populates one sign only. Reported: the histogram, its number of peaks (local
// maxima of the 3-bin moving average above 10% of the highest bin), the fraction of samples
// with m > 0 and its binomial error, Sarle's bimodality coefficient
//   b = (g^2 + 1) / (k + 3 (n-1)^2 / ((n-2)(n-3)))   (g skewness, k excess kurtosis;
//   b > 5/9 ~ 0.555 suggests bimodality),
// and `bimodal` = (peaks >= 2) and min(f+, f-) >= min_side_fraction.
//
// References: A. Srivastava et al., "VEEGAN", arXiv:1705.07761 (modes hit, high-quality
// samples on 2D mixtures); L. Metz et al., "Unrolled generative adversarial networks",
// arXiv:1611.02163 (mode counting on a ring of Gaussians); SAS Institute, "SAS/STAT User's
// Guide" (Sarle's bimodality coefficient).
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

struct ModeCoverage {
  std::vector<int64_t> counts;        ///< high-quality samples per mode (K)
  int64_t modes_hit = 0;
  int64_t n_samples = 0;
  double high_quality_fraction = 0;   ///< high-quality samples / n
  double kl_to_uniform = 0;           ///< KL(q || uniform) of the high-quality histogram (NaN if none)
  nlohmann::json to_json() const;
};

/// Mode coverage of samples (n, d) against mode centres (K, d) with a common isotropic
/// standard deviation sigma > 0. n_sigma > 0 [3]; min_fraction in (0, 1] [0.25].
ModeCoverage mode_coverage(const torch::Tensor& samples, const torch::Tensor& centers, double sigma,
                           double n_sigma = 3.0, double min_fraction = 0.25);

/// The 8gaussians mixture's centres (8, 2) float64: 2 (cos 2 pi j/8, sin 2 pi j/8) (data/toy2d.h).
torch::Tensor eight_gaussians_centers();
/// Its component standard deviation: 0.1.
constexpr double kEightGaussiansSigma = 0.1;

struct BimodalityReport {
  std::vector<int64_t> histogram;  ///< counts per bin
  std::vector<double> edges;       ///< bins + 1 edges, symmetric [-M, M], M = max |m|
  int64_t peaks = 0;
  double fraction_positive = 0;    ///< f+ = fraction with m > 0
  double fraction_positive_error = 0;  ///< sqrt(f+(1 - f+)/n)
  double bimodality_coefficient = 0;
  bool bimodal = false;
  nlohmann::json to_json() const;
};

/// Bimodality of magnetisations: `m` is (n) per-sample values or an ensemble (n, *site dims)
/// (then m = mean over sites). bins >= 4 [40]; min_side_fraction in [0, 0.5] [0.25]; n >= 4.
BimodalityReport magnetization_bimodality(const torch::Tensor& m, int64_t bins = 40,
                                          double min_side_fraction = 0.25);

}  // namespace physgen
