#pragma once
// The one training loop every family uses.
//
// A family supplies a TrainingTask: the module to train and either loss(batch)
// (one optimiser over all parameters, the default train_step) or its own
// train_step over several parameter groups (GANs alternate a generator and a
// discriminator optimiser). The Trainer owns everything else: optimisers, the
// learning-rate schedule, minibatches, gradient clipping, progress with rate
// and ETA, a CSV history, NaN/Inf detection, atomic checkpoints and exact resume.
//
// Exact resume: minibatch indices and every random draw of a task come from
// LibTorch's default generator, whose state is saved in each checkpoint with the
// module, the optimiser state and the step. An interrupted run resumed from its
// last checkpoint therefore reproduces the losses of an uninterrupted run.
#include <cstdint>
#include <map>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace physgen {

/// Numbers a task reports for one step (besides the loss): "ess", "kl", ...
using Diagnostics = std::map<std::string, double>;

/// Optimiser settings of one parameter group (TrainingTask::group_settings): the Trainer
/// builds each group's optimiser with them and applies its schedule as lr_scale x lr(step).
struct GroupSettings {
  double lr_scale = 1.0;              ///< the group's learning rate = lr_scale x the schedule's [1]
  double beta1 = 0.9, beta2 = 0.999;  ///< Adam / AdamW betas (SGD ignores them) [0.9, 0.999]
};

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;

  /// The module whose parameters and buffers are trained and checkpointed.
  virtual torch::nn::Module& module() = 0;

  /// Named parameter groups, one optimiser each. Default: {"model": all parameters}.
  virtual std::vector<std::pair<std::string, std::vector<torch::Tensor>>> parameter_groups();

  /// Optimiser settings of the group `name` (e.g. a GAN's generator at a scaled learning rate
  /// with DCGAN betas). Default: GroupSettings{}.
  virtual GroupSettings group_settings(const std::string& name) const {
    (void)name;
    return GroupSettings();
  }

  /// Scalar loss for one minibatch `batch` ((B, *event_shape) on the task's
  /// device; undefined for data-free objectives such as reverse KL). May add
  /// entries to `diag`.
  virtual torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) = 0;

  /// One optimisation step. Default: zero_grad, loss(batch).backward(), clip,
  /// step of optimisers[0]; returns the loss. Adversarial tasks override it.
  /// `clip` > 0 clips the global gradient norm of each group.
  virtual double train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers,
                            double clip, int64_t step, Diagnostics& diag);

  /// The options the model was built with (stored in checkpoints so a model can be rebuilt).
  virtual nlohmann::json options() const = 0;
};

/// Options of the Trainer. Defaults in brackets.
struct TrainerOptions {
  TORCH_ARG(int64_t, steps) = 1000;             ///< optimisation steps [1000]
  TORCH_ARG(int64_t, batch_size) = 64;          ///< minibatch size [64]
  TORCH_ARG(double, lr) = 1e-3;                 ///< peak learning rate [1e-3]
  TORCH_ARG(std::string, optimizer) = "adam";   ///< adam | adamw | sgd [adam]
  TORCH_ARG(double, weight_decay) = 0.0;        ///< [0]
  TORCH_ARG(std::string, schedule) = "cosine";  ///< constant | cosine (to 0 at the end) [cosine]
  TORCH_ARG(int64_t, warmup) = 0;               ///< linear warm-up steps [0]
  TORCH_ARG(double, grad_clip) = 0.0;           ///< max global gradient norm, 0 = off [0]
  TORCH_ARG(int64_t, log_every) = 10;           ///< CSV row every k steps [10]
  TORCH_ARG(std::string, csv_path) = "";        ///< history CSV; empty = none [""]
  TORCH_ARG(std::string, checkpoint_path) = ""; ///< checkpoint file; empty = none [""]
  TORCH_ARG(int64_t, checkpoint_every) = 0;     ///< also checkpoint every k steps; 0 = only at the end [0]
  TORCH_ARG(bool, progress) = true;             ///< progress bar on a terminal [true]
  /// Reverse-KL objectives (zoo/model_task.h): the target's action is scaled by
  /// min(1, (step + 1) / anneal_steps) -- beta annealing from infinite temperature, as VAN
  /// trains -- so the objective at step t is the free energy at beta_t; 0 = off [0].
  /// The Trainer only carries it; ModelTask applies it.
  TORCH_ARG(int64_t, anneal_steps) = 0;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  /// Reads the keys present in `j` (unknown keys -> InvalidArgument listing the valid ones).
  static TrainerOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): the [train] table. csv_path, checkpoint_path and
  /// progress belong to a run, not to its configuration, and are not among them.
  template <class V>
  void fields(V&& v) {
    v("steps", steps());
    v("batch_size", batch_size());
    v("lr", lr());
    v("optimizer", optimizer());
    v("weight_decay", weight_decay());
    v("schedule", schedule());
    v("warmup", warmup());
    v("grad_clip", grad_clip());
    v("log_every", log_every());
    v("checkpoint_every", checkpoint_every());
    v("anneal_steps", anneal_steps());
  }
};

/// One row of the training history.
struct HistoryRow {
  int64_t step;
  double loss;
  double lr;
  double seconds;
  Diagnostics diag;
};

/// What fit() returns. A non-finite loss (checked every step) or parameter (checked every
/// log_every steps, before each checkpoint and at the end) stops training with
/// status NonFinite and a message; the last checkpoint on disk stays the last good one.
struct TrainResult {
  /// Finished: reached the last step (or stop_at). NonFinite: see above. Interrupted: the
  /// `should_stop` callback of fit() asked to stop; the checkpoint was written after the last
  /// completed step, so `resume` continues exactly where it stopped.
  enum class Status { Finished, NonFinite, Interrupted };
  Status status = Status::Finished;
  int64_t steps_done = 0;       ///< global step reached
  double seconds = 0.0;         ///< wall time of this fit() call
  double steps_per_second = 0.0;
  std::string message;
  std::vector<HistoryRow> history;  ///< rows logged by this call
};

class Trainer {
 public:
  Trainer(TrainingTask& task, TrainerOptions options);

  /// Restores module, optimisers, RNG state and step from `path` (written by a
  /// previous fit with the same task and options), so fit() continues from there.
  void resume(const std::string& path);

  /// Trains up to options.steps() global steps. `data` (N, *event_shape) on the
  /// task's device, or undefined for data-free objectives; minibatches are drawn
  /// uniformly with replacement by torch::randint from the default generator.
  /// `stop_at` >= 0 stops after that global step (a planned interruption; the
  /// schedule still follows options.steps()), writing the checkpoint as usual.
  /// `should_stop(step, loss)`, when given, is called after every completed step with the
  /// global step reached and that step's loss, the last step included; true before the last
  /// step ends the run with status Interrupted after writing the checkpoint (the Python module checks Python's pending signals there,
  /// so Ctrl-C in a notebook stops training cleanly, and reports progress to Python).
  TrainResult fit(const torch::Tensor& data = torch::Tensor(), int64_t stop_at = -1,
                  const std::function<bool(int64_t step, double loss)>& should_stop = {});

  int64_t step() const { return step_; }
  const TrainerOptions& options() const { return options_; }

  /// Learning rate at `step` under the schedule (warm-up, then constant or cosine).
  double lr_at(int64_t step) const;

  /// Writes a checkpoint of the current state now (atomic).
  void save(const std::string& path) const;

 private:
  void set_lr(double lr);
  TrainingTask& task_;
  TrainerOptions options_;
  std::vector<std::unique_ptr<torch::optim::Optimizer>> optimisers_;
  std::vector<std::string> group_names_;
  std::vector<double> lr_scales_;  // GroupSettings::lr_scale of each group
  int64_t step_ = 0;
};

}  // namespace physgen
