// `physgen sample --model MODEL.pt --n N --out FILE.npy [--mcmc] [--json]`:
// draw from a trained model; with --mcmc, the Metropolis-corrected (exact) chain.
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/progress.h"
#include "physgen/core/rng.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/targets.h"
#include "physgen/mcmc/flow_mcmc.h"
#include "physgen/models/zoo.h"

namespace physgen::cli {

namespace {

struct SampleFlags {
  std::string model, out;
  int64_t n = 10000, batch = 1024;
  uint64_t seed = 1;
  bool mcmc = false, as_json = false;
  CommonOptions common;
};

void run_sample(const SampleFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  Model model = load_model(f.model, device);
  const ModelSpec& spec = model.spec;
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
    FlowMetropolis chain(model.likelihood, target, FlowMCMCOptions().batch_size(f.batch).seed(f.seed));
    FlowMCMCResult r = chain.run(f.n);
    x = r.chain;
    meta.algorithm = "flow-mcmc";
    out["acceptance"] = r.acceptance;
    out["ess"] = r.proposal_ess;
    meta.extra = {{"metropolis_corrected", true}, {"acceptance", r.acceptance}, {"proposal_ess", r.proposal_ess},
                  {"model", f.model}};
  } else {
    torch::NoGradGuard ng;
    if (target && model.likelihood) {
      ImportanceSample s = importance_sample(*model.likelihood, *target, f.n, f.batch);
      x = s.samples;
      out["ess"] = s.ess;
      meta.extra["importance_ess"] = s.ess;
    } else {
      std::vector<torch::Tensor> parts;
      for (int64_t done = 0; done < f.n; done += f.batch)
        parts.push_back(model.generative->sample(std::min(f.batch, f.n - done)));
      x = torch::cat(parts, 0);
    }
    meta.algorithm = "model-sample";
    meta.extra["metropolis_corrected"] = false;
    meta.extra["model"] = f.model;
  }
  // Ising models sample continuous spins; the ensemble stores their signs.
  if (spec.system == "ising") x = torch::sign(x).to(torch::kInt8);
  else x = x.to(torch::kCPU, torch::kFloat32);
  save_ensemble(f.out, x.cpu(), meta);
  out["out"] = f.out;
  out["seconds"] = clock.elapsed();
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "wrote " << f.out << "  shape " << x.sizes() << "  " << meta.algorithm;
    if (out.contains("acceptance")) std::cout << "  acceptance " << out["acceptance"].get<double>();
    if (out.contains("ess")) std::cout << "  ESS " << out["ess"].get<double>();
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
  sub->add_flag("--json", f->as_json, "print one JSON object (acceptance, ess, ...)");
  add_common_options(sub, f->common);
  sub->callback([f] { run_sample(*f); });
}

}  // namespace physgen::cli
