#pragma once
// Continuous normalizing flow (FFJORD): a neural ODE dx/dt = v_theta(t, x) that carries
// the base N(0, I) at t = 0 to the model density at t = 1, with
//   log q(x) = log N(x(0); 0, I) + int_0^1 div v_theta(t, x(t)) dt,   x(1) = x,
// (integrated data -> base, t: 1 -> 0; see log_density.h for the convention).
//
// Training: loss(batch) = mean NLL + kinetic_weight mean int |v|^2 dt
//                                  + jacobian_weight mean int ||dv/dx||_F^2 dt,
// with the trace estimator `trace` (default Hutchinson, one Rademacher probe per solve)
// while the module is in training mode, and `eval_trace` (default exact) in eval mode,
// so log_prob in eval mode is the model's exact log-density up to the solver tolerance
// (what flow MCMC and test NLLs need). A failed solve (status != Success) gives NaN
// log-densities / samples; last_stats() says why.
//
// Shapes: x (n, *event_shape); log_prob (n). The field sees flattened (n, d) states.
// Parameters: "conv_field" (TimeConvField, with options.conv_field) or "field" (TimeMLP, last layer zero at initialisation by default: the
// untrained flow is the identity and q = N(0, I)).
//
// References: Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud, "FFJORD",
// arXiv:1810.01367; Chen et al., arXiv:1806.07366; Finlay et al., "How to train your
// neural ODE", arXiv:2002.02798 (regularisers).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/models/cnf/log_density.h"
#include "physgen/models/generative.h"
#include "physgen/nn/time_conv.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/ode/odeint.h"

namespace physgen {

struct CNFOptions {
  explicit CNFOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Field network; its dim is overwritten with prod(event_shape). Default: hidden
  /// {64, 64}, tanh, t concatenated, zero-initialised output layer (a TimeMLPOptions you
  /// pass replaces it whole: set zero_init_output(true) on it to keep that).
  TORCH_ARG(TimeMLPOptions, field) = TimeMLPOptions(1).zero_init_output(true);
  /// Periodic convolutional field instead of the MLP (event shapes (H, W) only; its height
  /// and width are overwritten from event_shape). Unset (default): the TimeMLP `field`.
  /// Set: the parameters live in the submodule "conv_field" and `field` stays empty.
  TORCH_ARG(c10::optional<TimeConvFieldOptions>, conv_field) = c10::nullopt;
  /// Trace estimator in training mode: "hutchinson" (default) | "exact".
  TORCH_ARG(std::string, trace) = "hutchinson";
  /// Trace estimator in eval mode: "exact" (default) | "hutchinson".
  TORCH_ARG(std::string, eval_trace) = "exact";
  /// Hutchinson probes: "rademacher" (default) | "gaussian".
  TORCH_ARG(std::string, probe) = "rademacher";
  /// Weight of the kinetic-energy regulariser (>= 0; 0 = off).
  TORCH_ARG(double, kinetic_weight) = 0.0;
  /// Weight of the Jacobian-Frobenius regulariser (>= 0; 0 = off).
  TORCH_ARG(double, jacobian_weight) = 0.0;
  /// Solver for training and log_prob (default dopri5, rtol = atol = 1e-5).
  TORCH_ARG(OdeOptions, solver) = OdeOptions();
  /// Solver for sample()/sample_and_log_prob(); unset (default): `solver`.
  TORCH_ARG(c10::optional<OdeOptions>, sample_solver) = c10::nullopt;
  /// Adjoint gradients instead of backprop through the solver.
  TORCH_ARG(bool, adjoint) = false;
};

/// The terms of CNFImpl::loss.
struct CNFLoss {
  torch::Tensor loss;      ///< scalar: nll + weights * regularisers
  torch::Tensor nll;       ///< scalar: mean -log q(x)
  torch::Tensor kinetic;   ///< scalar mean, undefined when its weight is 0
  torch::Tensor jacobian;  ///< scalar mean, undefined when its weight is 0
};

class CNFImpl : public torch::nn::Cloneable<CNFImpl>, public LikelihoodModel {
 public:
  explicit CNFImpl(const CNFOptions& options);
  void reset() override;

  /// log q(x), (n, *event_shape) -> (n).
  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// (x, log q(x)) for n base draws pushed from t = 0 to 1 (eval_trace in eval mode).
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) override;
  /// n samples without the log-density (one plain ODE solve).
  torch::Tensor sample(int64_t n) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  /// Scalar training loss on a batch (n, *event_shape).
  torch::Tensor loss(const torch::Tensor& batch) { return loss_terms(batch).loss; }
  CNFLoss loss_terms(const torch::Tensor& batch);

  /// v(t, x) on flattened states (n, d).
  torch::Tensor velocity(double t, const torch::Tensor& x);
  /// Counters and status of the latest solve (log_prob, sample or loss).
  const OdeStats& last_stats() const { return last_stats_; }

  CNFOptions options;
  TimeMLP field{nullptr};
  TimeConvField conv_field{nullptr};

 private:
  LogDensityOptions density_options(bool regularise) const;
  VelocityField velocity_field();
  torch::Tensor check_batch(const torch::Tensor& x, const char* name) const;
  int64_t dim_ = 1;
  OdeStats last_stats_;
};
TORCH_MODULE(CNF);

}  // namespace physgen
