#include "physgen/api/train.h"

#include <filesystem>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/io/checkpoint.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/zoo.h"

namespace physgen {

nlohmann::json train_model(const TrainRequest& req) {
  check_arg(!req.out.empty(), "out", req.out, "a checkpoint path MODEL.pt");
  check_arg(req.config.is_object() && req.config.contains("train") && req.config.contains("model"), "config",
            req.config.dump(), "an object with [model] and [train] tables (merged_config)");
  const TrainingSystem& sys = req.system;
  TrainerOptions topts = TrainerOptions::from_json(req.config["train"]);
  topts.checkpoint_path(req.out);
  topts.csv_path(req.csv.empty() ? req.out + ".csv" : req.csv);
  topts.progress(req.progress);
  seed_all(req.seed);
  ModelSpec spec{req.family, req.config["model"], sys.name, sys.params, req.objective, sys.condition};
  if (req.resume) {
    check_arg(std::filesystem::exists(req.out), "resume", req.out, "an existing checkpoint at out");
    spec = ModelSpec::from_json(read_checkpoint_info(req.out).options, req.out);
  }
  spec.model["event_shape"] = sys.event_shape;
  Model model = build_model(spec);
  model.module->to(req.device);
  const std::string objective =
      !req.objective.empty() ? req.objective : model.default_objective(sys.data.x.defined());
  ModelTask task(model, objective, sys.target, topts.batch_size(), sys.data, topts.anneal_steps());
  Trainer trainer(task, topts);
  if (req.resume) trainer.resume(req.out);
  const TrainResult r = trainer.fit(task.fit_data(), req.stop_at, req.should_stop);
  const char* status = r.status == TrainResult::Status::Finished      ? "finished"
                       : r.status == TrainResult::Status::Interrupted ? "interrupted"
                                                                      : "non-finite";
  nlohmann::json out{{"family", req.family},    {"objective", objective},
                     {"system", sys.name},      {"params", sys.params},
                     {"steps", r.steps_done},   {"seconds", r.seconds},
                     {"steps_per_second", r.steps_per_second}, {"checkpoint", req.out},
                     {"history_csv", topts.csv_path()},        {"status", status}};
  if (!r.history.empty()) out["final_loss"] = r.history.back().loss;
  if (r.status != TrainResult::Status::Finished) {
    out["message"] = r.message;
    return out;
  }
  // The importance-sampling ESS of the trained model against the target; families with an
  // expensive likelihood (ODE solves with exact traces) lower or zero Model::diagnostic_samples.
  if (sys.target && model.likelihood && model.diagnostic_samples > 0) {
    model.module->eval();  // e.g. CNF traces: the exact estimator in eval mode
    const ImportanceSample q = importance_sample(*model.likelihood, *sys.target, model.diagnostic_samples, 1024);
    out["ess_samples"] = model.diagnostic_samples;
    out["ess"] = q.ess;
    out["ess_batch64"] = q.batch_ess;
    out["log_z_estimate"] = q.log_z;
  }
  return out;
}

}  // namespace physgen
