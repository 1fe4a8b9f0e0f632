#include "physgen/train/model_task.h"

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/models/flows/objectives.h"

namespace physgen {

std::vector<std::string> ModelTask::objectives() { return {"forward-kl", "reverse-kl", "native"}; }

ModelTask::ModelTask(Model model, std::string objective, TargetPtr target, int64_t batch_size)
    : model_(std::move(model)), objective_(std::move(objective)), target_(std::move(target)),
      batch_size_(batch_size) {
  check_choice("objective", objective_, objectives());
  check_arg(batch_size_ >= 1, "batch", batch_size_, "an integer >= 1");
  if (objective_ != "native")
    check_arg(model_.likelihood != nullptr, "objective", objective_,
              "native: the '" + model_.spec.family + "' family has no exact likelihood");
  if (objective_ == "native")
    check_arg(static_cast<bool>(model_.native_loss), "objective", objective_,
              "forward-kl or reverse-kl: the '" + model_.spec.family + "' family has no native loss");
  if (objective_ == "reverse-kl")
    check_arg(target_ != nullptr, "objective", objective_, "a target action (--target) for reverse-kl");
  model_.spec.objective = objective_;
}

torch::Tensor ModelTask::loss(const torch::Tensor& batch, Diagnostics& diag) {
  if (objective_ == "reverse-kl") {
    auto r = reverse_kl(*model_.likelihood, *target_, batch_size_);
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
  return model_.native_loss(batch, diag);
}

}  // namespace physgen
