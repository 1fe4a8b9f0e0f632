// GAN training through the shared trainer, fixed seeds:
//  * with the generator frozen, the trained discriminator approaches the optimum
//    D*(x) = p_data / (p_data + p_G) (Goodfellow et al. 2014, Prop. 1): its cross entropy
//    approaches the minimum 2 log 2 - 2 JSD and it agrees with D* pointwise;
//  * a non-saturating GAN covers >= 7 of the 8 modes of 8gaussians (WGAN-GP: label long,
//    tests/long/test_gan_quality_long.cpp);
//  * a conditional GAN puts each class on its own mode.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/data/toy2d.h"
#include "physgen/eval/mode_coverage.h"
#include "physgen/models/gan/gan.h"
#include "physgen/train/trainer.h"
#include "support/gan_test_util.h"
#include "support/test_util.h"

using namespace physgen;

using physgen_test::SingleThread;
using physgen_test::seconds_since;
using physgen_test::train_on_eight_gaussians;

namespace {

torch::Tensor normal_log_pdf(const torch::Tensor& x, double mu, double sd) {
  return -0.5 * ((x - mu) / sd).pow(2) - std::log(sd) - 0.5 * std::log(2 * 3.14159265358979323846);
}

}  // namespace

// p_data = N(0, 1); the generator is the fixed affine map G(z) = 1 + 0.5 z, z ~ N(0, 1), so
// p_G = N(1, 0.25). Only the discriminator trains (n_critic exceeds the step count).
TEST(GanTraining, DiscriminatorApproachesTheOptimum) {
  SingleThread single;
  const auto t0 = std::chrono::steady_clock::now();
  seed_all(21);
  auto opts = GanOptions({1}).latent_dim(1).loss("minimax").generator_hidden({}).discriminator_hidden({64, 64})
                  .n_critic(1000000);
  Gan gan(opts);
  {
    torch::NoGradGuard ng;
    auto lin = std::dynamic_pointer_cast<VectorMLPImpl>(gan->generator)->layers[0]->as<torch::nn::Linear>();
    lin->weight.fill_(0.5);
    lin->bias.fill_(1.0);
  }
  GanTask task(gan);
  auto data = torch::randn({200000, 1});
  Trainer trainer(task, TrainerOptions().steps(2000).batch_size(512).lr(2e-3).progress(false));
  auto result = trainer.fit(data);
  ASSERT_EQ(result.status, TrainResult::Status::Finished) << result.message;

  torch::NoGradGuard ng;
  const int64_t n = 200000;
  auto xr = torch::randn({n, 1}, torch::kFloat64), xf = 1.0 + 0.5 * torch::randn({n, 1}, torch::kFloat64);
  auto logit_star = [&](const torch::Tensor& x) { return normal_log_pdf(x, 0, 1) - normal_log_pdf(x, 1, 0.5); };
  auto logit = [&](const torch::Tensor& x) { return gan->discriminate(x.to(torch::kFloat32)).to(torch::kFloat64); };
  // Per-pair cross entropies of D and D*; their difference (paired) has a small error.
  auto ce = torch::softplus(-logit(xr)) + torch::softplus(logit(xf));
  auto ce_star = torch::softplus(-logit_star(xr).squeeze(1)) + torch::softplus(logit_star(xf).squeeze(1));
  auto excess = ce - ce_star;
  const double ex = excess.mean().item<double>(), ex_se = excess.std().item<double>() / std::sqrt(double(n));
  // Pointwise: |D - D*| averaged under the mixture (p_data + p_G)/2 and its maximum on [-1, 2].
  auto mix = torch::cat({xr, xf});
  auto dd = (torch::sigmoid(logit(mix)) - torch::sigmoid(logit_star(mix).squeeze(1))).abs();
  auto grid = torch::linspace(-1.0, 2.0, 61, torch::kFloat64).unsqueeze(1);
  const double max_grid =
      (torch::sigmoid(logit(grid)) - torch::sigmoid(logit_star(grid).squeeze(1))).abs().max().item<double>();
  const double ce_min = ce_star.mean().item<double>();
  std::printf("D optimum: CE %.4f vs min %.4f (excess %.5f +- %.5f); mean |D - D*| %.4f; max on [-1,2] %.4f; %.1f s\n",
              ce.mean().item<double>(), ce_min, ex, ex_se, dd.mean().item<double>(), max_grid, seconds_since(t0));
  // An untrained discriminator (D = 1/2) would have excess 2 log 2 - ce_min ~ 0.2.
  EXPECT_GT(2 * std::log(2.0) - ce_min, 0.15);
  EXPECT_LT(ex, 0.005);
  EXPECT_GT(ex, -4 * ex_se);  // D* is the minimiser: no trained D beats it beyond noise
  EXPECT_LT(dd.mean().item<double>(), 0.02);
  EXPECT_LT(max_grid, 0.05);
}

namespace {


}  // namespace

TEST(GanTraining, NonSaturatingGanCoversEightGaussians) {
  SingleThread single;
  seed_all(31);
  auto cov = train_on_eight_gaussians(GanOptions::preset("gan", {2}).latent_dim(4).hidden({64, 64}),
                                      TrainerOptions().steps(2000).batch_size(256).lr(1e-3), "gan");
  EXPECT_GE(cov.modes_hit, 7);
  EXPECT_GT(cov.high_quality_fraction, 0.5);
}


// Two classes: class 0 = the 8gaussians modes 0..3, class 1 = modes 4..7 (the upper and the lower
// half of the ring). Samples of each class must fall into their own half.
TEST(GanTraining, ConditionalGanSeparatesClasses) {
  SingleThread single;
  const auto t0 = std::chrono::steady_clock::now();
  seed_all(51);
  auto x = make_toy_density("8gaussians")->sample(20000);
  auto centers = eight_gaussians_centers().to(torch::kFloat32);
  auto nearest = std::get<1>(torch::cdist(x, centers).min(1));
  auto labels = (nearest >= 4).to(torch::kLong);
  Gan gan(GanOptions::preset("cgan", {2}, 2).latent_dim(4).hidden({64, 64}));
  GanTask task(gan);
  Trainer trainer(task, TrainerOptions().steps(2000).batch_size(256).lr(1e-3).progress(false));
  auto result = trainer.fit(pack_condition(x, one_hot_condition(labels, 2)));
  ASSERT_EQ(result.status, TrainResult::Status::Finished) << result.message;
  for (int64_t k = 0; k < 2; ++k) {
    auto s = gan->sample(4000, one_hot_condition(torch::full({1}, k, torch::kLong), 2));
    auto cov = mode_coverage(s, eight_gaussians_centers(), kEightGaussiansSigma);
    int64_t own = 0, other = 0, own_modes = 0;
    for (int64_t m = 0; m < 8; ++m) {
      const bool mine = (m >= 4) == (k == 1);
      (mine ? own : other) += cov.counts[m];
      if (mine && cov.counts[m] >= 0.25 * 4000 / 4) ++own_modes;
    }
    std::printf("cgan class %lld: own-half high-quality %lld, other half %lld, own modes hit %lld/4; %.1f s\n",
                static_cast<long long>(k), static_cast<long long>(own), static_cast<long long>(other),
                static_cast<long long>(own_modes), seconds_since(t0));
    EXPECT_GE(own_modes, 3) << "class " << k;
    EXPECT_LT(other, 0.02 * own) << "class " << k;
  }
}
