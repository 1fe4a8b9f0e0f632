// Ising MCMC against exact answers. Errors come from the spread over many
// independent chains (jackknife over chains, which for a plain mean is the
// standard error of the per-chain means); every comparison is |x - exact| < 4 sigma,
// with a check that sigma is small enough for the test to have power.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "physgen/lattice/ising_exact.h"
#include "physgen/mcmc/ising.h"

namespace physgen {
namespace {

// Per-chain sums of the per-site observables over the measured configurations.
struct ChainSums {
  enum { kE, kE2, kM, kAbsM, kM2, kM4, kNN, kN };
  int64_t chains = 0, count = 0;
  std::vector<double> sum;  // [chain * kN + observable]

  explicit ChainSums(int64_t c) : chains(c), sum(static_cast<size_t>(c * kN), 0.0) {}

  void add(const torch::Tensor& state, const IsingParams& p) {
    const int64_t L = p.L, V = L * L;
    const int8_t* s = state.data_ptr<int8_t>();
    for (int64_t c = 0; c < chains; ++c) {
      const int8_t* x = s + c * V;
      int64_t mag = 0, bonds = 0, nn = 0;
      for (int64_t y = 0; y < L; ++y) {
        for (int64_t xx = 0; xx < L; ++xx) {
          const int si = x[y * L + xx];
          mag += si;
          const int right = x[y * L + (xx + 1) % L], down = x[((y + 1) % L) * L + xx];
          bonds += si * (right + down);
          nn += si * right;
        }
      }
      const double m = static_cast<double>(mag) / V;
      const double e = (-p.J * bonds - p.h * mag) / V;
      double* o = &sum[static_cast<size_t>(c * kN)];
      o[kE] += e;
      o[kE2] += e * e;
      o[kM] += m;
      o[kAbsM] += std::fabs(m);
      o[kM2] += m * m;
      o[kM4] += m * m * m * m;
      o[kNN] += static_cast<double>(nn) / V;
    }
    ++count;
  }

  // Estimate of f(means) and its jackknife error over chains.
  struct Estimate {
    double value, sigma;
  };
  Estimate estimate(const std::function<double(const double*)>& f) const {
    std::vector<double> total(kN, 0.0);
    for (int64_t c = 0; c < chains; ++c)
      for (int k = 0; k < kN; ++k) total[k] += sum[static_cast<size_t>(c * kN + k)];
    std::vector<double> mean(kN);
    for (int k = 0; k < kN; ++k) mean[k] = total[k] / (static_cast<double>(chains) * count);
    const double full = f(mean.data());
    std::vector<double> jk(static_cast<size_t>(chains));
    double jk_mean = 0;
    for (int64_t c = 0; c < chains; ++c) {
      std::vector<double> loo(kN);
      for (int k = 0; k < kN; ++k)
        loo[k] = (total[k] - sum[static_cast<size_t>(c * kN + k)]) /
                 (static_cast<double>(chains - 1) * count);
      jk[static_cast<size_t>(c)] = f(loo.data());
      jk_mean += jk[static_cast<size_t>(c)] / chains;
    }
    double var = 0;
    for (double v : jk) var += (v - jk_mean) * (v - jk_mean);
    var *= static_cast<double>(chains - 1) / chains;
    return {full, std::sqrt(var)};
  }
};

ChainSums run_chains(IsingSampler& sampler, int64_t thermalize, int64_t measurements,
                     int64_t thin) {
  ChainSums sums(sampler.chains());
  sampler.update(thermalize);
  for (int64_t i = 0; i < measurements; ++i) {
    sampler.update(thin);
    sums.add(sampler.state(), sampler.params());
  }
  return sums;
}

// |estimate - exact| < 4 sigma, sigma < max_rel * |exact|, and a wrong value
// `decoy` (an exact answer at a nearby temperature, or NAN to skip) would fail.
void expect_matches(const std::string& what, ChainSums::Estimate est, double exact, double max_rel,
                    double decoy = NAN) {
  SCOPED_TRACE(what);
  std::printf("  %-14s %.6f +- %.6f (exact %.6f, %+.1f sigma, rel. sigma %.2g)\n", what.c_str(),
              est.value, est.sigma, exact, (est.value - exact) / est.sigma,
              est.sigma / std::fabs(exact));
  EXPECT_LT(std::fabs(est.value - exact), 4 * est.sigma)
      << "estimate " << est.value << " +- " << est.sigma << ", exact " << exact;
  EXPECT_LT(est.sigma, max_rel * std::fabs(exact)) << "error bar too large: " << est.sigma;
  if (!std::isnan(decoy)) {
    EXPECT_GT(std::fabs(est.value - decoy), 4 * est.sigma)
        << "cannot tell exact " << exact << " from decoy " << decoy;
  }
}

struct Case {
  std::string algorithm;
  IsingParams params;
  int64_t chains, thermalize, measurements, thin;
};

void check_against_enumeration(const Case& k) {
  SCOPED_TRACE(k.algorithm + " beta=" + std::to_string(k.params.beta) +
               " h=" + std::to_string(k.params.h));
  const IsingExact ex = ising_exact_enumeration(k.params);
  IsingParams shifted = k.params;
  shifted.beta += 0.02;
  const IsingExact decoy = ising_exact_enumeration(shifted);
  std::printf("%s L=%lld beta=%g h=%g\n", k.algorithm.c_str(), static_cast<long long>(k.params.L),
              k.params.beta, k.params.h);
  IsingSampler sampler(k.params, k.algorithm, k.chains, 20240611);
  const ChainSums s = run_chains(sampler, k.thermalize, k.measurements, k.thin);
  const double V = static_cast<double>(k.params.volume()), beta = k.params.beta;
  using O = ChainSums;
  expect_matches("energy", s.estimate([](const double* m) { return m[O::kE]; }), ex.energy, 0.01,
                 decoy.energy);
  expect_matches("|m|", s.estimate([](const double* m) { return m[O::kAbsM]; }),
                 ex.abs_magnetization, 0.01);
  expect_matches("chi", s.estimate([&](const double* m) { return V * m[O::kM2]; }),
                 ex.susceptibility, 0.01);
  expect_matches("binder", s.estimate([](const double* m) {
    return 1 - m[O::kM4] / (3 * m[O::kM2] * m[O::kM2]);
  }),
                 ex.binder, 0.01);
  expect_matches("specific heat", s.estimate([&](const double* m) {
    return beta * beta * V * (m[O::kE2] - m[O::kE] * m[O::kE]);
  }),
                 ex.specific_heat, 0.02);
  if (k.params.h != 0.0) {
    expect_matches("m", s.estimate([](const double* m) { return m[O::kM]; }), ex.magnetization,
                   0.02);
  }
}

TEST(IsingMcmc, MetropolisMatchesEnumerationL4) {
  for (double beta : {0.44, 0.3})
    check_against_enumeration({"metropolis", {4, beta}, 256, 500, 10000, 1});
  check_against_enumeration({"metropolis", {4, 0.44, 0.1}, 256, 500, 10000, 1});
}

TEST(IsingMcmc, HeatbathMatchesEnumerationL4) {
  for (double beta : {0.44, 0.3})
    check_against_enumeration({"heatbath", {4, beta}, 256, 500, 10000, 1});
  check_against_enumeration({"heatbath", {4, 0.44, 0.1}, 256, 500, 10000, 1});
}

TEST(IsingMcmc, WolffMatchesEnumerationL4) {
  for (double beta : {0.44, 0.3})
    check_against_enumeration({"wolff", {4, beta}, 256, 200, 10000, 1});
}

// Lattices too large to enumerate (and with L odd, and rows long enough for the
// kernels' several-sites-at-once path): energy and specific heat against
// Kaufman's exact solution at beta_c.
TEST(IsingMcmc, AllAlgorithmsMatchKaufmanAtCriticality) {
  const double bc = ising_beta_critical();
  for (int64_t L : {8, 11}) {
    const IsingParams p{L, bc};
    const IsingExact ex = ising_exact_kaufman(p);
    const IsingExact decoy = ising_exact_kaufman(IsingParams{L, bc + 0.02});
    for (const auto& algo : IsingSampler::algorithms()) {
      SCOPED_TRACE(algo + " L=" + std::to_string(L));
      std::printf("%s L=%lld beta_c\n", algo.c_str(), static_cast<long long>(L));
      IsingSampler sampler(p, algo, 128, 99);
      const ChainSums s = run_chains(sampler, 300, 3000, 2);
      const double V = static_cast<double>(L * L);
      using O = ChainSums;
      expect_matches("energy", s.estimate([](const double* m) { return m[O::kE]; }), ex.energy,
                     0.01, decoy.energy);
      expect_matches("specific heat", s.estimate([&](const double* m) {
        return bc * bc * V * (m[O::kE2] - m[O::kE] * m[O::kE]);
      }),
                     ex.specific_heat, 0.03);
    }
  }
}

// One sweep from the all-up state: the even sublattice is updated first, each
// site with n = 0 anti-aligned neighbours, so its flip rate is exactly
// p(n = 0, s = +1). Tests the per-lane Bernoulli(p) words directly.
TEST(IsingMcmc, MultispinFlipRateIsExactOnFirstHalfSweep) {
  struct Rate {
    std::string algorithm;
    IsingParams params;
    double p;
  };
  const auto metro = [](double beta, double h) { return std::exp(-beta * (8 + 2 * h)); };
  const auto heat = [](double beta, double h) { return 1 / (1 + std::exp(beta * (8 + 2 * h))); };
  const std::vector<Rate> cases = {
      {"metropolis", {8, 0.1, 0.05}, metro(0.1, 0.05)},
      {"metropolis", {8, 0.0125, 0.0}, metro(0.0125, 0.0)},
      {"heatbath", {8, 0.05, 0.3}, heat(0.05, 0.3)},
      {"heatbath", {8, 0.02, -0.5}, heat(0.02, -0.5)},
  };
  const int64_t C = 4096, L = 8;
  for (const auto& c : cases) {
    IsingSampler s(c.params, c.algorithm, C, 77);
    s.set_state(torch::ones({C, L, L}, torch::kInt8));
    s.update(1);
    auto x = s.state();
    auto even = (torch::arange(L).unsqueeze(1) + torch::arange(L)).remainder(2) == 0;
    const double n = static_cast<double>(C) * L * L / 2;
    const double rate = (x == -1).logical_and(even).sum().item<double>() / n;
    const double sigma = std::sqrt(c.p * (1 - c.p) / n);
    EXPECT_LT(std::fabs(rate - c.p), 4 * sigma)
        << c.algorithm << " beta=" << c.params.beta << ": rate " << rate << " vs " << c.p;
  }
}

// At beta = 0 heat-bath spins are fresh fair coins after every sweep: zero mean,
// no nearest-neighbour correlation, no correlation between chains sharing a word.
TEST(IsingMcmc, HeatbathAtInfiniteTemperatureGivesIidFairSpins) {
  const int64_t C = 256, L = 8, sweeps = 200;
  IsingSampler s(IsingParams{L, 0.0, 0.7}, "heatbath", C, 5);
  const double n = static_cast<double>(C) * sweeps * L * L;
  double mean = 0, nn = 0, lane = 0;
  for (int64_t t = 0; t < sweeps; ++t) {
    s.update(1);
    auto x = s.state().to(torch::kFloat64);
    mean += x.sum().item<double>();
    nn += (x * torch::roll(x, {1}, {2})).sum().item<double>();
    lane += (x.slice(0, 0, C - 1) * x.slice(0, 1, C)).sum().item<double>();
  }
  const double sigma = 1 / std::sqrt(n);
  EXPECT_LT(std::fabs(mean / n), 4 * sigma);
  EXPECT_LT(std::fabs(nn / n), 4 * sigma);
  EXPECT_LT(std::fabs(lane / (n * (C - 1) / C)), 4 * sigma);
  EXPECT_NEAR(s.info()["acceptance"].get<double>(), 0.5, 4 * 0.5 / std::sqrt(n));
}

}  // namespace
}  // namespace physgen
