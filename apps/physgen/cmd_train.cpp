// `physgen train FAMILY`: train a generative model with the shared Trainer,
// from data (--data FILE.npy) or from a target action (--target phi4 ...).
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/api/train.h"
#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/core/rng.h"
#include "physgen/io/config.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/phi4.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/setup.h"
#include "physgen/zoo/zoo.h"

namespace physgen::cli {

namespace {

struct TrainFlags {
  std::string family;
  std::string target, objective, config, out, csv, data_b, condition;
  std::vector<std::string> data;
  int64_t L = 8;
  double m2 = -4.0, lambda = 8.0, kappa = 0.0, lambda_hop = 0.0;
  double beta = 0.0, h = 0.0, J = 1.0;  // Ising target
  int64_t anneal_steps = 0;
  int64_t steps = 0, batch = 0, checkpoint_every = 0, stop_at = -1;
  double lr = 0.0;
  uint64_t seed = 1;
  bool resume = false, as_json = false, print_config = false;
  CLI::Option *kappa_opt = nullptr, *steps_opt = nullptr, *batch_opt = nullptr, *lr_opt = nullptr,
              *checkpoint_every_opt = nullptr, *beta_opt = nullptr, *anneal_opt = nullptr;
  CommonOptions common;
};

/// The system of --target (reverse KL) or --data (forward KL / native training).
TrainingSystem resolve_system(const TrainFlags& f, const torch::Device& device) {
  check_arg(f.target.empty() != f.data.empty(), "--target/--data", f.target.empty() ? "(neither)" : "(both)",
            "exactly one of --target SYSTEM (reverse KL) or --data FILE.npy (forward KL)");
  if (f.target.empty()) return data_system(f.data, f.condition, f.data_b, device);
  check_choice("--target", f.target, {"ising", "phi4"});
  if (f.target == "ising") {
    check_arg(f.beta_opt->count() > 0, "--beta", "(missing)", "the inverse temperature of --target ising");
    const IsingParams p{f.L, f.beta, f.h, f.J};
    p.validate();
    return target_system("ising", p.to_json());
  }
  const Phi4Params p = f.kappa_opt->count() > 0 ? Phi4Params::from_hopping(f.L, f.kappa, f.lambda_hop)
                                                : Phi4Params{f.L, f.m2, f.lambda};
  p.validate();
  return target_system("phi4", Phi4Action(p).params());
}

void run_train(TrainFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  if (f.print_config) {
    // Defaults for the given system (a lattice of --L without one), merged with --config.
    std::vector<int64_t> shape{f.L, f.L};
    if (!f.data.empty()) {
      auto x = load_ensemble(f.data.front()).first;
      shape.assign(x.sizes().begin() + 1, x.sizes().end());
    }
    std::cout << json_to_toml(merged_config(f.family, shape, f.config));
    return;
  }
  TrainRequest req;
  req.family = f.family;
  req.system = resolve_system(f, device);
  req.config = merged_config(f.family, req.system.event_shape, f.config);
  auto& train = req.config["train"];
  if (f.steps_opt->count()) train["steps"] = f.steps;
  if (f.batch_opt->count()) train["batch_size"] = f.batch;
  if (f.lr_opt->count()) train["lr"] = f.lr;
  if (f.anneal_opt->count()) train["anneal_steps"] = f.anneal_steps;
  if (f.checkpoint_every_opt->count()) train["checkpoint_every"] = f.checkpoint_every;
  req.objective = f.objective;
  req.out = f.out;
  req.csv = f.csv;
  req.resume = f.resume;
  req.stop_at = f.stop_at;
  req.seed = f.seed;
  req.progress = !f.as_json;
  req.device = device;
  const nlohmann::json out = train_model(req);
  if (out["status"] != "finished") {
    if (f.as_json) print_json(out);
    throw std::runtime_error(out["message"].get<std::string>());
  }
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "trained " << f.family << " (" << out["objective"].get<std::string>() << ") on "
              << out["system"].get<std::string>() << " " << out["params"].dump() << ": "
              << out["steps"].get<int64_t>() << " steps in " << out["seconds"].get<double>() << " s ("
              << out["steps_per_second"].get<double>() << " steps/s)";
    if (out.contains("final_loss")) std::cout << ", final loss " << out["final_loss"].get<double>();
    if (out.contains("ess"))
      std::cout << ", ESS " << out["ess"].get<double>() << " (" << out["ess_samples"].get<int64_t>() << " samples)";
    std::cout << "\nwrote " << f.out << " and " << out["history_csv"].get<std::string>() << "\n";
  }
}

}  // namespace

void register_train(CLI::App& app) {
  auto* train = app.add_subcommand("train", "train a generative model (see `physgen train FAMILY --help`)");
  train->require_subcommand(1);
  for (const auto& family : model_families()) {
    auto f = std::make_shared<TrainFlags>();
    f->family = family;
    auto* sub = train->add_subcommand(family, model_family_summary(family));
    sub->add_option("--target", f->target, "target action for reverse KL: phi4 | ising");
    sub->add_option("--L", f->L, "lattice size of the target")->capture_default_str()->check(CLI::Range(2, 4096));
    sub->add_option("--m2", f->m2, "phi^4 bare mass squared")->capture_default_str();
    sub->add_option("--lambda", f->lambda, "phi^4 quartic coupling")->capture_default_str();
    f->kappa_opt = sub->add_option("--kappa", f->kappa, "phi^4 hopping parameter (with --lambda-hop)");
    f->beta_opt = sub->add_option("--beta", f->beta, "Ising inverse temperature (--target ising)");
    sub->add_option("--h", f->h, "Ising external field (--target ising)")->capture_default_str();
    sub->add_option("--J", f->J, "Ising coupling (--target ising)")->capture_default_str();
    f->anneal_opt = sub->add_option("--anneal-steps", f->anneal_steps,
                                    "reverse KL: ramp the action from 0 to S over K steps (beta annealing; 0: off; "
                                    "overrides the config)")
                        ->check(CLI::NonNegativeNumber);
    auto* lh = sub->add_option("--lambda-hop", f->lambda_hop, "phi^4 quartic coupling, hopping form");
    f->kappa_opt->needs(lh);
    lh->needs(f->kappa_opt);
    sub->add_option("--data", f->data,
                    "training data FILE.npy or FILE.h5 (several files with --condition: one class or parameter value each)");
    sub->add_option("--data-b", f->data_b, "second ensemble FILE_B.npy or .h5 (unpaired translation: cyclegan)");
    sub->add_option("--condition", f->condition,
                    "condition on 'label' (the index of each --data file) or on sidecar parameters NAME[,NAME]");
    sub->add_option("--objective", f->objective, "forward-kl | reverse-kl | native (default: the family's own loss if it has one, else by --data/--target)")
        ->check(CLI::IsMember(ModelTask::objectives()));
    f->steps_opt = sub->add_option("--steps", f->steps, "optimisation steps (overrides the config)")
                       ->check(CLI::PositiveNumber);
    f->batch_opt = sub->add_option("--batch", f->batch, "batch size (overrides the config)")->check(CLI::PositiveNumber);
    f->lr_opt = sub->add_option("--lr", f->lr, "peak learning rate (overrides the config)")->check(CLI::PositiveNumber);
    sub->add_option("--config", f->config, "TOML file with [model] and [train] tables (see --print-config)");
    sub->add_flag("--print-config", f->print_config,
                  "print the configuration as TOML and exit: the defaults, merged with --config if given");
    sub->add_option("--out", f->out, "checkpoint MODEL.pt (written atomically; history in MODEL.pt.csv)");
    sub->add_option("--csv", f->csv, "training history CSV (default: OUT.csv)");
    f->checkpoint_every_opt =
        sub->add_option("--checkpoint-every", f->checkpoint_every,
                        "also checkpoint every K steps (0: at the end; overrides the config)")
            ->check(CLI::NonNegativeNumber);
    sub->add_flag("--resume", f->resume, "continue the run whose checkpoint is at --out");
    sub->add_option("--stop-at", f->stop_at,
                    "stop after global step K and checkpoint, as an interruption would (the schedule still "
                    "follows --steps; continue with --resume)")
        ->check(CLI::PositiveNumber);
    sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
    sub->add_flag("--json", f->as_json, "print one JSON object with the result");
    add_common_options(sub, f->common);
    sub->callback([f] { run_train(*f); });
  }
}

}  // namespace physgen::cli
