#pragma once
// The physical-target contract: a distribution known through its action.
//
//   p(x) = exp(-S(x)) / Z,     force(x) = dS/dx  (the gradient of the action;
//                                                 HMC moves momenta by -force)
//
// MCMC (HMC), reverse-KL training, energy-based models and reweighting all use
// a Target. Shapes: x is (B, *event_shape); action(x) is (B); force(x) has x's shape.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

class Target {
 public:
  virtual ~Target() = default;

  /// S(x) per configuration: (B, *event_shape) -> (B). Works on any device and dtype.
  virtual torch::Tensor action(const torch::Tensor& x) const = 0;

  /// dS/dx, same shape as x. The default differentiates action() with autograd;
  /// lattice actions override it with the closed form.
  virtual torch::Tensor force(const torch::Tensor& x) const;

  /// Shape of one configuration, e.g. {L, L}.
  virtual std::vector<int64_t> event_shape() const = 0;

  /// Short system name, e.g. "phi4" (the "system" field of sidecars).
  virtual std::string name() const = 0;

  /// The parameters that define the action, e.g. {"L": 8, "m2": -4, "lambda": 8}.
  virtual nlohmann::json params() const = 0;

  /// True when configurations are discrete (Ising spins): only models with discrete samples
  /// (LikelihoodModel::discrete) train on it by reverse KL. Default false.
  virtual bool discrete() const { return false; }

  /// The inverse temperature beta of S = beta E (1 for actions given directly, as phi^4):
  /// free energies are reported as F = -log Z / (beta V) in units of E.
  virtual double beta() const { return 1.0; }
};

using TargetPtr = std::shared_ptr<const Target>;

}  // namespace physgen
