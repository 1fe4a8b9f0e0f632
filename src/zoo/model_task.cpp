#include "physgen/zoo/model_task.h"

#include <algorithm>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/models/objectives.h"

namespace physgen {

std::vector<std::string> ModelTask::objectives() { return {"forward-kl", "reverse-kl", "native"}; }

ModelTask::ModelTask(Model model, std::string objective, TargetPtr target, int64_t batch_size,
                     const TrainingData& data, int64_t anneal_steps)
    : model_(std::move(model)), objective_(std::move(objective)), target_(std::move(target)),
      batch_size_(batch_size), anneal_steps_(anneal_steps) {
  check_arg(anneal_steps_ >= 0, "anneal_steps", anneal_steps_, "an integer >= 0");
  check_choice("objective", objective_, objectives());
  check_arg(batch_size_ >= 1, "batch", batch_size_, "an integer >= 1");
  if (objective_ != "native")
    check_arg(model_.likelihood != nullptr, "objective", objective_,
              "native: the '" + model_.spec.family + "' family has no exact likelihood");
  if (objective_ == "native")
    check_arg(static_cast<bool>(model_.native_training), "objective", objective_,
              "forward-kl or reverse-kl: the '" + model_.spec.family + "' family has no native loss");
  if (objective_ == "reverse-kl") {
    check_arg(target_ != nullptr, "objective", objective_, "a target action (--target) for reverse-kl");
    check_reverse_kl_target(*model_.likelihood, *target_, "the '" + model_.spec.family + "' model");
  }
  if (objective_ == "forward-kl") {
    check_arg(data.x.defined(), "data", "(none)", "a data set (--data) for objective forward-kl");
    fit_data_ = data.x;
  }
  if (objective_ == "native") {
    NativeTraining t = model_.native_training(data);
    native_ = std::move(t.task);
    fit_data_ = std::move(t.fit_data);
  }
  model_.spec.objective = objective_;
}

torch::nn::Module& ModelTask::module() { return native_ ? native_->module() : *model_.module; }

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> ModelTask::parameter_groups() {
  return native_ ? native_->parameter_groups() : TrainingTask::parameter_groups();
}

GroupSettings ModelTask::group_settings(const std::string& name) const {
  return native_ ? native_->group_settings(name) : TrainingTask::group_settings(name);
}

double ModelTask::train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers,
                             double clip, int64_t step, Diagnostics& diag) {
  step_ = step;
  if (native_) return native_->train_step(batch, optimisers, clip, step, diag);
  return TrainingTask::train_step(batch, optimisers, clip, step, diag);
}

torch::Tensor ModelTask::loss(const torch::Tensor& batch, Diagnostics& diag) {
  if (objective_ == "reverse-kl") {
    const double scale =
        anneal_steps_ > 0 ? std::min(1.0, static_cast<double>(step_ + 1) / static_cast<double>(anneal_steps_)) : 1.0;
    auto r = reverse_kl(*model_.likelihood, *target_, batch_size_, scale);
    if (anneal_steps_ > 0) diag["anneal"] = scale;
    diag["kl"] = r.kl_up_to_log_z;
    diag["ess"] = r.ess;
    return r.loss;
  }
  check_arg(batch.defined(), "data", "(none)", "a data set for objective " + objective_);
  if (objective_ == "forward-kl") {
    auto l = -model_.likelihood->log_prob(batch).mean();
    diag["nll"] = l.item<double>();
    return l;
  }
  return native_->loss(batch, diag);
}

}  // namespace physgen
