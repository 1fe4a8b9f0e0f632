#include "physgen/models/objectives.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/observables/estimators/reweighting.h"

namespace physgen {

ForwardKLResult forward_kl(LikelihoodModel& model, const torch::Tensor& x) {
  check_arg(x.defined() && x.dim() >= 1 && x.size(0) >= 1, "x.sizes()",
            x.defined() ? detail::to_display(x.sizes()) : std::string("undefined"),
            "a non-empty batch (B, *event)");
  ForwardKLResult r;
  r.loss = -model.log_prob(x).mean();
  r.nll = r.loss.item<double>();
  return r;
}

ReverseKLResult reverse_kl(LikelihoodModel& model, const Target& target, int64_t batch_size) {
  check_arg(batch_size >= 1, "batch_size", batch_size, "an integer >= 1");
  auto xs = model.sample_and_log_prob(batch_size);
  auto action = target.action(xs.first);
  ReverseKLResult r;
  r.loss = (xs.second + action).mean();
  {
    torch::NoGradGuard no_grad;
    r.log_weights = (-action - xs.second).detach().to(torch::kCPU, torch::kFloat64);
    r.kl_up_to_log_z = -r.log_weights.mean().item<double>();
    r.ess = ess(r.log_weights);
    r.log_z = log_mean_exp(r.log_weights);
    r.samples = xs.first.detach();
  }
  return r;
}

}  // namespace physgen
