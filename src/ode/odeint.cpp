// odeint: validation at the public boundary, the method registry, dispatch.
#include "physgen/ode/odeint.h"

#include <cmath>
#include <sstream>

#include <torch/torch.h>

#include "physgen/ode/state.h"
#include "solvers.h"

namespace physgen {

std::string to_string(OdeStatus status) {
  switch (status) {
    case OdeStatus::Success: return "success";
    case OdeStatus::MaxStepsReached: return "max_steps_reached";
    case OdeStatus::StepSizeUnderflow: return "step_size_underflow";
    case OdeStatus::NonFinite: return "non_finite";
  }
  return "unknown";
}

std::string OdeStats::summary() const {
  std::ostringstream os;
  os << "status=" << to_string(status) << " nfe=" << nfe << " accepted=" << accepted_steps
     << " rejected=" << rejected_steps << " t=" << t;
  return os.str();
}

const Registry<OdeMethodInfo>& ode_methods() {
  static const Registry<OdeMethodInfo> registry = [] {
    Registry<OdeMethodInfo> r("method");
    r.add("euler", {"euler", 1, false, 1});
    r.add("midpoint", {"midpoint", 2, false, 2});
    r.add("rk4", {"rk4", 4, false, 4});
    r.add("dopri5", {"dopri5", 5, true, 6});
    return r;
  }();
  return registry;
}

void check_ode_options(const OdeOptions& o, double t0, double t1) {
  const OdeMethodInfo& method = ode_methods().get(o.method());
  check_arg(std::isfinite(t0), "t0", t0, "a finite time");
  check_arg(std::isfinite(t1), "t1", t1, "a finite time");
  check_arg(o.n_steps() >= 0, "n_steps", o.n_steps(), "an integer >= 0 (0: use step_size)");
  check_arg(o.step_size() >= 0 && std::isfinite(o.step_size()), "step_size", o.step_size(),
            "a finite value >= 0 (0: use n_steps)");
  if (!method.adaptive && t0 != t1) {
    check_arg(o.n_steps() > 0 || o.step_size() > 0, "n_steps", o.n_steps(),
              "n_steps > 0 or step_size > 0 for the fixed-step method '" + o.method() + "'");
  }
  check_arg(o.rtol() >= 0 && std::isfinite(o.rtol()), "rtol", o.rtol(), "a finite value >= 0");
  check_arg(o.atol() >= 0 && std::isfinite(o.atol()), "atol", o.atol(), "a finite value >= 0");
  check_arg(o.rtol() + o.atol() > 0, "atol", o.atol(), "rtol + atol > 0");
  check_arg(o.first_step() >= 0 && std::isfinite(o.first_step()), "first_step", o.first_step(),
            "a finite value >= 0 (0: automatic)");
  check_arg(o.max_step() > 0, "max_step", o.max_step(), "a value > 0");
  check_arg(o.max_steps() > 0, "max_steps", o.max_steps(), "an integer > 0");
  const double direction = t1 >= t0 ? 1.0 : -1.0;
  double previous = t0;
  for (double te : o.t_eval()) {
    const bool inside = std::isfinite(te) && (te - t0) * direction >= 0 && (t1 - te) * direction >= 0;
    check_arg(inside, "t_eval", te,
              "times inside [t0, t1] = [" + std::to_string(t0) + ", " + std::to_string(t1) + "]");
    check_arg((te - previous) * direction >= 0, "t_eval", te,
              "times ordered from t0 towards t1");
    previous = te;
  }
}

namespace {

void check_state(const OdeState& y0) {
  check_arg(!y0.empty(), "y0", "{}", "at least one tensor");
  for (size_t i = 0; i < y0.size(); ++i) {
    check_arg(y0[i].defined(), "y0[" + std::to_string(i) + "]", "undefined", "a defined tensor");
    check_arg(y0[i].is_floating_point(), "y0[" + std::to_string(i) + "].dtype",
              std::string(c10::toString(y0[i].scalar_type())), "a floating-point dtype");
  }
}

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

}  // namespace

OdeResult odeint(const OdeSystem& f, const OdeState& y0, double t0, double t1,
                 const OdeOptions& options) {
  check_state(y0);
  check_ode_options(options, t0, t1);
  check_arg(static_cast<bool>(f), "f", "empty function", "a callable f(t, y)");
  const OdeMethodInfo& method = ode_methods().get(options.method());

  OdeResult result;
  result.t = t0;
  if (t0 == t1) {
    for (const auto& y : y0) result.state.push_back(y.clone());
    for (size_t i = 0; i < options.t_eval().size(); ++i) {
      result.times.push_back(t0);
      result.states.push_back(result.state);
    }
    return result;
  }

  // Count evaluations; check on the first one that f returns the state's shapes.
  bool checked = false;
  OdeSystem counted = [&](double t, const OdeState& y) {
    ++result.nfe;
    OdeState dy = f(t, y);
    if (!checked) {
      check_arg(dy.size() == y.size(), "f(t, y).size()", dy.size(),
                std::to_string(y.size()) + " tensors (one per state component)");
      for (size_t i = 0; i < y.size(); ++i) {
        check_arg(dy[i].defined() && dy[i].sizes() == y[i].sizes(),
                  "f(t, y)[" + std::to_string(i) + "].shape",
                  dy[i].defined() ? shape_string(dy[i]) : std::string("undefined"),
                  "the shape of y[" + std::to_string(i) + "] = " + shape_string(y[i]));
      }
      checked = true;
    }
    return dy;
  };

  detail::OdeStops stops;
  for (double te : options.t_eval()) {
    stops.times.push_back(te);
    stops.record.push_back(true);
  }
  if (stops.times.empty() || stops.times.back() != t1) {
    stops.times.push_back(t1);
    stops.record.push_back(false);
  }

  if (method.adaptive) {
    detail::integrate_dopri5(counted, y0, t0, t1, options, stops, result);
  } else {
    detail::integrate_fixed(counted, y0, t0, t1, options, method, stops, result);
  }
  return result;
}

OdeResult odeint(const OdeFunction& f, const torch::Tensor& y0, double t0, double t1,
                 const OdeOptions& options) {
  check_arg(static_cast<bool>(f), "f", "empty function", "a callable f(t, y)");
  return odeint(as_system(f), OdeState{y0}, t0, t1, options);
}

OdeOptions make_ode_options(const std::string& method, int64_t steps, double rtol, double atol) {
  const OdeMethodInfo& info = ode_methods().get(method);
  check_arg(steps >= 0, "steps", steps, "an integer >= 0");
  check_arg(rtol >= 0 && atol >= 0, "rtol/atol", std::to_string(rtol) + "/" + std::to_string(atol),
            "values >= 0");
  OdeOptions o(method);
  if (info.adaptive) {
    if (rtol > 0) o.rtol(rtol);
    if (atol > 0) o.atol(atol);
  } else {
    o.n_steps(steps > 0 ? steps : 20);
  }
  return o;
}

}  // namespace physgen
