#include "physgen/api/sample.h"

#include <cmath>
#include <map>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/core/shape.h"
#include "physgen/core/rng.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/ising_exact.h"
#include "physgen/lattice/targets.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/observables/estimators/reweighting.h"

namespace physgen {

void report_free_energy(const Target& target, const torch::Tensor& log_weights, nlohmann::json& out) {
  const int64_t volume = shape_numel(target.event_shape());
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

namespace {

/// Draws n samples in batches: the family's sampler with the settings when it has one
/// (numbers it reports, e.g. "nfe", are averaged over batches), else GenerativeModel::sample.
torch::Tensor draw_in_batches(const Model& model, const SampleRequest& req, nlohmann::json& out) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> parts;
  std::map<std::string, double> sums;
  int64_t batches = 0;
  for (int64_t done = 0; done < req.n; done += req.batch) {
    const int64_t b = std::min(req.batch, req.n - done);
    nlohmann::json report = nlohmann::json::object();
    parts.push_back(model.sample(b, req.settings, report));
    for (auto& [k, v] : report.items())
      if (v.is_number()) sums[k] += v.get<double>();
    ++batches;
  }
  for (auto& [k, v] : sums) out[k] = v / static_cast<double>(batches);
  return torch::cat(parts, 0);
}

}  // namespace

SampleOutcome sample_model(const Model& model, const SampleRequest& req) {
  check_arg(req.n >= 1, "n", req.n, "at least 1 sample");
  check_arg(req.batch >= 1, "batch", req.batch, "at least 1 sample per call");
  seed_all(req.seed);
  const ModelSpec& spec = model.spec;
  // The n samples are gathered in float64 at worst (importance weights, the corrected chain)
  // and copied once to the stored float32: check before drawing the first batch.
  check_memory(req.n * shape_numel(model.generative->event_shape()) * (8 + 4), "samples (n x event shape, float64)",
               "n", std::to_string(req.n));
  TargetPtr target;
  if (spec.system == "phi4" || spec.system == "ising") target = make_target(spec.system, spec.system_params);

  SampleOutcome o;
  nlohmann::json& out = o.report;
  EnsembleMeta& meta = o.ensemble.meta;
  meta.system = spec.system.empty() ? "samples" : spec.system;
  meta.params = spec.system_params;
  meta.generator = "physgen sample --model " + req.model_path;
  meta.seed = req.seed;
  meta.chains = 1;
  meta.samples_per_chain = req.n;
  torch::Tensor x;
  if (req.mcmc) {
    check_arg(model.likelihood != nullptr, "mcmc", "set",
              "a model with an exact likelihood (the '" + spec.family + "' family has none)");
    check_arg(target != nullptr, "mcmc", "set",
              "a model of a system with a known action (phi4 or ising); this one models '" + spec.system + "'");
    if (model.configure_likelihood) model.configure_likelihood(req.settings);
    IndependenceMetropolis chain(model.likelihood, target,
                                 IndependenceMetropolisOptions().batch_size(req.batch).seed(req.seed));
    IndependenceMetropolisResult r = chain.run(req.n);
    x = r.chain;
    meta.algorithm = "flow-mcmc";
    out["acceptance"] = r.acceptance;
    out["ess"] = r.proposal_ess;
    out["ess_batch64"] = r.proposal_batch_ess;
    report_free_energy(*target, r.proposal_log_weights, out);
    if (model.likelihood_report) out.update(model.likelihood_report());
    meta.extra = {{"metropolis_corrected", true}, {"acceptance", r.acceptance}, {"proposal_ess", r.proposal_ess},
                  {"model", req.model_path}};
  } else {
    torch::NoGradGuard ng;
    if (target && model.likelihood && !model.sample_with) {
      // One pass gives the samples and their importance weights p/q.
      ImportanceSample s = importance_sample(*model.likelihood, *target, req.n, req.batch);
      x = s.samples;
      out["ess"] = s.ess;
      meta.extra["importance_ess"] = s.ess;
      report_free_energy(*target, s.log_weights, out);
    } else {
      x = draw_in_batches(model, req, out);
    }
    meta.algorithm = "model-sample";
    meta.extra["metropolis_corrected"] = false;
    meta.extra["model"] = req.model_path;
  }
  // Ising models sample continuous spins; the ensemble stores them projected (to_spins).
  o.ensemble.x = spec.system == "ising" ? to_spins(x.cpu()) : x.to(torch::kCPU, torch::kFloat32);
  return o;
}

}  // namespace physgen
