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

void check_reverse_kl_target(const LikelihoodModel& model, const Target& target, const std::string& what) {
  check_arg(model.discrete() == target.discrete(), "target", target.name(),
            model.discrete() ? "a target of spins (ising): " + what + " samples spins"
                             : "a target of continuous fields: " + what +
                                   " samples continuous values (spins need van, or transformer with head = \"spin\")");
}

ReverseKLResult reverse_kl(LikelihoodModel& model, const Target& target, int64_t batch_size,
                           double action_scale) {
  const bool score_function = !model.reparameterized();
  check_arg(batch_size >= (score_function ? 2 : 1), "batch_size", batch_size,
            score_function ? "an integer >= 2 (the score-function baseline leaves one sample out)"
                           : "an integer >= 1");
  check_arg(action_scale > 0 && action_scale <= 1, "action_scale", action_scale, "a number in (0, 1]");
  check_reverse_kl_target(model, target);
  auto xs = model.sample_and_log_prob(batch_size);
  auto action = target.action(xs.first);
  if (action_scale != 1.0) action = action * action_scale;
  ReverseKLResult r;
  if (score_function) {
    // Score-function gradient with the leave-one-out baseline; value mean f.
    const auto f = (xs.second.detach().to(torch::kFloat64) + action.detach().to(torch::kFloat64));
    const double B = static_cast<double>(batch_size);
    const auto advantage = ((f - f.mean()) * (B / (B - 1.0))).to(xs.second.scalar_type());
    const auto surrogate = (advantage * xs.second).mean();
    r.loss = surrogate - surrogate.detach() + f.mean().to(xs.second.scalar_type());
  } else {
    r.loss = (xs.second + action).mean();
  }
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
