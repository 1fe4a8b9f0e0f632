#pragma once
// TEST-ONLY: flow-MCMC-versus-HMC checks on phi^4 at L = 4 shared by the statistical and long
// tests: the HMC reference ensemble, the comparison (corrected chain within 4 combined errors
// of HMC on e, chi, U4; raw samples more than 4 away on at least one), and the check of an ODE
// likelihood family of the zoo (trained natively on the HMC ensemble; rk4 with the exact trace).
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/mcmc/simulate.h"
#include "physgen/train/trainer.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/zoo.h"
#include "support/phi4_observables_util.h"

namespace physgen_test {

using namespace physgen;  // test-only header: the library's names unqualified below

// Prints the comparison; expects the corrected chain within 4 combined errors of HMC on every
// observable and the raw samples more than 4 away on at least one.
inline void compare(const std::string& label, const Phi4Observables& ref, const Phi4Observables& corrected,
             const Phi4Observables& raw) {
  int64_t raw_off = 0;
  for (const Phi4Row& r : kPhi4Rows) {
    const auto& h = ref.*(r.field);
    const auto& c = corrected.*(r.field);
    const auto& q = raw.*(r.field);
    std::printf("%s %-4s HMC %.5f +- %.5f | corrected %.5f +- %.5f (pull %+.2f) | raw %.5f +- %.5f (pull %+.2f)\n",
                label.c_str(), r.name, h.mean, h.error, c.mean, c.error, pull(c, h), q.mean, q.error, pull(q, h));
    EXPECT_LT(std::abs(pull(c, h)), 4.0) << label << " " << r.name << ": the corrected chain disagrees with HMC";
    if (std::abs(pull(q, h)) > 4.0) ++raw_off;
  }
  EXPECT_GE(raw_off, 1) << label << ": the raw samples agree with HMC too: the test cannot see a missing correction";
}

// HMC reference: 32 chains x 2000 trajectories after 500 of thermalisation.
inline torch::Tensor hmc_ensemble(const Phi4Params& params) {
  seed_all(301);
  auto hmc = make_phi4_hmc(params, 32, HmcOptions().step_size(0.15).n_steps(8));
  RecordOptions rec;
  rec.therm = 500;
  rec.samples = 2000;
  rec.progress = false;
  return record_chain(*hmc, rec);
}

// A zoo family trained natively on the HMC ensemble for `steps`, then its likelihood (ODE with
// the exact trace, rk4 with `ode_steps`) drives an independence Metropolis chain of n steps.
inline void check_ode_family_chain(const std::string& family, const nlohmann::json& overrides, int64_t steps,
                            int64_t ode_steps, int64_t n, uint64_t seed) {
  configure_runtime(1);
  const Phi4Params params{4, -4.0, 8.0};
  auto target = std::make_shared<const Phi4Action>(params);
  const auto data = hmc_ensemble(params);
  const auto ref = measure_phi4(data, *target, 100);

  seed_all(seed);
  ModelSpec spec;
  spec.family = family;
  spec.model = default_model_options(family, {4, 4});
  spec.model.merge_patch(overrides);
  spec.system = "phi4";
  spec.system_params = target->params();
  Model model = build_model(spec);
  TrainingData td;
  td.x = data.to(torch::kFloat32);
  ModelTask task(model, "native", nullptr, 128, td);
  Trainer trainer(task, TrainerOptions().steps(steps).batch_size(128).lr(2e-3).progress(false));
  ASSERT_EQ(trainer.fit(task.fit_data()).status, TrainResult::Status::Finished);
  model.module->eval();
  SamplerSettings s;
  s.solver = "rk4";
  s.steps = ode_steps;
  model.configure_likelihood(s);
  auto chain = independence_metropolis(*model.likelihood, *target, n,
                                       IndependenceMetropolisOptions().batch_size(1024).seed(seed + 2));
  const auto corrected = measure_phi4(chain.chain, *target, 256);
  torch::Tensor raw_x;
  {
    torch::NoGradGuard ng;
    raw_x = model.likelihood->sample(n);
  }
  std::printf("%s MCMC acceptance %.3f, proposal ESS %.3f\n", family.c_str(), chain.acceptance, chain.proposal_ess);
  compare(family, ref, corrected, measure_phi4(raw_x, *target, 1));
  EXPECT_GT(chain.acceptance, 0.05) << "the chain barely moves: its errors would be unreliable";
}

}  // namespace physgen_test
