#pragma once
// What the autoregressive families (VAN, the transformer, HAN) share: the per-site output heads,
// the Z2 symmetrisation and the contract view the tests use.
//
// An autoregressive model over V sites in raster order (site i = r W + c of an H x W lattice)
// factorises
//   q(x) = prod_i q(x_i | x_<i),
// so log q is exact (one teacher-forced pass) and sampling is exact (V passes, site by site).
//
// Heads (the distribution of one site given the network output at that site):
//   spin      x_i = +-1, one logit z_i:  q(x_i | x_<i) = sigmoid(x_i z_i),
//             log q(x_i | x_<i) = -softplus(-x_i z_i)
//   mixture   continuous x_i, K Gaussians with parameters (w_k, mu_k, log sigma_k), 3K outputs:
//             q(x_i | x_<i) = sum_k softmax(w)_k N(x_i; mu_k, sigma_k^2)
// Z2 symmetrisation (optional): q_s(x) = (q(x) + q(-x)) / 2, sampled exactly by drawing
// x ~ q and flipping the whole configuration with probability 1/2.
//
// References: D. Wu, L. Wang, P. Zhang, "Solving statistical mechanics using variational
// autoregressive networks", PRL 122, 080602 (2019), arXiv:1809.10606 (heads, Z2);
// C. M. Bishop, "Mixture density networks" (1994).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "physgen/models/generative.h"

namespace physgen {

/// Heads of the autoregressive families: "spin" | "mixture".
std::vector<std::string> autoregressive_heads();

/// Outputs per site of a head: 1 (spin) or 3K (mixture of K Gaussians).
int64_t autoregressive_head_width(const std::string& head, int64_t components);

/// Per-site log q(x_i | x_<i): outputs (n, V, P) and values (n, V) -> (n, V).
torch::Tensor autoregressive_site_log_prob(const std::string& head, const torch::Tensor& outputs,
                                           const torch::Tensor& x);

/// One draw per row from the head: outputs (n, P) -> values (n), no autograd.
/// spin: +-1 with P(+1) = sigmoid(z); mixture: component k ~ softmax(w), then N(mu_k, sigma_k^2).
torch::Tensor autoregressive_site_sample(const std::string& head, const torch::Tensor& outputs);

/// log q_s(x) = logsumexp(log q(x), log q(-x)) - log 2 for x (n, ...), with log_q evaluated
/// once on the batch cat(x, -x) (one network pass for both signs).
torch::Tensor z2_symmetrised_log_prob(const std::function<torch::Tensor(const torch::Tensor&)>& log_q,
                                      const torch::Tensor& x);

/// x (n, ...) with each configuration's sign flipped with probability 1/2 (x ~ q -> x ~ q_s).
torch::Tensor z2_random_flip(const torch::Tensor& x);

/// The contract view of an autoregressive model, beyond LikelihoodModel: the per-site head
/// outputs of one teacher-forced pass (what the autoregressive-property test differentiates)
/// and what one sample costs.
class AutoregressiveModel : public LikelihoodModel {
 public:
  /// n exact samples, site by site, no autograd (each family's own sampler).
  torch::Tensor sample(int64_t n) override = 0;
  /// sample(n) and log_prob of those samples (differentiable): the samples carry no gradient.
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) override {
    torch::Tensor x = sample(n);
    return {x, log_prob(x)};
  }
  /// Head outputs (n, V, P) for configurations x (n, H, W), row i at site i's raster index:
  /// row i depends only on the sites before i in site_order().
  virtual torch::Tensor site_outputs(const torch::Tensor& x) = 0;
  /// The order in which sites are drawn (raster indices): raster order 0..V-1 for VAN and the
  /// transformer, the hierarchical order for HAN.
  virtual std::vector<int64_t> site_order() const {
    int64_t v = 1;
    for (auto d : event_shape()) v *= d;
    std::vector<int64_t> o(static_cast<size_t>(v));
    for (int64_t i = 0; i < v; ++i) o[static_cast<size_t>(i)] = i;
    return o;
  }
  /// Network calls per batch of samples (V for VAN and the transformer: one per site).
  virtual int64_t sampling_calls() const = 0;
  /// "spin" or "mixture".
  virtual std::string head() const = 0;
  bool discrete() const override { return head() == "spin"; }
  /// False: samples are drawn site by site without gradients (a mixture's component choice
  /// is discrete too); the reverse KL uses the score-function estimator for both heads.
  bool reparameterized() const override { return false; }

 protected:
  /// log q(x) (n) from one teacher-forced pass of site_outputs (x already on the model's
  /// device and dtype), Z2-symmetrised when `z2`: the log_prob of every family here.
  torch::Tensor site_log_prob(const torch::Tensor& x, bool z2) {
    auto lq = [this](const torch::Tensor& y) {
      return autoregressive_site_log_prob(head(), site_outputs(y), y.flatten(1)).sum(1);
    };
    return z2 ? z2_symmetrised_log_prob(lq, x) : lq(x);
  }
};

}  // namespace physgen
