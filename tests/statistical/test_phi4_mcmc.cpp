// Statistical checks of the phi^4 samplers (fixed seeds).
//
// Errors: every chain's time average is one independent estimate; the error of the mean is the
// standard deviation over chains / sqrt(C). Tolerances are 4 combined standard errors.
//  * free field (lambda = 0): G(x) against the exact propagator, <S>/V = 1/2 (equipartition),
//    for HMC (leapfrog and Omelyan) and checkerboard Metropolis;
//  * interacting: the virial identity <sum_x phi_x dS/dphi_x> = V (integration by parts, exact
//    for any m2, lambda), HMC <exp(-dH)> = 1, and HMC and Metropolis agree on <phi^2>, <|m|>.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/phi4_metropolis.h"

using namespace physgen;

namespace {

// Displacements at which G(x) is checked.
const std::vector<std::pair<int64_t, int64_t>> kShifts = {{0, 0}, {1, 0}, {0, 1}, {1, 1},
                                                          {2, 0}, {3, 2}, {4, 4}};

// Per-configuration observables (C, K): S/V, virial/V, <phi^2>, |m|, G(shift) for kShifts.
torch::Tensor observables(const Phi4Action& action, const torch::Tensor& x) {
  const double V = static_cast<double>(x.size(1) * x.size(2));
  std::vector<torch::Tensor> cols;
  cols.push_back(action.action(x) / V);
  cols.push_back((x * action.force(x)).sum({1, 2}) / V);
  cols.push_back(x.square().mean({1, 2}));
  cols.push_back(x.mean({1, 2}).abs());
  for (auto [a, b] : kShifts) {
    cols.push_back((x * torch::roll(x, {-a, -b}, {1, 2})).mean({1, 2}));
  }
  return torch::stack(cols, 1);
}

enum Obs { kAction = 0, kVirial = 1, kPhi2 = 2, kAbsM = 3, kG0 = 4 };

struct ObsEstimate {
  torch::Tensor mean;   // (K)
  torch::Tensor error;  // (K)
  double value(int k) const { return mean[k].item<double>(); }
  double err(int k) const { return error[k].item<double>(); }
};

// Thermalises, then averages the observables every `thin` updates, per chain.
ObsEstimate run(MarkovChain& chain, const Phi4Action& action, int64_t therm, int64_t n_meas,
             int64_t thin) {
  chain.update(therm);
  torch::Tensor sum;
  for (int64_t m = 0; m < n_meas; ++m) {
    chain.update(thin);
    auto o = observables(action, chain.state().to(torch::kFloat64));
    sum = sum.defined() ? sum + o : o;
  }
  auto per_chain = sum / static_cast<double>(n_meas);  // (C, K)
  const double C = static_cast<double>(per_chain.size(0));
  return {per_chain.mean(0), per_chain.std(0) / std::sqrt(C)};
}

void expect_free_field(const ObsEstimate& e, const Phi4Params& p, const std::string& label) {
  auto g = free_field_propagator(p.L, p.m2);
  EXPECT_NEAR(e.value(kAction), 0.5, 4 * e.err(kAction)) << label << " <S>/V";
  EXPECT_NEAR(e.value(kVirial), 1.0, 4 * e.err(kVirial)) << label << " virial";
  for (size_t i = 0; i < kShifts.size(); ++i) {
    auto [a, b] = kShifts[i];
    const double exact = g[a][b].item<double>();
    const int k = kG0 + static_cast<int>(i);
    EXPECT_NEAR(e.value(k), exact, 4 * e.err(k)) << label << " G(" << a << "," << b << ")";
  }
  // The test has power: a 10% heavier mass is excluded by many standard errors.
  const double wrong = free_field_propagator(p.L, 1.1 * p.m2)[0][0].item<double>();
  EXPECT_GT(std::abs(e.value(kG0) - wrong), 8 * e.err(kG0)) << label << " power";
}

// <exp(-dH)> = 1 exactly in equilibrium. For small, nearly Gaussian dH, Var(exp(-dH)) = e^{2<dH>} - 1
// (~ 2 <dH>); trajectories with fresh momenta are close to independent.
void expect_unit_exp_dh(const nlohmann::json& info, const std::string& label) {
  const double n = info["trajectories"].get<double>() * info["chains"].get<double>();
  const double mean_dh = info["mean_dH"].get<double>();
  const double sigma = std::sqrt(std::expm1(2.0 * std::max(mean_dh, 0.0)) / n);
  EXPECT_NEAR(info["mean_exp_minus_dH"].get<double>(), 1.0, 4 * sigma + 1e-12) << label;
}

}  // namespace

TEST(Phi4McmcStatistical, HmcFreeFieldPropagator) {
  const Phi4Params p{8, 0.5, 0.0};
  Phi4Action action(p);
  for (const std::string integrator : {"leapfrog", "omelyan"}) {
    seed_all(101);
    auto hmc = make_phi4_hmc(p, 256, HmcOptions().step_size(0.1).n_steps(10).integrator(integrator),
                             torch::kCPU, torch::kFloat64, Phi4Start::Cold);
    hmc->update(100);
    hmc->reset_statistics();
    auto e = run(*hmc, action, 0, 400, 2);
    expect_free_field(e, p, "hmc " + integrator);
    const auto info = hmc->info();
    EXPECT_GT(info["acceptance"].get<double>(), 0.7) << integrator;
    expect_unit_exp_dh(info, "hmc " + integrator);
  }
}

TEST(Phi4McmcStatistical, MetropolisFreeFieldPropagator) {
  const Phi4Params p{8, 0.5, 0.0};
  Phi4Action action(p);
  seed_all(102);
  auto mc = make_phi4_metropolis(p, 256, Phi4MetropolisOptions().n_hits(2), torch::kCPU,
                                 torch::kFloat64, Phi4Start::Cold);
  mc->tune_delta(100, 0.5);
  auto e = run(*mc, action, 400, 400, 3);
  expect_free_field(e, p, "metropolis");
  EXPECT_NEAR(mc->acceptance(), 0.5, 0.1);
}

TEST(Phi4McmcStatistical, HmcAndMetropolisAgreeInteracting) {
  const Phi4Params p{8, -4.0, 8.0};
  Phi4Action action(p);
  seed_all(103);
  // Cold start: an N(0, 1) start has sites with |phi| >~ 2 where the quartic force makes the
  // integrator unstable at this step size.
  auto hmc = make_phi4_hmc(p, 256, HmcOptions().step_size(0.1).n_steps(10).integrator("omelyan"),
                           torch::kCPU, torch::kFloat64, Phi4Start::Cold);
  hmc->update(200);
  hmc->reset_statistics();
  auto eh = run(*hmc, action, 0, 500, 2);
  seed_all(104);
  auto mc = make_phi4_metropolis(p, 256, Phi4MetropolisOptions().n_hits(2));
  mc->tune_delta(100, 0.5);
  auto em = run(*mc, action, 400, 500, 3);

  EXPECT_NEAR(eh.value(kVirial), 1.0, 4 * eh.err(kVirial)) << "hmc virial";
  EXPECT_NEAR(em.value(kVirial), 1.0, 4 * em.err(kVirial)) << "metropolis virial";
  for (int k : {kPhi2, kAbsM, kAction}) {
    const double sigma = std::hypot(eh.err(k), em.err(k));
    EXPECT_NEAR(eh.value(k), em.value(k), 4 * sigma) << "observable " << k;
  }
  const auto info = hmc->info();
  EXPECT_GT(info["acceptance"].get<double>(), 0.5);
  expect_unit_exp_dh(info, "hmc interacting");
  std::printf("phi4 L=8 m2=-4 lambda=8: <phi^2> hmc %.5f(%.5f) metropolis %.5f(%.5f); "
              "<|m|> hmc %.5f(%.5f) metropolis %.5f(%.5f); hmc acceptance %.3f\n",
              eh.value(kPhi2), eh.err(kPhi2), em.value(kPhi2), em.err(kPhi2), eh.value(kAbsM),
              eh.err(kAbsM), em.value(kAbsM), em.err(kAbsM),
              info["acceptance"].get<double>());
}
