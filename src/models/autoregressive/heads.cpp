#include "physgen/models/autoregressive/heads.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

namespace {
constexpr double kHalfLog2Pi = 0.91893853320467274178;
}

std::vector<std::string> autoregressive_heads() { return {"mixture", "spin"}; }

int64_t autoregressive_head_width(const std::string& head, int64_t components) {
  check_choice("head", head, autoregressive_heads());
  if (head == "spin") return 1;
  check_arg(components >= 1, "components", components, "an integer >= 1");
  return 3 * components;
}

torch::Tensor autoregressive_site_log_prob(const std::string& head, const torch::Tensor& outputs,
                                           const torch::Tensor& x) {
  if (head == "spin") {
    // log sigmoid(x z) = -softplus(-x z), exact for x = +-1.
    return -torch::nn::functional::softplus(-x * outputs.select(-1, 0));
  }
  const int64_t K = outputs.size(-1) / 3;
  const auto w = outputs.narrow(-1, 0, K), mu = outputs.narrow(-1, K, K);
  const auto log_sigma = outputs.narrow(-1, 2 * K, K).clamp(-7.0, 5.0);
  const auto z = (x.unsqueeze(-1) - mu) * torch::exp(-log_sigma);
  const auto log_n = -0.5 * z * z - log_sigma - kHalfLog2Pi;
  return torch::logsumexp(torch::log_softmax(w, -1) + log_n, -1);
}

torch::Tensor autoregressive_site_sample(const std::string& head, const torch::Tensor& outputs) {
  torch::NoGradGuard ng;
  if (head == "spin") {
    const auto p = torch::sigmoid(outputs.select(-1, 0));
    return torch::where(torch::rand_like(p) < p, torch::ones_like(p), -torch::ones_like(p));
  }
  const int64_t K = outputs.size(-1) / 3;
  const auto w = outputs.narrow(-1, 0, K), mu = outputs.narrow(-1, K, K);
  const auto sigma = outputs.narrow(-1, 2 * K, K).clamp(-7.0, 5.0).exp();
  const auto k = torch::multinomial(torch::softmax(w, -1), 1);  // (n, 1)
  return mu.gather(-1, k).squeeze(-1) + sigma.gather(-1, k).squeeze(-1) * torch::randn({outputs.size(0)}, outputs.options());
}

torch::Tensor z2_symmetrised_log_prob(const std::function<torch::Tensor(const torch::Tensor&)>& log_q,
                                      const torch::Tensor& x) {
  const int64_t n = x.size(0);
  const auto both = log_q(torch::cat({x, -x}, 0));
  return torch::logaddexp(both.narrow(0, 0, n), both.narrow(0, n, n)) - std::log(2.0);
}

torch::Tensor z2_random_flip(const torch::Tensor& x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  return x * (1.0 - 2.0 * (torch::rand(shape, x.options()) < 0.5).to(x.scalar_type()));
}

}  // namespace physgen
