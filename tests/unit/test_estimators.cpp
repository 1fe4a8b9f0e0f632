// Statistical estimators: Gamma method, binning, jackknife, ESS.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/observables/estimators/binning.h"
#include "physgen/observables/estimators/gamma_method.h"
#include "physgen/observables/estimators/jackknife.h"
#include "physgen/observables/estimators/reweighting.h"

using namespace physgen;

namespace {

// Stationary AR(1): x_0 ~ N(0, 1/(1-rho^2)), x_t = rho x_{t-1} + eta_t, eta ~ N(0,1).
// Exact tau_int = (1/2)(1+rho)/(1-rho), var(x) = 1/(1-rho^2).
std::vector<double> ar1(int64_t n, double rho) {
  auto eta = torch::randn({n}, torch::kFloat64).contiguous();
  const double* e = eta.data_ptr<double>();
  std::vector<double> x(n);
  x[0] = e[0] / std::sqrt(1 - rho * rho);
  for (int64_t t = 1; t < n; ++t) x[t] = rho * x[t - 1] + e[t];
  return x;
}

double exact_tau(double rho) { return 0.5 * (1 + rho) / (1 - rho); }

// Exact standard deviation of the mean of n stationary AR(1) values.
double exact_error_of_mean(int64_t n, double rho) {
  double s = 1;
  double rt = 1;
  for (int64_t t = 1; t < n; ++t) {
    rt *= rho;
    s += 2 * (1 - static_cast<double>(t) / n) * rt;
  }
  return std::sqrt(s / (1 - rho * rho) / n);
}

}  // namespace

TEST(GammaMethod, Ar1TauIntAndErrorMatchExact) {
  seed_all(1234);
  const double rho = 0.9;
  const int64_t n = 1 << 17;
  auto x = ar1(n, rho);
  auto a = gamma_analysis({torch::tensor(x, torch::kFloat64)});
  const auto& e = a.estimate;
  EXPECT_TRUE(a.window_found);
  EXPECT_GT(e.tau_int_error, 0.0);
  EXPECT_NEAR(e.tau_int, exact_tau(rho), 4 * e.tau_int_error);
  EXPECT_NEAR(e.error, exact_error_of_mean(n, rho), 4 * a.error_of_error);
  EXPECT_NEAR(e.mean, 0.0, 4 * e.error);
  // Sanity: the test can fail -- a wrong exact value lies far outside the band.
  EXPECT_GT(std::abs(e.tau_int - 1.25 * exact_tau(rho)), 4 * e.tau_int_error);
  // The curve reproduces tau_int at the window; rho(0) = 1.
  EXPECT_DOUBLE_EQ(a.rho[0], 1.0);
  EXPECT_NEAR(a.tau_int_curve[a.window], e.tau_int, 1e-12);
}

TEST(GammaMethod, Ar1ReplicasCombine) {
  seed_all(99);
  const double rho = 0.8;
  std::vector<std::vector<double>> reps;
  for (int r = 0; r < 8; ++r) reps.push_back(ar1(1 << 14, rho));
  auto e = gamma_method(reps);
  EXPECT_NEAR(e.tau_int, exact_tau(rho), 4 * e.tau_int_error);
  // Same data as an (R, T) tensor gives the same answer.
  auto t = torch::empty({8, 1 << 14}, torch::kFloat64);
  for (int r = 0; r < 8; ++r) t[r].copy_(torch::tensor(reps[r], torch::kFloat64));
  auto e2 = gamma_method(t);
  EXPECT_DOUBLE_EQ(e.mean, e2.mean);
  EXPECT_NEAR(e.error, e2.error, 1e-14);
  // Combined error ~ exact error of a mean over 8 * 2^14 independent-chain values.
  const double exact = exact_error_of_mean(1 << 14, rho) / std::sqrt(8.0);
  EXPECT_NEAR(e.error, exact, 4 * e.error * std::sqrt((e.tau_int * 10 + 0.5) / (8 << 14)));
}

TEST(GammaMethod, UncorrelatedGivesHalfAndNaiveError) {
  seed_all(7);
  const int64_t n = 20000;
  auto x = torch::randn({n}, torch::kFloat64);
  auto e = gamma_method(x);
  EXPECT_NEAR(e.tau_int, 0.5, 4 * std::max(e.tau_int_error, 1.0 / std::sqrt(double(n))));
  // S = 0 assumes no autocorrelation: error = sqrt(Gamma(0) (1 + 1/N) / N) (bias-corrected).
  auto e0 = gamma_method(x, 0.0);
  const double g0 = x.var(/*unbiased=*/false).item<double>();
  EXPECT_NEAR(e0.error, std::sqrt(g0 * (1 + 1.0 / n) / n), 1e-12);
  EXPECT_DOUBLE_EQ(e0.tau_int, 0.5);
}

TEST(GammaMethod, ConstantSeriesHasZeroError) {
  auto e = gamma_method(std::vector<double>(100, 0.1));
  EXPECT_DOUBLE_EQ(e.mean, 0.1);
  EXPECT_EQ(e.error, 0.0);
  EXPECT_EQ(e.tau_int, 0.5);
}

TEST(GammaMethod, DerivedRatioMatchesBruteForceRepetitions) {
  // f = <a>/<b>, a = 1 + x, b = 2 + 0.5 x + y, x, y independent AR(1) with rho = 0.8.
  seed_all(2024);
  const double rho = 0.8;
  const int reps = 300;
  const int64_t n = 2000;
  std::vector<double> f_values, gamma_errors, taus;
  auto f = [](const std::vector<double>& m) { return m[0] / m[1]; };
  for (int r = 0; r < reps; ++r) {
    auto x = ar1(n, rho), y = ar1(n, rho);
    auto ab = torch::empty({n, 2}, torch::kFloat64);
    auto acc = ab.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
      acc[i][0] = 1 + x[i];
      acc[i][1] = 2 + 0.5 * x[i] + y[i];
    }
    auto e = gamma_method_derived(ab, f);
    f_values.push_back(e.mean);
    gamma_errors.push_back(e.error);
    taus.push_back(e.tau_int);
  }
  double mf = 0, me = 0, mt = 0;
  for (int r = 0; r < reps; ++r) mf += f_values[r] / reps, me += gamma_errors[r] / reps,
                                 mt += taus[r] / reps;
  double var = 0;
  for (double v : f_values) var += (v - mf) * (v - mf) / (reps - 1);
  const double brute = std::sqrt(var);
  // Relative uncertainty of a sample standard deviation: 1/sqrt(2 (reps - 1)).
  const double tol = 4 * brute / std::sqrt(2.0 * (reps - 1));
  EXPECT_NEAR(me, brute, tol);
  // Sanity: ignoring autocorrelations (error / sqrt(2 tau)) would fail.
  EXPECT_GT(std::abs(me / std::sqrt(2 * mt) - brute), tol);
  // Any linear projection of AR(1) processes with one rho is AR(1) with that rho.
  EXPECT_NEAR(mt, exact_tau(rho), 0.1 * exact_tau(rho));
}

TEST(GammaMethod, DerivedLinearEqualsPrimary) {
  seed_all(5);
  auto x = ar1(5000, 0.5);
  auto t = torch::tensor(x, torch::kFloat64);
  auto p = gamma_method(t);
  auto d = gamma_method_derived(t.unsqueeze(1), [](const std::vector<double>& m) { return m[0]; });
  EXPECT_NEAR(d.mean, p.mean, 1e-15);
  EXPECT_NEAR(d.error, p.error, 1e-8 * p.error);
  EXPECT_NEAR(d.tau_int, p.tau_int, 1e-8);
}

TEST(GammaMethod, UnequalReplicaLengths) {
  seed_all(6);
  auto a = torch::randn({1000}, torch::kFloat64), b = torch::randn({3000}, torch::kFloat64) + 0.1;
  auto g = gamma_analysis({a, b});
  EXPECT_EQ(g.n_total, 4000);
  EXPECT_EQ(g.n_replicas, 2);
  EXPECT_EQ(g.rho.size(), 501u);  // t_max = min T_r / 2
  EXPECT_NEAR(g.estimate.mean, torch::cat({a, b}).mean().item<double>(), 1e-15);
  EXPECT_NEAR(g.estimate.error, std::sqrt(1.0 / 4000), 4 * g.error_of_error + 0.1 / std::sqrt(4000.0));
}

TEST(GammaMethod, RejectsBadArguments) {
  EXPECT_THROW(gamma_method(std::vector<std::vector<double>>{}), InvalidArgument);
  EXPECT_THROW(gamma_method(std::vector<double>{}), InvalidArgument);
  EXPECT_THROW(gamma_method(std::vector<double>{1, 2, 3}, -1.0), InvalidArgument);
  EXPECT_THROW(gamma_method(std::vector<double>{1, NAN, 3}), InvalidArgument);
  EXPECT_THROW(gamma_method_derived(torch::zeros({10, 2}), nullptr), InvalidArgument);
  EXPECT_THROW(gamma_analysis({torch::zeros({10, 2})}), InvalidArgument);  // k = 2, no f
}

TEST(Binning, PlateauMatchesExactErrorAndTau) {
  seed_all(11);
  const double rho = 0.9;
  const int64_t n = 1 << 17;
  auto x = ar1(n, rho);
  auto curve = binning_curve(x);
  ASSERT_GE(curve.size(), 8u);
  EXPECT_NEAR(curve[0].error, std::sqrt(1 / (1 - rho * rho) / n), 0.02 * curve[0].error);
  const auto& p = curve[8];  // B = 256 >> tau_int = 9.5
  EXPECT_EQ(p.bin_size, 256);
  EXPECT_EQ(p.n_bins, n / 256);
  EXPECT_NEAR(p.error, exact_error_of_mean(n, rho), 4 * p.error_of_error);
  EXPECT_NEAR(p.error, binned_error(x, 256), 1e-15);
  EXPECT_NEAR(p.tau_int, exact_tau(rho), 4 * 2 * p.tau_int * p.error_of_error / p.error);
}

TEST(Binning, BinSizeOneIsNaiveError) {
  std::vector<double> x{1, 2, 4, 8, 16};
  const double mean = 31.0 / 5;
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  EXPECT_NEAR(binned_error(x, 1), std::sqrt(ss / 4 / 5), 1e-14);
  EXPECT_THROW(binned_error(x, 3), InvalidArgument);
  EXPECT_THROW(binned_error(x, 0), InvalidArgument);
}

TEST(Jackknife, IdentityErrorIsExactlyTheNaiveError) {
  seed_all(3);
  auto x = torch::randn({1001}, torch::kFloat64) * 3 + 1;
  auto j = jackknife(x);
  const double naive = x.std(/*unbiased=*/true).item<double>() / std::sqrt(1001.0);
  EXPECT_NEAR(j.error, naive, 1e-13 * naive);
  EXPECT_NEAR(j.mean, x.mean().item<double>(), 1e-14);
  EXPECT_NEAR(j.bias_corrected_mean, j.mean, 1e-12);
  EXPECT_EQ(j.n_bins, 1001);
}

TEST(Jackknife, SquareBiasCorrectionIsExact) {
  // For f = a^2 the bias-corrected jackknife is exactly abar^2 - s^2/N.
  seed_all(4);
  auto x = torch::randn({500}, torch::kFloat64) + 0.3;
  auto j = jackknife(x, [](const std::vector<double>& m) { return m[0] * m[0]; });
  const double ab = x.mean().item<double>();
  const double s2 = x.var(/*unbiased=*/true).item<double>();
  EXPECT_NEAR(j.bias_corrected_mean, ab * ab - s2 / 500, 1e-12);
  EXPECT_NEAR(j.mean, ab * ab, 1e-14);
}

TEST(Jackknife, RatioMatchesDeltaMethod) {
  seed_all(8);
  const int64_t n = 20000;
  auto a = torch::randn({n}, torch::kFloat64) + 3;
  auto b = 0.5 * a + torch::randn({n}, torch::kFloat64) + 5;
  auto ab = torch::stack({a, b}, 1);
  auto j = jackknife(ab, [](const std::vector<double>& m) { return m[0] / m[1]; });
  const double ma = a.mean().item<double>(), mb = b.mean().item<double>();
  const double vaa = a.var().item<double>(), vbb = b.var().item<double>();
  const double vab = ((a - ma) * (b - mb)).sum().item<double>() / (n - 1);
  const double ga = 1 / mb, gb = -ma / (mb * mb);
  const double delta = std::sqrt((ga * ga * vaa + 2 * ga * gb * vab + gb * gb * vbb) / n);
  // The two agree up to O(1/N) relative corrections.
  EXPECT_NEAR(j.error, delta, 1e-3 * delta);
  // With bins the same quantity stays consistent with the unbinned error (iid data).
  auto jb = jackknife(ab, [](const std::vector<double>& m) { return m[0] / m[1]; }, 100);
  EXPECT_EQ(jb.n_bins, 200);
  EXPECT_NEAR(jb.error, delta, 4 * delta / std::sqrt(2.0 * 199));
}

TEST(Ess, EqualWeightsGiveOne) {
  EXPECT_NEAR(ess(torch::full({1000}, -3.7, torch::kFloat64)), 1.0, 1e-14);
  EXPECT_NEAR(ess(std::vector<double>{1000.0, 1000.0, 1000.0}), 1.0, 1e-14);
}

TEST(Ess, OneDominantWeightGivesOneOverN) {
  std::vector<double> lw(100, -1000.0);
  lw[17] = 1000.0;
  EXPECT_NEAR(ess(lw), 0.01, 1e-14);
  std::vector<double> lw2(50, -INFINITY);
  lw2[3] = 0.0;
  EXPECT_NEAR(ess(lw2), 1.0 / 50, 1e-14);
}

TEST(Ess, StableForHugeLogWeightsAndMatchesDirectFormula) {
  auto lw = torch::randn({400}, torch::kFloat64);
  auto w = torch::exp(lw);
  const double direct =
      std::pow(w.sum().item<double>(), 2) / (400 * (w * w).sum().item<double>());
  EXPECT_NEAR(ess(lw), direct, 1e-13);
  EXPECT_NEAR(ess(lw + 1000), direct, 1e-13);
  EXPECT_NEAR(ess(lw - 1000), direct, 1e-13);
  EXPECT_THROW(ess(std::vector<double>{0.0, NAN}), InvalidArgument);
  EXPECT_THROW(ess(std::vector<double>{-INFINITY, -INFINITY}), InvalidArgument);
  EXPECT_THROW(ess(std::vector<double>{}), InvalidArgument);
}

TEST(Reweighting, ExactGaussianShiftAndError) {
  // q = N(0,1), p = N(0.5,1): lw = 0.5 x - 1/8; E_p[x] = 0.5.
  seed_all(21);
  const int64_t n = 200000;
  auto x = torch::randn({n}, torch::kFloat64);
  auto lw = 0.5 * x - 0.125 + 700;  // a common constant cancels
  auto e = reweighted_mean(x, lw);
  EXPECT_NEAR(e.mean, 0.5, 4 * e.error);
  // Asymptotic variance of the self-normalised estimator: E_q[w^2 (x-mu)^2]/N with
  // normalised w = exp(0.5 x - 1/8): E_q[w^2 (x - 1/2)^2] = e^{1/4} (1 + 1/4).
  // Y = w^2 (x - 1/2)^2 has E[Y] = e^{1/4} 1.25 and E[Y^2] = e^{3/2} (1.5^4 + 6 1.5^2 + 3), so
  // the estimated error has relative standard deviation sd(Y) / (2 E[Y] sqrt(N)).
  const double ey = std::exp(0.25) * 1.25;
  const double ey2 = std::exp(1.5) * (std::pow(1.5, 4) + 6 * 1.5 * 1.5 + 3);
  const double exact_error = std::sqrt(ey / n);
  const double rel_sd = std::sqrt(ey2 - ey * ey) / (2 * ey * std::sqrt(double(n)));
  EXPECT_NEAR(e.error, exact_error, 4 * rel_sd * exact_error);
  // Equal weights reduce to the naive mean and error (with 1/N variance).
  auto u = reweighted_mean(x, torch::zeros({n}, torch::kFloat64));
  EXPECT_NEAR(u.mean, x.mean().item<double>(), 1e-14);
  EXPECT_NEAR(u.error, std::sqrt(x.var(false).item<double>() / n), 1e-14);
}
