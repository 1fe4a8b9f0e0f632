#pragma once
// Wavelet and scattering statistics of 2-D periodic fields: what a field's non-Gaussian
// multiscale structure looks like, beyond |m| and chi, and a test of whether two ensembles
// (data and a model's samples, or two Markov chains) have the same statistics.
//
// Filter bank (periodic, defined on the DFT grid of an H x W torus; no padding). Morlet
// wavelets at scales 2^j, j = 0..J-1, and orientations theta_l = l pi / Lo, l = 0..Lo-1
// (kymatio's parameters: sigma_j = 0.8 2^j, xi_j = (3 pi / 4) 2^-j, slant s = min(1, 4 / Lo)),
// theta measured from lattice axis 0 (e_theta = (cos theta, sin theta) in (axis 0, axis 1)):
//   g_j(w)       = exp(-sigma_j^2 (w_par^2 + w_perp^2 / s^2) / 2),   w_par = w . e_theta,
//   psi_j,l(w)   = g_j(w - xi_j e_theta) - beta g_j(w),   beta = g_j(-xi_j e_theta) (zero mean),
//   phi(w)       = exp(-sigma_J^2 |w|^2 / 2)              (the low pass),
// each aliased onto the grid, hat f(w) = sum_{n in {-2..2}^2} f(w + 2 pi n) (the DFT of the
// sampled continuous filter), then divided by sqrt(LP(w)) with the Littlewood-Paley sum
//   LP(w) = |phi(w)|^2 + sum_{j,l} (|psi_j,l(w)|^2 + |psi_j,l(-w)|^2) / 2,
// so that the bank is a tight frame: for every real field x,
//   ||x * phi||^2 + sum_{j,l} ||x * psi_j,l||^2 = ||x||^2          (tested to 1e-12).
// Before normalisation LP lies in [0.13, 1] for Lo = 4 and [0.12, 1] for Lo = 8 (MorletBank::
// lp_min / lp_max): 1 at w = 0, about 0.3 at the lowest nonzero frequency (between the low pass
// and the coarsest wavelet) and least at the corner (pi, pi), which the Morlets centred at
// xi_0 = 3 pi / 4 reach least; the normalisation amplifies no frequency by more than ~2.9.
//
// Statistics (W_j,l = x * psi_j,l complex, M_j,l = |W_j,l|, <.> the mean over the torus and
// the ensemble; averages over orientations l unless an index dl = (l1 - l2) mod Lo is kept):
//   power[j]         <|W_j,l|^2>                       the wavelet power spectrum
//   S1[j]            <M_j,l>                           first-order scattering
//   sparsity[j]      S1[j] / sqrt(power[j])            sqrt(pi)/2 ~ 0.886 for a Gaussian field
//   S2[j1,j2]        <|M_j1,l1 * psi_j2,l2|> / S1[j1]  second-order scattering (j1 < j2), normalised
//   S3[j1,j2,dl]     Re <conj(W_j2,l2) (M_j1,l1 * psi_j2,l2)> / sqrt(power[j1] power[j2])   (j1 <= j2)
//   S4[j1,j2,j3]     Re <conj(Mbar_j1 * psibar_j3) (Mbar_j2 * psibar_j3)> / sqrt(power[j1] power[j2])
//                    (j1 <= j2 <= j3; orientation-averaged envelopes Mbar and |psibar|^2)
// S3 and S4 are the scattering spectra's scale-interaction covariances (Cheng, Morel, Allys,
// Menard, Mallat 2023): the wavelet coefficients and the filtered envelopes have zero mean
// (psi(0) = 0), so these products are covariances. S3 is odd under x -> -x: it vanishes for
// Z2-symmetric ensembles (Ising, phi^4), where it tests the symmetry of generated samples.
// S3 and S4 are evaluated in Fourier space by Parseval; S2 as the mean of |M_j1 * psi_j2| over
// the sites of the subgrid of spacing f = 2^max(j2-1, 0) (periodising the spectrum over f x f
// aliases gives the field's exact values there). For a translation-invariant ensemble the
// subgrid mean has the same expectation as the full mean (only a little more variance: the
// envelope is smooth on the scale 2^j2, and psi_j2's band lies within the subgrid's Nyquist
// frequency to 3 sigma), at 1/f^2 of the cost. Per field, S2 is invariant under shifts by
// multiples of 2^(J-2) only; everything else under every shift.
//
// Errors: delete-one-block jackknife over `blocks` consecutive blocks of the ensemble (the
// ratios are formed from leave-one-block-out means), so autocorrelations shorter than a block
// are absorbed.
//
// References: J. Bruna, S. Mallat, "Invariant scattering convolution networks", IEEE TPAMI 35
// (2013) 1872; S. Cheng, R. Morel, E. Allys, B. Menard, S. Mallat, "Scattering spectra models
// for physics", PNAS Nexus 3 (2024) pgae103, arXiv:2306.17210; M. Andreux et al., "Kymatio",
// JMLR 21 (2020) 60 (the Morlet parameters).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

/// Options of the scattering statistics. Defaults in brackets.
struct ScatteringOptions {
  /// Scales J >= 1 with 2^J <= min(H, W) / 2; 0: max(1, min(log2(min(H, W)) - 2, ...)) [0].
  int64_t J = 0;
  /// Orientations Lo >= 1 over [0, pi) [4].
  int64_t orientations = 4;
  /// Jackknife blocks (>= 2; at most the number of fields) [50].
  int64_t blocks = 50;
  /// Compute second-order scattering S2 (the costliest group) [true].
  bool second_order = true;
  /// Fields per batch; 0: as many as keep one batch's wavelet coefficients near 64 MB [0].
  int64_t batch = 0;
};

/// The default J of an H x W torus: log2(min(H, W)) - 2, at least 1 (8 -> 1, 16 -> 2, 64 -> 4).
int64_t default_scattering_J(int64_t H, int64_t W);

/// The tight-frame Morlet bank of an H x W torus (float64, Fourier domain, real).
struct MorletBank {
  int64_t J = 0, orientations = 0, H = 0, W = 0;
  torch::Tensor psi;  ///< (J, Lo, H, W) normalised wavelets on the DFT grid (torch.fft order)
  torch::Tensor phi;  ///< (H, W) normalised low pass
  double lp_min = 0, lp_max = 0;  ///< bounds of the Littlewood-Paley sum before normalisation
};

/// Builds the bank. InvalidArgument naming J / orientations when out of range.
MorletBank morlet_bank(int64_t H, int64_t W, int64_t J, int64_t orientations);

/// LP(w) of a bank, (H, W): identically 1 for morlet_bank's normalised filters.
torch::Tensor littlewood_paley(const MorletBank& bank);

/// Statistics of one ensemble: names ("power[j=0]", "S3[j1=0,j2=2,dl=1]", ...), groups
/// ("power", "S1", "sparsity", "S2", "S3", "S4"), means and jackknife errors (float64).
struct ScatteringStatistics {
  int64_t J = 0, orientations = 0, n_fields = 0, blocks = 0;
  std::vector<std::string> names, groups;
  std::vector<double> mean, error;
  nlohmann::json to_json() const;
};

/// Per-field raw moments (N, R) of fields x (N, H, W), the quantities whose ensemble means the
/// statistics are functions of (exposed for tests and for per-sample use).
torch::Tensor scattering_moments(const torch::Tensor& x, const MorletBank& bank, bool second_order, int64_t batch = 0);

/// The statistics of an ensemble x (N, H, W) (any real dtype; computed in x's floating type,
/// float32 for integer spins, on x's device). InvalidArgument for a wrong shape, too few fields
/// (< 2 blocks) or bad options, before any allocation.
ScatteringStatistics scattering_statistics(const torch::Tensor& x, ScatteringOptions options = {});

/// Two ensembles compared statistic by statistic: z_k = (a_k - b_k) / sqrt(ea_k^2 + eb_k^2),
/// the fraction with |z| < 2 and chi^2 / dof = mean(z^2) (the statistics are correlated, so
/// chi^2/dof is a summary, not a chi-square variate). Statistics whose combined error is 0
/// (e.g. S3 of two exactly symmetric ensembles) are left out of both and of n_statistics.
struct EnsembleComparison {
  ScatteringStatistics a, b;
  std::vector<double> z;
  int64_t n_statistics = 0;
  double fraction_within_2sigma = 0, chi2_per_dof = 0;
  nlohmann::json to_json() const;
};

/// Compares two ensembles with the same options (same J, orientations). InvalidArgument when
/// the two were measured with different statistics.
EnsembleComparison compare_scattering(const ScatteringStatistics& a, const ScatteringStatistics& b);

}  // namespace physgen
