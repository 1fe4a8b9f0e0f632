#pragma once
// Internal: the integration loops behind odeint (not installed).
#include <vector>

#include "physgen/ode/odeint.h"

namespace physgen {
namespace detail {

/// Where the loops stop: every requested t_eval, then t1; record[i] says whether
/// the state at stops[i] goes into result.states.
struct OdeStops {
  std::vector<double> times;
  std::vector<bool> record;
};

/// True when every element of every component is finite (no autograd).
bool all_finite(const OdeState& y);

/// Fixed-step loop (euler, midpoint, rk4). `f` counts its own evaluations into result.nfe.
void integrate_fixed(const OdeSystem& f, const OdeState& y0, double t0, double t1,
                     const OdeOptions& options, const OdeMethodInfo& method,
                     const OdeStops& stops, OdeResult& result);

/// Adaptive Dormand-Prince 5(4) loop.
void integrate_dopri5(const OdeSystem& f, const OdeState& y0, double t0, double t1,
                      const OdeOptions& options, const OdeStops& stops, OdeResult& result);

}  // namespace detail
}  // namespace physgen
