// Statistical checks of flow training (fixed seeds, 1 intra-op thread):
//  * reverse KL on the free field reaches the exact Gaussian target (KL from the exact log Z),
//    and flow MCMC then reproduces the exact propagator;
//  * forward KL on two moons reaches a test NLL that an untrained flow misses.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/objectives.h"
#include "support/phi4_test_target.h"
#include "support/test_util.h"

using namespace physgen;

using physgen_test::SingleThread;
using physgen_test::seconds_since;

namespace {

// KL(q || p) = E_q[log q + S] + log Z estimated on n fresh samples: (mean, standard error).
std::pair<double, double> kl_to_target(FlowImpl& flow, const Target& target, double log_z,
                                       int64_t n) {
  torch::NoGradGuard no_grad;
  auto s = importance_sample(flow, target, n, 4096);
  auto v = -s.log_weights + log_z;  // log q + S + log Z per sample
  return {v.mean().item<double>(), v.std().item<double>() / std::sqrt(static_cast<double>(n))};
}

// Two moons: t ~ U(0, pi); upper moon (cos t, sin t), lower moon (1 - cos t, 1/2 - sin t),
// plus isotropic Gaussian noise of width `noise`. Local sampler (the toy-data module may
// replace it).
torch::Tensor two_moons(int64_t n, double noise) {
  auto t = torch::rand({n}, torch::kFloat32) * M_PI;
  auto upper = torch::rand({n}) < 0.5;
  auto x = torch::where(upper, torch::cos(t), 1 - torch::cos(t));
  auto y = torch::where(upper, torch::sin(t), 0.5 - torch::sin(t));
  return torch::stack({x, y}, 1) + noise * torch::randn({n, 2});
}

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

}  // namespace

TEST(FlowTraining, ReverseKLOnTheFreeFieldReachesTheExactTargetAndFlowMCMCIsExact) {
  configure_runtime(1);
  seed_all(11);
  const int64_t L = 4;
  physgen_test::Phi4TestTarget target(L, 1.0, 0.0);
  const double log_z = target.free_log_z();
  auto flow = make_realnvp_lattice(L, 8, {8, 8}, 3);
  const auto kl0 = kl_to_target(*flow, target, log_z, 8192);
  torch::optim::Adam opt(flow->parameters(), torch::optim::AdamOptions(3e-3));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t steps = 1500;
  for (int64_t step = 0; step < steps; ++step) {
    set_lr(opt, 3e-3 * 0.5 * (1 + std::cos(M_PI * step / steps)));
    auto r = reverse_kl(*flow, target, 128);
    opt.zero_grad();
    r.loss.backward();
    opt.step();
    if (step % 250 == 0 || step == steps - 1)
      std::printf("step %5ld  KL %.4f  ESS %.3f\n", static_cast<long>(step),
                  r.kl_up_to_log_z + log_z, r.ess);
  }
  const double train_s = seconds_since(t0);
  const auto kl = kl_to_target(*flow, target, log_z, 16384);
  std::printf("train %.1f s (%.1f steps/s); KL untrained %.4f +- %.4f, trained %.5f +- %.5f\n",
              train_s, steps / train_s, kl0.first, kl0.second, kl.first, kl.second);
  // Bound: KL < 0.1. For nearly Gaussian log-weights of variance v, KL(q||p) ~ v/2 and the ESS
  // fraction ~ exp(-v) ~ exp(-2 KL), so KL < 0.1 means ESS > ~0.8: the flow is a usable
  // proxy of the target. The untrained (identity) flow is at KL ~ 54; a flow stuck at a wrong
  // Gaussian width (e.g. 10% off in every mode) would be at ~ V * 0.01 = 0.16.
  EXPECT_LT(kl.first + 4 * kl.second, 0.1);
  EXPECT_GT(kl0.first, 10.0);

  // Flow MCMC must be exact: the chain reproduces G(r) = <phi_x phi_{x+r}> of the free field.
  torch::Tensor chain;
  double acceptance = 0;
  {
    const auto t1 = std::chrono::steady_clock::now();
    auto res = independence_metropolis(*flow, target, 1 << 15, IndependenceMetropolisOptions().batch_size(4096).seed(5));
    chain = res.chain.to(torch::kFloat64);
    acceptance = res.acceptance;
    std::printf("flow MCMC: %ld steps in %.1f s, acceptance %.3f, proposal ESS %.3f\n",
                static_cast<long>(chain.size(0)), seconds_since(t1), res.acceptance,
                res.proposal_ess);
  }
  EXPECT_GT(acceptance, 0.6);  // ESS ~ 0.85 makes acceptance ~ 0.8; 0.6 is a loose sanity floor
  const int64_t N = chain.size(0), V = L * L, block = 512, nb = N / block;
  int64_t n_checked = 0, n_wrong_detected = 0;
  physgen_test::Phi4TestTarget wrong(L, 1.1, 0.0);
  for (int64_t r0 = 0; r0 < L; ++r0)
    for (int64_t r1 = 0; r1 < L; ++r1) {
      // Per configuration: (1/V) sum_x phi_x phi_{x+r}; then per-block means (block 512 >> tau).
      auto c = (chain * chain.roll({-r0, -r1}, {1, 2})).sum({1, 2}) / static_cast<double>(V);
      auto bm = c.narrow(0, 0, nb * block).view({nb, block}).mean(1);
      const double mean = bm.mean().item<double>();
      const double err = bm.std().item<double>() / std::sqrt(static_cast<double>(nb));
      const double exact = target.free_propagator(r0, r1);
      EXPECT_LT(std::abs(mean - exact), 4 * err)
          << "G(" << r0 << "," << r1 << ") = " << mean << " +- " << err << ", exact " << exact;
      if (r0 == 0 && r1 == 0)
        std::printf("G(0,0) = %.5f +- %.5f (exact %.5f; m2 = 1.1 would give %.5f)\n", mean, err,
                    exact, wrong.free_propagator(0, 0));
      ++n_checked;
      if (std::abs(mean - wrong.free_propagator(r0, r1)) > 4 * err) ++n_wrong_detected;
    }
  EXPECT_EQ(n_checked, V);
  // The check can fail: the propagator of m2 = 1.1 (a 10% wrong mass) is rejected by more than
  // 4 standard errors at one displacement at least (G(0,0), the most sensitive one, sits
  // ~5 sigma away at this statistics; the other displacements differ by less than their errors).
  EXPECT_GE(n_wrong_detected, 1);
}

namespace {
// Trains `flow` by forward KL on fresh two-moons batches; returns the test NLL before and after.
std::pair<double, double> train_on_two_moons(Flow flow, int64_t steps, int64_t batch, double lr) {
  auto test = two_moons(20000, 0.1);
  double before;
  {
    torch::NoGradGuard no_grad;
    before = forward_kl(*flow, test).nll;
  }
  torch::optim::Adam opt(flow->parameters(), torch::optim::AdamOptions(lr));
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < steps; ++step) {
    set_lr(opt, lr * 0.5 * (1 + std::cos(M_PI * step / steps)));
    auto r = forward_kl(*flow, two_moons(batch, 0.1));
    opt.zero_grad();
    r.loss.backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  const double after = forward_kl(*flow, test).nll;
  std::printf("two moons: %ld steps in %.1f s; test NLL untrained %.4f, trained %.4f\n",
              static_cast<long>(steps), seconds_since(t0), before, after);
  return {before, after};
}
}  // namespace

// Two moons with noise 0.1: the density is ~ uniform along two half circles of total length
// 2 pi, times a Gaussian of width 0.1 across them, so the optimum NLL is about
// log(2 pi) + 0.5 log(2 pi e 0.01) ~ 0.95 nats. An untrained flow (identity, N(0, 1)) has
// NLL ~ 2.5. The best Gaussian fit has NLL 1.91 (0.5 log det(2 pi e Cov), Cov of the data).
// Bound 1.2: far below any Gaussian, so only a flow that has separated and bent the two moons
// passes; trained flows reach ~1.02-1.06 here, and the untrained one must stay above 2.
TEST(FlowTraining, ForwardKLOnTwoMoonsRealNVP) {
  configure_runtime(1);
  seed_all(21);
  auto nll = train_on_two_moons(make_realnvp_vector(2, 8, {64, 64}), 1200, 256, 2e-3);
  EXPECT_LT(nll.second, 1.2);
  EXPECT_GT(nll.first, 2.0);
}

TEST(FlowTraining, ForwardKLOnTwoMoonsSpline) {
  configure_runtime(1);
  seed_all(22);
  auto nll = train_on_two_moons(make_spline_flow({2}, 4, 8, 4.0, {64, 64}), 800, 256, 2e-3);
  EXPECT_LT(nll.second, 1.2);
  EXPECT_GT(nll.first, 2.0);
}

TEST(FlowTraining, ForwardKLOnTwoMoonsMAF) {
  configure_runtime(1);
  seed_all(23);
  auto nll = train_on_two_moons(make_maf(2, 5, {64, 64}), 1500, 256, 2e-3);
  EXPECT_LT(nll.second, 1.2);
  EXPECT_GT(nll.first, 2.0);
}
