// `physgen sample --model MODEL.pt --n N --out FILE.npy [--mcmc] [--json]`:
// draw from a trained model; with --mcmc, the Metropolis-corrected (exact) chain.
#include <iostream>
#include <map>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/core/shape.h"
#include "physgen/core/progress.h"
#include "physgen/core/rng.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/ising_exact.h"
#include "physgen/lattice/targets.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/observables/estimators/reweighting.h"
#include "physgen/zoo/zoo.h"

namespace physgen::cli {

namespace {

struct SampleFlags {
  std::string model, out;
  int64_t n = 10000, batch = 1024;
  uint64_t seed = 1;
  bool mcmc = false, as_json = false;
  SamplerSettings settings;
  CommonOptions common;
};

/// The free energies per site of `sample --json` from the independent draws' log-weights
/// (free_energy_per_site), and the exact values where physgen knows them (Ising at h = 0,
/// J >= 0: Kaufman's finite-L partition function gives F, log Z / V and the energy per site).
void report_free_energy(const Target& target, const torch::Tensor& log_weights, nlohmann::json& out) {
  const auto shape = target.event_shape();
  const int64_t volume = shape_numel(shape);
  if (log_weights.numel() < 2 || target.beta() <= 0) return;
  const FreeEnergyEstimate f = free_energy_per_site(log_weights, target.beta(), volume);
  out["free_energy"] = {{"mean", f.importance.mean}, {"error", f.importance.error}};
  out["free_energy_variational"] = {{"mean", f.variational.mean}, {"error", f.variational.error}};
  if (const auto* ising = dynamic_cast<const IsingModel*>(&target)) {
    const IsingParams& p = ising->ising_params();
    if (p.h == 0.0 && p.J >= 0.0 && p.beta > 0.0) {
      const IsingExact k = ising_exact_kaufman(p);
      const double exact = -k.log_z / (p.beta * static_cast<double>(volume));
      out["free_energy_exact"] = exact;
      out["log_z_per_site_exact"] = k.log_z / static_cast<double>(volume);
      out["energy_per_site_exact"] = k.energy;
      out["free_energy_z"] = (f.importance.mean - exact) / f.importance.error;
      out["free_energy_variational_relative_error"] = std::abs(f.variational.mean - exact) / std::abs(exact);
    }
  }
}

/// Draws n samples in batches: the family's sampler with the settings when it
/// has one (numbers it reports, e.g. "nfe", are averaged over batches), else
/// GenerativeModel::sample.
torch::Tensor draw(const Model& model, const SampleFlags& f, nlohmann::json& out) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> parts;
  std::map<std::string, double> sums;
  int64_t batches = 0;
  for (int64_t done = 0; done < f.n; done += f.batch) {
    const int64_t b = std::min(f.batch, f.n - done);
    nlohmann::json report = nlohmann::json::object();
    parts.push_back(model.sample(b, f.settings, report));
    for (auto& [k, v] : report.items())
      if (v.is_number()) sums[k] += v.get<double>();
    ++batches;
  }
  for (auto& [k, v] : sums) out[k] = v / static_cast<double>(batches);
  return torch::cat(parts, 0);
}

void run_sample(const SampleFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  Model model = load_model(f.model, device);
  const ModelSpec& spec = model.spec;
  // The n samples are gathered in float64 at worst (importance weights, the corrected chain)
  // and copied once to the stored float32: check before drawing the first batch.
  check_memory(f.n * shape_numel(model.generative->event_shape()) * (8 + 4), "samples (n x event shape, float64)",
               "--n", std::to_string(f.n));
  TargetPtr target;
  if (spec.system == "phi4" || spec.system == "ising") target = make_target(spec.system, spec.system_params);

  Progress clock("sample", 1, "", false);
  nlohmann::json out{{"model", f.model}, {"family", spec.family}, {"system", spec.system}, {"n", f.n}};
  EnsembleMeta meta;
  meta.system = spec.system.empty() ? "samples" : spec.system;
  meta.params = spec.system_params;
  meta.generator = "physgen sample --model " + f.model;
  meta.seed = f.seed;
  meta.chains = 1;
  meta.samples_per_chain = f.n;
  torch::Tensor x;
  if (f.mcmc) {
    check_arg(model.likelihood != nullptr, "--mcmc", "set",
              "a model with an exact likelihood (the '" + spec.family + "' family has none)");
    check_arg(target != nullptr, "--mcmc", "set",
              "a model of a system with a known action (phi4 or ising); this one models '" + spec.system + "'");
    if (model.configure_likelihood) model.configure_likelihood(f.settings);
    IndependenceMetropolis chain(model.likelihood, target, IndependenceMetropolisOptions().batch_size(f.batch).seed(f.seed));
    IndependenceMetropolisResult r = chain.run(f.n);
    x = r.chain;
    meta.algorithm = "flow-mcmc";
    out["acceptance"] = r.acceptance;
    out["ess"] = r.proposal_ess;
    out["ess_batch64"] = r.proposal_batch_ess;
    report_free_energy(*target, r.proposal_log_weights, out);
    if (model.likelihood_report) out.update(model.likelihood_report());
    meta.extra = {{"metropolis_corrected", true}, {"acceptance", r.acceptance}, {"proposal_ess", r.proposal_ess},
                  {"model", f.model}};
  } else {
    torch::NoGradGuard ng;
    if (target && model.likelihood && !model.sample_with) {
      // One pass gives the samples and their importance weights p/q.
      ImportanceSample s = importance_sample(*model.likelihood, *target, f.n, f.batch);
      x = s.samples;
      out["ess"] = s.ess;
      meta.extra["importance_ess"] = s.ess;
      report_free_energy(*target, s.log_weights, out);
    } else {
      x = draw(model, f, out);
    }
    meta.algorithm = "model-sample";
    meta.extra["metropolis_corrected"] = false;
    meta.extra["model"] = f.model;
  }
  // Ising models sample continuous spins; the ensemble stores them projected (to_spins).
  x = spec.system == "ising" ? to_spins(x.cpu()) : x.to(torch::kCPU, torch::kFloat32);
  save_ensemble(f.out, x.cpu(), meta);
  out["out"] = f.out;
  out["seconds"] = clock.elapsed();
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "wrote " << f.out << "  shape " << x.sizes() << "  " << meta.algorithm;
    if (out.contains("acceptance")) std::cout << "  acceptance " << out["acceptance"].get<double>();
    if (out.contains("ess")) std::cout << "  ESS " << out["ess"].get<double>();
    if (out.contains("free_energy"))
      std::cout << "\n  free energy per site " << out["free_energy"]["mean"].get<double>() << " +- "
                << out["free_energy"]["error"].get<double>() << " (importance sampled), variational "
                << out["free_energy_variational"]["mean"].get<double>();
    if (out.contains("free_energy_exact"))
      std::cout << ", exact " << out["free_energy_exact"].get<double>();
    std::cout << "\n";
  }
}

}  // namespace

void register_sample(CLI::App& app) {
  auto f = std::make_shared<SampleFlags>();
  auto* sub = app.add_subcommand("sample", "draw samples from a trained model (exactly, with --mcmc)");
  sub->add_option("--model", f->model, "trained model checkpoint MODEL.pt")->required();
  sub->add_option("--n", f->n, "number of samples (chain length with --mcmc)")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--out", f->out, "output FILE.npy (+ sidecar)")->required();
  sub->add_flag("--mcmc", f->mcmc,
                "Metropolis-correct the samples: independence Metropolis-Hastings with the model as proposal");
  sub->add_option("--batch", f->batch, "model samples drawn per call")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
  sub->add_option("--sampler", f->settings.sampler, "diffusion-type models: ddpm | ddim | em | pc | ode");
  sub->add_option("--solver", f->settings.solver, "ODE models: dopri5 | rk4 | midpoint | euler");
  sub->add_option("--steps", f->settings.steps, "sampler or fixed-step solver steps (0: the model's default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--rtol", f->settings.rtol, "adaptive solver relative tolerance (0: default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--atol", f->settings.atol, "adaptive solver absolute tolerance (0: default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--eta", f->settings.eta, "DDIM stochasticity eta in [0, 1] (default 0)");
  sub->add_option("--condition", f->settings.condition,
                  "condition of a conditional model: a class label, or the parameter values")
      ->delimiter(',');
  sub->add_option("--guidance", f->settings.guidance, "classifier-free guidance weight w (0: none)")
      ->capture_default_str();
  sub->add_flag("--json", f->as_json, "print one JSON object (acceptance, ess, nfe, ...)");
  add_common_options(sub, f->common);
  sub->callback([f] { run_sample(*f); });
}

}  // namespace physgen::cli
