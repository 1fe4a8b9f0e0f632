// The exponential-family (pseudo-likelihood) fit recovers the couplings that generated an
// MCMC ensemble: m2 and lambda of phi^4 (HMC) and beta of the Ising model (heat bath), within
// 4 jackknife standard errors. Blocks hold whole chains (chain-major ensembles), so they are
// independent. Each test also checks its resolution: a 5% wrong coupling lies outside 4 errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/simulate.h"
#include "physgen/models/ebm/exponential_family.h"

using namespace physgen;

namespace {
void expect_recovered(const FittedCoupling& c, double exact) {
  std::printf("  %-7s %.5f +- %.5f (exact %.5f, z = %.2f)\n", c.name.c_str(), c.value, c.error, exact,
              (c.value - exact) / c.error);
  EXPECT_GT(c.error, 0.0) << c.name;
  EXPECT_LT(std::abs(c.value - exact), 4 * c.error) << c.name;
  EXPECT_GT(0.05 * std::abs(exact), 4 * c.error) << c.name << ": too imprecise to resolve 5%";
}
}  // namespace

TEST(CouplingFit, RecoversPhi4MassAndCoupling) {
  seed_all(101);
  const Phi4Params params{6, -4.0, 8.0};
  auto hmc = make_phi4_hmc(params, 64, HmcOptions().step_size(0.1).n_steps(10), torch::kCPU, torch::kFloat64,
                           Phi4Start::Cold);
  RecordOptions rec;
  rec.therm = 1000;  // from a cold start; 200-500 left ~2-sigma drifts in both couplings (measured)
  rec.samples = 50;
  rec.every = 2;
  rec.progress = false;
  auto ensemble = record_chain(*hmc, rec);
  auto fit = fit_couplings(ensemble, "phi4", CouplingFitOptions().n_blocks(32));
  std::printf("phi4 L=6 (m2 %.1f, lambda %.1f): %lld configs, HMC acceptance %.3f, converged %d in %lld its\n",
              params.m2, params.lambda, static_cast<long long>(fit.n_configurations),
              hmc->info()["acceptance"].get<double>(), fit.converged, static_cast<long long>(fit.iterations));
  ASSERT_TRUE(fit.converged) << fit.message;
  expect_recovered(fit.get("m2"), params.m2);
  expect_recovered(fit.get("lambda"), params.lambda);
}

TEST(CouplingFit, RecoversIsingBeta) {
  for (double beta : {0.3, ising_beta_critical()}) {
    IsingSampler sampler(IsingParams{8, beta}, "heatbath", 64, 2024);
    RecordOptions rec;
    rec.therm = 200;
    rec.samples = 50;
    rec.every = 2;
    rec.progress = false;
    auto ensemble = record_chain(sampler, rec);
    auto fit = fit_couplings(ensemble, "ising", CouplingFitOptions().n_blocks(32).fit_field(true));
    std::printf("ising L=8 beta %.4f: %lld configs\n", beta, static_cast<long long>(fit.n_configurations));
    ASSERT_TRUE(fit.converged) << fit.message;
    expect_recovered(fit.get("beta"), beta);
    const auto& bh = fit.get("beta_h");
    EXPECT_LT(std::abs(bh.value), 4 * bh.error) << "zero field";
  }
}
