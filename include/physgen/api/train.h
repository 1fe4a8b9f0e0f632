#pragma once
// `train` as a library call: what `physgen train FAMILY` does after parsing its flags, shared
// by the CLI and the Python module (physgen.train). The system comes from zoo/setup.h
// (target_system / data_system), the configuration is the family's defaults deep-merged with
// the user's tables (merged_config), the model is built by the zoo and trained by the one
// Trainer through ModelTask; the checkpoint is self-describing (ModelSpec in its metadata).
#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/train/trainer.h"
#include "physgen/zoo/setup.h"

namespace physgen {

/// Everything one training run needs.
struct TrainRequest {
  std::string family;          ///< a zoo family (model_families())
  TrainingSystem system;       ///< target_system(...) or data_system(...)
  nlohmann::json config;       ///< {"model": {...}, "train": {...}}: merged_config (+ overrides)
  std::string objective;       ///< forward-kl | reverse-kl | native; empty: the family's default
  std::string out;             ///< checkpoint path MODEL.pt (required; written atomically)
  std::string csv;             ///< training history; empty: OUT.csv
  bool resume = false;         ///< continue the run whose checkpoint is at `out`
  int64_t stop_at = -1;        ///< stop after this global step (a planned interruption)
  uint64_t seed = 1;           ///< seed_all(seed) before the model is built
  bool progress = true;        ///< progress bar (a terminal only)
  torch::Device device = torch::kCPU;
  /// Called after every step with the global step and its loss; true stops the run with status
  /// "interrupted" after checkpointing (Trainer::fit). The Python module checks Python's
  /// pending signals here (Ctrl-C) and prints progress where there is no terminal (notebooks).
  std::function<bool(int64_t step, double loss)> should_stop;
};

/// Trains and returns the report `physgen train --json` prints: family, objective, system,
/// params, steps, seconds, steps_per_second, checkpoint, history_csv, status ("finished",
/// "interrupted" or "non-finite"), final_loss, message (when not finished) and, for a
/// likelihood model of a known target, the importance-sampling ESS of
/// Model::diagnostic_samples draws ("ess", "ess_batch64", "log_z_estimate"). A non-finite run
/// returns status "non-finite" (the caller decides whether that is an error); errors in the
/// request throw InvalidArgument naming the argument.
nlohmann::json train_model(const TrainRequest& request);

}  // namespace physgen
