#pragma once
// Log-density transport along a velocity field: the continuous change of variables
// shared by continuous normalizing flows and flow matching.
//
// Along a trajectory dx/dt = v(t, x) the density p_t of the transported distribution obeys
//   d log p_t(x(t)) / dt = -div v(t, x(t)),
// so solving the augmented system [x, l] with dl/dt = -div v from t0 to t1 gives
//   log p_{t1}(x(t1)) = log p_{t0}(x(t0)) + l(t1) - l(t0).
// Optional accumulators (always >= 0, whichever the direction of time):
//   kinetic energy     E = int |v|^2 |dt|,   Jacobian norm  J = int ||dv/dx||_F^2 |dt|.
// The divergence is exact or Hutchinson's estimate with one probe drawn per solve
// (the same probe at every step, and in the adjoint's backward solve).
//
// Time convention of physgen's flows (CNF and flow matching): t = 0 is the base
// N(0, I), t = 1 is the data. log_prob integrates data -> base (t: 1 -> 0), sampling
// integrates base -> data (t: 0 -> 1).
//
// Shapes: states are flattened, x (n, d); per-sample results (n).
//
// References: Chen et al., arXiv:1806.07366 (instantaneous change of variables);
// Grathwohl et al., "FFJORD", arXiv:1810.01367; Finlay et al., arXiv:2002.02798
// (kinetic and Jacobian regularisation).
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/ode/odeint.h"

namespace physgen {

/// v(t, x) on flattened states, (n, d) -> (n, d); differentiable in x.
using VelocityField = std::function<torch::Tensor(double t, const torch::Tensor& x)>;

struct LogDensityOptions {
  /// "exact" (d reverse passes per evaluation) | "hutchinson".
  TORCH_ARG(std::string, trace) = "exact";
  /// Hutchinson probes: "rademacher" | "gaussian".
  TORCH_ARG(std::string, probe) = "rademacher";
  /// Accumulate int |v|^2 |dt|.
  TORCH_ARG(bool, kinetic_energy) = false;
  /// Accumulate int ||dv/dx||_F^2 |dt| (exact with "exact", estimated with "hutchinson").
  TORCH_ARG(bool, jacobian_frobenius) = false;
  /// Solver for the augmented system.
  TORCH_ARG(OdeOptions, solver) = OdeOptions();
  /// Differentiate by the adjoint method (memory independent of the steps) instead of
  /// backprop through the solver; needs the field's parameters.
  TORCH_ARG(bool, adjoint) = false;
};

/// Result of one transport of x from t0 to t1.
struct LogDensitySolve {
  torch::Tensor x;                  ///< x(t1), (n, d)
  torch::Tensor delta_log_density;  ///< log p_{t1}(x(t1)) - log p_{t0}(x(t0)), (n)
  torch::Tensor kinetic;            ///< int |v|^2 |dt| (n), undefined unless requested
  torch::Tensor jacobian;           ///< int ||dv/dx||_F^2 |dt| (n), undefined unless requested
  OdeResult ode;                    ///< solver counters and status (state left empty)
};

/// Transports x (n, d) from t0 to t1 along v with the log-density change.
/// `params` are the field's parameters (used only with adjoint = true).
/// On solver failure the tensors hold what the solver returned and ode.status says why.
LogDensitySolve integrate_log_density(const VelocityField& v,
                                      const std::vector<torch::Tensor>& params,
                                      const torch::Tensor& x, double t0, double t1,
                                      const LogDensityOptions& options);

/// Product of the entries of an event shape; InvalidArgument unless it is non-empty
/// with entries >= 1.
int64_t event_shape_numel(const std::vector<int64_t>& event_shape);

/// log N(z; 0, I) summed over all but the first dimension: (n, ...) -> (n).
torch::Tensor standard_normal_log_prob(const torch::Tensor& z);

/// Density of a flow from N(0, I) at t = 0 to the data at t = 1.
struct FlowDensity {
  torch::Tensor x;         ///< the other end: base point for log_prob, sample for sampling, (n, d)
  torch::Tensor log_prob;  ///< log p_1 of the data-side point, (n); NaN where the solve failed
  torch::Tensor kinetic;   ///< as in LogDensitySolve
  torch::Tensor jacobian;
  OdeResult ode;
};

/// log p_1(x) for data x (n, d): integrate 1 -> 0, log p_1(x) = log N(x(0)) - delta.
/// A failed solve (ode.status) gives NaN log-densities.
FlowDensity flow_log_prob(const VelocityField& v, const std::vector<torch::Tensor>& params,
                          const torch::Tensor& x, const LogDensityOptions& options);

/// Pushes base draws z (n, d) from t = 0 to 1 and returns the samples with log p_1:
/// log p_1(x(1)) = log N(z) + delta. A failed solve gives NaN log-densities and samples.
FlowDensity flow_sample_and_log_prob(const VelocityField& v,
                                     const std::vector<torch::Tensor>& params,
                                     const torch::Tensor& z, const LogDensityOptions& options);

}  // namespace physgen
