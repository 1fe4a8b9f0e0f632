// Diffusion samplers with the exact score of a Gaussian (no training): every sampler must
// reproduce the Gaussian's mean and covariance within statistical error, and the
// probability-flow likelihood must equal the exact log-density.
//
// Data N(mu, cov), mu = (0.5, -0.3), cov = [[1, 0.4], [0.4, 0.5]]. The samplers are linear in
// the state for Gaussian data, so their discretisation bias can be computed exactly by
// propagating mean and covariance; the step counts and sample sizes below keep it at most
// ~0.8 standard errors (largest: DDIM eta = 1 with 500 uniform cosine steps, -0.82 SE at
// n = 10000; DDPM with the posterior variance, -0.6 SE; VP probability flow, -0.4 SE in the
// mean from the prior's mismatch exp(-B(1)/2) mu; predictor-corrector with snr 0.05, 0.15 SE).
// The tolerance is 4 standard errors.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "support/diffusion_test_util.h"
#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/models/diffusion/ddpm_sampling.h"
#include "physgen/models/diffusion/schedule.h"
#include "physgen/models/diffusion/sde.h"

using namespace physgen;
using physgen_test::Gaussian;
using physgen_test::exact_epsilon;
using physgen_test::kMaxZ;
using physgen_test::moment_max_z;

namespace {



ScoreFunction exact_score(const Gaussian& g, const Sde& sde) {
  return [&g, &sde](const torch::Tensor& x, double t) {
    return g.score(x, sde.mean_scale(t), sde.marginal_std(t));
  };
}

/// Prior draws in float32 (cheaper noise; the statistics are float64).
torch::Tensor prior(int64_t n, double std = 1.0) { return std * torch::randn({n, 2}); }

}  // namespace

TEST(DiffusionSchedule, LinearAndCosineEndpoints) {
  NoiseSchedule lin(NoiseScheduleOptions().name("linear").steps(1000));
  EXPECT_DOUBLE_EQ(lin.beta(0), 1e-4);
  EXPECT_DOUBLE_EQ(lin.beta(999), 0.02);
  EXPECT_NEAR(lin.alpha_bar(999), 4.0358e-5, 1e-8);  // prod (1 - beta_i)
  NoiseSchedule lin100(NoiseScheduleOptions().name("linear").steps(100));
  EXPECT_DOUBLE_EQ(lin100.beta(99), 0.2);  // scaled by 1000 / T
  NoiseSchedule cos(NoiseScheduleOptions().name("cosine").steps(1000));
  // Unclipped steps follow abar(u) = f(u) / f(0) exactly.
  const double s = 0.008, hp = M_PI / 2;
  auto f = [&](double u) { return std::pow(std::cos(hp * (u + s) / (1 + s)), 2); };
  for (int64_t i : {0, 10, 500, 900}) {
    EXPECT_NEAR(cos.alpha_bar(i), f((i + 1) / 1000.0) / f(0.0), 1e-12) << i;
  }
  EXPECT_DOUBLE_EQ(cos.beta(999), 0.999);  // clipped
  EXPECT_DOUBLE_EQ(cos.alpha_bar(-1), 1.0);
  EXPECT_NEAR(cos.posterior_variance(5),
              (1 - cos.alpha_bar(4)) / (1 - cos.alpha_bar(5)) * cos.beta(5), 1e-15);
  EXPECT_THROW(NoiseSchedule(NoiseScheduleOptions().name("sigmoid")), InvalidArgument);
  EXPECT_THROW(NoiseSchedule(NoiseScheduleOptions().steps(0)), InvalidArgument);
  auto round_trip =
      NoiseScheduleOptions::from_json(NoiseScheduleOptions().name("cosine").steps(77).to_json());
  EXPECT_EQ(round_trip.name(), "cosine");
  EXPECT_EQ(round_trip.steps(), 77);
}

// Simulating the forward chain q(x_i | x_{i-1}) step by step reproduces the closed-form
// marginal N(sqrt(abar_i) x0, (1 - abar_i) I).
TEST(DiffusionSchedule, ForwardChainMatchesClosedFormMarginal) {
  for (const std::string name : {"linear", "cosine"}) {
    NoiseSchedule s(NoiseScheduleOptions().name(name).steps(1000));
    seed_all(1);
    const int64_t n = 20000;
    auto x0 = torch::tensor({0.7, -1.2}, torch::kFloat64);
    auto x = x0.expand({n, 2}).clone();
    for (int64_t i = 0; i < 1000; ++i) {
      x = std::sqrt(1 - s.beta(i)) * x + std::sqrt(s.beta(i)) * torch::randn_like(x);
      if (i == 0 || i == 49 || i == 299 || i == 999) {
        const double ab = s.alpha_bar(i);
        auto cov = (1 - ab) * torch::eye(2, torch::kFloat64);
        const double z =
            moment_max_z(x, std::sqrt(ab) * x0, cov, name + " forward step " + std::to_string(i));
        EXPECT_LT(z, kMaxZ) << name << " step " << i;
        // q_sample gives the same marginal in one go.
        auto step = torch::full({n}, i, torch::kLong);
        auto xq = q_sample(s, x0.expand({n, 2}), step, torch::randn({n, 2}, torch::kFloat64));
        EXPECT_LT(moment_max_z(xq, std::sqrt(ab) * x0, cov, "q_sample"), kMaxZ);
      }
    }
  }
}

// The moment check has power: a 10% wrong variance at step 299 is detected.
TEST(DiffusionSchedule, MomentCheckDetectsAWrongMarginal) {
  NoiseSchedule s(NoiseScheduleOptions().name("linear"));
  seed_all(2);
  const int64_t n = 20000;
  auto x0 = torch::zeros({2}, torch::kFloat64);
  auto step = torch::full({n}, 299, torch::kLong);
  auto xq = q_sample(s, x0.expand({n, 2}), step, torch::randn({n, 2}, torch::kFloat64));
  const double ab = s.alpha_bar(299);
  auto wrong = 1.1 * (1 - ab) * torch::eye(2, torch::kFloat64);
  EXPECT_GT(moment_max_z(xq, x0, wrong, "deliberately wrong variance"), kMaxZ);
}

TEST(DiffusionSampling, DdimTimestepsCoverBothEnds) {
  for (const std::string spacing : {"uniform", "quadratic"}) {
    for (int64_t S : {1, 2, 10, 50, 999, 1000}) {
      auto tau = ddim_timesteps(1000, S, spacing);
      ASSERT_EQ(static_cast<int64_t>(tau.size()), S);
      EXPECT_EQ(tau.back(), 999) << spacing << " " << S;
      if (S >= 2) {
        EXPECT_EQ(tau.front(), 0) << spacing << " " << S;
      }
      for (size_t k = 1; k < tau.size(); ++k) EXPECT_LT(tau[k - 1], tau[k]);
    }
  }
  auto q = ddim_timesteps(1000, 10, "quadratic");
  EXPECT_EQ(q[1], 12);   // round((1/9)^2 * 999)
  EXPECT_EQ(q[5], 308);  // round((5/9)^2 * 999)
  auto u = ddim_timesteps(1000, 4, "uniform");
  EXPECT_EQ(u, (std::vector<int64_t>{0, 333, 666, 999}));
  EXPECT_THROW(ddim_timesteps(1000, 1001, "uniform"), InvalidArgument);
  EXPECT_THROW(ddim_timesteps(1000, 10, "log"), InvalidArgument);
}

TEST(DiffusionSampling, AncestralReproducesGaussian) {
  const Gaussian g = physgen_test::test_gaussian();
  for (const std::string name : {"linear", "cosine"}) {
    NoiseSchedule s(NoiseScheduleOptions().name(name));
    seed_all(3);
    auto x = ddpm_sample(exact_epsilon(g, s), s, prior(20000));
    EXPECT_LT(moment_max_z(x, g.mu, g.cov, "ddpm " + name), kMaxZ) << name;
  }
  NoiseSchedule s(NoiseScheduleOptions().name("cosine"));
  seed_all(4);
  auto x =
      ddpm_sample(exact_epsilon(g, s), s, prior(10000), AncestralOptions().variance("posterior"));
  EXPECT_LT(moment_max_z(x, g.mu, g.cov, "ddpm cosine posterior variance"), kMaxZ);
}

TEST(DiffusionSampling, AncestralWithAWrongScoreFails) {
  const Gaussian g = physgen_test::test_gaussian();
  const Gaussian wrong(g.mu, 1.1 * g.cov);
  NoiseSchedule s(NoiseScheduleOptions().name("linear"));
  seed_all(3);
  auto x = ddpm_sample(exact_epsilon(wrong, s), s, prior(20000));
  EXPECT_GT(moment_max_z(x, g.mu, g.cov, "ddpm with a 10% wrong covariance"), kMaxZ);
}

TEST(DiffusionSampling, DdimReproducesGaussian) {
  const Gaussian g = physgen_test::test_gaussian();
  NoiseSchedule s(NoiseScheduleOptions().name("cosine"));
  for (double eta : {0.0, 1.0}) {
    for (const std::string spacing : {"uniform", "quadratic"}) {
      seed_all(5);
      auto x = ddim_sample(exact_epsilon(g, s), s, prior(10000),
                           DdimOptions().steps(500).eta(eta).spacing(spacing));
      const std::string label = "ddim eta=" + std::to_string(eta).substr(0, 3) + " " + spacing;
      EXPECT_LT(moment_max_z(x, g.mu, g.cov, label), kMaxZ) << label;
    }
  }
  // eta = 0 is deterministic.
  auto x_T = prior(5);
  auto a = ddim_sample(exact_epsilon(g, s), s, x_T, DdimOptions().steps(20));
  auto b = ddim_sample(exact_epsilon(g, s), s, x_T, DdimOptions().steps(20));
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(ScoreSde, MarginalsSolveTheMomentEquations) {
  // d a / dt = f a and d s^2 / dt = 2 f s^2 + g^2 (central differences).
  VPSde vp(0.1, 20.0);
  VESde ve(0.01, 50.0);
  for (const Sde* sde : {static_cast<const Sde*>(&vp), static_cast<const Sde*>(&ve)}) {
    const double h = 1e-5;
    for (double t : {0.05, 0.3, 0.7, 0.95}) {
      const double a = sde->mean_scale(t), s = sde->marginal_std(t);
      const double da = (sde->mean_scale(t + h) - sde->mean_scale(t - h)) / (2 * h);
      const double dv =
          (std::pow(sde->marginal_std(t + h), 2) - std::pow(sde->marginal_std(t - h), 2)) / (2 * h);
      const double f = sde->drift_coefficient(t), g2 = sde->diffusion_squared(t);
      EXPECT_NEAR(da, f * a, 1e-7 * (1 + std::abs(f * a))) << sde->name() << " t=" << t;
      EXPECT_NEAR(dv, 2 * f * s * s + g2, 1e-6 * (1 + g2)) << sde->name() << " t=" << t;
    }
    EXPECT_DOUBLE_EQ(sde->marginal_std(0.0), 0.0);
    EXPECT_DOUBLE_EQ(sde->mean_scale(0.0), 1.0);
  }
  EXPECT_NEAR(vp.marginal_std(1.0), std::sqrt(1 - std::exp(-10.05)), 1e-12);
  EXPECT_NEAR(ve.prior_std(), std::sqrt(2500 - 1e-4), 1e-12);
  EXPECT_THROW(make_sde(SdeOptions().name("subvp")), InvalidArgument);
  EXPECT_THROW(VESde(1.0, 0.5), InvalidArgument);
}

// Euler-Maruyama simulation of the forward SDE (2000 steps) matches the closed-form marginal.
TEST(ScoreSde, ForwardSimulationMatchesClosedForm) {
  VPSde vp(0.1, 20.0);
  VESde ve(0.01, 5.0);
  for (const Sde* sde : {static_cast<const Sde*>(&vp), static_cast<const Sde*>(&ve)}) {
    seed_all(6);
    const int64_t n = 10000, K = 2000;
    auto x0 = torch::tensor({0.7, -1.2}, torch::kFloat64);
    auto x = x0.expand({n, 2}).clone();
    for (int64_t k = 0; k < K; ++k) {
      const double t = (k + 0.5) / K, dt = 1.0 / K;
      x = x + sde->drift_coefficient(t) * x * dt +
          std::sqrt(sde->diffusion_squared(t) * dt) * torch::randn_like(x);
      if (k + 1 == K / 4 || k + 1 == K) {
        const double tt = (k + 1.0) / K, s = sde->marginal_std(tt);
        const double z =
            moment_max_z(x, sde->mean_scale(tt) * x0, s * s * torch::eye(2, torch::kFloat64),
                         sde->name() + " forward t=" + std::to_string(tt));
        EXPECT_LT(z, kMaxZ) << sde->name() << " t=" << tt;
      }
    }
  }
}

TEST(ScoreSde, EulerMaruyamaAndPredictorCorrectorReproduceGaussian) {
  // float32 states (cheaper noise); 10000 samples; 1000 (VP) and 500 (VE) steps.
  const Gaussian g = physgen_test::test_gaussian();
  VPSde vp(0.1, 20.0);
  VESde ve(0.01, 100.0);
  for (const Sde* sde : {static_cast<const Sde*>(&vp), static_cast<const Sde*>(&ve)}) {
    const int64_t steps = sde->name() == "vp" ? 1000 : 500;
    const int64_t n = 10000;
    seed_all(7);
    auto x1 = (sde->prior_std() * torch::randn({n, 2})).to(torch::kFloat32);
    auto x =
        euler_maruyama_sample(exact_score(g, *sde), *sde, x1, SdeSamplerOptions().steps(steps));
    EXPECT_LT(moment_max_z(x, g.mu, g.cov, "euler-maruyama " + sde->name()), kMaxZ);
    seed_all(8);
    auto y = predictor_corrector_sample(exact_score(g, *sde), *sde, x1,
                                        SdeSamplerOptions().steps(steps).snr(0.05));
    EXPECT_LT(moment_max_z(y, g.mu, g.cov, "predictor-corrector " + sde->name()), kMaxZ);
  }
}

TEST(ScoreSde, ProbabilityFlowOdeReproducesGaussian) {
  const Gaussian g = physgen_test::test_gaussian();
  VPSde vp(0.1, 20.0);
  VESde ve(0.01, 200.0);
  for (const Sde* sde : {static_cast<const Sde*>(&vp), static_cast<const Sde*>(&ve)}) {
    seed_all(9);
    OdeStats stats;
    auto x = probability_flow_sample(exact_score(g, *sde), *sde, prior(20000, sde->prior_std()),
                                     1e-3, OdeOptions("dopri5").rtol(1e-6).atol(1e-6), &stats);
    ASSERT_TRUE(stats.ok()) << stats.summary();
    EXPECT_LT(moment_max_z(x, g.mu, g.cov,
                           "probability flow " + sde->name() + " (" + stats.summary() + ")"),
              kMaxZ);
  }
}

// With the exact score the probability-flow map is affine, x_1 - a_1 mu = C_1^{1/2} C_0^{-1/2}
// (x_0 - mu), so the model's density is log N(x_1; 0, s_p^2 I) + (logdet C_1 - logdet C_0) / 2
// exactly; it differs from the data's log-density only by the prior's mismatch at t = 1.
TEST(ScoreSde, ProbabilityFlowLogLikelihoodIsExact) {
  const Gaussian g = physgen_test::test_gaussian();
  VPSde vp(0.1, 20.0);
  VESde ve(0.01, 100.0);
  for (const Sde* sde : {static_cast<const Sde*>(&vp), static_cast<const Sde*>(&ve)}) {
    seed_all(10);
    auto x = g.sample(64);
    auto opts = LogDensityOptions().solver(OdeOptions("dopri5").rtol(1e-9).atol(1e-9));
    FlowDensity fd = probability_flow_log_prob(exact_score(g, *sde), {}, *sde, x, 0.0, opts);
    ASSERT_TRUE(fd.ode.ok()) << fd.ode.summary();
    const double a1 = sde->mean_scale(1.0), s1 = sde->marginal_std(1.0), sp = sde->prior_std();
    auto C1 = g.marginal_cov(a1, s1);
    const double half_logdet = 0.5 * (torch::logdet(C1) - torch::logdet(g.cov)).item<double>();
    auto x1 = fd.x.to(torch::kFloat64);
    auto expected =
        -0.5 * (x1 / sp).square().sum(1) - 2 * std::log(sp) - std::log(2 * M_PI) + half_logdet;
    const double err = (fd.log_prob.to(torch::kFloat64) - expected).abs().max().item<double>();
    std::printf("%s: max |log p_flow - closed form| = %.2e (%s)\n", sde->name().c_str(), err,
                fd.ode.summary().c_str());
    EXPECT_LT(err, 1e-6) << sde->name();
    // Against the data's exact log-density: the difference is the prior mismatch
    // log N(x_1; 0, s_p^2 I) - log p_1(x_1) (exact), nothing else.
    auto mismatch = -0.5 * (x1 / sp).square().sum(1) - 2 * std::log(sp) - std::log(2 * M_PI) -
                    g.log_prob(x1, a1, s1);
    auto diff = fd.log_prob.to(torch::kFloat64) - g.log_prob(x);
    EXPECT_LT((diff - mismatch).abs().max().item<double>(), 1e-6) << sde->name();
    std::printf("%s: max |log p_flow - log p_data| = %.2e (prior mismatch up to %.2e)\n",
                sde->name().c_str(), diff.abs().max().item<double>(),
                mismatch.abs().max().item<double>());
    EXPECT_LT(diff.abs().max().item<double>(), 0.05) << sde->name();
  }
}

TEST(ScoreSde, SampleAndLogProbRoundTrip) {
  const Gaussian g = physgen_test::test_gaussian();
  VPSde vp(0.1, 20.0);
  seed_all(11);
  auto opts = LogDensityOptions().solver(OdeOptions("dopri5").rtol(1e-9).atol(1e-9));
  FlowDensity fwd = probability_flow_sample_and_log_prob(exact_score(g, vp), {}, vp,
                                                         prior(16).to(torch::kFloat64), 1e-3, opts);
  ASSERT_TRUE(fwd.ode.ok());
  FlowDensity back = probability_flow_log_prob(exact_score(g, vp), {}, vp, fwd.x, 1e-3, opts);
  EXPECT_LT((fwd.log_prob - back.log_prob).abs().max().item<double>(), 1e-6);
}

// DDIM's eta sets how much of x_0 is left to chance given x_T. With eta = 1 the sampler is the
// ancestral one (sigma_t = the posterior standard deviation), so from one fixed x_T its x_0
// follow the exact posterior of the forward process, x_T = sqrt(abar_T) x_0 + sqrt(1 - abar_T) z:
//   mean mu + a cov (a^2 cov + (1 - a^2) I)^-1 (x_T - a mu), cov - a^2 cov (a^2 cov + (1 - a^2) I)^-1 cov,
// a = sqrt(abar_T); with eta = 0 x_0 is a function of x_T (no spread at all). A sampler that
// ignores eta fails one of the two checks. (Intermediate eta have no closed form here; eta = 0.5
// measured 98% of the eta = 1 spread.)
TEST(DiffusionSampling, DdimEtaSetsTheConditionalSpread) {
  const Gaussian g = physgen_test::test_gaussian();
  NoiseSchedule s(NoiseScheduleOptions().name("cosine"));
  seed_all(9);
  const int64_t n = 10000;
  const auto x_T = prior(1).expand({n, 2}).contiguous();
  const double a = std::sqrt(s.alpha_bar(s.steps() - 1));
  const auto I = torch::eye(2, torch::kFloat64);
  const auto gain = a * g.cov.matmul(torch::linalg_inv(a * a * g.cov + (1 - a * a) * I));
  const auto mu_c = g.mu + gain.matmul(x_T[0].to(torch::kFloat64) - a * g.mu);
  const auto cov_c = g.cov - a * gain.matmul(g.cov);
  auto run = [&](double eta) {
    seed_all(10);
    return ddim_sample(exact_epsilon(g, s), s, x_T, DdimOptions().steps(500).eta(eta)).to(torch::kFloat64);
  };
  const auto x1 = run(1.0);
  EXPECT_LT(moment_max_z(x1, mu_c, cov_c, "ddim eta=1 given x_T"), kMaxZ);
  const auto x0 = run(0.0);
  EXPECT_EQ((x0 - x0[0]).abs().max().item<double>(), 0.0) << "eta = 0 is deterministic given x_T";
  EXPECT_GT(moment_max_z(x0, mu_c, cov_c, "ddim eta=0 given x_T (control)"), kMaxZ);
}
