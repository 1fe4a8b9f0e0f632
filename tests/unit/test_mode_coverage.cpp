// Mode-coverage diagnostics on constructed sample sets with known answers.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/data/toy2d.h"
#include "physgen/eval/mode_coverage.h"

using namespace physgen;

TEST(ModeCoverage, CountsModesAndQuality) {
  seed_all(1);
  auto centers = eight_gaussians_centers();
  // 100 samples near each of modes 0..5 (well inside 3 sigma), 40 far-away junk samples.
  std::vector<torch::Tensor> parts;
  for (int k = 0; k < 6; ++k) parts.push_back(centers[k] + 0.01 * torch::randn({100, 2}, torch::kFloat64));
  parts.push_back(torch::full({40, 2}, 10.0, torch::kFloat64));
  auto cov = mode_coverage(torch::cat(parts), centers, kEightGaussiansSigma);
  EXPECT_EQ(cov.modes_hit, 6);
  EXPECT_EQ(cov.n_samples, 640);
  EXPECT_NEAR(cov.high_quality_fraction, 600.0 / 640.0, 1e-15);
  EXPECT_NEAR(cov.kl_to_uniform, std::log(8.0 / 6.0), 1e-12);
  for (int k = 0; k < 8; ++k) EXPECT_EQ(cov.counts[k], k < 6 ? 100 : 0);
  // A mode with too few samples (fewer than min_fraction of its fair share) is not hit.
  auto few = torch::cat({torch::cat(parts), centers[6].expand({5, 2})});
  EXPECT_EQ(mode_coverage(few, centers, kEightGaussiansSigma).modes_hit, 6);
  EXPECT_EQ(mode_coverage(few, centers, kEightGaussiansSigma, 3.0, 0.05).modes_hit, 7);
  // The real 8gaussians density hits every mode with ~99% high-quality samples.
  auto data = make_toy_density("8gaussians")->sample(4000, torch::kFloat64);
  auto full = mode_coverage(data, centers, kEightGaussiansSigma);
  EXPECT_EQ(full.modes_hit, 8);
  EXPECT_GT(full.high_quality_fraction, 0.98);  // 2D: P(r < 3 sigma) = 1 - e^{-4.5} = 0.989
  EXPECT_LT(full.kl_to_uniform, 0.01);
  EXPECT_THROW(mode_coverage(data, torch::zeros({8, 3}), 0.1), InvalidArgument);
}

TEST(ModeCoverage, MagnetizationBimodality) {
  seed_all(2);
  auto sign = 2 * torch::randint(0, 2, {4000}, torch::kLong).to(torch::kFloat64) - 1;
  auto two = 0.7 * sign + 0.1 * torch::randn({4000}, torch::kFloat64);
  auto r = magnetization_bimodality(two);
  EXPECT_TRUE(r.bimodal);
  EXPECT_EQ(r.peaks, 2);
  EXPECT_NEAR(r.fraction_positive, 0.5, 4 * r.fraction_positive_error);
  EXPECT_GT(r.bimodality_coefficient, 5.0 / 9.0);
  int64_t total = 0;
  for (auto c : r.histogram) total += c;
  EXPECT_EQ(total, 4000);
  // Collapsed onto one sign: not bimodal.
  auto one = two.abs();
  auto c = magnetization_bimodality(one);
  EXPECT_FALSE(c.bimodal);
  EXPECT_EQ(c.fraction_positive, 1.0);
  // A single Gaussian: one peak, coefficient below 5/9.
  auto g = magnetization_bimodality(torch::randn({4000}, torch::kFloat64));
  EXPECT_EQ(g.peaks, 1);
  EXPECT_LT(g.bimodality_coefficient, 5.0 / 9.0);
  EXPECT_FALSE(g.bimodal);
  // Ensembles (n, L, L) are reduced to their mean magnetisation.
  auto ens = (0.7 * sign).view({-1, 1, 1}).expand({4000, 4, 4}) + 0.1 * torch::randn({4000, 4, 4}, torch::kFloat64);
  EXPECT_TRUE(magnetization_bimodality(ens).bimodal);
}
