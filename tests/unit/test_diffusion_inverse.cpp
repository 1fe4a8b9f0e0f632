// Inverse problems with an exact Gaussian prior (no training): diffusion denoising samples the
// exact Gaussian posterior; RePaint inpainting keeps the known region and approaches the exact
// conditional distribution of the masked one.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "support/diffusion_test_util.h"
#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/models/diffusion/inverse.h"

using namespace physgen;
using physgen_test::Gaussian;
using physgen_test::exact_epsilon;
using physgen_test::kMaxZ;
using physgen_test::moment_max_z;

namespace {



}  // namespace

// y = x + s n with x ~ N(mu, C): the posterior is N(m, P), P = (C^-1 + I / s^2)^-1,
// m = P (C^-1 mu + y / s^2). With s a level of the schedule the diffusion posterior sampler is
// exact up to the ancestral sampler's own discretisation (see test_diffusion_samplers.cpp).
TEST(DiffusionInverse, DenoisingSamplesTheExactPosterior) {
  const Gaussian g = physgen_test::test_gaussian();
  NoiseSchedule s(NoiseScheduleOptions().name("linear"));
  const int64_t level = 300;
  const double sigma = std::sqrt((1 - s.alpha_bar(level)) / s.alpha_bar(level));
  EXPECT_EQ(noise_level_step(s, sigma), level);
  const double below = std::sqrt((1 - s.alpha_bar(level - 1)) / s.alpha_bar(level - 1));
  EXPECT_EQ(noise_level_step(s, below * 1.0001), level);
  EXPECT_EQ(noise_level_step(s, below), level - 1);
  std::printf("noise level of step %lld: %.4f\n", static_cast<long long>(level), sigma);
  auto I = torch::eye(2, torch::kFloat64);
  auto P = torch::linalg_inv(torch::linalg_inv(g.cov) + I / (sigma * sigma));
  seed_all(30);
  // One observation, many posterior draws: moments against the exact posterior.
  auto y = torch::tensor({{1.2, -0.9}}, torch::kFloat64);
  auto m = P.matmul(torch::linalg_solve(g.cov, g.mu) + y[0] / (sigma * sigma));
  const int64_t n = 10000;
  auto draws =
      diffusion_denoise(exact_epsilon(g, s), s, y.expand({n, 2}).to(torch::kFloat32), sigma);
  EXPECT_LT(moment_max_z(draws, m, P, "denoising posterior"), kMaxZ);
  // Many truths: a posterior draw and the truth are independent given y, so the mean squared
  // error per coordinate is 2 P_jj (against s^2 for the noisy field itself).
  auto x = g.sample(n);
  auto noisy = x + sigma * torch::randn_like(x);
  auto est = diffusion_denoise(exact_epsilon(g, s), s, noisy.to(torch::kFloat32), sigma);
  for (int64_t j = 0; j < 2; ++j) {
    auto e2 = (est.to(torch::kFloat64).select(1, j) - x.select(1, j)).square();
    const double mse = e2.mean().item<double>();
    const double se = e2.std().item<double>() / std::sqrt(static_cast<double>(n));
    const double exact = 2 * P[j][j].item<double>();
    std::printf("coordinate %lld: mse %.4f +- %.4f, exact 2 P_jj = %.4f, noisy %.4f\n",
                static_cast<long long>(j), mse, se, exact, sigma * sigma);
    EXPECT_NEAR(mse, exact, 4 * se);
  }
  const double rmse = reconstruction_rmse(est, x);
  EXPECT_LT(rmse, reconstruction_rmse(noisy, x));
  EXPECT_THROW(noise_level_step(s, 1e3), InvalidArgument);
}

// x ~ N(0, C), C = [[1, r], [r, 1]]: given x_0 = a, x_1 ~ N(r a, 1 - r^2). RePaint is an
// approximate conditional sampler (harmonisation by resampling, not exact): with 10
// resamplings of 10-step blocks the residual variance is 7% above 1 - r^2 (measured; the
// statistical error is 2%), without resampling it is twice too large. The test asserts the
// known region exactly, no bias of the residual mean (4 standard errors), the variance within
// 12% with resampling, and at least 1.5x too large without.
TEST(DiffusionInverse, RepaintKeepsTheKnownRegionAndFillsTheConditional) {
  const double r = 0.9;
  const Gaussian g(torch::zeros({2}, torch::kFloat64),
                   torch::tensor({{1.0, r}, {r, 1.0}}, torch::kFloat64));
  NoiseSchedule s(NoiseScheduleOptions().name("linear").steps(200));
  seed_all(31);
  const int64_t n = 4000;
  auto truth = g.sample(n);
  auto mask = torch::tensor({{1.0, 0.0}});
  for (int64_t resample : {1, 10}) {
    auto filled = repaint_inpaint(exact_epsilon(g, s), s, truth.to(torch::kFloat32), mask,
                                  InpaintOptions().resample(resample).jump(10));
    EXPECT_TRUE(torch::equal(filled.select(1, 0), truth.select(1, 0).to(torch::kFloat32)));
    // Residual of the filled coordinate against its exact conditional mean r a: variance 1 - r^2.
    auto resid = filled.to(torch::kFloat64).select(1, 1) - r * truth.select(1, 0);
    const double mean = resid.mean().item<double>(), var = resid.var().item<double>();
    const double mse = reconstruction_rmse(filled, truth, mask.neg() + 1);
    std::printf(
        "repaint resample %lld: residual mean %.4f var %.4f (exact 0, %.4f); rmse %.4f "
        "(exact conditional draws %.4f)\n",
        static_cast<long long>(resample), mean, var, 1 - r * r, mse, std::sqrt(2 * (1 - r * r)));
    EXPECT_NEAR(mean, 0.0, 4 * std::sqrt(var / n)) << resample;
    if (resample == 1) {
      EXPECT_GT(var, 1.5 * (1 - r * r));
    } else {
      EXPECT_NEAR(var, 1 - r * r, 0.12 * (1 - r * r));
    }
  }
}
