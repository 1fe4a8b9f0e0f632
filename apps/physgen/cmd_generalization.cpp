// `physgen generalization --data FILE.npy --family ddpm --sizes 1,4,16,... --out DIR [--json]`:
// the disjoint-set experiment (api/generalization.h, docs/generalization.md). Two models per
// training-set size N on disjoint subsets, sampled from the same noise with a deterministic
// sampler; the similarity of the pairs, each model's memorised fraction and |m| against the
// ensemble; resumable (each model is a checkpoint in DIR).
#include <iostream>

#include "cli_common.h"
#include "physgen/api/generalization.h"
#include "physgen/core/check.h"
#include "physgen/io/sidecar.h"

namespace physgen::cli {

void register_generalization(CLI::App& app) {
  struct Flags {
    std::string data, family = "ddpm", out, sampler;
    std::vector<int64_t> sizes{1, 4, 16, 64, 256, 1024, 4096}, track;
    int64_t steps = 0, batch = 0, samples = 64, sampler_steps = 0;
    double lr = 0.0;
    uint64_t seed = 1, sample_seed = 12345;
    bool json = false, quiet = false;
    CommonOptions common;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand(
      "generalization",
      "memorization vs generalization: two models per training-set size N on disjoint subsets, sampled from the "
      "same noise (DDIM eta 0 / ODE); similarity of the pairs and memorised fractions against N (resumable)");
  sub->add_option("--data", f->data, "the ensemble FILE.npy (M, L, L) with its sidecar")->required();
  sub->add_option("--family", f->family, "a family with a deterministic sampler (ddpm, score-sde, flow-matching, ...)")
      ->capture_default_str();
  sub->add_option("--sizes", f->sizes, "training-set sizes N, comma-separated (2 max N <= M)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--out", f->out, "directory for the checkpoints, reports, table and plot")->required();
  sub->add_option("--steps", f->steps, "training steps per model (default: the family's)");
  sub->add_option("--batch", f->batch, "training batch size (default: the family's)");
  sub->add_option("--lr", f->lr, "learning rate (default: the family's)");
  sub->add_option("--samples", f->samples, "paired samples per N")->capture_default_str();
  sub->add_option("--sampler", f->sampler, "sampler (default: ddim with eta 0 for ddpm, ode otherwise)");
  sub->add_option("--sampler-steps", f->sampler_steps, "sampler steps (default: the family's; ddim 50)");
  sub->add_option("--track", f->track,
                  "training steps at which model A's memorised fraction is measured, comma-separated")
      ->delimiter(',');
  sub->add_option("--seed", f->seed, "subset permutation and training seed")->capture_default_str();
  sub->add_option("--sample-seed", f->sample_seed, "the shared noise")->capture_default_str();
  sub->add_flag("--json", f->json, "print the report as one JSON object");
  sub->add_flag("--quiet", f->quiet, "no progress lines on stderr");
  add_common_options(sub, f->common);
  sub->callback([f] {
    GeneralizationRequest rq;
    rq.device = apply_common_options(f->common);
    auto [x, meta] = load_ensemble(f->data);
    rq.data = x;
    rq.meta = meta;
    rq.data_name = f->data;
    rq.family = f->family;
    rq.sizes = f->sizes;
    rq.track_points = f->track;
    rq.out_dir = f->out;
    nlohmann::json train = nlohmann::json::object();
    if (f->steps > 0) train["steps"] = f->steps;
    if (f->batch > 0) train["batch_size"] = f->batch;
    if (f->lr > 0) train["lr"] = f->lr;
    rq.config = {{"train", train}};
    rq.samples = f->samples;
    rq.sampler.sampler = f->sampler;
    rq.sampler.steps = f->sampler_steps;
    rq.seed = f->seed;
    rq.sample_seed = f->sample_seed;
    if (!f->quiet) rq.log = [](const std::string& s) { std::cerr << "generalization: " << s << "\n"; };
    const nlohmann::json report = run_generalization(rq);
    if (f->json) {
      print_json(report);
    } else {
      std::cout << format_generalization(report) << "\nwrote " << f->out << "/generalization.{json,md"
                << (report.contains("plot") ? ",png" : "") << "}\n";
    }
  });
}

}  // namespace physgen::cli
