// Wavelet and scattering statistics (observables/scattering.h), exact properties:
//   * the Morlet bank is a tight frame (Littlewood-Paley sum 1, energy identity to 1e-12),
//     and dropping one scale breaks it (control);
//   * the statistics are invariant under translations, 90-degree rotations (Lo = 4) and, all
//     but S3, under x -> -x (S3 changes sign); a per-orientation statistic does change under
//     the rotation (control);
//   * a Gaussian free field's wavelet power spectrum matches its exact propagator,
//     (1/V) sum_k G(k) |psi_j(k)|^2, within 3 jackknife errors, and a 20% wrong mass fails;
//   * compare_scattering: two ensembles of one Gaussian field agree, two masses do not;
//   * bad arguments are named.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/observables/scattering.h"
#include "support/test_util.h"

namespace {

using namespace physgen;
using physgen_test::kF64;

constexpr double kPi = 3.14159265358979323846;

/// Lattice propagator G(k) = 1 / (khat^2 + m2), khat^2 = 4 sum_mu sin^2(k_mu / 2), on the
/// DFT grid of an L x L torus.
torch::Tensor propagator(int64_t L, double m2) {
  const auto k = torch::fft::fftfreq(L, kF64) * (2.0 * kPi);
  const auto s = (4.0 * torch::sin(k / 2.0).square());
  return 1.0 / (s.unsqueeze(1) + s.unsqueeze(0) + m2);
}

/// n exact samples of the Gaussian free field with propagator G: x = IFFT(sqrt(G) FFT(w)),
/// w white noise, so E |FFT(x)(k)|^2 = V G(k).
torch::Tensor gaussian_field(int64_t n, int64_t L, double m2) {
  const auto w = torch::randn({n, L, L}, kF64);
  return torch::real(torch::fft::ifft2(torch::fft::fft2(w) * propagator(L, m2).sqrt()));
}

TEST(Scattering, MorletBankIsATightFrame) {
  for (auto [H, W, J, Lo] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{32, 32, 3, 4}, {16, 24, 2, 8}, {64, 64, 4, 4}}) {
    const MorletBank bank = morlet_bank(H, W, J, Lo);
    EXPECT_LT((littlewood_paley(bank) - 1.0).abs().max().item<double>(), 1e-12) << H << "x" << W;
    // Zero-mean wavelets, unit low pass at k = 0.
    EXPECT_LT(bank.psi.select(-1, 0).select(-1, 0).abs().max().item<double>(), 1e-14);
    EXPECT_NEAR(bank.phi[0][0].item<double>(), 1.0, 1e-14);
    // The raw Morlets tile the plane with LP in [0.12, 1] (measured; the minimum at the corner
    // (pi, pi), documented in scattering.h): normalising amplifies no frequency by more than 3.
    std::printf("%ldx%ld J=%ld Lo=%ld: raw Littlewood-Paley sum in [%.3f, %.3f]\n", static_cast<long>(H),
                static_cast<long>(W), static_cast<long>(J), static_cast<long>(Lo), bank.lp_min, bank.lp_max);
    EXPECT_GT(bank.lp_min, 1.0 / 9.0);
    EXPECT_LT(bank.lp_max, 1.0 + 1e-12);
    // Energy identity on white noise: ||x * phi||^2 + sum ||x * psi||^2 = ||x||^2.
    seed_all(1);
    const auto x = torch::randn({3, H, W}, kF64);
    const auto xh = torch::fft::fft2(x);
    auto energy = [&](const torch::Tensor& filters) {  // sum over filters of ||x * f||^2
      return torch::fft::ifft2(xh.unsqueeze(1) * filters.reshape({-1, H, W}).unsqueeze(0)).abs().square().sum().item<double>();
    };
    const double total = x.square().sum().item<double>();
    const double frame = energy(bank.phi.unsqueeze(0)) + energy(bank.psi);
    EXPECT_NEAR(frame / total, 1.0, 1e-12);
    // Control: without the finest scale the identity fails by far more.
    const double without_j0 = energy(bank.phi.unsqueeze(0)) + energy(bank.psi.narrow(0, 1, J - 1));
    EXPECT_LT(without_j0 / total, 0.9);
  }
}

TEST(Scattering, StatisticsAreTranslationRotationAndSignInvariant) {
  seed_all(2);
  const int64_t L = 32, J = 3, Lo = 4;
  const MorletBank bank = morlet_bank(L, L, J, Lo);
  // A non-Gaussian, anisotropic field: sparse spikes smeared along axis 1.
  auto x = torch::randn({4, L, L}, kF64);
  x = x * x.abs() + torch::roll(x, {1}, {2});
  const auto m = scattering_moments(x, bank, true);
  auto rel = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return ((a - b).abs() / (b.abs() + 1e-12)).max().item<double>();
  };
  // Layout: P (J), A (J), S2 (J(J-1)/2), S3 (J(J+1)/2 Lo), S4.
  const int64_t s2 = 2 * J, s3 = s2 + J * (J - 1) / 2, s4 = s3 + J * (J + 1) / 2 * Lo;
  // Translations: S2 (at J = 3 on the subgrid of spacing 2 for j2 = 2) under even shifts, the
  // rest under every shift; an odd shift does move S2 (control: the subgrid is real).
  EXPECT_LT(rel(scattering_moments(torch::roll(x, {8, 4}, {1, 2}), bank, true), m), 1e-10);
  const auto odd = scattering_moments(torch::roll(x, {3, 5}, {1, 2}), bank, true);
  EXPECT_LT(rel(odd.narrow(1, 0, s2), m.narrow(1, 0, s2)), 1e-10);
  EXPECT_LT(rel(odd.narrow(1, s3, m.size(1) - s3), m.narrow(1, s3, m.size(1) - s3)), 1e-10);
  EXPECT_GT(rel(odd.narrow(1, s2, s3 - s2), m.narrow(1, s2, s3 - s2)), 1e-6);
  // 90-degree rotation about the origin, w(i, j) = x(-j mod L, i) (so S2's subgrid maps onto
  // itself): orientations l -> l + Lo/2, and every statistic averages over them.
  const auto rotated = torch::roll(torch::flip(x.transpose(1, 2), {2}), {1}, {2});
  const auto mr = scattering_moments(rotated, bank, true);
  EXPECT_LT(rel(mr, m), 1e-10);
  // Sign flip: S3 odd, the rest even.
  const auto mf = scattering_moments(-x, bank, true);
  EXPECT_LT(rel(mf.narrow(1, 0, s3), m.narrow(1, 0, s3)), 1e-12);
  EXPECT_LT(rel(mf.narrow(1, s4, m.size(1) - s4), m.narrow(1, s4, m.size(1) - s4)), 1e-12);
  EXPECT_LT(rel(-mf.narrow(1, s3, s4 - s3), m.narrow(1, s3, s4 - s3)), 1e-12);
  // Control: the power of one orientation is not rotation invariant for this field.
  auto power_l0 = [&](const torch::Tensor& f) {
    return torch::fft::ifft2(torch::fft::fft2(f) * bank.psi[0][0]).abs().square().mean().item<double>();
  };
  EXPECT_GT(std::abs(power_l0(rotated) / power_l0(x) - 1.0), 0.05);
  // J = 4: S2 at j2 = 3 lives on the subgrid of spacing 4, invariant under shifts by 4.
  const MorletBank b4 = morlet_bank(L, L, 4, Lo);
  const auto m4 = scattering_moments(x, b4, true);
  EXPECT_LT(rel(scattering_moments(torch::roll(x, {4, 12}, {1, 2}), b4, true), m4), 1e-10);
}

TEST(Scattering, GaussianFreeFieldPowerSpectrumMatchesItsPropagator) {
  seed_all(3);
  const int64_t L = 32, N = 2000;
  const double m2 = 0.25;
  const auto x = gaussian_field(N, L, m2);
  ScatteringOptions o;
  o.J = 3;
  o.second_order = false;
  const ScatteringStatistics s = scattering_statistics(x, o);
  const MorletBank bank = morlet_bank(L, L, o.J, o.orientations);
  auto exact_power = [&](double mass2) {
    // E <|W_j,l|^2> = (1/V) sum_k G(k) |psi_j,l(k)|^2, averaged over l.
    return (propagator(L, mass2).unsqueeze(0).unsqueeze(0) * bank.psi.square()).sum(std::vector<int64_t>{-2, -1}).mean(1) /
           static_cast<double>(L * L);
  };
  const auto exact = exact_power(m2), wrong = exact_power(1.2 * m2);
  double worst_wrong = 0;
  for (int64_t j = 0; j < o.J; ++j) {
    ASSERT_EQ(s.names[j], "power[j=" + std::to_string(j) + "]");
    const double z = (s.mean[j] - exact[j].item<double>()) / s.error[j];
    std::printf("power[j=%ld] = %.6f +- %.6f, exact %.6f, z = %+.2f\n", static_cast<long>(j), s.mean[j], s.error[j],
                exact[j].item<double>(), z);
    EXPECT_LT(std::abs(z), 3.0);
    worst_wrong = std::max(worst_wrong, std::abs((s.mean[j] - wrong[j].item<double>()) / s.error[j]));
  }
  // Control: the propagator of a 20% heavier mass is rejected.
  EXPECT_GT(worst_wrong, 5.0);
}

TEST(Scattering, CompareTellsTwoMassesApartAndAgreesOnOne) {
  seed_all(4);
  const int64_t L = 16, N = 1000;
  ScatteringOptions o;
  o.J = 2;
  const auto a = scattering_statistics(gaussian_field(N, L, 0.5), o);
  const auto b = scattering_statistics(gaussian_field(N, L, 0.5), o);
  const auto c = scattering_statistics(gaussian_field(N, L, 1.0), o);
  const auto same = compare_scattering(a, b), other = compare_scattering(a, c);
  std::printf("same field: %ld statistics, within 2 sigma %.2f, chi2/dof %.2f; other mass: %.2f, %.1f\n",
              static_cast<long>(same.n_statistics), same.fraction_within_2sigma, same.chi2_per_dof,
              other.fraction_within_2sigma, other.chi2_per_dof);
  // S3 vanishes in expectation for these symmetric fields but is not identically zero, so
  // every statistic counts.
  EXPECT_EQ(same.n_statistics, static_cast<int64_t>(a.names.size()));
  // Criteria from the null distribution of K independent z-scores (the statistics are
  // correlated, which widens it; 3 standard deviations): the fraction within 2 sigma
  // >= 0.954 - 3 sqrt(0.954 0.046 / K), chi^2/dof <= 1 + 3 sqrt(2 / K).
  const double K = static_cast<double>(same.n_statistics);
  EXPECT_GT(same.fraction_within_2sigma, 0.954 - 3.0 * std::sqrt(0.954 * 0.046 / K));
  EXPECT_LT(same.chi2_per_dof, 1.0 + 3.0 * std::sqrt(2.0 / K));
  EXPECT_GT(other.chi2_per_dof, 10.0);
  const auto j = same.to_json();
  EXPECT_TRUE(j.contains("fraction_within_2sigma") && j.contains("chi2_per_dof") && j.contains("n_statistics"));
}

TEST(Scattering, BadArgumentsAreNamed) {
  physgen_test::expect_invalid_argument([] { morlet_bank(16, 16, 4, 4); }, "J");
  physgen_test::expect_invalid_argument([] { morlet_bank(16, 16, 2, 0); }, "orientations");
  physgen_test::expect_invalid_argument([] { scattering_statistics(torch::zeros({10, 16})); }, "fields.sizes()");
  ScatteringOptions o;
  o.blocks = 1;
  physgen_test::expect_invalid_argument([&] { scattering_statistics(torch::zeros({10, 16, 16}), o); }, "blocks");
  ScatteringOptions o2;
  o2.J = 2;
  const auto a = scattering_statistics(torch::randn({8, 16, 16}), o2);
  o2.J = 1;
  const auto b = scattering_statistics(torch::randn({8, 16, 16}), o2);
  physgen_test::expect_invalid_argument([&] { compare_scattering(a, b); }, "statistics");
}

}  // namespace
