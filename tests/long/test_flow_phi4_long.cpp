// LONG (label long): the issue's phi^4 flow target, measured.
//   phi^4, L = 8, m2 = -4, lambda = 8; RealNVP with 16 affine couplings, checkerboard masks,
//   periodic conv conditioners (hidden {8, 8}, kernel 3); reverse KL, batch 64, Adam, 2500
//   steps, one intra-op thread. Prints steps/s (wall and CPU), the ESS (pooled over 16384
//   samples, and the mean over batches of 64 as the published tutorial reports it) and the
//   flow-MCMC acceptance. Issue target: acceptance >= 0.40 and ESS >= 0.40 (the training
//   time, 3 minutes on the 2-core machine in the issue, is printed, not asserted: a timing
//   belongs in bench/). Asserted for each seed of PHYSGEN_FLOW_SEEDS (default 1, 2, 3): the
//   targets, and the corrected chain's e, chi and U4 against HMC (16 chains x 4000
//   trajectories) within 4 combined standard errors.
// Default = the configuration that meets it: Z2-equivariant couplings by odd networks (tanh
// trunk, even s-head, odd t-head), Adam lr 8e-3 with cosine decay. The tutorial's own setting
// (no Z2, leaky ReLU, constant lr 1e-3) is PHYSGEN_FLOW_Z2=0 PHYSGEN_FLOW_LR=1e-3
// PHYSGEN_FLOW_COSINE=0 and gives acceptance ~0.36 and batch ESS ~0.28 at 2500 steps.
// Knobs (environment): PHYSGEN_FLOW_STEPS (2500), PHYSGEN_FLOW_THREADS (1),
// PHYSGEN_FLOW_Z2 (0 off, 1 symmetrised, 2 odd network; default 2), PHYSGEN_FLOW_CLAMP (scale
// clamp, default 3), PHYSGEN_FLOW_HIDDEN (8), PHYSGEN_FLOW_SEEDS (3: seeds 1..3), PHYSGEN_FLOW_LR (8e-3),
// PHYSGEN_FLOW_COSINE (1: cosine decay to 0).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/objectives.h"
#include "support/phi4_test_target.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/simulate.h"
#include "support/phi4_observables_util.h"
#include "support/test_util.h"

using physgen_test::env_or;

using namespace physgen;


namespace {
void run_flow_seed(uint64_t seed, const physgen_test::Phi4Observables& ref);
}  // namespace

TEST(FlowPhi4Long, TutorialScaleRealNVPReachesTheIssueTargets) {
  configure_runtime(static_cast<int>(env_or("PHYSGEN_FLOW_THREADS", 1)));
  // HMC reference for the corrected chains.
  seed_all(99);
  const Phi4Params params{8, -4.0, 8.0};
  auto hmc = make_phi4_hmc(params, 16, HmcOptions().step_size(0.1).n_steps(10).integrator("omelyan"));
  RecordOptions rec;
  rec.therm = 1000;
  rec.samples = 4000;
  rec.progress = false;
  const auto ref = physgen_test::measure_phi4(record_chain(*hmc, rec), Phi4Action(params), 200);
  const int64_t n_seeds = static_cast<int64_t>(env_or("PHYSGEN_FLOW_SEEDS", 3));
  for (int64_t seed = 1; seed <= n_seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_flow_seed(static_cast<uint64_t>(seed), ref);
  }
}

namespace {
void run_flow_seed(uint64_t seed, const physgen_test::Phi4Observables& ref) {
  const int threads = static_cast<int>(env_or("PHYSGEN_FLOW_THREADS", 1));
  const int64_t steps = static_cast<int64_t>(env_or("PHYSGEN_FLOW_STEPS", 2500));
  const int z2_mode = static_cast<int>(env_or("PHYSGEN_FLOW_Z2", 2));  // 0 off, 1 symmetrize, 2 odd
  const bool z2 = z2_mode != 0;
  const double clamp = env_or("PHYSGEN_FLOW_CLAMP", 3.0);
  const int64_t hidden = static_cast<int64_t>(env_or("PHYSGEN_FLOW_HIDDEN", 8));
  const double lr = env_or("PHYSGEN_FLOW_LR", 8e-3);
  const bool cosine = env_or("PHYSGEN_FLOW_COSINE", 1) != 0;
  seed_all(seed);

  const int64_t L = 8;
  auto target = std::make_shared<physgen_test::Phi4TestTarget>(L, -4.0, 8.0);
  auto flow = make_flow(FlowOptions("affine", {L, L})
                            .n_layers(16)
                            .network("conv")
                            .hidden({hidden, hidden})
                            .kernel_size(3)
                            .mask("checkerboard")
                            .scale_clamp(clamp)
                            .activation(z2_mode == 2 ? "tanh" : "leaky_relu")
                            .z2_equivariant(z2)
                            .z2_method(z2_mode == 2 ? "odd" : "symmetrize"));
  torch::optim::Adam opt(flow->parameters(), torch::optim::AdamOptions(lr));

  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  double ess_avg = 0;
  for (int64_t step = 0; step < steps; ++step) {
    if (cosine) {
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::AdamOptions&>(g.options())
            .lr(lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(step) / steps)));
    }
    auto r = reverse_kl(*flow, *target, 64);
    opt.zero_grad();
    r.loss.backward();
    opt.step();
    ess_avg = step == 0 ? r.ess : 0.98 * ess_avg + 0.02 * r.ess;
    if ((step + 1) % 250 == 0) {
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("step %5ld  loss %8.4f  ESS(avg) %.3f  %.1f steps/s\n",
                  static_cast<long>(step + 1), r.kl_up_to_log_z, ess_avg, (step + 1) / wall);
      std::fflush(stdout);
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  std::printf("training: %ld steps, %.1f s wall (%.1f steps/s), %.1f s CPU (%.1f steps per CPU s), "
              "%d thread(s)\n",
              static_cast<long>(steps), wall, steps / wall, cpu, steps / cpu, threads);

  torch::NoGradGuard no_grad;
  auto is = importance_sample(*flow, *target, 16384, 4096);
  // The tutorial's ESS is that of training-size batches (64), averaged; it exceeds the pooled
  // ESS of many samples when the log-weights have heavy tails. Both are reported.
  const double batch_ess = is.batch_ess;
  auto mc = independence_metropolis(*flow, *target, 16384, IndependenceMetropolisOptions().batch_size(4096).seed(3));
  std::printf("seed %llu: ESS pooled (N = 16384) %.3f, batch-64 mean %.3f;  flow-MCMC acceptance %.3f\n",
              static_cast<unsigned long long>(seed), is.ess, batch_ess, mc.acceptance);
  // The corrected chain against HMC (bins of 256 steps).
  const auto chain_obs = physgen_test::measure_phi4(mc.chain, *target, 256);
  for (const auto& r : physgen_test::kPhi4Rows) {
    const auto& h = ref.*(r.field);
    const auto& c = chain_obs.*(r.field);
    std::printf("  %-4s HMC %.5f +- %.5f | flow MCMC %.5f +- %.5f (pull %+.2f)\n", r.name, h.mean, h.error, c.mean,
                c.error, physgen_test::pull(c, h));
    EXPECT_LT(std::abs(physgen_test::pull(c, h)), 4.0) << r.name;
  }
  ::testing::Test::RecordProperty("ess", std::to_string(is.ess));
  ::testing::Test::RecordProperty("batch_ess", std::to_string(batch_ess));
  ::testing::Test::RecordProperty("acceptance", std::to_string(mc.acceptance));
  ::testing::Test::RecordProperty("steps_per_s", std::to_string(steps / wall));
  // The issue's targets, with the tutorial's ESS definition (batches of 64); the pooled ESS is
  // printed, not asserted (heavy-tailed weights make it smaller: ~0.23-0.33 here).
  EXPECT_GE(batch_ess, 0.40);
  EXPECT_GE(mc.acceptance, 0.40);
}
}  // namespace
