// `physgen train FAMILY`: train a generative model with the shared Trainer,
// from data (--data FILE.npy) or from a target action (--target phi4 ...).
#include <filesystem>
#include <iostream>
#include <sstream>

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
  std::string target, objective, config, out, csv, data_b, condition;
  std::vector<std::string> data;
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
  TrainingData data;
  nlohmann::json condition;  ///< ModelSpec::condition (null: unconditional)
};

/// Conditions of the samples of several --data files: --condition label gives
/// file k the class label k; --condition NAME[,NAME...] takes the sidecar
/// parameters NAME of each file as continuous conditions.
void attach_conditions(const TrainFlags& f, const std::vector<EnsembleMeta>& metas,
                       const std::vector<int64_t>& counts, System& s) {
  const int64_t n = s.data.x.size(0);
  if (f.condition == "label") {
    std::vector<torch::Tensor> parts;
    nlohmann::json labels = nlohmann::json::array();
    for (size_t k = 0; k < counts.size(); ++k) {
      parts.push_back(torch::full({counts[k]}, static_cast<int64_t>(k), torch::kInt64));
      labels.push_back({{"file", f.data[k]}, {"params", metas[k].params}});
    }
    s.data.condition = torch::cat(parts).to(s.data.x.device());
    s.condition = {{"kind", "class"}, {"classes", static_cast<int64_t>(counts.size())}, {"labels", labels}};
    return;
  }
  std::vector<std::string> names;
  std::stringstream ss(f.condition);
  for (std::string name; std::getline(ss, name, ',');) names.push_back(name);
  torch::Tensor c = torch::empty({n, static_cast<int64_t>(names.size())}, torch::kFloat32);
  int64_t row = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    for (size_t j = 0; j < names.size(); ++j) {
      const nlohmann::json& p = metas[k].params;
      check_arg(p.contains(names[j]) && p[names[j]].is_number(), "--condition", names[j],
                "'label' or a numeric parameter in the sidecar of every --data file; " + f.data[k] +
                    " has params " + p.dump());
      c.narrow(0, row, counts[k]).select(1, static_cast<int64_t>(j)).fill_(p[names[j]].get<double>());
    }
    row += counts[k];
  }
  s.data.condition = c.to(s.data.x.device());
  s.condition = {{"kind", "continuous"}, {"dim", static_cast<int64_t>(names.size())}, {"names", names}};
}

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
  check_arg(f.data.size() == 1 || !f.condition.empty(), "--data", std::to_string(f.data.size()) + " files",
            "one file, or several with --condition label|PARAM");
  std::vector<EnsembleMeta> metas;
  std::vector<int64_t> counts;
  std::vector<torch::Tensor> xs;
  for (const auto& file : f.data) {
    auto [x, meta] = load_ensemble(file);
    std::vector<int64_t> shape(x.sizes().begin() + 1, x.sizes().end());
    if (!xs.empty())
      check_arg(shape == s.event_shape && meta.system == s.name, "--data", file,
                "an ensemble of the same system and shape as " + f.data.front());
    s.name = meta.system;
    s.event_shape = shape;
    counts.push_back(x.size(0));
    xs.push_back(x.to(torch::kFloat32));
    metas.push_back(meta);
  }
  s.params = metas.front().params;
  s.data.x = torch::cat(xs).to(device);
  if (!f.condition.empty()) attach_conditions(f, metas, counts, s);
  if (!f.data_b.empty()) {
    auto xb = load_ensemble(f.data_b).first;
    check_arg(std::vector<int64_t>(xb.sizes().begin() + 1, xb.sizes().end()) == s.event_shape, "--data-b",
              f.data_b, "an ensemble with the event shape of --data");
    s.data.x_b = xb.to(device, torch::kFloat32);
  }
  // A target (exact action) only for an unconditional model of one ensemble.
  if ((s.name == "phi4" || s.name == "ising") && f.condition.empty()) s.target = make_target(s.name, s.params);
  return s;
}

nlohmann::json default_config(const std::string& family, const std::vector<int64_t>& shape) {
  return {{"model", default_model_options(family, shape)},
          {"train", default_train_options(family, shape).to_json()}};
}

/// The family's defaults for `shape` merged with the --config file: deep merge (a
/// [model.network.unet] table changes only the keys it names); the [train] defaults follow the
/// merged model (e.g. an exponential-family EBM trains at a higher lr), then the user's [train].
nlohmann::json merged_config(const std::string& family, const std::vector<int64_t>& shape,
                             const std::string& config_file) {
  nlohmann::json config = default_config(family, shape);
  if (config_file.empty()) return config;
  const nlohmann::json user = parse_toml_file(config_file);
  check_known_keys(user, {"model", "train"}, config_file);
  if (user.contains("model")) {
    config["model"].update(user["model"], /*merge_objects=*/true);
    config["train"] = default_train_options(family, shape, config["model"]).to_json();
  }
  if (user.contains("train")) config["train"].update(user["train"], /*merge_objects=*/true);
  return config;
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
  System sys = resolve_system(f, device);
  nlohmann::json config = merged_config(f.family, sys.event_shape, f.config);
  check_arg(!f.out.empty(), "--out", f.out, "a checkpoint path MODEL.pt");
  TrainerOptions topts = TrainerOptions::from_json(config["train"]);
  if (f.steps_opt->count()) topts.steps(f.steps);
  if (f.batch_opt->count()) topts.batch_size(f.batch);
  if (f.lr_opt->count()) topts.lr(f.lr);
  topts.checkpoint_path(f.out).checkpoint_every(f.checkpoint_every);
  topts.csv_path(f.csv.empty() ? f.out + ".csv" : f.csv);
  topts.progress(!f.as_json);

  ModelSpec spec{f.family, config["model"], sys.name, sys.params, f.objective, sys.condition};
  if (f.resume) {
    check_arg(std::filesystem::exists(f.out), "--resume", f.out, "an existing checkpoint at --out");
    spec = ModelSpec::from_json(read_checkpoint_info(f.out).options, f.out);
  }
  spec.model["event_shape"] = sys.event_shape;
  Model model = build_model(spec);
  model.module->to(device);
  const std::string objective = !f.objective.empty() ? f.objective : model.default_objective(sys.data.x.defined());
  ModelTask task(model, objective, sys.target, topts.batch_size(), sys.data);
  Trainer trainer(task, topts);
  if (f.resume) trainer.resume(f.out);
  const TrainResult r = trainer.fit(task.fit_data());

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
  // The importance-sampling ESS of the trained model against the target; families with an
  // expensive likelihood (ODE solves with exact traces) lower or zero Model::diagnostic_samples.
  if (sys.target && model.likelihood && model.diagnostic_samples > 0) {
    model.module->eval();  // e.g. CNF traces: the exact estimator in eval mode
    const ImportanceSample q =
        importance_sample(*model.likelihood, *sys.target, model.diagnostic_samples, 1024);
    out["ess_samples"] = model.diagnostic_samples;
    out["ess"] = q.ess;
    out["ess_batch64"] = q.batch_ess;
    out["log_z_estimate"] = q.log_z;
  }
  if (f.as_json) {
    print_json(out);
  } else {
    std::cout << "trained " << f.family << " (" << objective << ") on " << sys.name << " " << sys.params.dump()
              << ": " << r.steps_done << " steps in " << r.seconds << " s (" << r.steps_per_second
              << " steps/s)";
    if (out.contains("final_loss")) std::cout << ", final loss " << out["final_loss"].get<double>();
    if (out.contains("ess"))
      std::cout << ", ESS " << out["ess"].get<double>() << " (" << model.diagnostic_samples << " samples)";
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
    auto* sub = train->add_subcommand(family, model_family_summary(family));
    sub->add_option("--target", f->target, "target action for reverse KL: phi4");
    sub->add_option("--L", f->L, "lattice size of the target")->capture_default_str()->check(CLI::Range(2, 4096));
    sub->add_option("--m2", f->m2, "phi^4 bare mass squared")->capture_default_str();
    sub->add_option("--lambda", f->lambda, "phi^4 quartic coupling")->capture_default_str();
    f->kappa_opt = sub->add_option("--kappa", f->kappa, "phi^4 hopping parameter (with --lambda-hop)");
    auto* lh = sub->add_option("--lambda-hop", f->lambda_hop, "phi^4 quartic coupling, hopping form");
    f->kappa_opt->needs(lh);
    lh->needs(f->kappa_opt);
    sub->add_option("--data", f->data,
                    "training data FILE.npy (several files with --condition: one class or parameter value each)");
    sub->add_option("--data-b", f->data_b, "second ensemble FILE_B.npy (unpaired translation: cyclegan)");
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
