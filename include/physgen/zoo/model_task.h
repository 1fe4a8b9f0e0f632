#pragma once
// ModelTask: trains any Model of the zoo with the shared Trainer (the zoo's side of the
// trainer contract: train/trainer.h knows nothing of models).
//
// Objectives (DESIGN.md, "Contracts"):
//   forward-kl  L = -(1/B) sum_b log q(x_b),  x_b from the data (maximum likelihood)
//   reverse-kl  L = (1/B) sum_b [log q(x_b) + S(x_b)],  x_b ~ q  (KL(q||p) - log Z)
//   native      the family's own training (Model::native_training: flow matching,
//               diffusion, GANs with alternating optimisers, ...): module(),
//               parameter_groups(), loss() and train_step() forward to its task
// Diagnostics: "nll" (forward), "kl" and "ess" (reverse: the ESS fraction of the
// batch's importance weights p/q, the quality a flow MCMC will see; with annealing also
// "anneal": the scale t of the action, and "kl" and "ess" refer to t S).
// Beta annealing (reverse-kl, TrainerOptions::anneal_steps K > 0): the loss at global step s
// uses the action t S with t = min(1, (s + 1) / K).
#include <string>

#include "physgen/lattice/target.h"
#include "physgen/zoo/zoo.h"
#include "physgen/train/trainer.h"

namespace physgen {

class ModelTask : public TrainingTask {
 public:
  /// `target` is required for reverse-kl; `batch_size` is the number of model
  /// samples per reverse-KL step; `data` what forward-kl and native objectives
  /// train on. Throws InvalidArgument for a bad combination.
  ModelTask(Model model, std::string objective, TargetPtr target = nullptr, int64_t batch_size = 64,
            const TrainingData& data = TrainingData(), int64_t anneal_steps = 0);

  torch::nn::Module& module() override;
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> parameter_groups() override;
  GroupSettings group_settings(const std::string& name) const override;
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override;
  double train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers, double clip,
                    int64_t step, Diagnostics& diag) override;
  nlohmann::json options() const override { return model_.spec.to_json(); }

  /// What to pass to Trainer::fit: the data (forward-kl), the family's packed
  /// data (native) or undefined (reverse-kl).
  const torch::Tensor& fit_data() const { return fit_data_; }

  const Model& model() const { return model_; }
  const std::string& objective() const { return objective_; }
  /// True when the objective draws its own samples (no data needed).
  bool data_free() const { return objective_ == "reverse-kl"; }

  static std::vector<std::string> objectives();

 private:
  Model model_;
  std::string objective_;
  TargetPtr target_;
  int64_t batch_size_;
  int64_t anneal_steps_ = 0;
  int64_t step_ = 0;  // global step of the current train_step (annealing)
  std::shared_ptr<TrainingTask> native_;
  torch::Tensor fit_data_;
};

}  // namespace physgen
