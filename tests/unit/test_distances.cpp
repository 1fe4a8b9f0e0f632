// Sliced Wasserstein distance: exact 1-D values and closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/eval/distances.h"

using namespace physgen;

TEST(Distances, Wasserstein1dExactValues) {
  // Q_x = 0 on [0, 1/2), 1 on [1/2, 1); Q_y = 0 on [0, 2/3), 3 on [2/3, 1):
  // W1 = 1/6 * 1 + 1/3 * 2 = 5/6, W2^2 = 1/6 + 4/3 = 3/2.
  auto x = torch::tensor({1.0, 0.0});
  auto y = torch::tensor({0.0, 3.0, 0.0});
  EXPECT_NEAR(wasserstein_1d(x, y, 1.0), 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(wasserstein_1d(x, y, 2.0), std::sqrt(1.5), 1e-12);
  EXPECT_NEAR(wasserstein_1d(y, x, 2.0), std::sqrt(1.5), 1e-12);
  // A shift c moves every quantile by c.
  auto z = torch::randn({100}, torch::kFloat64);
  EXPECT_NEAR(wasserstein_1d(z, z + 0.37, 2.0), 0.37, 1e-12);
  EXPECT_NEAR(wasserstein_1d(z, z.flip(0), 1.0), 0.0, 1e-12);
  EXPECT_THROW(wasserstein_1d(x, y, 0.5), InvalidArgument);
}

// Closed form for Gaussians in 1-D: W2^2(N(0, 1), N(m, s^2)) = m^2 + (1 - s)^2. Quantile
// samples x_i = Phi^{-1}((i + 1/2) / n) make the empirical value converge at O(log n / n).
TEST(Distances, SlicedWassersteinMatchesGaussianClosedFormIn1d) {
  const int64_t n = 20000;
  auto u = (torch::arange(n, torch::kFloat64) + 0.5) / n;
  auto x = std::sqrt(2.0) * torch::erfinv(2 * u - 1);
  const double m = 0.3, s = 1.5;
  auto y = m + s * x;
  const double exact = std::sqrt(m * m + (1 - s) * (1 - s));
  // In 1-D every direction is +-1, so the sliced distance is W2 itself.
  EXPECT_NEAR(sliced_wasserstein(x.unsqueeze(1), y.unsqueeze(1), 8), exact, 2e-3);
  EXPECT_NEAR(wasserstein_1d(x, y), exact, 2e-3);
  // Unequal sizes: the quantile grid is merged.
  EXPECT_NEAR(wasserstein_1d(x, y.index({torch::indexing::Slice(0, n, 2)})), exact, 2e-3);
}

// For samples x and x + delta, SW_2^2 = E_theta (theta . delta)^2 = |delta|^2 / d. With K random
// directions the estimate has relative standard error sqrt(Var((theta.e)^2) / K) /
// E(theta.e)^2 = sqrt(2 (d - 1) / (d + 2) / K) for d dimensions.
TEST(Distances, SlicedWassersteinOfAShiftIsExact) {
  seed_all(3);
  const int64_t d = 2, K = 4000;
  auto x = torch::randn({500, d}, torch::kFloat64);
  auto delta = torch::tensor({0.6, -0.8}, torch::kFloat64);  // |delta| = 1
  const double sw2 = std::pow(sliced_wasserstein(x, x + delta, K, 2.0, 7), 2);
  const double rel_se = std::sqrt(2.0 * (d - 1) / (d + 2) / K);
  EXPECT_NEAR(sw2, 0.5, 4 * rel_se * 0.5);
  // Deterministic in the seed; the global RNG is untouched.
  EXPECT_EQ(sliced_wasserstein(x, x + delta, 64, 2.0, 1),
            sliced_wasserstein(x, x + delta, 64, 2.0, 1));
  EXPECT_NE(sliced_wasserstein(x, x + delta, 64, 2.0, 1),
            sliced_wasserstein(x, x + delta, 64, 2.0, 2));
  EXPECT_DOUBLE_EQ(sliced_wasserstein(x, x, 16), 0.0);
  EXPECT_THROW(sliced_wasserstein(x, torch::zeros({3, 3}), 16), InvalidArgument);
}
