// `physgen inpaint --model MODEL.pt --in FIELD.npy (--mask MASK.npy | --denoise SIGMA)
//  --out FILE.npy [--truth TRUE.npy] [--add-noise] [--json]`: inverse problems with a
// trained DDPM prior (library: models/diffusion/restore.h).
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/io/hdf5.h"
#include "physgen/core/check.h"
#include "physgen/core/progress.h"
#include "physgen/core/rng.h"
#include "physgen/io/npy.h"
#include "physgen/io/sidecar.h"
#include "physgen/zoo/zoo.h"

namespace physgen::cli {

namespace {

struct InpaintFlags {
  std::string model, in, mask, truth, out;
  double denoise = 0.0;
  bool add_noise = false, as_json = false;
  int64_t resample = 10, jump = 10;
  uint64_t seed = 1;
  CommonOptions common;
};

void run_inpaint(const InpaintFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  check_arg(f.mask.empty() != (f.denoise == 0.0), "--mask/--denoise",
            f.mask.empty() ? "neither given" : "both given",
            "exactly one: --mask MASK.npy (inpainting) or --denoise SIGMA (denoising)");
  check_arg(!f.add_noise || f.denoise > 0, "--add-noise", "set", "--denoise SIGMA > 0");
  Model model = load_model(f.model, device);
  const ModelSpec& spec = model.spec;
  torch::Tensor observed = read_array(f.in).to(torch::kFloat64);
  torch::Tensor truth = f.truth.empty() ? torch::Tensor() : read_array(f.truth).to(torch::kFloat64);
  if (f.add_noise) {
    // --in holds clean fields: observe them with noise, and judge against them.
    if (!truth.defined()) truth = observed;
    observed = observed + f.denoise * torch::randn_like(observed);
  }
  torch::Tensor mask = f.mask.empty() ? torch::Tensor() : read_array(f.mask);
  check_arg(model.restorer != nullptr, "--model", f.model,
            "a model that restores fields, e.g. ddpm (inpainting and denoising use its noise predictor and "
            "schedule); this one is a '" + spec.family + "' model");
  RestoreOptions ro;
  ro.noise_std(f.denoise).sign_output(spec.system == "ising").resample(f.resample).jump(f.jump);

  Progress clock("inpaint", 1, "", false);
  RestoreResult r = model.restorer->restore(observed, mask, truth, ro);
  EnsembleMeta meta;
  meta.system = spec.system.empty() ? "samples" : spec.system;
  meta.params = spec.system_params;
  meta.generator = "physgen inpaint --model " + f.model;
  meta.algorithm = r.report["mode"].get<std::string>();
  meta.seed = f.seed;
  meta.chains = 1;
  meta.samples_per_chain = r.x.size(0);
  meta.extra = {{"model", f.model}, {"in", f.in}, {"report", r.report}};
  torch::Tensor x = spec.system == "ising" ? r.x.to(torch::kCPU, torch::kInt8)
                                           : r.x.to(torch::kCPU, torch::kFloat32);
  save_ensemble(f.out, x, meta);
  nlohmann::json out = r.report;
  out["model"] = f.model;
  out["out"] = f.out;
  out["seconds"] = clock.elapsed();
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "wrote " << f.out << "  shape " << x.sizes() << "  " << meta.algorithm;
    if (out.contains("rmse")) std::cout << "  rmse " << out["rmse"].get<double>();
    if (out.contains("rmse_input")) std::cout << " (input " << out["rmse_input"].get<double>() << ")";
    if (out.contains("rmse_mean_fill"))
      std::cout << " (mean fill " << out["rmse_mean_fill"].get<double>() << ")";
    std::cout << "\n";
  }
}

}  // namespace

void register_inpaint(CLI::App& app) {
  auto f = std::make_shared<InpaintFlags>();
  auto* sub = app.add_subcommand(
      "inpaint", "fill in masked regions (RePaint) or denoise fields with a trained ddpm model");
  sub->add_option("--model", f->model, "trained ddpm checkpoint MODEL.pt")->required();
  sub->add_option("--in", f->in, "observed fields FIELD.npy or .h5: (n, *event_shape) or one field")
      ->required();
  sub->add_option("--mask", f->mask,
                  "MASK.npy or .h5 of 0 (unknown: filled in) and 1 (known: kept), the event shape or --in's");
  sub->add_option("--denoise", f->denoise,
                  "denoise instead: --in has Gaussian noise of standard deviation SIGMA")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--add-noise", f->add_noise,
                "with --denoise: --in is clean; add the noise first and judge against --in");
  sub->add_option("--truth", f->truth, "true fields TRUE.npy or .h5 (--in's shape): report the error");
  sub->add_option("--out", f->out, "output FILE.npy (+ sidecar) or FILE.h5 (by extension)")->required();
  sub->add_option("--resample", f->resample, "RePaint passes per block of steps (1: none)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--jump", f->jump, "RePaint reverse steps per block")
      ->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
  sub->add_flag("--json", f->as_json, "print one JSON object (rmse, rmse_input, nfe, ...)");
  add_common_options(sub, f->common);
  sub->callback([f] { run_inpaint(*f); });
}

}  // namespace physgen::cli
