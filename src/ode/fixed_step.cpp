// Fixed-step explicit Runge-Kutta methods: euler, midpoint, rk4.
#include <cmath>

#include <torch/torch.h>

#include "physgen/ode/state.h"
#include "solvers.h"

namespace physgen {
namespace detail {

bool all_finite(const OdeState& y) {
  torch::NoGradGuard no_grad;
  for (const auto& t : y) {
    if (!torch::isfinite(t).all().item<bool>()) return false;
  }
  return true;
}

namespace {

// One step of size h (signed) from (t, y).
OdeState euler_step(const OdeSystem& f, double t, double h, const OdeState& y) {
  OdeState k1 = f(t, y);
  return state_combine(y, {h}, {&k1});
}

OdeState midpoint_step(const OdeSystem& f, double t, double h, const OdeState& y) {
  OdeState k1 = f(t, y);
  OdeState k2 = f(t + 0.5 * h, state_combine(y, {0.5 * h}, {&k1}));
  return state_combine(y, {h}, {&k2});
}

OdeState rk4_step(const OdeSystem& f, double t, double h, const OdeState& y) {
  OdeState k1 = f(t, y);
  OdeState k2 = f(t + 0.5 * h, state_combine(y, {0.5 * h}, {&k1}));
  OdeState k3 = f(t + 0.5 * h, state_combine(y, {0.5 * h}, {&k2}));
  OdeState k4 = f(t + h, state_combine(y, {h}, {&k3}));
  return state_combine(y, {h / 6.0, h / 3.0, h / 3.0, h / 6.0}, {&k1, &k2, &k3, &k4});
}

}  // namespace

void integrate_fixed(const OdeSystem& f, const OdeState& y0, double t0, double t1,
                     const OdeOptions& options, const OdeMethodInfo& method,
                     const OdeStops& stops, OdeResult& result) {
  using Step = OdeState (*)(const OdeSystem&, double, double, const OdeState&);
  Step step = method.name == "euler" ? euler_step
              : method.name == "midpoint" ? midpoint_step
                                          : rk4_step;
  // With n_steps and no intermediate stops the grid is exactly n_steps equal steps;
  // otherwise every interval between stops gets ceil(|interval| / h_nominal) steps.
  const bool exact_count = options.n_steps() > 0 && stops.times.size() == 1;
  const double h_nominal = options.n_steps() > 0
                               ? std::abs(t1 - t0) / static_cast<double>(options.n_steps())
                               : options.step_size();
  OdeState y = y0;
  double t = t0;
  for (size_t s = 0; s < stops.times.size(); ++s) {
    const double a = t, b = stops.times[s];
    int64_t n = 0;
    if (exact_count) {
      n = options.n_steps();
    } else if (b != a) {
      const double ratio = std::abs(b - a) / h_nominal;
      n = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(ratio - 1e-9 * std::max(1.0, ratio))));
    }
    for (int64_t i = 0; i < n; ++i) {
      const double ta = a + (b - a) * static_cast<double>(i) / static_cast<double>(n);
      const double tb =
          i + 1 == n ? b : a + (b - a) * static_cast<double>(i + 1) / static_cast<double>(n);
      y = step(f, ta, tb - ta, y);
      ++result.accepted_steps;
    }
    t = b;
    if (stops.record[s]) {
      result.times.push_back(b);
      result.states.push_back(y);
    }
  }
  result.state = y;
  result.t = t;
  // NaN/Inf propagate through the explicit updates, so one check at the end suffices.
  if (!all_finite(y)) result.status = OdeStatus::NonFinite;
}

}  // namespace detail
}  // namespace physgen
