// IsingSampler: API contract, exact deterministic limits, reproducibility.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/mcmc/ising.h"

namespace physgen {
namespace {

TEST(IsingSampler, RejectsInvalidArguments) {
  try {
    IsingSampler(IsingParams{8, 0.4}, "glauber", 4, 1);
    FAIL() << "unknown algorithm accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("metropolis|heatbath|wolff"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(IsingSampler(IsingParams{8, 0.4, 0.1}, "wolff", 4, 1), InvalidArgument);
  EXPECT_THROW(IsingSampler(IsingParams{8, 0.4, 0.0, -1.0}, "wolff", 4, 1), InvalidArgument);
  EXPECT_THROW(IsingSampler(IsingParams{8, 0.4}, "metropolis", 0, 1), InvalidArgument);
  EXPECT_THROW(IsingSampler(IsingParams{1, 0.4}, "metropolis", 4, 1), InvalidArgument);
  IsingSampler s(IsingParams{8, 0.4}, "heatbath", 4, 1);
  EXPECT_THROW(s.update(-1), InvalidArgument);
  EXPECT_THROW(s.set_state(torch::ones({3, 8, 8})), InvalidArgument);
  EXPECT_THROW(s.set_state(torch::zeros({4, 8, 8})), InvalidArgument);
  EXPECT_EQ(IsingSampler::algorithms(),
            (std::vector<std::string>{"metropolis", "heatbath", "wolff"}));
}

TEST(IsingSampler, StateRoundTripsAndIsHot) {
  for (const auto& algo : IsingSampler::algorithms()) {
    IsingSampler s(IsingParams{6, 0.3}, algo, 70, 5);  // 70: a padded second word
    auto x = s.state();
    ASSERT_EQ(x.sizes(), (std::vector<int64_t>{70, 6, 6}));
    ASSERT_EQ(x.dtype(), torch::kInt8);
    EXPECT_TRUE(torch::logical_or(x == 1, x == -1).all().item<bool>());
    // hot start: roughly half the spins up (70*36 spins, sd ~ 0.01)
    EXPECT_NEAR(x.to(torch::kFloat64).mean().item<double>(), 0.0, 0.06) << algo;
    auto y = torch::randint(0, 2, {70, 6, 6}, torch::kInt64) * 2 - 1;
    s.set_state(y.to(torch::kFloat32));
    EXPECT_TRUE(torch::equal(s.state(), y.to(torch::kInt8))) << algo;
  }
}

TEST(IsingSampler, ReproducibleAtFixedSeedForAnyThreadCount) {
  const int threads = at::get_num_threads();
  for (const auto& algo : IsingSampler::algorithms()) {
    auto run = [&](uint64_t seed, int nthreads) {
      at::set_num_threads(nthreads);
      IsingSampler s(IsingParams{8, 0.42}, algo, 200, seed);
      s.update(7);
      return s.state();
    };
    auto a = run(11, 1), b = run(11, 2), c = run(12, 1);
    EXPECT_TRUE(torch::equal(a, b)) << algo;
    EXPECT_FALSE(torch::equal(a, c)) << algo;
  }
  at::set_num_threads(threads);
}

TEST(IsingSampler, DeterministicLimits) {
  const int64_t L = 6, C = 100;
  auto up = torch::ones({C, L, L}, torch::kInt8);
  // beta = 0 Metropolis accepts every flip: one sweep negates every configuration.
  IsingSampler m0(IsingParams{L, 0.0}, "metropolis", C, 3);
  auto before = m0.state();
  m0.update(1);
  EXPECT_TRUE(torch::equal(m0.state(), -before));
  EXPECT_DOUBLE_EQ(m0.info()["acceptance"].get<double>(), 1.0);
  // Very low temperature from the ordered state: nothing ever flips.
  for (const std::string algo : {"metropolis", "heatbath"}) {
    IsingSampler cold(IsingParams{L, 30.0}, algo, C, 3);
    cold.set_state(up);
    cold.update(5);
    EXPECT_TRUE(torch::equal(cold.state(), up)) << algo;
    EXPECT_EQ(cold.info()["acceptance"].get<double>(), 0.0) << algo;
  }
  // Wolff at very low temperature: the cluster is the whole ordered lattice.
  IsingSampler w(IsingParams{L, 30.0}, "wolff", C, 3);
  EXPECT_EQ(w.clusters_per_sweep(), 0);  // calibrating
  w.set_state(up);
  w.update(1);
  EXPECT_TRUE(torch::equal(w.state(), -up));
  EXPECT_DOUBLE_EQ(w.info()["mean_cluster_size"].get<double>(), static_cast<double>(L * L));
  w.update(IsingSampler::kWolffCalibrationSweeps);  // 19 calibrating + 1 fixed
  EXPECT_EQ(w.clusters_per_sweep(), 1);
  EXPECT_TRUE(torch::equal(w.state(), -up));  // 21 whole-lattice flips
  w.set_clusters_per_sweep(3).update(1);
  EXPECT_TRUE(torch::equal(w.state(), up));
  EXPECT_THROW(w.set_clusters_per_sweep(0), InvalidArgument);
  EXPECT_THROW(m0.set_clusters_per_sweep(2), InvalidArgument);
  // Wolff at beta = 0: single-site clusters, V of them per sweep.
  IsingSampler w0(IsingParams{L, 0.0}, "wolff", C, 3);
  w0.update(IsingSampler::kWolffCalibrationSweeps + 2);
  EXPECT_EQ(w0.clusters_per_sweep(), L * L);
  EXPECT_DOUBLE_EQ(w0.info()["mean_cluster_size"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(w0.info()["flipped_per_sweep"].get<double>(), static_cast<double>(L * L));
}

TEST(IsingSampler, InfoDescribesTheRun) {
  IsingSampler s(IsingParams{4, 0.44, 0.1}, "metropolis", 10, 1);
  s.update(3);
  auto j = s.info();
  EXPECT_EQ(j["algorithm"], "metropolis");
  EXPECT_EQ(j["chains"], 10);
  EXPECT_EQ(j["sweeps"], 3);
  EXPECT_EQ(j["L"], 4);
  EXPECT_GT(j["acceptance"].get<double>(), 0.0);
  EXPECT_LT(j["acceptance"].get<double>(), 1.0);
  EXPECT_EQ(s.sweeps(), 3);
}

}  // namespace
}  // namespace physgen
