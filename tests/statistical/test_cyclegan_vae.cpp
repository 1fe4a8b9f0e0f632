// CycleGAN and VAE training through the shared trainer, fixed seeds.
//  * CycleGAN between two 2D Gaussian ensembles A = N(mu_a, C_a), B = N(mu_b, C_b): translating
//    A to B and back returns close to the input, and translated samples carry B's mean and
//    covariance (untranslated A fails the same checks).
//  * VAE on data from a linear-Gaussian model: the trained model's IWAE estimate of the test
//    log-likelihood approaches the true model's, and its ELBO lies below its IWAE estimate.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/models/gan/cyclegan.h"
#include "physgen/models/vae/vae.h"
#include "physgen/train/trainer.h"
#include "support/test_util.h"

using namespace physgen;

using physgen_test::SingleThread;
using physgen_test::seconds_since;

namespace {

struct OneThread {
  int previous = torch::get_num_threads();
  OneThread() { configure_runtime(1); }
  ~OneThread() { configure_runtime(previous); }
};

torch::Tensor covariance(const torch::Tensor& x) {
  auto d = x - x.mean(0);
  return d.t().mm(d) / (x.size(0) - 1);
}

/// Distance of a sample set from the Gaussian (mean, cov): the largest of |mean difference|
/// and |covariance difference| per entry, in units of the target's standard deviations.
double gaussian_mismatch(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& cov) {
  auto sd = cov.diagonal().sqrt();
  auto dm = ((x.mean(0) - mean) / sd).abs().max().item<double>();
  auto dc = ((covariance(x) - cov) / (sd.unsqueeze(1) * sd.unsqueeze(0))).abs().max().item<double>();
  return std::max(dm, dc);
}

}  // namespace

TEST(CycleGanTraining, TranslatesBetweenGaussiansAndBack) {
  OneThread one;
  const auto t0 = std::chrono::steady_clock::now();
  seed_all(51);
  auto mu_a = torch::tensor({-2.0, 0.0}), mu_b = torch::tensor({2.0, 1.0});
  auto L_a = torch::tensor({{0.5, 0.0}, {0.3, 0.4}}), L_b = torch::tensor({{0.3, 0.0}, {-0.2, 0.8}});
  auto C_a = L_a.mm(L_a.t()), C_b = L_b.mm(L_b.t());
  auto a = mu_a + torch::randn({20000, 2}).mm(L_a.t());
  auto b = mu_b + torch::randn({20000, 2}).mm(L_b.t());
  CycleGan cg(CycleGanOptions({2}).hidden({64, 64}));
  CycleGanTask task(cg);
  Trainer trainer(task, TrainerOptions().steps(3000).batch_size(256).lr(1e-3).progress(false));
  auto result = trainer.fit(pack_unpaired(a, b));
  ASSERT_EQ(result.status, TrainResult::Status::Finished) << result.message;

  auto test_a = mu_a + torch::randn({5000, 2}).mm(L_a.t());
  auto test_b = mu_b + torch::randn({5000, 2}).mm(L_b.t());
  auto ab = cg->translate(test_a, "ab"), ba = cg->translate(test_b, "ba");
  auto aba = cg->translate(ab, "ba"), bab = cg->translate(ba, "ab");
  // Cycle error relative to the ensembles' spread (the smallest standard deviation, 0.3).
  const double cycle_a = (aba - test_a).norm(2, 1).mean().item<double>();
  const double cycle_b = (bab - test_b).norm(2, 1).mean().item<double>();
  const double mis_ab = gaussian_mismatch(ab, mu_b, C_b), mis_ba = gaussian_mismatch(ba, mu_a, C_a);
  const double mis_raw = gaussian_mismatch(test_a, mu_b, C_b);
  std::printf("cyclegan: cycle |aba - a| %.3f, |bab - b| %.3f; mismatch G_ab(A) vs B %.3f, G_ba(B) vs A %.3f "
              "(A vs B %.2f); %.1f s\n",
              cycle_a, cycle_b, mis_ab, mis_ba, mis_raw, seconds_since(t0));
  // The sampling error of the mismatch with 5000 samples is ~0.02-0.03 sd; the bound (a quarter
  // of a standard deviation in every mean and covariance entry) leaves room for the adversarial
  // fit (measured 0.14 and 0.17 at this seed), and untranslated samples miss it fifty-fold.
  EXPECT_LT(cycle_a, 0.1);
  EXPECT_LT(cycle_b, 0.1);
  EXPECT_LT(mis_ab, 0.25);
  EXPECT_LT(mis_ba, 0.25);
  EXPECT_GT(mis_raw, 5.0);
}

TEST(VaeTraining, IwaeApproachesTheTrueLikelihood) {
  OneThread one;
  const auto t0 = std::chrono::steady_clock::now();
  seed_all(61);
  // x = W z + b + 0.3 eps in 6 dimensions, z in 2.
  auto W = torch::randn({6, 2}, torch::kFloat64), b = torch::randn({6}, torch::kFloat64);
  const double s = 0.3;
  auto C = W.mm(W.t()) + s * s * torch::eye(6, torch::kFloat64);
  auto draw = [&](int64_t n) { return torch::randn({n, 2}, torch::kFloat64).mm(W.t()) + b + s * torch::randn({n, 6}, torch::kFloat64); };
  auto log_p = [&](const torch::Tensor& x) {
    auto d = x - b;
    return -0.5 * ((d.mm(torch::linalg_inv(C)) * d).sum(1) + torch::logdet(C) + 6 * std::log(2 * 3.14159265358979323846));
  };
  auto train = draw(20000).to(torch::kFloat32), test = draw(2000);
  Vae vae(VaeOptions({6}).latent_dim(2).hidden({64}));
  VaeTask task(vae);
  Trainer trainer(task, TrainerOptions().steps(4000).batch_size(256).lr(3e-3).progress(false));
  auto result = trainer.fit(train);
  ASSERT_EQ(result.status, TrainResult::Status::Finished) << result.message;
  vae->to(torch::kFloat64);
  torch::NoGradGuard ng;
  auto truth = log_p(test);
  auto iwae = vae->iwae_log_likelihood(test, 1000);
  auto elbo = vae->elbo(test, 100);
  // Paired per-point differences and their standard errors.
  auto mean_se = [](const torch::Tensor& v) {
    return std::make_pair(v.mean().item<double>(), v.std().item<double>() / std::sqrt(double(v.size(0))));
  };
  auto [d, se] = mean_se(iwae - truth);
  auto [de, se_e] = mean_se(elbo - truth);
  auto [gap, se_g] = mean_se(iwae - elbo);
  std::printf("vae: test log p true %.4f, IWAE_1000 - true %.4f +- %.4f, ELBO - true %.4f +- %.4f, "
              "IWAE - ELBO %.4f +- %.4f; %.1f s\n",
              truth.mean().item<double>(), d, se, de, se_e, gap, se_g, seconds_since(t0));
  // A fitted model cannot beat the truth on fresh data beyond noise, and comes within 0.05 nats;
  // the ELBO lies below the true log-likelihood and (in expectation) below IWAE.
  EXPECT_LT(d, 4 * se);
  EXPECT_GT(d, -0.05 - 4 * se);
  EXPECT_LT(de, 4 * se_e);
  EXPECT_GT(gap, -4 * se_g);
  // The bound is sharp: the N(0, I) density (an untrained decoder's scale) misses by far more.
  const double baseline =
      (-0.5 * (test.pow(2).sum(1) + 6 * std::log(2 * 3.14159265358979323846))).mean().item<double>();
  EXPECT_GT(truth.mean().item<double>() - baseline, 1.0);
}
