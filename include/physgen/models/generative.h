#pragma once
// The contracts every generative family shares (DESIGN.md, "Contracts").
//
//  * GenerativeModel: can sample(n).
//  * LikelihoodModel: also has log_prob(x) and sample_and_log_prob(n), which is
//    what reverse-KL training, flow MCMC (independence Metropolis-Hastings) and
//    importance reweighting need.
//
// Families implement these as a second base beside torch::nn::Cloneable:
//   struct RealNVPImpl : torch::nn::Cloneable<RealNVPImpl>, LikelihoodModel { ... };
// Shapes: samples are (n, *event_shape); log-densities are (n).
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace physgen {

class GenerativeModel {
 public:
  virtual ~GenerativeModel() = default;
  /// n independent draws, (n, *event_shape()).
  virtual torch::Tensor sample(int64_t n) = 0;
  /// Shape of one sample.
  virtual std::vector<int64_t> event_shape() const = 0;
};

class LikelihoodModel : public GenerativeModel {
 public:
  /// log q(x) for a batch, (n, *event_shape) -> (n).
  virtual torch::Tensor log_prob(const torch::Tensor& x) = 0;
  /// Draws n samples and returns (x, log q(x)) in one pass (cheaper than
  /// sample() followed by log_prob() for flows).
  virtual std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) = 0;
  torch::Tensor sample(int64_t n) override { return sample_and_log_prob(n).first; }
  /// True when samples are discrete (spins); only such models train on a discrete target
  /// (Target::discrete). Default false (flows, CNFs, ...).
  virtual bool discrete() const { return false; }
  /// True when sample_and_log_prob's samples are differentiable functions of the parameters
  /// (x = f_theta(z): flows, CNFs), so the reverse KL is differentiated along them; false for
  /// discrete samples and for samplers that draw site by site without gradients (the
  /// autoregressive families), which use the score-function estimator (models/objectives.h).
  /// Default: !discrete().
  virtual bool reparameterized() const { return !discrete(); }
};

}  // namespace physgen
