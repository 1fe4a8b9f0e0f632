// LONG (label long): the issue-6 quality targets, measured. Every variant is built and trained
// through the zoo (build_model + ModelTask + Trainer, exactly what `physgen train FAMILY` runs)
// on a Monte Carlo ensemble, then sampled and measured with measure_lattice:
//   phi^4  L = 8, m2 = -4, lambda = 8: HMC (make_phi4_hmc), 16 chains x 1000 trajectories;
//   Ising  L = 16 at T_c (beta = ln(1 + sqrt 2) / 2): Wolff, 16 chains x 1000 sweeps.
// Target: the documented recipes (docs/gan_ebm.md; kPhi4Recipes / kIsingRecipes below) reproduce
// <|m|>, chi = V <m^2> and Binder U4 within 10% of the Monte Carlo values, each of them, for
// each seed of PHYSGEN_GQ_SEEDS (default 3: seeds 1, 2, 3, each with its own Monte Carlo
// ensemble). No best-of-several selection. A variant fails when it exceeds the 10% band by
// 2 combined standard errors or more (phi^4 at these couplings is in the symmetric phase,
// U4 ~ 0, where 10% of U4 is far below the reference's own error). The exponential-family EBMs
// must also recover the couplings: |fitted - true| < 4 sqrt(2) x the pseudo-likelihood
// jackknife error of the same ensemble (the maximum-likelihood endpoint's own error is taken
// as comparable to the data's; the statistical EBM tests measure it). Prints one markdown
// table (and CSV rows "csv,...") per seed. PHYSGEN_GQ_VARIANTS=explore runs the wider table of
// the issue note (kPhi4Variants / kIsingVariants) and asserts nothing: it is a measurement.
// Knobs (environment):
//   PHYSGEN_GQ_VARIANTS  ";"-separated list (default: kPhi4Variants / kIsingVariants below, the
//                        table of the issue note); a variant is a zoo family, "ebm-phi4" or
//                        "ebm-ising" (the ebm family with the exponential-family energy), with
//                        optional overrides NAME+key=value+... (see variant_config); "M" in a
//                        variant stands for network=mlp+hidden=[256,256]+latent_dim=32+schedule=cosine;
//   PHYSGEN_GQ_SECONDS   training budget per variant in seconds [900]; a variant stops at the
//                        first of this budget and its step count (train defaults or steps=K);
//   PHYSGEN_GQ_SAMPLES   model samples measured [32768; EBMs 2048];
//   PHYSGEN_GQ_SEEDS [3], PHYSGEN_GQ_THREADS [1].
// Measured (2026-11-23, 1 thread on the shared 2-core machine; reference HMC / Wolff as below):
//   phi4 (HMC: |m| 0.0866(3), chi 0.738(4), U4 0.079(4)): the DCGAN default at 2000 steps is
//     within 10% on all three; the MLP GANs are 20-100% off (U4 < 0); the exponential-family
//     EBM recovers (m2, lambda) = (-3.97, 7.93) and the conv EBM (persistent CD, lr 3e-3) is
//     within 3% on |m| and chi. Full table: the issue note.
//   Ising (Wolff: 0.7110(24), 138.9(7), 0.6103(13)): MLP GAN with the straight-through sign
//     output and minibatch std 4, 8000 steps: max deviation 9.7-10.3% over seeds 1-3 (U4 the
//     worst), within the criterion; 4000 steps: 7.8-13.3%. DCGANs collapse (all samples alike).
//     The Ising EBM (heat-bath negatives) is within 1%.
// Run one system per process, e.g.
//   ./build/tests/physgen_long_tests --gtest_filter='GanQualityLong.Phi4'
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/simulate.h"
#include "physgen/models/ebm/exponential_family.h"
#include "physgen/zoo/zoo.h"
#include "physgen/observables/lattice.h"
#include "physgen/zoo/model_task.h"
#include "support/test_util.h"
#include "support/gan_test_util.h"

using physgen_test::env_or;
using physgen_test::SingleThread;
using physgen_test::train_on_eight_gaussians;

using namespace physgen;

namespace {


constexpr const char* kM = "network=mlp+hidden=[256,256]+latent_dim=32+schedule=cosine";
constexpr const char* kPhi4Variants =
    "gan+steps=2000;gan+minibatch_std=4+steps=2000;wgan+steps=2000;wgan-gp+steps=2000;gan+M;wgan-gp+M;ebm;ebm-phi4";
constexpr const char* kPhi4Recipes = "gan+steps=2000;ebm-phi4";  // the conv EBM is not a recipe (docs)
constexpr const char* kIsingRecipes = "gan+M+output_activation=sign+minibatch_std=4+steps=8000;ebm-ising";
constexpr const char* kIsingVariants =
    "gan+M+output_activation=sign+minibatch_std=4+steps=8000;gan+M+output_activation=sign+minibatch_std=4;gan+M;"
    "wgan-gp+M+output_activation=sign;gan+steps=1000;ebm+steps=300;ebm-ising";

std::vector<std::string> env_list(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  std::stringstream ss(v ? v : fallback);
  std::vector<std::string> out;
  for (std::string s; std::getline(ss, s, ';');) out.push_back(s);
  return out;
}

struct Row {
  std::string variant;
  double abs_m = 0, chi = 0, binder = 0, abs_m_err = 0, chi_err = 0, binder_err = 0;
  int64_t steps = 0;
  double train_seconds = 0, sample_seconds = 0;
  std::string config;
  double worst = 0;   // max relative deviation of the three observables
  double excess = 0;  // max deviation beyond 10% of the reference, in combined standard errors
};

Row measure(const std::string& variant, const torch::Tensor& x, const std::string& system,
            const nlohmann::json& params, int64_t chains) {
  ObservableTable t = measure_lattice(x, system, params, chains);
  Row r;
  r.variant = variant;
  r.abs_m = t.at("abs_m").mean;
  r.abs_m_err = t.at("abs_m").error;
  r.chi = t.at("chi").mean;
  r.chi_err = t.at("chi").error;
  r.binder = t.at("binder").mean;
  r.binder_err = t.at("binder").error;
  return r;
}

/// Model options and trainer options of a variant (the zoo defaults plus the overrides named here).
/// A variant is NAME[+key=value...]: NAME a zoo family or "ebm-phi4", then [model] overrides
/// (value parsed as JSON, else taken as a string), e.g. "gan+network=mlp+hidden=[256,256]";
/// "lr=...", "steps=...", "schedule=..." and "batch_size=..." go to the trainer; "sampler.KEY=..." to the EBM sampler.
std::pair<ModelSpec, TrainerOptions> variant_config(const std::string& variant_spec, const std::string& system,
                                                    const nlohmann::json& params, int64_t L) {
  std::vector<std::string> parts;
  {
    // "M" as a part stands for the MLP configuration kM.
    std::stringstream ss(variant_spec);
    for (std::string s; std::getline(ss, s, '+');) {
      if (s != "M") {
        parts.push_back(s);
        continue;
      }
      std::stringstream ms(kM);
      for (std::string m; std::getline(ms, m, '+');) parts.push_back(m);
    }
  }
  const std::string variant = parts.at(0);
  const std::string family = variant.rfind("ebm", 0) == 0 ? "ebm" : variant;
  check_arg(family != "ebm" || variant == "ebm" || variant == "ebm-phi4" || variant == "ebm-ising", "variant",
            variant, "ebm, ebm-phi4 or ebm-ising");
  const std::vector<int64_t> shape{L, L};
  ModelSpec spec;
  spec.family = family;
  spec.model = default_model_options(family, shape);
  spec.system = system;
  spec.system_params = params;
  spec.objective = "native";
  if (family != "ebm" && system == "ising") spec.model["output_activation"] = "tanh";
  if (variant == "ebm-phi4") spec.model["network"] = "phi4";
  if (variant == "ebm-ising") {
    // The Ising exponential family: heat-bath negatives on +-1 spins, 5 sweeps per step;
    // samples from 2000 sweeps of fresh hot chains (tau_int of |m| at T_c, L = 16 is ~10^2).
    spec.model["network"] = "ising";
    spec.model["sampler"] = {{"method", "heatbath"}, {"n_steps", 5}};
    spec.model["init"] = "spins";
    spec.model["sample_steps"] = 2000;
  } else if (family == "ebm" && system == "ising") {
    spec.model["sampler"]["step_size"] = 0.02;
  }
  std::vector<std::pair<std::string, nlohmann::json>> trainer_keys;
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq), text = parts[i].substr(eq + 1);
    nlohmann::json value = nlohmann::json::accept(text) ? nlohmann::json::parse(text) : nlohmann::json(text);
    if (key == "lr" || key == "steps" || key == "schedule" || key == "batch_size") trainer_keys.emplace_back(key, value);
    else if (key.rfind("sampler.", 0) == 0) spec.model["sampler"][key.substr(8)] = value;
    else spec.model[key] = value;
  }
  // Trainer defaults follow the final model options (as in `physgen train`).
  TrainerOptions topts = default_train_options(family, shape, spec.model);
  for (const auto& [key, value] : trainer_keys) {
    if (key == "lr") topts.lr(value.get<double>());
    else if (key == "steps") topts.steps(value.get<int64_t>());
    else if (key == "schedule") topts.schedule(value.get<std::string>());
    else topts.batch_size(value.get<int64_t>());
  }
  return {spec, topts};
}

void run_system_seed(const std::string& system, uint64_t seed);

void run_system(const std::string& system) {
  configure_runtime(static_cast<int>(env_or("PHYSGEN_GQ_THREADS", 1)));
  const int64_t seeds = static_cast<int64_t>(env_or("PHYSGEN_GQ_SEEDS", 3));
  for (int64_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE(system + " seed " + std::to_string(seed));
    run_system_seed(system, static_cast<uint64_t>(seed));
  }
}

void run_system_seed(const std::string& system, uint64_t seed) {
  const double budget = env_or("PHYSGEN_GQ_SECONDS", 900);
  seed_all(seed);

  // ---- Monte Carlo reference ensemble.
  const auto t0 = std::chrono::steady_clock::now();
  torch::Tensor data;
  nlohmann::json params;
  int64_t L = 0;
  const int64_t chains = system == "phi4" ? 64 : 16;
  if (system == "phi4") {
    const Phi4Params p{8, -4.0, 8.0};
    L = p.L;
    auto hmc = make_phi4_hmc(p, chains, HmcOptions().step_size(0.1).n_steps(10));
    RecordOptions ro;
    ro.therm = 500;
    ro.samples = 2000;
    ro.progress = false;
    data = record_chain(*hmc, ro).to(torch::kFloat32);
    params = {{"L", p.L}, {"m2", p.m2}, {"lambda", p.lambda}};
  } else {
    IsingParams p;
    p.L = 16;
    p.beta = 0.5 * std::log(1.0 + std::sqrt(2.0));
    L = p.L;
    IsingSampler wolff(p, "wolff", chains, seed);
    RecordOptions ro;
    ro.therm = 200;
    ro.samples = 1000;
    ro.progress = false;
    data = record_chain(wolff, ro);
    params = p.to_json();
  }
  const double mc_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Row ref = measure("monte-carlo", data, system, params, chains);
  ref.config = system == "phi4" ? "HMC 64 x 2000 (eps 0.1, 10 steps)" : "Wolff 16 x 1000";
  ref.train_seconds = mc_seconds;
  std::vector<Row> rows{ref};

  const char* chosen = std::getenv("PHYSGEN_GQ_VARIANTS");
  const bool explore = chosen != nullptr;
  std::string list = system == "phi4" ? kPhi4Recipes : kIsingRecipes;
  if (explore) list = std::string(chosen) == "explore" ? (system == "phi4" ? kPhi4Variants : kIsingVariants) : chosen;
  const std::vector<std::string> variants = env_list("PHYSGEN_GQ_NO_SUCH_VARIABLE", list);
  CouplingFit pl = fit_couplings(data.to(torch::kFloat64), system, CouplingFitOptions());
  for (const auto& variant : variants) {
    seed_all(seed + 17);
    auto [spec, topts] = variant_config(variant, system, params, L);
    spec.model["event_shape"] = std::vector<int64_t>{L, L};
    Model model = build_model(spec);
    TrainingData td;
    td.x = data.to(torch::kFloat32);
    ModelTask task(model, "native", nullptr, topts.batch_size(), td);
    Trainer trainer(task, topts.progress(false));
    const auto ts = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (trainer.step() < topts.steps() && elapsed < budget) {
      const TrainResult r = trainer.fit(task.fit_data(), trainer.step() + 20);
      ASSERT_EQ(r.status, TrainResult::Status::Finished) << variant << ": " << r.message;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    }
    model.module->eval();
    const bool ebm = spec.family == "ebm";
    const int64_t n = static_cast<int64_t>(env_or("PHYSGEN_GQ_SAMPLES", ebm ? 2048 : 32768));
    const auto tsample = std::chrono::steady_clock::now();
    torch::Tensor x;
    {
      torch::NoGradGuard ng;
      nlohmann::json rep;
      x = model.sample_with ? model.sample_with(n, SamplerSettings(), rep) : model.generative->sample(n);
    }
    x = x.to(torch::kFloat32);
    if (system == "ising") x = torch::where(x >= 0, torch::ones_like(x), -torch::ones_like(x)).to(torch::kInt8);
    Row row = measure(variant, x, system, params, 1);
    row.steps = trainer.step();
    row.train_seconds = elapsed;
    row.sample_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tsample).count();
    nlohmann::json cfg = spec.model;
    cfg.erase("event_shape");
    row.config = cfg.dump() + " lr " + std::to_string(topts.lr()) + " batch " + std::to_string(topts.batch_size());
    if (ebm && (spec.model["network"] == "phi4" || spec.model["network"] == "ising")) {
      for (const auto& item : model.module->named_parameters()) {
        row.config += " fitted " + item.key() + "=" + std::to_string(item.value().item<double>());
        // energy.m2, energy.lambda or energy.beta: against the true coupling.
        const std::string key = item.key().substr(item.key().rfind('.') + 1);
        if (!params.contains(key)) continue;
        const double fitted = item.value().item<double>(), truth = params.at(key).get<double>();
        const double tol = 4.0 * std::sqrt(2.0) * pl.get(key).error;
        std::printf("[%s] %s fitted %s = %.4f, true %.4f, tolerance %.4f\n", system.c_str(), variant.c_str(),
                    key.c_str(), fitted, truth, tol);
        if (!explore) EXPECT_LT(std::abs(fitted - truth), tol) << variant << " " << key;
      }
    }
    rows.push_back(row);
    std::printf("[%s] %s done: %lld steps, %.1f s train, %.1f s sample\n", system.c_str(), variant.c_str(),
                static_cast<long long>(row.steps), row.train_seconds, row.sample_seconds);
    std::fflush(stdout);
  }

  // ---- Table.
  std::printf("\n| %s | variant | <|m|> | chi | U4 | max rel. dev. | beyond 10%% (sigma) | steps | train s | sample s |\n", system.c_str());
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto& r : rows) {
    r.worst = std::max({std::fabs(r.abs_m / ref.abs_m - 1), std::fabs(r.chi / ref.chi - 1),
                        std::fabs(r.binder / ref.binder - 1)});
    // Deviation beyond the 10% band in combined standard errors (near U4 = 0, the symmetric
    // phase, a relative band is narrower than the reference's own error).
    auto excess = [](double x, double xe, double y, double ye) {
      return std::max(0.0, std::fabs(x - y) - 0.10 * std::fabs(y)) / std::hypot(xe, ye);
    };
    r.excess = std::max({excess(r.abs_m, r.abs_m_err, ref.abs_m, ref.abs_m_err),
                         excess(r.chi, r.chi_err, ref.chi, ref.chi_err),
                         excess(r.binder, r.binder_err, ref.binder, ref.binder_err)});
    std::printf("| %s | %s | %.4f(%.0f) | %.3f(%.0f) | %.4f(%.0f) | %.1f%% | %.1f | %lld | %.0f | %.0f |\n",
                system.c_str(), r.variant.c_str(), r.abs_m, 1e4 * r.abs_m_err, r.chi, 1e3 * r.chi_err, r.binder,
                1e4 * r.binder_err, 100 * r.worst, r.excess, static_cast<long long>(r.steps), r.train_seconds,
                r.sample_seconds);
    if (r.variant == "monte-carlo" || explore) continue;
    EXPECT_LT(r.excess, 2.0) << r.variant << " (a documented recipe) misses the 10% target";
  }
  std::printf("(errors in units of the last digit shown)\n\n");
  for (const auto& r : rows)
    std::printf("csv,%s,%s,%.6g,%.3g,%.6g,%.3g,%.6g,%.3g,%.4f,%.2f,%lld,%.1f,%.1f,\"%s\"\n", system.c_str(),
                r.variant.c_str(), r.abs_m, r.abs_m_err, r.chi, r.chi_err, r.binder, r.binder_err, r.worst, r.excess,
                static_cast<long long>(r.steps), r.train_seconds, r.sample_seconds, r.config.c_str());
  std::fflush(stdout);
}

}  // namespace

TEST(GanQualityLong, Phi4) { run_system("phi4"); }
TEST(GanQualityLong, IsingCritical) { run_system("ising"); }

// WGAN-GP on 8gaussians (moved here from the default statistical run). The criterion, for
// each of the seeds 1..PHYSGEN_WGAN_SEEDS [4] (no failure allowed): >= 7 of the 8 modes hit and
// a high-quality fraction > 0.3 (WGAN-GP keeps thin bridges between modes). KNOWN MISS: no
// setting tried holds over seeds 1-4 (modes hit per seed, this machine, 2026-12-06/07):
//   Adam lr 1e-3, beta1 0.5, 6000 critic steps (the old test; seed 41 picked after others failed): 0, 8, 0, 1
//   lr 1e-4, beta1 0 (Gulrajani et al.), 6000 steps: 0, 0 (high-quality fraction 0.07: unconverged)
//   lr 3e-4, beta1 0, 20000 steps (the default below, the best found): 8, 7, 8, 6
//   lr 3e-4, beta1 0, 40000 steps: 8, 2, ... (longer training collapses seed 2)
// Knobs: PHYSGEN_WGAN_LR [3e-4], PHYSGEN_WGAN_STEPS [20000], PHYSGEN_WGAN_BETA1 [0].
TEST(GanQualityLong, WganGpCoversEightGaussians) {
  SingleThread single;
  const int64_t seeds = static_cast<int64_t>(env_or("PHYSGEN_WGAN_SEEDS", 4));
  for (int64_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    seed_all(static_cast<uint64_t>(seed));
    auto cov = train_on_eight_gaussians(
        GanOptions::preset("wgan-gp", {2}).latent_dim(4).hidden({128, 128}).adam_beta1(env_or("PHYSGEN_WGAN_BETA1", 0.0)),
        TrainerOptions()
            .steps(static_cast<int64_t>(env_or("PHYSGEN_WGAN_STEPS", 20000)))
            .batch_size(256)
            .lr(env_or("PHYSGEN_WGAN_LR", 3e-4)),
        ("wgan-gp seed " + std::to_string(seed)).c_str());
    EXPECT_GE(cov.modes_hit, 7);
    EXPECT_GT(cov.high_quality_fraction, 0.3);
  }
}
