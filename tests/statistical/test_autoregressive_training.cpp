// Statistical checks of the autoregressive families (fixed seeds, 1 intra-op thread):
//  * the score-function gradient of the reverse KL (models/objectives.h) is unbiased: on a
//    2 x 2 Ising lattice its mean over many batches of 4 matches the exact gradient from
//    enumeration within 4 standard errors, while the batch-mean baseline without the
//    B/(B-1) factor (biased by (B-1)/B = 0.75) and the path-wise loss (zero in expectation)
//    fail the same test;
//  * reverse KL through the shared Trainer (ModelTask, beta annealing) takes VAN and HAN to the exact
//    free energy of the 4 x 4 Ising model at beta_c (enumeration): relative error of the
//    variational free energy <= 1e-4, resolved (its standard error <= 3e-5 relative), and the
//    importance-sampled F within 3 standard errors; the same model after 30 steps fails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/ising_exact.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/models/autoregressive/van.h"
#include "physgen/models/objectives.h"
#include "physgen/observables/estimators/reweighting.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/zoo.h"
#include "support/test_util.h"

namespace {

using namespace physgen;
using physgen_test::kF64;

torch::Tensor all_spins(int64_t L) { return physgen_test::all_spin_states(L, L); }

torch::Tensor flat_grad(torch::nn::Module& m) {
  std::vector<torch::Tensor> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().defined() ? p.grad().flatten() : torch::zeros({p.numel()}, kF64));
  return torch::cat(g);
}

TEST(AutoregressiveTraining, ScoreFunctionGradientIsUnbiased) {
  physgen_test::SingleThread single;
  seed_all(21);
  Van van(VanOptions({2, 2}).width(4).depth(2).half_kernel(1).z2(true));
  van->to(torch::kFloat64);
  {
    torch::NoGradGuard ng;
    for (auto& p : van->parameters()) p.mul_(2.0);  // a q far from p
  }
  const IsingModel target(IsingParams{2, 0.44});
  // Exact gradient of F(theta) = sum_s q(s) (log q(s) + S(s)) by enumeration.
  van->zero_grad();
  {
    const auto s = all_spins(2);
    const auto lq = van->log_prob(s);
    (lq.exp() * (lq + target.action(s))).sum().backward();
  }
  const auto exact = flat_grad(*van);
  const auto dir = exact / exact.norm();
  ASSERT_GT(exact.norm().item<double>(), 0.1);

  // R estimates with batches of B = 4, projected on the exact gradient's direction.
  const int64_t R = 6000, B = 4;
  std::vector<double> unbiased, pathwise;
  unbiased.reserve(R);
  pathwise.reserve(R);
  for (int64_t r = 0; r < R; ++r) {
    van->zero_grad();
    reverse_kl(*van, target, B).loss.backward();
    unbiased.push_back((flat_grad(*van) * dir).sum().item<double>());
    // The path-wise loss a continuous model would use: its gradient is mean grad log q.
    van->zero_grad();
    auto xs = van->sample_and_log_prob(B);
    (xs.second + target.action(xs.first)).mean().backward();
    pathwise.push_back((flat_grad(*van) * dir).sum().item<double>());
  }
  auto z_of = [&](const std::vector<double>& v, double factor) {
    const auto t = torch::tensor(v, kF64) * factor;
    const double se = t.std().item<double>() / std::sqrt(static_cast<double>(R));
    return (t.mean().item<double>() - exact.norm().item<double>()) / se;
  };
  const double z = z_of(unbiased, 1.0);
  const double z_mean_baseline = z_of(unbiased, (B - 1.0) / B);  // VAN's batch-mean baseline
  const double z_pathwise = z_of(pathwise, 1.0);
  std::printf("exact |grad| %.5f; z: leave-one-out %.2f, batch-mean baseline %.2f, path-wise %.2f\n",
              exact.norm().item<double>(), z, z_mean_baseline, z_pathwise);
  EXPECT_LT(std::abs(z), 4.0);
  EXPECT_GT(std::abs(z_mean_baseline), 4.0);
  EXPECT_GT(std::abs(z_pathwise), 4.0);
}

/// Variational and importance-sampled free energies per site of `m` for `target` from n draws.
FreeEnergyEstimate free_energy(LikelihoodModel& m, const IsingModel& target, int64_t n) {
  torch::NoGradGuard ng;
  const ImportanceSample s = importance_sample(m, target, n, 8192);
  return free_energy_per_site(s.log_weights, target.beta(), target.ising_params().volume());
}

/// Reverse KL through the shared Trainer on the 4 x 4 lattice at beta_c: the variational free
/// energy within 1e-4 (relative) of the exact one from enumeration, F_IS within 3 sigma; a
/// model after 30 steps fails the same criterion. `model` overrides the family's defaults.
void expect_reverse_kl_reaches_exact_l4(const std::string& family, const nlohmann::json& model) {
  physgen_test::SingleThread single;
  seed_all(22);
  const IsingParams p{4, ising_beta_critical()};
  const auto target = std::make_shared<IsingModel>(p);
  const double F = -ising_exact_enumeration(p).log_z / (p.beta * p.volume());

  ModelSpec spec;
  spec.family = family;
  spec.model = default_model_options(family, {4, 4});
  spec.model["event_shape"] = {4, 4};
  for (auto it = model.begin(); it != model.end(); ++it) spec.model[it.key()] = it.value();
  spec.system = "ising";
  spec.system_params = p.to_json();
  Model m = build_model(spec);
  const TrainerOptions topts =
      TrainerOptions().steps(1500).batch_size(256).lr(3e-3).schedule("cosine").anneal_steps(300).progress(false);
  ModelTask task(m, "reverse-kl", target, topts.batch_size(), TrainingData(), topts.anneal_steps());
  Trainer trainer(task, topts);

  auto report = [&](const char* what, int64_t n) {
    m.module->eval();
    const FreeEnergyEstimate f = free_energy(*m.likelihood, *target, n);
    const double rel = std::abs(f.variational.mean - F) / std::abs(F);
    std::printf("%s: F_q = %.7f +- %.7f, F_IS = %.7f +- %.7f, exact %.7f, |F_q - F|/|F| = %.2e\n", what,
                f.variational.mean, f.variational.error, f.importance.mean, f.importance.error, F, rel);
    m.module->train();
    return std::make_pair(f, rel);
  };
  ASSERT_EQ(trainer.fit(torch::Tensor(), 30).status, TrainResult::Status::Finished);
  const auto early = report("after 30 steps", 20000);
  // Control: a barely trained model is far outside the criterion.
  EXPECT_GT(early.second, 1e-4);

  const TrainResult r = trainer.fit();
  ASSERT_EQ(r.status, TrainResult::Status::Finished) << r.message;
  std::printf("trained %ld steps in %.1f s\n", static_cast<long>(trainer.step()), r.seconds);
  const auto [f, rel] = report("trained", 50000);
  EXPECT_LE(rel, 1e-4);
  EXPECT_LE(f.variational.error / std::abs(F), 3e-5);
  EXPECT_LT(std::abs(f.importance.mean - F), 3.0 * f.importance.error + 1e-12);
  EXPECT_GE(f.variational.mean, F - 3.0 * f.variational.error);  // F_q >= F (Gibbs)
}

TEST(AutoregressiveTraining, ReverseKLReachesTheExactFreeEnergyOfTheL4Lattice) {
  // half_kernel 3: the first layer already sees every earlier site of a 4 x 4 lattice.
  expect_reverse_kl_reaches_exact_l4("van", {{"half_kernel", 3}, {"depth", 2}});
}

TEST(AutoregressiveTraining, HanReverseKLReachesTheExactFreeEnergyOfTheL4Lattice) {
  expect_reverse_kl_reaches_exact_l4("han", nlohmann::json::object());
}

}  // namespace
