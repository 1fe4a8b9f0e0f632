#pragma once
// Private helper: adversarial tasks choose their Adam moment coefficients (the shared
// trainer builds the optimisers with LibTorch's defaults 0.9, 0.999).
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/optimizer.h>

namespace physgen {

/// Sets betas = (beta1, beta2) on every parameter group of an Adam or AdamW optimiser;
/// other optimisers are left alone.
inline void set_adam_betas(torch::optim::Optimizer& opt, double beta1, double beta2) {
  for (auto& group : opt.param_groups()) {
    if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&group.options())) {
      adam->betas({beta1, beta2});
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&group.options())) {
      adamw->betas({beta1, beta2});
    }
  }
}

}  // namespace physgen
