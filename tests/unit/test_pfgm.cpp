// Poisson flow generative models: the empirical field, the PFGM++ kernel, the D -> infinity
// (diffusion) limit and the samplers with the exact field of a set of charges.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "support/diffusion_test_util.h"
#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/models/pfgm/pfgm.h"
#include "physgen/models/pfgm/pfgmpp.h"
#include "physgen/models/pfgm/poisson_field.h"

using namespace physgen;
using physgen_test::moment_max_z;

namespace {

constexpr double kMaxZ = 4.0;

/// Kolmogorov-Smirnov statistic sqrt(n) sup |F_n - F| of samples r against the CDF `cdf`.
double ks_statistic(const torch::Tensor& r,
                    const std::function<torch::Tensor(torch::Tensor)>& cdf) {
  auto s = std::get<0>(torch::sort(r.to(torch::kFloat64)));
  const int64_t n = s.size(0);
  auto F = cdf(s);
  auto hi = torch::arange(1, n + 1, torch::kFloat64) / n;
  auto lo = torch::arange(0, n, torch::kFloat64) / n;
  const double d = std::max((hi - F).max().item<double>(), (F - lo).max().item<double>());
  return std::sqrt(static_cast<double>(n)) * d;
}

}  // namespace

// The normalised field sum_i w_i ((x, z) - (y_i, 0)), w ∝ |.|^-(N+1), from its definition.
TEST(PoissonField, EmpiricalFieldMatchesCoulombSum) {
  auto charges = torch::tensor({{0.0, 0.0}, {1.0, 2.0}, {-0.5, 0.3}}, torch::kFloat64);
  auto x = torch::tensor({{0.3, -0.2}, {2.0, 1.0}}, torch::kFloat64);
  auto z = torch::tensor({0.7, 0.05}, torch::kFloat64);
  auto E = empirical_poisson_field(charges, x, z);
  for (int64_t a = 0; a < 2; ++a) {
    double num[3] = {0, 0, 0}, den = 0;
    for (int64_t i = 0; i < 3; ++i) {
      const double dx = x[a][0].item<double>() - charges[i][0].item<double>();
      const double dy = x[a][1].item<double>() - charges[i][1].item<double>();
      const double dz = z[a].item<double>();
      const double inv = std::pow(dx * dx + dy * dy + dz * dz, -1.5);  // |.|^-(N+1), N = 2
      num[0] += dx * inv;
      num[1] += dy * inv;
      num[2] += dz * inv;
      den += inv;
    }
    for (int64_t k = 0; k < 3; ++k) EXPECT_NEAR(E[a][k].item<double>(), num[k] / den, 1e-12);
  }
  // PFGM's dx/dz = E_x / E_z is PFGM++'s (x - E_w[y]) / r with D = 1, r = z.
  auto post = pfgmpp_posterior_mean(charges, x, 0.7, 1);
  EXPECT_TRUE(torch::allclose(E[0].slice(0, 0, 2), x[0] - post[0], 1e-12, 1e-12));
  EXPECT_THROW(empirical_poisson_field(charges, torch::zeros({2, 3}), z), InvalidArgument);
}

// R^2 / sigma^2 = D G1 / G2 with G1 ~ Gamma(N/2), G2 ~ Gamma(D/2): E = N D / (D - 2).
TEST(PoissonField, KernelRadiusHasBetaPrimeMoments) {
  seed_all(20);
  const int64_t n = 200000;
  for (int64_t N : {2, 8}) {
    for (int64_t D : {int64_t{0}, int64_t{32}, int64_t{128}}) {
      auto r2 = pfgmpp_kernel_radius(n, N, D).square();
      const double mean = r2.mean().item<double>();
      const double se = r2.std().item<double>() / std::sqrt(static_cast<double>(n));
      const double exact = D == 0 ? N : static_cast<double>(N * D) / (D - 2);
      EXPECT_NEAR(mean, exact, 4 * se) << "N=" << N << " D=" << D;
    }
  }
  // Direction uniform, radius from the kernel: the perturbation of 0 has E x = 0, E |x|^2 = N
  // in the Gaussian limit.
  auto y = torch::zeros({n, 3}, torch::kFloat64);
  auto x = pfgmpp_perturb(y, torch::full({n}, 2.0, torch::kFloat64), 0);
  EXPECT_LT(moment_max_z(x, torch::zeros({3}, torch::kFloat64),
                         4.0 * torch::eye(3, torch::kFloat64), "gaussian kernel"),
            kMaxZ);
}

// As D grows the kernel radius tends to sigma chi_N (KS test against the chi CDF); at D = 1
// (PFGM) the heavy tail is plainly different.
TEST(PoissonField, KernelApproachesTheDiffusionLimit) {
  seed_all(21);
  const int64_t n = 20000;
  auto chi2_cdf = [](torch::Tensor r) { return 1.0 - torch::exp(-0.5 * r.square()); };
  auto chi4_cdf = [](torch::Tensor r) {
    auto x = 0.5 * r.square();
    return 1.0 - torch::exp(-x) * (1.0 + x);
  };
  // Critical value of sqrt(n) D_n at the 0.1% level: 1.95.
  EXPECT_LT(ks_statistic(pfgmpp_kernel_radius(n, 2, 1000000), chi2_cdf), 1.95);
  EXPECT_LT(ks_statistic(pfgmpp_kernel_radius(n, 4, 1000000), chi4_cdf), 1.95);
  EXPECT_LT(ks_statistic(pfgmpp_kernel_radius(n, 2, 0), chi2_cdf), 1.95);
  EXPECT_GT(ks_statistic(pfgmpp_kernel_radius(n, 2, 1), chi2_cdf), 10.0);
  EXPECT_GT(ks_statistic(pfgmpp_kernel_radius(n, 2, 8), chi2_cdf), 3.0);
}

// The posterior mean (the exact field) of finite D converges to the Gaussian one as 1/D.
TEST(PoissonField, PosteriorMeanConvergesToTheDiffusionLimitAsOneOverD) {
  seed_all(22);
  auto charges = torch::randn({50, 2}, torch::kFloat64);
  auto x = 2.0 * torch::randn({200, 2}, torch::kFloat64);
  for (double sigma : {0.3, 1.0}) {
    auto limit = pfgmpp_posterior_mean(charges, x, sigma, 0);
    double previous = 0.0;
    for (int64_t D : {100, 1000, 10000, 100000}) {
      const double err =
          (pfgmpp_posterior_mean(charges, x, sigma, D) - limit).abs().max().item<double>();
      std::printf("sigma %.1f D %6lld: max |E_D - E_inf| = %.3e\n", sigma,
                  static_cast<long long>(D), err);
      if (previous > 0) {
        EXPECT_LT(err, previous / 5.0) << "D=" << D;
        EXPECT_GT(err, previous / 20.0) << "D=" << D;  // O(1/D), not faster
      }
      previous = err;
    }
    EXPECT_LT(previous, 1e-3);
  }
}

// With the exact field of M charges the ODE carries the prior onto the charges: the samples'
// moments are those of the charges within the resampling error (n samples).
TEST(PoissonField, PfgmppSamplerWithExactFieldReproducesTheCharges) {
  const auto g = physgen_test::test_gaussian();
  seed_all(23);
  auto charges = g.sample(500);
  auto [cm, cc] = physgen_test::sample_moments(charges);
  const int64_t n = 1000;
  for (int64_t D : {int64_t{1}, int64_t{128}, int64_t{0}}) {
    DenoiserFunction exact = [&charges, D](const torch::Tensor& x, double sigma) {
      return pfgmpp_posterior_mean(charges, x, sigma, D);
    };
    auto x_max = pfgmpp_perturb(torch::zeros({n, 2}, torch::kFloat64),
                                torch::full({n}, 80.0, torch::kFloat64), D);
    OdeStats stats;
    auto x = pfgmpp_sample(exact, x_max, 80.0, 0.002, OdeOptions("dopri5").rtol(1e-5).atol(1e-5),
                           true, &stats);
    ASSERT_TRUE(stats.ok()) << stats.summary();
    EXPECT_LT(
        moment_max_z(x, cm, cc, "pfgm++ D=" + std::to_string(D) + " (" + stats.summary() + ")"),
        kMaxZ)
        << "D=" << D;
    // The samples end on the charges (the final denoising step averages over the charges
    // within a few sigma_min). Not for D = 1: its polynomial weights (d^2 + sigma^2)^(-3/2)
    // keep ~15% of the samples more than 1e-3 away at sigma_min = 0.002.
    auto dist = std::get<0>((x.unsqueeze(1) - charges.unsqueeze(0)).norm(2, 2).min(1));
    const double on_charge = (dist < 1e-3).to(torch::kFloat64).mean().item<double>();
    if (D != 1) {
      EXPECT_GT(on_charge, 0.98) << "D=" << D;
    }
  }
}

TEST(PoissonField, PfgmSamplerWithExactFieldReproducesTheCharges) {
  const auto g = physgen_test::test_gaussian();
  seed_all(24);
  auto charges = g.sample(500);
  auto [cm, cc] = physgen_test::sample_moments(charges);
  const int64_t n = 1000;
  PoissonFieldFunction exact = [&charges](const torch::Tensor& x, double z) {
    return empirical_poisson_field(charges, x, torch::full({x.size(0)}, z, x.options()));
  };
  auto x_max = pfgmpp_perturb(torch::zeros({n, 2}, torch::kFloat64),
                              torch::full({n}, 40.0, torch::kFloat64), 1);
  OdeStats stats;
  auto x = pfgm_sample(exact, x_max, 40.0, 1e-3, OdeOptions("dopri5").rtol(1e-5).atol(1e-5), true,
                       &stats);
  ASSERT_TRUE(stats.ok()) << stats.summary();
  EXPECT_LT(moment_max_z(x, cm, cc, "pfgm (" + stats.summary() + ")"), kMaxZ);
  // A field pointing towards the data (opposite sign) gives the same flow.
  PoissonFieldFunction flipped = [&exact](const torch::Tensor& x, double z) {
    return -exact(x, z);
  };
  auto head = x_max.slice(0, 0, 50);
  auto y1 = pfgm_sample(exact, head, 40.0, 1e-3, OdeOptions("dopri5").rtol(1e-5).atol(1e-5));
  auto y2 = pfgm_sample(flipped, head, 40.0, 1e-3, OdeOptions("dopri5").rtol(1e-5).atol(1e-5));
  EXPECT_TRUE(torch::allclose(y1, y2, 1e-9, 1e-9));
}

TEST(PoissonField, ModelsValidateAndRoundTripOptions) {
  EXPECT_THROW(PFGMPP(PFGMPPOptions({2}).extra_dims(-1)), InvalidArgument);
  EXPECT_THROW(PFGMPP(PFGMPPOptions({2}).sigma_min(1.0).sigma_max(0.5)), InvalidArgument);
  EXPECT_THROW(PFGM(PFGMOptions({2}).gamma(0.0)), InvalidArgument);
  auto o = PFGMPPOptions::from_json(PFGMPPOptions({4, 4}).extra_dims(7).sigma_max(20).to_json());
  EXPECT_EQ(o.extra_dims(), 7);
  EXPECT_EQ(o.event_shape(), (std::vector<int64_t>{4, 4}));
  EXPECT_DOUBLE_EQ(o.sigma_max(), 20.0);
  auto p = PFGMOptions::from_json(PFGMOptions({3}).M(100).to_json());
  EXPECT_DOUBLE_EQ(p.M(), 100.0);
  // The PFGM++ denoiser preconditioning: with F = 0 it returns c_skip x.
  PFGMPP edm(PFGMPPOptions({2}).data_std(0.5).preconditioning("edm"));
  PFGMPP eps(PFGMPPOptions({2}));
  for (auto& q : edm->parameters()) q.detach().zero_();
  for (auto& q : eps->parameters()) q.detach().zero_();
  auto x = torch::ones({3, 2});
  auto d = edm->denoise(x, torch::full({1}, 1.0), torch::Tensor());
  EXPECT_TRUE(torch::allclose(d, x * (0.25 / 1.25)));
  EXPECT_TRUE(torch::allclose(eps->denoise(x, torch::full({1}, 1.0), torch::Tensor()), x));
  EXPECT_THROW(PFGMPP(PFGMPPOptions({2}).preconditioning("vp")), InvalidArgument);
}
