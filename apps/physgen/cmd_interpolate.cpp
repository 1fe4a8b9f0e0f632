// `physgen interpolate --model MODEL.pt --n-steps K --out FILE.npy`: decode paths through
// the latent space of a GAN generator or a VAE decoder (models/gan/latent.h).
//   default        P paths between random latent pairs, K points each (spherical or linear);
//   --arithmetic   (VAE) A.npy,B.npy,C.npy: the path from z_C = mean q(z|C) to
//                  z_C + mean q(z|A) - mean q(z|B) (latent vector arithmetic), K points.
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
#include "physgen/models/gan/gan.h"
#include "physgen/models/gan/latent.h"
#include "physgen/models/vae/vae.h"
#include "physgen/models/zoo.h"

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

/// Mean encoder latent of an ensemble file, (k).
torch::Tensor mean_latent(VaeImpl& vae, const std::string& file) {
  auto [x, meta] = load_ensemble(file);
  (void)meta;
  const auto& shape = vae.options.event_shape();
  check_arg(x.dim() == static_cast<int64_t>(shape.size()) + 1 && x.sizes().slice(1).equals(torch::IntArrayRef(shape)),
            "--arithmetic", file,
            "ensembles of the model's event shape " + detail::to_display(torch::IntArrayRef(shape)) + "; got " +
                detail::to_display(x.sizes()));
  const torch::Tensor p = vae.log_sigma;
  return vae.encode(x.to(p.device(), p.scalar_type())).first.mean(0);
}

/// Generator features of --condition for a conditional GAN's ModelSpec::condition: the
/// one-hot label or the parameter values, (condition_dim).
torch::Tensor gan_features(const nlohmann::json& cond, const std::vector<double>& v) {
  const std::string shown = v.empty() ? "(none)" : std::to_string(v.front()) + (v.size() > 1 ? ",..." : "");
  if (cond.at("kind") == "class") {
    const int64_t K = cond.at("classes").get<int64_t>();
    check_arg(v.size() == 1 && v[0] == std::floor(v[0]) && v[0] >= 0 && v[0] < K, "--condition", shown,
              "one class label in [0, " + std::to_string(K) + ")");
    return one_hot_condition(torch::tensor({static_cast<int64_t>(v[0])}), K).view({K});
  }
  const int64_t k = cond.at("dim").get<int64_t>();
  check_arg(static_cast<int64_t>(v.size()) == k, "--condition", shown,
            std::to_string(k) + " parameter value(s) " + cond.value("names", nlohmann::json()).dump());
  return torch::tensor(v, torch::kFloat32);
}

void run_interpolate(const InterpolateFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  Model model = load_model(f.model, device);
  auto gan = std::dynamic_pointer_cast<GanImpl>(model.module);
  auto vae = std::dynamic_pointer_cast<VaeImpl>(model.module);
  check_arg(gan || vae, "--model", f.model,
            "a model with a latent code (gan, cgan, wgan, wgan-gp or vae); this one is a '" + model.spec.family +
                "' model");
  check_arg(f.arithmetic.empty() || vae, "--arithmetic", f.arithmetic,
            "a VAE model (a GAN has no encoder to place ensembles in its latent space)");
  torch::NoGradGuard ng;
  torch::Tensor x;
  nlohmann::json out{{"model", f.model}, {"family", model.spec.family}, {"n_steps", f.n_steps}};
  if (!f.arithmetic.empty()) {
    std::vector<std::string> files;
    std::stringstream ss(f.arithmetic);
    for (std::string s; std::getline(ss, s, ',');) files.push_back(s);
    check_arg(files.size() == 3, "--arithmetic", f.arithmetic, "three ensembles A.npy,B.npy,C.npy");
    const torch::Tensor za = mean_latent(*vae, files[0]), zb = mean_latent(*vae, files[1]),
                        zc = mean_latent(*vae, files[2]);
    const torch::Tensor end = latent_arithmetic(za, zb, zc);
    const torch::Tensor z = interpolate_latents(zc, end, f.n_steps, "linear");
    x = vae->decode(z);
    out["direction_norm"] = latent_direction(za, zb).norm().item<double>();
    out["method"] = "arithmetic";
  } else {
    check_choice("--method", f.method, latent_interpolation_methods());
    torch::Tensor z0, z1, c;
    if (gan) {
      z0 = gan->sample_latent(f.n_paths);
      z1 = gan->sample_latent(f.n_paths);
      check_arg(gan->conditional() || f.condition.empty(), "--condition", "(values)",
                "none: this GAN is unconditional");
      if (gan->conditional()) c = gan_features(model.spec.condition, f.condition);
    } else {
      const torch::Tensor p = vae->log_sigma;
      z0 = torch::randn({f.n_paths, vae->options.latent_dim()}, p.options());
      z1 = torch::randn({f.n_paths, vae->options.latent_dim()}, p.options());
    }
    // (K, P, k) -> (P, K, k) -> (P K, k): chain-major paths.
    const torch::Tensor z = interpolate_latents(z0, z1, f.n_steps, f.method).transpose(0, 1).reshape({-1, z0.size(1)});
    if (gan) {
      if (c.defined()) c = c.to(z.options()).view({1, -1}).expand({z.size(0), c.size(0)});
      x = gan->generate(z, c);
    } else {
      x = vae->decode(z);
    }
    out["method"] = f.method;
    out["n_paths"] = f.n_paths;
  }
  x = x.to(torch::kCPU, torch::kFloat32);
  const ModelSpec& spec = model.spec;
  if (spec.system == "ising") x = torch::where(x >= 0, torch::ones_like(x), -torch::ones_like(x)).to(torch::kInt8);
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
      "decode latent interpolations (or latent arithmetic, VAE) of a GAN or VAE (arXiv:1609.04468, arXiv:1511.06434)");
  sub->add_option("--model", f->model, "trained gan/cgan/wgan/wgan-gp/vae checkpoint MODEL.pt")->required();
  sub->add_option("--n-steps", f->n_steps, "points per path, ends included")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  sub->add_option("--n-paths", f->n_paths, "independent paths between random latent pairs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--method", f->method, "spherical | linear")->capture_default_str();
  sub->add_option("--arithmetic", f->arithmetic,
                  "VAE: A.npy,B.npy,C.npy: the path from C's mean latent to mean(A) - mean(B) + mean(C)");
  sub->add_option("--condition", f->condition, "condition of a conditional GAN (label or parameter values)")
      ->delimiter(',');
  sub->add_option("--out", f->out, "output FILE.npy (+ sidecar)")->required();
  sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
  sub->add_flag("--json", f->as_json, "print one JSON object");
  add_common_options(sub, f->common);
  sub->callback([f] { run_interpolate(*f); });
}

}  // namespace physgen::cli
