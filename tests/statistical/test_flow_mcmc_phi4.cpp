// Flow MCMC on an interacting theory: phi^4 on a 4 x 4 lattice (m2 = -4, lambda = 8, the
// convention of docs/conventions.md). A briefly trained RealNVP (300 reverse-KL steps: a
// proposal that is usable but visibly wrong) drives an independence Metropolis chain; the chain
// must agree with HMC on the action density e = <S>/V, chi = V <m^2> and the Binder cumulant
// U4 = 1 - <m^4> / (3 <m^2>^2) within 4 combined standard errors, while the same flow's raw
// samples must disagree with HMC on at least one of them by more than 4 (the negative control:
// the correction is doing the work). Errors: jackknife over bins (HMC: bins of 100 trajectories,
// chain: bins of 512 steps, both far longer than the integrated autocorrelation times), iid for
// the raw samples. The criterion was fixed before the first run.
// The same for a flow-matching model (zoo family "flow-matching", trained on the HMC ensemble)
// whose proposals and log-densities come from an ODE solve with the exact trace (rk4): the
// chain is exact only up to the error of that log-density integration.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/objectives.h"
#include "support/phi4_chain_check.h"
#include "support/phi4_observables_util.h"
#include "support/test_util.h"

using namespace physgen;

namespace {

using physgen_test::measure_phi4;
using physgen_test::check_ode_family_chain;
using physgen_test::compare;
using physgen_test::hmc_ensemble;

}  // namespace

TEST(FlowMcmcPhi4, CorrectedChainAgreesWithHmcAndRawSamplesDoNot) {
  configure_runtime(1);
  const Phi4Params params{4, -4.0, 8.0};
  auto target = std::make_shared<const Phi4Action>(params);

  const auto ref = measure_phi4(hmc_ensemble(params), *target, 100);

  // A briefly trained flow.
  seed_all(302);
  auto flow = make_realnvp_lattice(4, 8, {8, 8}, 3);
  torch::optim::Adam opt(flow->parameters(), torch::optim::AdamOptions(3e-3));
  for (int64_t step = 0; step < 300; ++step) {
    auto r = reverse_kl(*flow, *target, 128);
    opt.zero_grad();
    r.loss.backward();
    opt.step();
  }
  flow->eval();
  const int64_t n = 1 << 15;
  auto chain = independence_metropolis(*flow, *target, n, IndependenceMetropolisOptions().batch_size(4096).seed(303));
  const auto corrected = measure_phi4(chain.chain, *target, 512);
  torch::Tensor raw_x;
  {
    torch::NoGradGuard ng;
    raw_x = flow->sample(n);
  }
  const auto raw = measure_phi4(raw_x, *target, 1);

  std::printf("flow MCMC acceptance %.3f, proposal ESS %.3f\n", chain.acceptance, chain.proposal_ess);
  compare("realnvp", ref, corrected, raw);
  EXPECT_GT(chain.acceptance, 0.05) << "the chain barely moves: its errors would be unreliable";
}

TEST(FlowMcmcPhi4, FlowMatchingChainAgreesWithHmc) {
  check_ode_family_chain("flow-matching", nlohmann::json::object(), 400, 8, 8192, 311);
}
