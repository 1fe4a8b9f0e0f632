// Energy-based model training through the shared trainer, fixed seeds.
//  * Maximum likelihood with persistent MALA negatives on the phi^4 exponential family
//    (trainable m2, lambda) recovers the couplings of an HMC ensemble. Tolerance: 4 x the
//    combined error of the data (jackknife error of the pseudo-likelihood fit on the same
//    ensemble, a consistent estimator of the same couplings) and of the stochastic optimisation
//    (standard deviation of the parameter over the averaged window).
//  * The same on the Ising exponential family (trainable beta, heat-bath negatives on +-1 spins)
//    recovers beta of a Wolff ensemble; the heat-bath sampler itself reproduces the exact
//    <E> and <|m|> of a 4 x 4 lattice by enumeration of all 2^16 states.
//  * Denoising score matching with a neural energy on a 2D Gaussian N(mu, C) learns the score of
//    the noised data, -(C + sigma^2 I)^{-1} (x - mu).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/simulate.h"
#include "physgen/models/ebm/ebm.h"
#include "physgen/models/ebm/exponential_family.h"
#include "physgen/observables/estimators/gamma_method.h"
#include "physgen/train/trainer.h"
#include "support/test_util.h"

using namespace physgen;

using physgen_test::SingleThread;
using physgen_test::seconds_since;

namespace {
}  // namespace

TEST(EbmTraining, MaximumLikelihoodRecoversPhi4Couplings) {
  physgen_test::SingleThread one;
  const auto t0 = std::chrono::steady_clock::now();
  seed_all(71);
  const Phi4Params params{4, -1.0, 1.0};
  auto hmc = make_phi4_hmc(params, 64, HmcOptions().step_size(0.2).n_steps(5), torch::kCPU, torch::kFloat64,
                           Phi4Start::Cold);
  RecordOptions rec;
  rec.therm = 300;
  rec.samples = 100;
  rec.every = 2;
  rec.progress = false;
  auto data = record_chain(*hmc, rec);
  auto pl = fit_couplings(data, "phi4", CouplingFitOptions().n_blocks(32));

  EnergyModel ebm(EnergyModelOptions({4, 4})
                      .network("phi4")
                      .init_m2(0.0)
                      .init_lambda(0.5)
                      .buffer_size(4096)
                      .reinit_prob(0.0)
                      .sampler(LangevinOptions().method("mala").step_size(0.05).n_steps(10)));
  ebm->to(torch::kFloat64);
  EnergyModelTask task(ebm);
  const int64_t steps = 1000, window = 400;
  std::vector<double> m2_trace, lambda_trace;
  auto named = ebm->named_parameters();
  Trainer trainer(task, TrainerOptions().steps(steps).batch_size(256).lr(0.02).schedule("constant").progress(false));
  for (int64_t s = 0; s < steps; s += 10) {
    trainer.fit(data, s + 10);
    if (s + 10 > steps - window) {
      m2_trace.push_back(named["energy.m2"].item<double>());
      lambda_trace.push_back(named["energy.lambda"].item<double>());
    }
  }
  auto trace_stats = [](const std::vector<double>& v) {
    const Estimate e = gamma_method(v);
    return std::make_pair(e.mean, e.error);
  };
  auto [m2, m2_sd] = trace_stats(m2_trace);
  auto [lam, lam_sd] = trace_stats(lambda_trace);
  const double tol_m2 = 4 * std::hypot(pl.get("m2").error, m2_sd);
  const double tol_lam = 4 * std::hypot(pl.get("lambda").error, lam_sd);
  std::printf("ebm ML: m2 %.4f +- %.4f, lambda %.4f +- %.4f (window means); PL fit m2 %.4f +- %.4f, "
              "lambda %.4f +- %.4f; exact (%.1f, %.1f); %.1f s\n",
              m2, m2_sd, lam, lam_sd, pl.get("m2").value, pl.get("m2").error, pl.get("lambda").value,
              pl.get("lambda").error, params.m2, params.lambda, seconds_since(t0));
  EXPECT_LT(std::abs(m2 - params.m2), tol_m2);
  EXPECT_LT(std::abs(lam - params.lambda), tol_lam);
  // Resolution: the starting point (0, 0.5) lies far outside the tolerance in both couplings.
  EXPECT_GT(std::abs(0.0 - params.m2), 3 * tol_m2);
  EXPECT_GT(std::abs(0.5 - params.lambda), 3 * tol_lam);
}

TEST(EbmTraining, HeatBathSweepsSampleTheExactIsingDistribution) {
  // Exact <E> and <|m|> at L = 4, beta = 0.4 by enumerating all 2^16 configurations.
  const int64_t L = 4, V = L * L;
  const double beta = 0.4;
  auto codes = torch::arange(int64_t{1} << V, torch::kLong);
  auto bits = torch::arange(V, torch::kLong);
  auto all = (2 * codes.unsqueeze(1).bitwise_right_shift(bits).bitwise_and(1) - 1).to(torch::kFloat64).view({-1, L, L});
  auto bonds = (all * torch::roll(all, {1}, {1})).sum({1, 2}) + (all * torch::roll(all, {1}, {2})).sum({1, 2});
  auto w = torch::softmax(beta * bonds, 0);
  const double e_exact = -(w * bonds).sum().item<double>() / V;
  const double m_exact = (w * all.mean({1, 2}).abs()).sum().item<double>();

  seed_all(75);
  IsingFamilyEnergy energy(beta);
  energy->to(torch::kFloat64);
  const int64_t chains = 8192;
  auto s0 = (2 * torch::randint(0, 2, {chains, L, L}, torch::kFloat64) - 1);
  auto s = energy->heatbath(s0, 200);  // independent chains, each far past its autocorrelation time
  auto b = (s * torch::roll(s, {1}, {1})).sum({1, 2}) + (s * torch::roll(s, {1}, {2})).sum({1, 2});
  auto e = -b / V;
  auto m = s.mean({1, 2}).abs();
  const double e_mean = e.mean().item<double>(), e_err = e.std().item<double>() / std::sqrt(chains);
  const double m_mean = m.mean().item<double>(), m_err = m.std().item<double>() / std::sqrt(chains);
  std::printf("heat bath L=4 beta=0.4: e %.5f +- %.5f (exact %.5f), |m| %.5f +- %.5f (exact %.5f)\n", e_mean,
              e_err, e_exact, m_mean, m_err, m_exact);
  EXPECT_LT(std::abs(e_mean - e_exact), 4 * e_err);
  EXPECT_LT(std::abs(m_mean - m_exact), 4 * m_err);
  // The energy is -beta * bonds: U at the sampled states, and the spins stay +-1.
  EXPECT_TRUE(torch::allclose(energy->forward(s), -beta * b));
  EXPECT_TRUE(s.abs().eq(1).all().item<bool>());
}

TEST(EbmTraining, MaximumLikelihoodRecoversIsingBeta) {
  physgen_test::SingleThread one;
  const auto t0 = std::chrono::steady_clock::now();
  IsingParams params;
  params.L = 8;
  params.beta = 0.35;
  IsingSampler wolff(params, "wolff", 32, 73);
  RecordOptions rec;
  rec.therm = 100;
  rec.samples = 200;
  rec.progress = false;
  auto data = record_chain(wolff, rec).to(torch::kFloat32);
  auto pl = fit_couplings(data, "ising", CouplingFitOptions().n_blocks(32));

  seed_all(74);
  EnergyModel ebm(EnergyModelOptions({8, 8})
                      .network("ising")
                      .init_beta(0.1)
                      .init("spins")
                      .buffer_size(256)
                      .reinit_prob(0.0)
                      .sampler(LangevinOptions().method("heatbath").n_steps(5)));
  EnergyModelTask task(ebm);
  const int64_t steps = 600, window = 300;
  std::vector<double> trace;
  auto named = ebm->named_parameters();
  Trainer trainer(task, TrainerOptions().steps(steps).batch_size(256).lr(0.01).schedule("constant").progress(false));
  for (int64_t s = 0; s < steps; s += 10) {
    trainer.fit(data, s + 10);
    if (s + 10 > steps - window) trace.push_back(named["energy.beta"].item<double>());
  }
  const Estimate window_mean = gamma_method(trace);
  const double beta = window_mean.mean, beta_sd = window_mean.error;
  const double tol = 4 * std::hypot(pl.get("beta").error, beta_sd);
  std::printf("ebm ML (ising): beta %.4f +- %.4f (window mean); PL fit %.4f +- %.4f; exact %.3f; %.1f s\n", beta, beta_sd,
              pl.get("beta").value, pl.get("beta").error, params.beta, seconds_since(t0));
  EXPECT_LT(std::abs(beta - params.beta), tol);
  EXPECT_GT(std::abs(0.1 - params.beta), 3 * tol);  // resolution: the start is far outside
}

TEST(EbmTraining, DenoisingScoreMatchingLearnsTheGaussianScore) {
  physgen_test::SingleThread one;
  const auto t0 = std::chrono::steady_clock::now();
  seed_all(72);
  auto mu = torch::tensor({0.5, -1.0}), L = torch::tensor({{1.0, 0.0}, {0.6, 0.5}});
  auto C = L.mm(L.t());
  auto data = mu + torch::randn({20000, 2}).mm(L.t());
  const double sigma = 0.1;
  EnergyModel ebm(EnergyModelOptions({2}).hidden({64, 64}).objective("dsm").dsm_sigma(sigma));
  EnergyModelTask task(ebm);
  Trainer trainer(task, TrainerOptions().steps(3000).batch_size(256).lr(2e-3).progress(false));
  auto result = trainer.fit(data);
  ASSERT_EQ(result.status, TrainResult::Status::Finished) << result.message;
  auto x = mu + torch::randn({4000, 2}).mm(L.t());
  auto exact = -(x - mu).mm(torch::linalg_inv(C + sigma * sigma * torch::eye(2)));
  auto score = ebm->score(x);
  const double rel = ((score - exact).pow(2).sum(1).mean() / exact.pow(2).sum(1).mean()).sqrt().item<double>();
  std::printf("ebm DSM: relative L2 error of the score on data %.4f; %.1f s\n", rel, seconds_since(t0));
  EXPECT_LT(rel, 0.1);
  // An untrained energy's score is far off (resolution of the check).
  EnergyModel fresh(EnergyModelOptions({2}).hidden({64, 64}));
  const double rel0 =
      ((fresh->score(x) - exact).pow(2).sum(1).mean() / exact.pow(2).sum(1).mean()).sqrt().item<double>();
  EXPECT_GT(rel0, 0.5);
}
