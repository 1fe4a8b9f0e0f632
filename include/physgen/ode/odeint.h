#pragma once
// Ordinary differential equation solvers on batched tensor states.
//
//   dy/dt = f(t, y),   y(t0) = y0,   solved for y(t1); t1 < t0 integrates backward.
//
// Methods (registry "method", see ode_methods()):
//   euler     order 1, 1 evaluation per step
//   midpoint  order 2, 2 evaluations per step (explicit midpoint rule)
//   rk4       order 4, 4 evaluations per step (classical Runge-Kutta)
//   dopri5    adaptive Dormand-Prince 5(4), 6 evaluations per step (first-same-as-last),
//             local extrapolation (the 5th-order solution is propagated)
//
// The state is either one tensor or a vector of tensors (an "augmented" state such
// as {x, log_density}); all components share the time grid and one step size.
// Batched states share one step size too (the error norm is taken over the batch).
// Tensors keep their autograd history: with grad mode on, backpropagating through
// the result differentiates the discrete solver ("direct backprop"); see adjoint.h
// for the memory-light alternative.
//
// Failure (step budget exhausted, step size underflow, non-finite values) is
// reported in OdeResult::status, never thrown and never hidden.
//
// References: Hairer, Norsett & Wanner, "Solving Ordinary Differential Equations I",
// 2nd ed. (1993), sections II.1, II.4 (step size control and the starting step
// size), II.5 (the Dormand-Prince pair); Dormand & Prince, J. Comput. Appl. Math.
// 6 (1980) 19.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/core/registry.h"

namespace physgen {

/// A (possibly augmented) ODE state: tensors of arbitrary shapes sharing one time.
using OdeState = std::vector<torch::Tensor>;
/// Right-hand side on one tensor: f(t, y) -> dy/dt, same shape as y.
using OdeFunction = std::function<torch::Tensor(double t, const torch::Tensor& y)>;
/// Right-hand side on an augmented state: f(t, {y_i}) -> {dy_i/dt}, same shapes.
using OdeSystem = std::function<OdeState(double t, const OdeState& y)>;

/// Outcome of an integration.
enum class OdeStatus {
  Success,            ///< reached t1
  MaxStepsReached,    ///< adaptive: max_steps attempted steps before t1
  StepSizeUnderflow,  ///< adaptive: the step shrank below 16 eps |t| (tolerance unreachable)
  NonFinite,          ///< f or the state became NaN/Inf
};

/// "success", "max_steps_reached", "step_size_underflow", "non_finite".
std::string to_string(OdeStatus status);

/// Static description of one method of the registry.
struct OdeMethodInfo {
  std::string name;
  int order = 1;               ///< convergence order p (global error O(h^p))
  bool adaptive = false;       ///< error-controlled step size
  int evals_per_step = 1;      ///< function evaluations per (attempted) step
};

/// Registry of the solver names: "dopri5", "euler", "midpoint", "rk4". An unknown
/// name throws InvalidArgument listing these.
const Registry<OdeMethodInfo>& ode_methods();

/// Solver options. Defaults: dopri5, rtol = atol = 1e-5, automatic first step,
/// unbounded step, at most 10000 attempted steps.
struct OdeOptions {
  OdeOptions() = default;
  explicit OdeOptions(std::string method) : method_(std::move(method)) {}
  /// Solver name (see ode_methods()).
  TORCH_ARG(std::string, method) = "dopri5";
  /// Fixed-step methods: number of equal steps over [t0, t1] (> 0), or 0 to use step_size.
  TORCH_ARG(int64_t, n_steps) = 0;
  /// Fixed-step methods: nominal |step| when n_steps = 0; each interval between
  /// stops is cut into ceil(|interval| / step_size) equal steps.
  TORCH_ARG(double, step_size) = 0.0;
  /// dopri5: relative tolerance (>= 0).
  TORCH_ARG(double, rtol) = 1e-5;
  /// dopri5: absolute tolerance (>= 0, rtol + atol > 0).
  TORCH_ARG(double, atol) = 1e-5;
  /// dopri5: |first step|; 0 selects it automatically (Hairer's algorithm, HNW I.II.4).
  TORCH_ARG(double, first_step) = 0.0;
  /// dopri5: largest |step| (> 0).
  TORCH_ARG(double, max_step) = std::numeric_limits<double>::infinity();
  /// dopri5: largest number of attempted (accepted + rejected) steps (> 0).
  TORCH_ARG(int64_t, max_steps) = 10000;
  /// Times at which to record the state, monotone from t0 towards t1 and inside
  /// [t0, t1]. Steps are shortened to land on them exactly (no interpolation).
  TORCH_ARG(std::vector<double>, t_eval) = {};

 public:
  /// The JSON fields (core/options.h): the [model.solver] table of every ODE family.
  template <class V>
  void fields(V&& v) {
    v("method", method());
    v("n_steps", n_steps());
    v("rtol", rtol());
    v("atol", atol());
    v("max_steps", max_steps());
  }
};

/// Counters and status of one integration.
struct OdeStats {
  OdeStatus status = OdeStatus::Success;
  int64_t nfe = 0;             ///< number of evaluations of f
  int64_t accepted_steps = 0;  ///< fixed-step methods: every step is accepted
  int64_t rejected_steps = 0;
  double t = 0.0;              ///< time the returned state belongs to (t1 on success)
  bool ok() const { return status == OdeStatus::Success; }
  /// "status=success nfe=38 accepted=6 rejected=0 t=1".
  std::string summary() const;
};

/// Result of odeint: the state at stats.t plus the recorded states.
struct OdeResult : OdeStats {
  OdeState state;                 ///< state at time t (t1 on success)
  std::vector<double> times;      ///< the requested t_eval that were reached
  std::vector<OdeState> states;   ///< states at `times`
  /// odeint_adjoint only: counters of the backward (adjoint) solve, filled in when
  /// backward runs; null otherwise.
  std::shared_ptr<OdeStats> backward;
  /// First component of the final state (the whole state for single-tensor calls).
  const torch::Tensor& y() const { return state.at(0); }
};

/// Integrates the augmented system dy/dt = f(t, y) from t0 to t1 (t1 < t0: backward).
/// y0: non-empty, defined, floating-point tensors. Throws InvalidArgument on invalid
/// options (unknown method, negative tolerances, fixed step without n_steps/step_size,
/// t_eval out of range or not monotone); integration failures go to result.status.
/// t0 == t1 returns y0 (cloned) with nfe = 0.
OdeResult odeint(const OdeSystem& f, const OdeState& y0, double t0, double t1,
                 const OdeOptions& options = OdeOptions());

/// Single-tensor form: f(t, y) -> dy/dt on a batched tensor y of any shape.
OdeResult odeint(const OdeFunction& f, const torch::Tensor& y0, double t0, double t1,
                 const OdeOptions& options = OdeOptions());

/// Validates `options` and the time span for use with `y0` (what odeint checks);
/// throws InvalidArgument naming the offending option.
void check_ode_options(const OdeOptions& options, double t0, double t1);

/// OdeOptions for a solver name with fixed steps or tolerances (0 -> the default: 20 steps
/// for fixed-step methods, rtol = atol = 1e-5 for dopri5); InvalidArgument for an unknown name.
OdeOptions make_ode_options(const std::string& method, int64_t steps = 0, double rtol = 0.0,
                            double atol = 0.0);

}  // namespace physgen
