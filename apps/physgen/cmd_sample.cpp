// `physgen sample --model MODEL.pt --n N --out FILE.npy [--mcmc] [--json]`:
// draw from a trained model; with --mcmc, the Metropolis-corrected (exact) chain.
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/api/sample.h"
#include "physgen/core/progress.h"
#include "physgen/io/sidecar.h"
#include "physgen/zoo/zoo.h"

namespace physgen::cli {

namespace {

struct SampleFlags {
  std::string model, out;
  SampleRequest request;
  bool as_json = false;
  CommonOptions common;
};

void run_sample(SampleFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  Progress clock("sample", 1, "", false);
  Model model = load_model(f.model, device);
  f.request.model_path = f.model;
  SampleOutcome o = sample_model(model, f.request);
  save_ensemble(f.out, o.ensemble.x, o.ensemble.meta);
  nlohmann::json out{{"model", f.model}, {"family", model.spec.family}, {"system", model.spec.system},
                     {"n", f.request.n}};
  out.update(o.report);
  out["out"] = f.out;
  out["seconds"] = clock.elapsed();
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "wrote " << f.out << "  shape " << o.ensemble.x.sizes() << "  " << o.ensemble.meta.algorithm;
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
  sub->add_option("--n", f->request.n, "number of samples (chain length with --mcmc)")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--out", f->out, "output FILE.npy (+ sidecar) or FILE.h5 (by extension)")->required();
  sub->add_flag("--mcmc", f->request.mcmc,
                "Metropolis-correct the samples: independence Metropolis-Hastings with the model as proposal");
  sub->add_option("--batch", f->request.batch, "model samples drawn per call")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--seed", f->request.seed, "random seed")->capture_default_str();
  sub->add_option("--sampler", f->request.settings.sampler, "diffusion-type models: ddpm | ddim | em | pc | ode");
  sub->add_option("--solver", f->request.settings.solver, "ODE models: dopri5 | rk4 | midpoint | euler");
  sub->add_option("--steps", f->request.settings.steps, "sampler or fixed-step solver steps (0: the model's default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--rtol", f->request.settings.rtol, "adaptive solver relative tolerance (0: default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--atol", f->request.settings.atol, "adaptive solver absolute tolerance (0: default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--eta", f->request.settings.eta, "DDIM stochasticity eta in [0, 1] (default 0)");
  sub->add_option("--condition", f->request.settings.condition,
                  "condition of a conditional model: a class label, or the parameter values")
      ->delimiter(',');
  sub->add_option("--guidance", f->request.settings.guidance, "classifier-free guidance weight w (0: none)")
      ->capture_default_str();
  sub->add_flag("--json", f->as_json, "print one JSON object (acceptance, ess, nfe, ...)");
  add_common_options(sub, f->common);
  sub->callback([f] { run_sample(*f); });
}

}  // namespace physgen::cli
