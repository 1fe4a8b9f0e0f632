// `physgen translate --model CYCLEGAN.pt --in A.npy --out B.npy [--reverse]`: map an
// ensemble through a trained CycleGAN (models/gan/cyclegan.h): G_ab, or G_ba with --reverse.
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/progress.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/ising.h"
#include "physgen/zoo/zoo.h"

namespace physgen::cli {

namespace {

struct TranslateFlags {
  std::string model, in, out;
  bool reverse = false, as_json = false;
  int64_t batch = 4096;
  CommonOptions common;
};

void run_translate(const TranslateFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  Model model = load_model(f.model, device);
  const std::shared_ptr<Translator> net = model.translator;
  check_arg(net != nullptr, "--model", f.model,
            "a translator checkpoint, e.g. cyclegan (physgen train cyclegan --data A.npy --data-b B.npy); this one is a '" +
                model.spec.family + "' model");
  auto [x, meta] = load_ensemble(f.in);
  const std::vector<int64_t> shape = net->event_shape();
  check_arg(x.dim() == static_cast<int64_t>(shape.size()) + 1 && x.sizes().slice(1).equals(torch::IntArrayRef(shape)),
            "--in", f.in,
            "an ensemble of events of shape " + detail::to_display(torch::IntArrayRef(shape)) +
                " (the model's); got " + detail::to_display(x.sizes()));
  if (!model.spec.system.empty() && !meta.system.empty())
    check_arg(meta.system == model.spec.system, "--in", f.in,
              "an ensemble of the model's system '" + model.spec.system + "'; its sidecar says '" + meta.system + "'");
  const std::string direction = f.reverse ? "ba" : "ab";
  Progress clock("translate", 1, "", false);
  torch::Tensor y = net->translate(x.to(torch::kFloat32), f.reverse, f.batch).to(torch::kCPU, torch::kFloat32);
  const std::string system = meta.system;
  if (system == "ising") y = to_spins(y);

  EnsembleMeta out_meta;
  out_meta.system = system.empty() ? "samples" : system;
  // The couplings of the other side are not recorded in the checkpoint: keep only the size.
  out_meta.params = nlohmann::json::object();
  if (meta.params.contains("L")) out_meta.params["L"] = meta.params["L"];
  if (meta.params.contains("d")) out_meta.params["d"] = meta.params["d"];
  out_meta.generator = "physgen translate --model " + f.model + (f.reverse ? " --reverse" : "");
  out_meta.algorithm = "cyclegan-" + direction;
  out_meta.seed = meta.seed;
  out_meta.chains = meta.chains;
  out_meta.samples_per_chain = meta.samples_per_chain;
  out_meta.layout = meta.layout;
  out_meta.extra = {{"translated_from", f.in}, {"direction", direction}, {"source_params", meta.params},
                    {"model", f.model}};
  save_ensemble(f.out, y, out_meta);
  nlohmann::json out{{"model", f.model}, {"in", f.in}, {"out", f.out}, {"direction", direction},
                     {"n", y.size(0)}, {"seconds", clock.elapsed()}};
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "translated " << f.in << " (" << direction << ") -> " << f.out << "  shape " << y.sizes() << "\n";
  }
}

}  // namespace

void register_translate(CLI::App& app) {
  auto f = std::make_shared<TranslateFlags>();
  auto* sub = app.add_subcommand(
      "translate", "map an ensemble A -> B (or B -> A with --reverse) with a trained CycleGAN (arXiv:1703.10593)");
  sub->add_option("--model", f->model, "trained 'cyclegan' checkpoint MODEL.pt")->required();
  sub->add_option("--in", f->in, "input ensemble A.npy (+ sidecar) or A.h5")->required();
  sub->add_option("--out", f->out, "output ensemble B.npy (+ sidecar) or B.h5")->required();
  sub->add_flag("--reverse", f->reverse, "translate B -> A with G_ba");
  sub->add_option("--batch", f->batch, "samples per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_flag("--json", f->as_json, "print one JSON object");
  add_common_options(sub, f->common);
  sub->callback([f] { run_translate(*f); });
}

}  // namespace physgen::cli
