#pragma once
// Neural ODE: the map x -> x(t1) of dx/dt = v_theta(t, x), x(t0) = x, with v_theta a
// time-conditioned MLP. Differentiable by direct backprop through the solver or by the
// adjoint method (options.adjoint).
//
// Shapes: x (n, *event_shape) -> (n, *event_shape); the field sees (n, d), d = prod(event_shape).
//
// References: Chen, Rubanova, Bettencourt & Duvenaud, "Neural Ordinary Differential
// Equations", arXiv:1806.07366.
#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/nn/time_mlp.h"
#include "physgen/ode/odeint.h"

namespace physgen {

struct NeuralODEOptions {
  explicit NeuralODEOptions(std::vector<int64_t> event_shape)
      : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Field network; its dim is overwritten with prod(event_shape).
  TORCH_ARG(TimeMLPOptions, field) = TimeMLPOptions(1);
  /// Integration interval [t0, t1] (t1 < t0 allowed).
  TORCH_ARG(double, t0) = 0.0;
  TORCH_ARG(double, t1) = 1.0;
  /// Solver (default dopri5, rtol = atol = 1e-5).
  TORCH_ARG(OdeOptions, solver) = OdeOptions();
  /// Adjoint gradients (memory independent of the number of steps).
  TORCH_ARG(bool, adjoint) = false;
};

class NeuralODEImpl : public torch::nn::Cloneable<NeuralODEImpl> {
 public:
  explicit NeuralODEImpl(const NeuralODEOptions& options);
  void reset() override;
  /// x(t1) for x(t0) = x; the solver's counters and status go to last_stats().
  torch::Tensor forward(const torch::Tensor& x);
  /// The same with every output of the solver (status, counters, backward counters).
  OdeResult integrate(const torch::Tensor& x);
  /// Counters of the latest solve.
  const OdeStats& last_stats() const { return last_stats_; }

  NeuralODEOptions options;
  TimeMLP field{nullptr};

 private:
  OdeStats last_stats_;
};
TORCH_MODULE(NeuralODE);

}  // namespace physgen
