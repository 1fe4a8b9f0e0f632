// `physgen interpolate --model MODEL.pt --n-steps K --out FILE.npy`: decode paths through
// the latent space of any model with a latent view (Model::latent: GANs, the VAE;
// models/capabilities.h, models/gan/latent.h).
//   default        P paths between random latent pairs, K points each (spherical or linear);
//   --arithmetic   A.npy,B.npy,C.npy: the path from z_C = mean enc(C) to
//                  z_C + mean enc(A) - mean enc(B) (latent vector arithmetic), K points;
//                  enc is the VAE's posterior mean or the GAN's generator inversion.
// Output rows are chain-major: path p, point t at row p K + t.
#include <cmath>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/core/rng.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/ising.h"
#include "physgen/models/gan/latent.h"
#include "physgen/zoo/zoo.h"

namespace physgen::cli {

namespace {

struct InterpolateFlags {
  std::string model, out, method = "spherical", arithmetic;
  int64_t n_steps = 8, n_paths = 1;
  uint64_t seed = 1;
  std::vector<double> condition;
  bool as_json = false;
  CommonOptions common;
};

/// Mean latent of an ensemble file under the model's encoder, (k).
torch::Tensor mean_latent(LatentModel& latent, const std::string& file) {
  auto [x, meta] = load_ensemble(file);
  (void)meta;
  const auto shape = latent.event_shape();
  check_arg(x.dim() == static_cast<int64_t>(shape.size()) + 1 && x.sizes().slice(1).equals(torch::IntArrayRef(shape)),
            "--arithmetic", file,
            "ensembles of the model's event shape " + detail::to_display(torch::IntArrayRef(shape)) + "; got " +
                detail::to_display(x.sizes()));
  const torch::Tensor like = latent.sample_latent(1);
  return latent.encode(x.to(like.device(), like.scalar_type())).mean(0);
}

void run_interpolate(const InterpolateFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  Model model = load_model(f.model, device);
  const std::shared_ptr<LatentModel> latent = model.latent;
  check_arg(latent != nullptr, "--model", f.model,
            "a model with a latent code (gan, cgan, wgan, wgan-gp or vae); this one is a '" + model.spec.family +
                "' model");
  torch::NoGradGuard ng;
  // Condition features of a conditional model (one-hot label or parameter values), (1, width).
  torch::Tensor c;
  if (latent->conditional()) {
    const torch::Tensor v = model.spec.condition.sampling_values(f.condition, 1, model.spec.family);
    check_arg(v.defined(), "--condition", "(none)", "the condition of this conditional model's fields");
    c = model.spec.condition.features(v);
  } else {
    check_arg(f.condition.empty(), "--condition", "(values)", "none: this model is unconditional");
  }
  torch::Tensor x;
  nlohmann::json out{{"model", f.model}, {"family", model.spec.family}, {"n_steps", f.n_steps}};
  auto decode = [&](const torch::Tensor& z) {
    return latent->decode(z, c.defined() ? c.to(z.options()).expand({z.size(0), c.size(1)}) : c);
  };
  if (!f.arithmetic.empty()) {
    std::vector<std::string> files;
    std::stringstream ss(f.arithmetic);
    for (std::string s; std::getline(ss, s, ',');) files.push_back(s);
    check_arg(files.size() == 3, "--arithmetic", f.arithmetic, "three ensembles A.npy,B.npy,C.npy");
    const torch::Tensor za = mean_latent(*latent, files[0]), zb = mean_latent(*latent, files[1]),
                        zc = mean_latent(*latent, files[2]);
    const torch::Tensor end = latent_arithmetic(za, zb, zc);
    x = decode(interpolate_latents(zc, end, f.n_steps, "linear"));
    out["direction_norm"] = latent_direction(za, zb).norm().item<double>();
    out["method"] = "arithmetic";
    out["encoder"] = latent->encoder();
  } else {
    check_choice("--method", f.method, latent_interpolation_methods());
    const torch::Tensor z0 = latent->sample_latent(f.n_paths), z1 = latent->sample_latent(f.n_paths);
    // (K, P, k) -> (P, K, k) -> (P K, k): chain-major paths.
    x = decode(interpolate_latents(z0, z1, f.n_steps, f.method).transpose(0, 1).reshape({-1, z0.size(1)}));
    out["method"] = f.method;
    out["n_paths"] = f.n_paths;
  }
  x = x.to(torch::kCPU, torch::kFloat32);
  const ModelSpec& spec = model.spec;
  if (spec.system == "ising") x = to_spins(x);
  EnsembleMeta meta;
  meta.system = spec.system.empty() ? "samples" : spec.system;
  meta.params = spec.system_params;
  meta.generator = "physgen interpolate --model " + f.model;
  meta.algorithm = "latent-" + out["method"].get<std::string>();
  meta.seed = f.seed;
  meta.chains = f.arithmetic.empty() ? f.n_paths : 1;
  meta.samples_per_chain = f.n_steps;
  meta.extra = {{"model", f.model}, {"metropolis_corrected", false}};
  save_ensemble(f.out, x, meta);
  out["out"] = f.out;
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "wrote " << f.out << "  shape " << x.sizes() << "  (" << out["method"].get<std::string>()
              << " latent path" << (meta.chains > 1 ? "s" : "") << ")\n";
  }
}

}  // namespace

void register_interpolate(CLI::App& app) {
  auto f = std::make_shared<InterpolateFlags>();
  auto* sub = app.add_subcommand(
      "interpolate",
      "decode latent interpolations (or latent arithmetic) of a GAN or VAE (arXiv:1609.04468, arXiv:1511.06434)");
  sub->add_option("--model", f->model, "trained gan/cgan/wgan/wgan-gp/vae checkpoint MODEL.pt")->required();
  sub->add_option("--n-steps", f->n_steps, "points per path, ends included")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  sub->add_option("--n-paths", f->n_paths, "independent paths between random latent pairs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--method", f->method, "spherical | linear")->capture_default_str();
  sub->add_option("--arithmetic", f->arithmetic,
                  "A.npy,B.npy,C.npy: the path from C's mean latent to mean(A) - mean(B) + mean(C)");
  sub->add_option("--condition", f->condition, "condition of a conditional GAN (label or parameter values)")
      ->delimiter(',');
  sub->add_option("--out", f->out, "output FILE.npy (+ sidecar) or FILE.h5 (by extension)")->required();
  sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
  sub->add_flag("--json", f->as_json, "print one JSON object");
  add_common_options(sub, f->common);
  sub->callback([f] { run_interpolate(*f); });
}

}  // namespace physgen::cli
