// `physgen train FAMILY`: train a generative model with the shared Trainer,
// from data (--data FILE.npy) or from a target action (--target phi4 ...).
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/core/rng.h"
#include "physgen/io/checkpoint.h"
#include "physgen/io/config.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/phi4.h"
#include "physgen/lattice/targets.h"
#include "physgen/models/zoo.h"
#include "physgen/train/model_task.h"
#include "physgen/mcmc/flow_mcmc.h"

namespace physgen::cli {

namespace {

struct TrainFlags {
  std::string family;
  std::string target, data, objective, config, out, csv;
  int64_t L = 8;
  double m2 = -4.0, lambda = 8.0, kappa = 0.0, lambda_hop = 0.0;
  int64_t steps = 0, batch = 0, checkpoint_every = 0;
  double lr = 0.0;
  uint64_t seed = 1;
  bool resume = false, as_json = false, print_config = false;
  CLI::Option *kappa_opt = nullptr, *steps_opt = nullptr, *batch_opt = nullptr, *lr_opt = nullptr;
  CommonOptions common;
};

/// The physical system being learned: from --target flags or the data's sidecar.
struct System {
  std::string name;
  nlohmann::json params;
  std::vector<int64_t> event_shape;
  TargetPtr target;
  torch::Tensor data;
};

System resolve_system(const TrainFlags& f, const torch::Device& device) {
  System s;
  check_arg(f.target.empty() != f.data.empty(), "--target/--data", f.target.empty() ? "(neither)" : "(both)",
            "exactly one of --target SYSTEM (reverse KL) or --data FILE.npy (forward KL)");
  if (!f.target.empty()) {
    check_choice("--target", f.target, {"phi4"});
    const Phi4Params p = f.kappa_opt->count() > 0 ? Phi4Params::from_hopping(f.L, f.kappa, f.lambda_hop)
                                                  : Phi4Params{f.L, f.m2, f.lambda};
    p.validate();
    s.name = "phi4";
    s.params = Phi4Action(p).params();
    s.event_shape = {p.L, p.L};
    s.target = make_target(s.name, s.params);
    return s;
  }
  auto [x, meta] = load_ensemble(f.data);
  s.name = meta.system;
  s.params = meta.params;
  s.event_shape.assign(x.sizes().begin() + 1, x.sizes().end());
  s.data = x.to(device, torch::kFloat32);
  if (s.name == "phi4" || s.name == "ising") s.target = make_target(s.name, s.params);
  return s;
}

nlohmann::json default_config(const std::string& family, const std::vector<int64_t>& shape) {
  return {{"model", default_model_options(family, shape)},
          {"train", TrainerOptions().steps(2500).batch_size(64).to_json()}};
}

void run_train(TrainFlags& f) {
  const torch::Device device = apply_common_options(f.common);
  seed_all(f.seed);
  if (f.print_config) {
    // Defaults for the given system; a lattice of --L without one.
    std::vector<int64_t> shape{f.L, f.L};
    if (!f.data.empty()) {
      auto x = load_ensemble(f.data).first;
      shape.assign(x.sizes().begin() + 1, x.sizes().end());
    }
    std::cout << json_to_toml(default_config(f.family, shape));
    return;
  }
  System sys = resolve_system(f, device);
  nlohmann::json config = default_config(f.family, sys.event_shape);
  check_arg(!f.out.empty(), "--out", f.out, "a checkpoint path MODEL.pt");
  if (!f.config.empty()) {
    const nlohmann::json user = parse_toml_file(f.config);
    check_known_keys(user, {"model", "train"}, f.config);
    if (user.contains("model")) config["model"].update(user["model"]);
    if (user.contains("train")) config["train"].update(user["train"]);
  }
  TrainerOptions topts = TrainerOptions::from_json(config["train"]);
  if (f.steps_opt->count()) topts.steps(f.steps);
  if (f.batch_opt->count()) topts.batch_size(f.batch);
  if (f.lr_opt->count()) topts.lr(f.lr);
  topts.checkpoint_path(f.out).checkpoint_every(f.checkpoint_every);
  topts.csv_path(f.csv.empty() ? f.out + ".csv" : f.csv);
  topts.progress(!f.as_json);

  const std::string objective = !f.objective.empty() ? f.objective : (sys.data.defined() ? "forward-kl" : "reverse-kl");
  ModelSpec spec{f.family, config["model"], sys.name, sys.params, objective};
  if (f.resume) {
    check_arg(std::filesystem::exists(f.out), "--resume", f.out, "an existing checkpoint at --out");
    spec = ModelSpec::from_json(read_checkpoint_info(f.out).options, f.out);
  }
  spec.model["event_shape"] = sys.event_shape;
  Model model = build_model(spec);
  model.module->to(device);
  ModelTask task(model, objective, sys.target, topts.batch_size());
  Trainer trainer(task, topts);
  if (f.resume) trainer.resume(f.out);
  const TrainResult r = trainer.fit(sys.data);

  nlohmann::json out{{"family", f.family}, {"objective", objective}, {"system", sys.name},
                     {"params", sys.params}, {"steps", r.steps_done}, {"seconds", r.seconds},
                     {"steps_per_second", r.steps_per_second}, {"checkpoint", f.out},
                     {"history_csv", topts.csv_path()},
                     {"status", r.status == TrainResult::Status::Finished ? "finished" : "non-finite"}};
  if (!r.history.empty()) out["final_loss"] = r.history.back().loss;
  if (r.status != TrainResult::Status::Finished) {
    out["message"] = r.message;
    if (f.as_json) print_json(out);
    throw std::runtime_error(r.message);
  }
  if (sys.target && model.likelihood) {
    const ImportanceSample q = importance_sample(*model.likelihood, *sys.target, 4096, 1024);
    out["ess"] = q.ess;
    out["log_z_estimate"] = q.log_z;
  }
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "trained " << f.family << " (" << objective << ") on " << sys.name << " " << sys.params.dump()
              << ": " << r.steps_done << " steps in " << r.seconds << " s (" << r.steps_per_second
              << " steps/s)";
    if (out.contains("final_loss")) std::cout << ", final loss " << out["final_loss"].get<double>();
    if (out.contains("ess")) std::cout << ", ESS " << out["ess"].get<double>() << " (4096 samples)";
    std::cout << "\nwrote " << f.out << " and " << topts.csv_path() << "\n";
  }
}

}  // namespace

void register_train(CLI::App& app) {
  auto* train = app.add_subcommand("train", "train a generative model (see `physgen train FAMILY --help`)");
  train->require_subcommand(1);
  for (const auto& family : model_families()) {
    auto f = std::make_shared<TrainFlags>();
    f->family = family;
    auto* sub = train->add_subcommand(family, "train a '" + family + "' model by forward KL on data or reverse KL on a target action");
    sub->add_option("--target", f->target, "target action for reverse KL: phi4");
    sub->add_option("--L", f->L, "lattice size of the target")->capture_default_str()->check(CLI::Range(2, 4096));
    sub->add_option("--m2", f->m2, "phi^4 bare mass squared")->capture_default_str();
    sub->add_option("--lambda", f->lambda, "phi^4 quartic coupling")->capture_default_str();
    f->kappa_opt = sub->add_option("--kappa", f->kappa, "phi^4 hopping parameter (with --lambda-hop)");
    auto* lh = sub->add_option("--lambda-hop", f->lambda_hop, "phi^4 quartic coupling, hopping form");
    f->kappa_opt->needs(lh);
    lh->needs(f->kappa_opt);
    sub->add_option("--data", f->data, "training data FILE.npy (forward KL)");
    sub->add_option("--objective", f->objective, "forward-kl | reverse-kl | native (default: by --data/--target)")
        ->check(CLI::IsMember(ModelTask::objectives()));
    f->steps_opt = sub->add_option("--steps", f->steps, "optimisation steps (overrides the config)")
                       ->check(CLI::PositiveNumber);
    f->batch_opt = sub->add_option("--batch", f->batch, "batch size (overrides the config)")->check(CLI::PositiveNumber);
    f->lr_opt = sub->add_option("--lr", f->lr, "peak learning rate (overrides the config)")->check(CLI::PositiveNumber);
    sub->add_option("--config", f->config, "TOML file with [model] and [train] tables (see --print-config)");
    sub->add_flag("--print-config", f->print_config, "print the default configuration as TOML and exit");
    sub->add_option("--out", f->out, "checkpoint MODEL.pt (written atomically; history in MODEL.pt.csv)");
    sub->add_option("--csv", f->csv, "training history CSV (default: OUT.csv)");
    sub->add_option("--checkpoint-every", f->checkpoint_every, "also checkpoint every K steps (0: at the end)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    sub->add_flag("--resume", f->resume, "continue the run whose checkpoint is at --out");
    sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
    sub->add_flag("--json", f->as_json, "print one JSON object with the result");
    add_common_options(sub, f->common);
    sub->callback([f] { run_train(*f); });
  }
}

}  // namespace physgen::cli
