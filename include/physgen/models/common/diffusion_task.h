#pragma once
// The TrainingTask of the diffusion-type families (DDPM, score SDE, PFGM, PFGM++), so they
// train through the shared Trainer (train/trainer.h): checkpoints, resume, progress, NaN stop.
//
// Conditional models train on packed data: pack_condition(x, cond) (condition.h) joins each
// sample with its condition so the Trainer's minibatches keep them together; the task unpacks.
// options() returns {"family": NAME, "options": the model's options as JSON}, enough to
// rebuild the model before loading a checkpoint. Each family's header names its task
// (DDPMTask in ddpm.h, ScoreSDETask, PFGMTask, PFGMPPTask).
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/models/common/condition.h"
#include "physgen/train/trainer.h"

namespace physgen {

/// Generic task over a model handle whose Impl has options.to_json() and loss(batch[, cond]).
template <class Holder>
class DiffusionTask : public TrainingTask {
 public:
  /// `family`: "ddpm" | "score-sde" | "pfgm" | "pfgmpp" (recorded in options()).
  DiffusionTask(Holder model, std::string family)
      : model_(std::move(model)), family_(std::move(family)) {}
  torch::nn::Module& module() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override {
    (void)diag;
    return loss_impl(*model_, batch);
  }
  nlohmann::json options() const override {
    return {{"family", family_}, {"options", model_->options.to_json()}};
  }
  Holder& model() { return model_; }

 private:
  template <class Impl>
  static auto loss_impl(Impl& m, const torch::Tensor& batch)
      -> decltype(m.options.condition(), torch::Tensor()) {
    if (m.options.condition().kind() == "none") return m.loss(batch);
    auto xc = unpack_condition(batch, m.options.event_shape(), m.options.condition());
    return m.loss(xc.first, xc.second);
  }
  template <class Impl, class... Ignored>
  static torch::Tensor loss_impl(Impl& m, const torch::Tensor& batch, Ignored...) {
    return m.loss(batch);
  }
  Holder model_;
  std::string family_;
};

}  // namespace physgen
