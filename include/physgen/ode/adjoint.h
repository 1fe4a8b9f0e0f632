#pragma once
// The adjoint sensitivity method: gradients of a loss L(y(t1)) with respect to the
// initial state y0 and the parameters theta of f, with memory independent of the
// number of solver steps.
//
// Forward: y(t1) = odeint(f, y0, t0, t1) without recording a graph.
// Backward: with a(t) = dL/dy(t), the augmented state [y, a, a_theta] obeys
//   dy/dt = f(t, y),  da/dt = -a^T df/dy,  da_theta/dt = -a^T df/dtheta,
// integrated from t1 (a = dL/dy(t1), a_theta = 0) back to t0, which gives
// dL/dy0 = a(t0) and dL/dtheta = a_theta(t0). The vector-Jacobian products come from
// one reverse-mode pass through f per evaluation; only one evaluation's graph is
// alive at a time. The recomputed y(t) on the way back is the backward solution of
// the ODE, so gradients agree with direct backprop through odeint (see odeint.h) up
// to the solver tolerances.
//
// Limitations: gradients flow to y0 and the listed parameters only (not to t0, t1);
// no double backward; only the final state is differentiable (no t_eval).
//
// References: Chen, Rubanova, Bettencourt & Duvenaud, "Neural Ordinary Differential
// Equations", NeurIPS 2018, arXiv:1806.07366; Pontryagin et al. (1962).
#include <memory>
#include <vector>

#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/ode/odeint.h"

namespace physgen {

/// Options of the backward (augmented) solve.
struct AdjointOptions {
  /// Solver options for the backward solve; unset (default): the forward options.
  TORCH_ARG(c10::optional<OdeOptions>, backward) = c10::nullopt;
};

/// Solves dy/dt = f(t, y) from t0 to t1 and returns y(t1) as tensors whose gradient
/// (in the components of y0 and in `params`) is computed by the adjoint method.
/// f must be differentiable in y and in `params` (typically a module's parameters);
/// parameters that do not require grad are ignored. The returned OdeResult has the
/// forward counters; result.backward points to the counters of the backward solve,
/// filled in when backward runs. When the backward solve fails (its status is not
/// Success) the gradients are NaN and result.backward->status says why; when the
/// forward solve fails, result.status says so and backward differentiates the state
/// returned at result.t.
/// Throws InvalidArgument for invalid options or a non-empty t_eval.
OdeResult odeint_adjoint(const OdeSystem& f, const std::vector<torch::Tensor>& params,
                         const OdeState& y0, double t0, double t1,
                         const OdeOptions& options = OdeOptions(),
                         const AdjointOptions& adjoint = AdjointOptions());

/// Single-tensor form.
OdeResult odeint_adjoint(const OdeFunction& f, const std::vector<torch::Tensor>& params,
                         const torch::Tensor& y0, double t0, double t1,
                         const OdeOptions& options = OdeOptions(),
                         const AdjointOptions& adjoint = AdjointOptions());

/// Module form: f(t, y) = module->forward(t, y) (a forward(double, const Tensor&)
/// overload), gradients for module->parameters().
template <class Impl>
OdeResult odeint_adjoint(const torch::nn::ModuleHolder<Impl>& module, const torch::Tensor& y0,
                         double t0, double t1, const OdeOptions& options = OdeOptions(),
                         const AdjointOptions& adjoint = AdjointOptions()) {
  std::shared_ptr<Impl> impl = module.ptr();
  OdeFunction f = [impl](double t, const torch::Tensor& y) { return impl->forward(t, y); };
  return odeint_adjoint(f, impl->parameters(), y0, t0, t1, options, adjoint);
}

}  // namespace physgen
