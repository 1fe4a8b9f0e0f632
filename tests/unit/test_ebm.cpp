// Energy-based models: exponential-family statistics against the lattice actions, the
// pseudo-likelihood against closed forms, the one-step jackknife against full refits, the
// maximum-likelihood gradient identity, translation invariance of the lattice energy,
// replay buffer persistence.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/models/ebm/ebm.h"
#include "physgen/models/ebm/exponential_family.h"
#include "physgen/models/ebm/langevin.h"
#include "support/test_util.h"

using namespace physgen;

namespace {
using physgen_test::kF64;
constexpr double kPi = 3.14159265358979323846;

torch::Tensor random_spins(int64_t n, int64_t L) {
  return (2 * torch::randint(0, 2, {n, L, L}, torch::kLong) - 1).to(torch::kInt8);
}
}  // namespace

TEST(ExponentialFamily, Phi4StatisticsReproduceTheAction) {
  seed_all(1);
  auto phi = torch::randn({5, 6, 6}, kF64);
  const double m2 = -1.3, lambda = 0.7;
  auto stats = phi4_statistics(phi);
  auto u = stats.mv(torch::tensor({1.0, m2, lambda}, kF64));
  Phi4Action action(Phi4Params{6, m2, lambda});
  EXPECT_TRUE(torch::allclose(u, action.action(phi), 1e-13, 1e-12));
  Phi4FamilyEnergy fam(m2, lambda);
  fam->to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(fam->forward(phi), action.action(phi), 1e-6, 1e-6));  // float32 parameters
}

TEST(ExponentialFamily, IsingStatisticsReproduceTheAction) {
  seed_all(2);
  auto s = random_spins(7, 5);
  auto stats = ising_statistics(s);
  IsingModel model(IsingParams{5, 0.37, 0.21});
  auto expected = model.action(s);
  auto u = -0.37 * (stats.select(1, 0) + 0.21 * stats.select(1, 1));
  EXPECT_TRUE(torch::allclose(u, expected, 1e-13, 1e-12));
}

// lambda = 0: the conditional of a site is Gaussian, log Z = (1/2) log(pi/a) + h^2/a, a = 4 + m2.
TEST(ExponentialFamily, Phi4PseudoLikelihoodMatchesGaussianClosedForm) {
  seed_all(3);
  auto phi = 0.6 * torch::randn({20, 4, 4}, kF64);
  for (double m2 : {1.5, -2.0}) {
    const double a = 4 + m2;
    auto h = torch::roll(phi, {1}, {1}) + torch::roll(phi, {-1}, {1}) + torch::roll(phi, {1}, {2}) +
             torch::roll(phi, {-1}, {2});
    auto exact = (-(a * phi.pow(2) - 2 * h * phi) - (0.5 * std::log(kPi / a) + h.pow(2) / a)).mean().item<double>();
    EXPECT_NEAR(phi4_log_pseudo_likelihood(phi, m2, 0.0, 512), exact, 1e-10) << "m2 = " << m2;
  }
}

TEST(ExponentialFamily, IsingPseudoLikelihoodMatchesExplicitSum) {
  seed_all(4);
  auto s = random_spins(3, 3);
  const double beta = 0.4, B = -0.15;
  double total = 0;
  auto a = s.accessor<int8_t, 3>();
  for (int n = 0; n < 3; ++n)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        const double h = a[n][(i + 1) % 3][j] + a[n][(i + 2) % 3][j] + a[n][i][(j + 1) % 3] + a[n][i][(j + 2) % 3];
        const double si = a[n][i][j];
        total += beta * si * h + B * si - std::log(2 * std::cosh(beta * h + B));
      }
  EXPECT_NEAR(ising_log_pseudo_likelihood(s, beta, B), total / 27, 1e-13);
}

// The fit maximises the pseudo-likelihood (zero gradient: nearby points are lower), lands near
// the generating couplings, and the one-step jackknife agrees with full refits per block.
TEST(ExponentialFamily, FitIsAMaximumAndOneStepJackknifeMatchesRefit) {
  seed_all(5);
  // A small phi^4 ensemble (independent chains, so blocks of configurations are independent).
  auto hmc = make_phi4_hmc(Phi4Params{4, -1.0, 1.0}, 200, HmcOptions().step_size(0.2).n_steps(5),
                          torch::kCPU, torch::kFloat64, Phi4Start::Cold);
  hmc->update(300);
  auto phi = hmc->state();
  auto fit = fit_couplings(phi, "phi4", CouplingFitOptions().n_blocks(10));
  ASSERT_TRUE(fit.converged) << fit.message;
  const double m2 = fit.get("m2").value, lam = fit.get("lambda").value;
  const double best = phi4_log_pseudo_likelihood(phi, m2, lam);
  EXPECT_LT(std::abs(m2 + 1.0), 5 * fit.get("m2").error);
  EXPECT_LT(std::abs(lam - 1.0), 5 * fit.get("lambda").error);
  EXPECT_NEAR(best, fit.log_pseudo_likelihood, 1e-12);
  for (double dm : {-1e-3, 1e-3})
    for (double dl : {-1e-3, 0.0, 1e-3}) EXPECT_LT(phi4_log_pseudo_likelihood(phi, m2 + dm, lam + dl), best);
  auto refit = fit_couplings(phi, "phi4", CouplingFitOptions().n_blocks(10).jackknife_refit(true));
  for (const char* name : {"m2", "lambda"}) {
    EXPECT_GT(fit.get(name).error, 0.0);
    // The one-step leave-one-out estimates err at second order in the shift: a few percent here.
    EXPECT_NEAR(fit.get(name).error, refit.get(name).error, 0.05 * refit.get(name).error) << name;
  }
  auto spins = random_spins(100, 6);
  auto ifit = fit_couplings(spins, "ising", CouplingFitOptions().n_blocks(10).fit_field(true));
  ASSERT_TRUE(ifit.converged);
  EXPECT_EQ(ifit.couplings.size(), 2u);
  EXPECT_LT(std::abs(ifit.get("beta").value), 5 * ifit.get("beta").error);  // infinite temperature
  auto j = ifit.to_json();
  EXPECT_EQ(j["couplings"]["beta"]["value"].get<double>(), ifit.get("beta").value);
  EXPECT_THROW(fit_couplings(phi, "xy"), InvalidArgument);
  EXPECT_THROW(fit_couplings(phi.narrow(0, 0, 5), "phi4"), InvalidArgument);
  EXPECT_THROW(fit_couplings(phi, "ising"), InvalidArgument);
  EXPECT_THROW(fit.get("kappa"), InvalidArgument);
}

TEST(EnergyModel, LatticeEnergyIsTranslationInvariant) {
  seed_all(6);
  LatticeEnergy e(4, 2);
  e->to(torch::kFloat64);
  auto x = torch::randn({3, 6, 6}, kF64);
  EXPECT_TRUE(torch::allclose(e->forward(torch::roll(x, {2, -1}, {1, 2})), e->forward(x), 1e-12, 1e-12));
}

// Maximum likelihood: d loss / d theta = E_data[dU/dtheta] - E_neg[dU/dtheta]; for the phi^4
// family dU/dm2 = sum phi^2 and dU/dlambda = sum phi^4. One persistent chain, no restarts and no
// sampler steps make the negatives known.
TEST(EnergyModel, MaximumLikelihoodGradientIsDataMinusModelStatistics) {
  seed_all(7);
  EnergyModel ebm(EnergyModelOptions({4, 4})
                      .network("phi4")
                      .buffer_size(1)
                      .reinit_prob(0)
                      .sampler(LangevinOptions().n_steps(0)));
  ebm->to(torch::kFloat64);
  auto batch = torch::randn({16, 4, 4}, kF64);
  Diagnostics diag;
  auto l = ebm->loss(batch, diag);
  l.backward();
  auto neg = ebm->persistent_samples();
  auto sd = phi4_statistics(batch).mean(0), sn = phi4_statistics(neg).mean(0);
  auto named = ebm->named_parameters();
  EXPECT_NEAR(named["energy.m2"].grad().item<double>(), (sd[1] - sn[1]).item<double>(), 1e-10);
  EXPECT_NEAR(named["energy.lambda"].grad().item<double>(), (sd[2] - sn[2]).item<double>(), 1e-10);
  EXPECT_NEAR(diag["e_data"] - diag["e_model"], l.item<double>(), 1e-10);
}

TEST(EnergyModel, PersistentChainsAreABufferAndMove) {
  seed_all(8);
  EnergyModel ebm(EnergyModelOptions({2}).hidden({8}).buffer_size(50).reinit_prob(0));
  auto buffers = ebm->named_buffers();
  ASSERT_TRUE(buffers.find("replay") != nullptr);
  EXPECT_EQ(buffers["replay"].sizes(), torch::IntArrayRef({50, 2}));
  auto before = ebm->persistent_samples().clone();
  ebm->negatives(10);
  auto changed = (ebm->persistent_samples() - before).abs().sum(1).gt(0).sum().item<int64_t>();
  EXPECT_GE(changed, 1);
  EXPECT_LE(changed, 10);
  // The registered buffer and the sampler's store are the same tensor.
  EXPECT_TRUE(torch::equal(ebm->named_buffers()["replay"], ebm->persistent_samples()));
  Diagnostics diag;
  EnergyModel dsm(EnergyModelOptions({2}).hidden({8}).objective("dsm"));
  EXPECT_TRUE(std::isfinite(dsm->loss(torch::randn({32, 2}), diag).item<double>()));
  EXPECT_TRUE(diag.count("dsm"));
  auto j = ebm->options.to_json();
  EXPECT_EQ(EnergyModelOptions::from_json(j).to_json(), j);
  EXPECT_THROW(LangevinOptions().method("mala").noise_scale(0.5).validate(), InvalidArgument);
  EXPECT_THROW(EnergyModel(EnergyModelOptions({5}).network("conv")), InvalidArgument);
}

TEST(EnergyModel, IsingFamilyNeedsSpinsAndHeatBath) {
  auto ising = [] {
    return EnergyModelOptions({4, 4}).network("ising").init("spins").sampler(LangevinOptions().method("heatbath"));
  };
  EXPECT_NO_THROW(EnergyModel{ising()});
  EXPECT_THROW(EnergyModel{ising().sampler(LangevinOptions().method("mala"))}, InvalidArgument);
  EXPECT_THROW(EnergyModel{ising().init("normal")}, InvalidArgument);
  EXPECT_THROW(EnergyModel{ising().event_shape({5, 5})}, InvalidArgument);
  EXPECT_THROW(EnergyModel{ising().objective("dsm")}, InvalidArgument);
  EXPECT_THROW(EnergyModel{EnergyModelOptions({4, 4}).network("conv").sampler(LangevinOptions().method("heatbath"))},
               InvalidArgument);
  // langevin() refuses the spin sampler.
  EXPECT_THROW(langevin([](const torch::Tensor& x) { return x.pow(2).sum(1); }, torch::zeros({2, 2}),
                        LangevinOptions().method("heatbath")),
               InvalidArgument);
  // U = -beta sum_<ij> s_i s_j: all up on 4 x 4 has 32 bonds.
  EnergyModel m(ising().init_beta(0.25));
  EXPECT_NEAR(m->energy(torch::ones({1, 4, 4})).item<double>(), -0.25 * 32, 1e-6);
  // Negatives stay +-1 and the options round-trip.
  auto neg = m->negatives(8);
  EXPECT_TRUE(neg.abs().eq(1).all().item<bool>());
  auto j = m->options.to_json();
  EXPECT_EQ(EnergyModelOptions::from_json(j).to_json(), j);
}
