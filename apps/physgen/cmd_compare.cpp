// `physgen compare --data FILE.npy --families flow,ddpm,... [--seeds 3] [--budget-minutes M]
// --out DIR [--models a.pt,b.pt] [--json]`: one leaderboard across families on one ensemble
// (api/leaderboard.h, docs/leaderboard.md): each family trained with its defaults under the
// same wall-clock budget over several seeds, sampled, and judged by the same numbers.
#include <iostream>

#include "cli_common.h"
#include "physgen/api/leaderboard.h"
#include "physgen/io/sidecar.h"

namespace physgen::cli {

void register_compare(CLI::App& app) {
  struct Flags {
    std::string data, out;
    std::vector<std::string> families, models;
    int64_t seeds = 3, samples = 4096, memorization_samples = 256, memorization_train = 4096;
    double budget = 5.0;
    bool json = false, quiet = false, no_mcmc = false;
    CommonOptions common;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand(
      "compare",
      "one leaderboard across families: train each on the same ensemble under the same budget over several seeds, "
      "sample, and compare |m|, chi, U4, G(1), scattering statistics, memorisation, acceptance / ESS, speed");
  sub->add_option("--data", f->data, "the ensemble FILE.npy (N, L, L) with its sidecar")->required();
  sub->add_option("--families", f->families, "zoo families, comma-separated")->delimiter(',')->required();
  sub->add_option("--models", f->models,
                  "trained checkpoints instead of training, one per family (comma-separated; one seed)")
      ->delimiter(',');
  sub->add_option("--seeds", f->seeds, "seeds per family (1 .. seeds)")->capture_default_str();
  sub->add_option("--budget-minutes", f->budget, "training wall clock per run")->capture_default_str();
  sub->add_option("--samples", f->samples, "samples per run for the observables and scattering")->capture_default_str();
  sub->add_option("--memorization-samples", f->memorization_samples, "samples searched against the training set")
      ->capture_default_str();
  sub->add_option("--memorization-train", f->memorization_train, "training fields searched (the first ones)")
      ->capture_default_str();
  sub->add_flag("--no-mcmc", f->no_mcmc, "skip the Metropolis-corrected chain of likelihood families");
  sub->add_option("--out", f->out, "directory for checkpoints, per-run rows, table and plots")->required();
  sub->add_flag("--json", f->json, "print the report as one JSON object");
  sub->add_flag("--quiet", f->quiet, "no progress lines on stderr");
  add_common_options(sub, f->common);
  sub->callback([f] {
    LeaderboardRequest rq;
    rq.device = apply_common_options(f->common);
    auto [x, meta] = load_ensemble(f->data);
    rq.data = x;
    rq.meta = meta;
    rq.data_name = f->data;
    rq.families = f->families;
    rq.models = f->models;
    rq.seeds = f->seeds;
    rq.budget_minutes = f->budget;
    rq.samples = f->samples;
    rq.memorization_samples = f->memorization_samples;
    rq.memorization_train = f->memorization_train;
    rq.mcmc = !f->no_mcmc;
    rq.out_dir = f->out;
    if (!f->quiet) rq.log = [](const std::string& s) { std::cerr << "compare: " << s << std::endl; };
    const nlohmann::json report = run_leaderboard(rq);
    if (f->json) {
      print_json(report);
    } else {
      std::cout << format_leaderboard(report) << "\nwrote " << f->out << "/leaderboard.{json,md}\n";
    }
  });
}

}  // namespace physgen::cli
