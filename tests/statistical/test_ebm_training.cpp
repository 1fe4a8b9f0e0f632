// Energy-based model training through the shared trainer, fixed seeds.
//  * Maximum likelihood with persistent MALA negatives on the phi^4 exponential family
//    (trainable m2, lambda) recovers the couplings of an HMC ensemble. Tolerance: 4 x the
//    combined error of the data (jackknife error of the pseudo-likelihood fit on the same
//    ensemble, a consistent estimator of the same couplings) and of the stochastic optimisation
//    (standard deviation of the parameter over the averaged window).
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
#include "physgen/mcmc/simulate.h"
#include "physgen/models/ebm/ebm.h"
#include "physgen/models/ebm/exponential_family.h"
#include "physgen/train/trainer.h"

using namespace physgen;

namespace {
struct OneThread {
  int previous = torch::get_num_threads();
  OneThread() { configure_runtime(1); }
  ~OneThread() { configure_runtime(previous); }
};
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

TEST(EbmTraining, MaximumLikelihoodRecoversPhi4Couplings) {
  OneThread one;
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
    auto t = torch::tensor(v, torch::kFloat64);
    return std::make_pair(t.mean().item<double>(), t.std().item<double>());
  };
  auto [m2, m2_sd] = trace_stats(m2_trace);
  auto [lam, lam_sd] = trace_stats(lambda_trace);
  const double tol_m2 = 4 * std::hypot(pl.get("m2").error, m2_sd);
  const double tol_lam = 4 * std::hypot(pl.get("lambda").error, lam_sd);
  std::printf("ebm ML: m2 %.4f (trace sd %.4f), lambda %.4f (trace sd %.4f); PL fit m2 %.4f +- %.4f, "
              "lambda %.4f +- %.4f; exact (%.1f, %.1f); %.1f s\n",
              m2, m2_sd, lam, lam_sd, pl.get("m2").value, pl.get("m2").error, pl.get("lambda").value,
              pl.get("lambda").error, params.m2, params.lambda, seconds_since(t0));
  EXPECT_LT(std::abs(m2 - params.m2), tol_m2);
  EXPECT_LT(std::abs(lam - params.lambda), tol_lam);
  // Resolution: the starting point (0, 0.5) lies far outside the tolerance.
  EXPECT_GT(std::abs(0.0 - params.m2), 3 * tol_m2);
}

TEST(EbmTraining, DenoisingScoreMatchingLearnsTheGaussianScore) {
  OneThread one;
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
