// Langevin negatives of a known quadratic energy U(x) = (x - mu)^T A (x - mu) / 2, whose
// distribution is N(mu, A^{-1}):
//  * ULA at step eps is exactly Gaussian with mean mu and covariance (A (I - eps A / 2))^{-1};
//  * MALA at a step where that bias is large reproduces A^{-1};
//  * persistent chains in a replay buffer advanced a few MALA steps per draw converge to it.
// Chains are independent, so sample means and covariances carry iid errors:
//   var(mean_i) = C_ii / n,   var(C_ij estimate) = (C_ii C_jj + C_ij^2) / n.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/models/ebm/langevin.h"
#include "support/test_util.h"

using namespace physgen;

namespace {

using physgen_test::kF64;

struct Quadratic {
  torch::Tensor A = torch::tensor({{2.0, 0.8}, {0.8, 1.0}}, kF64);
  torch::Tensor mu = torch::tensor({1.0, -0.5}, kF64);
  EnergyFn energy() const {
    return [this](const torch::Tensor& x) {
      auto d = x - mu;
      return 0.5 * (d.mm(A) * d).sum(1);
    };
  }
};

/// Max over entries of |estimate - exact| / error for the mean and the covariance of x (n, 2).
double max_z(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& cov) {
  const double n = static_cast<double>(x.size(0));
  auto m = x.mean(0);
  auto d = x - m;
  auto c = d.t().mm(d) / (n - 1);
  auto z_mean = (m - mean).abs() / (cov.diagonal() / n).sqrt();
  auto var_c = (cov.diagonal().unsqueeze(1) * cov.diagonal().unsqueeze(0) + cov.pow(2)) / n;
  auto z_cov = (c - cov).abs() / var_c.sqrt();
  return std::max(z_mean.max().item<double>(), z_cov.max().item<double>());
}


}  // namespace

TEST(Langevin, UlaMatchesItsExactStationaryGaussian) {
  physgen_test::SingleThread one;
  seed_all(11);
  Quadratic q;
  const double eps = 0.2;
  auto r = langevin(q.energy(), torch::randn({20000, 2}, kF64), LangevinOptions().step_size(eps).n_steps(200));
  auto cov_ula = torch::linalg_inv(q.A.mm(torch::eye(2, kF64) - 0.5 * eps * q.A));
  auto cov_exact = torch::linalg_inv(q.A);
  const double z = max_z(r.x, q.mu, cov_ula), z_biased = max_z(r.x, q.mu, cov_exact);
  std::printf("ULA eps %.2f: max z vs ULA-exact %.2f, vs the target %.2f\n", eps, z, z_biased);
  EXPECT_LT(z, 4.0);
  EXPECT_GT(z_biased, 8.0);  // the test resolves the O(eps) bias
  EXPECT_EQ(r.acceptance, 1.0);
}

TEST(Langevin, MalaReproducesTheTargetAtALargeStep) {
  physgen_test::SingleThread one;
  seed_all(12);
  Quadratic q;
  auto r = langevin(q.energy(), torch::randn({20000, 2}, kF64),
                    LangevinOptions().method("mala").step_size(0.2).n_steps(200));
  const double z = max_z(r.x, q.mu, torch::linalg_inv(q.A));
  std::printf("MALA eps 0.20: acceptance %.3f, max z %.2f\n", r.acceptance, z);
  EXPECT_LT(z, 4.0);
  EXPECT_GT(r.acceptance, 0.5);
  EXPECT_LT(r.acceptance, 1.0);
}

TEST(Langevin, PersistentChainsConvergeToTheTarget) {
  physgen_test::SingleThread one;
  seed_all(13);
  Quadratic q;
  ReplayBuffer buffer(5000, {2}, /*reinit_prob=*/0.0, "normal", 3.0, kF64);
  auto opts = LangevinOptions().method("mala").step_size(0.2).n_steps(5);
  for (int round = 0; round < 600; ++round) {
    auto [x, idx] = buffer.draw(500);
    buffer.update(idx, langevin(q.energy(), x, opts).x);
  }
  // Each entry is an independent chain that ran ~ 600 * 500 * 5 / 5000 = 300 MALA steps.
  const double z = max_z(buffer.states(), q.mu, torch::linalg_inv(q.A));
  std::printf("replay buffer: max z %.2f\n", z);
  EXPECT_LT(z, 4.0);
}
