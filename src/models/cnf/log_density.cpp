#include "physgen/models/cnf/log_density.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/ode/adjoint.h"
#include "physgen/ode/trace.h"

namespace physgen {

LogDensitySolve integrate_log_density(const VelocityField& v,
                                      const std::vector<torch::Tensor>& params,
                                      const torch::Tensor& x, double t0, double t1,
                                      const LogDensityOptions& options) {
  check_arg(static_cast<bool>(v), "v", "empty function", "a callable v(t, x)");
  check_arg(x.defined() && x.dim() == 2 && x.is_floating_point(), "x.dim()",
            x.defined() ? x.dim() : -1, "a floating-point tensor of shape (n, d)");
  check_choice("trace", options.trace(), trace_estimators());
  check_choice("probe", options.probe(), probe_distributions());

  const bool exact = options.trace() == "exact";
  const bool kinetic = options.kinetic_energy();
  const bool frobenius = options.jacobian_frobenius();
  const double direction = t1 >= t0 ? 1.0 : -1.0;
  // One probe for the whole solve (and for the adjoint's backward solve, which reuses
  // this closure).
  torch::Tensor eps = exact ? torch::Tensor() : sample_probe(x, options.probe());

  OdeSystem dynamics = [v, eps, exact, kinetic, frobenius, direction](double t,
                                                                     const OdeState& s) {
    const bool create_graph = torch::GradMode::is_enabled();
    torch::AutoGradMode enable_grad(true);
    torch::Tensor xs = s[0];
    if (!xs.requires_grad()) xs = xs.detach().requires_grad_(true);
    torch::Tensor vx = v(t, xs);
    Divergence div = exact ? divergence_exact(vx, xs, create_graph, frobenius)
                           : divergence_hutchinson(vx, xs, eps, create_graph, frobenius);
    OdeState ds{vx, -div.trace};
    if (kinetic) ds.push_back(vx.square().sum(1) * direction);
    if (frobenius) ds.push_back(div.frobenius_sq * direction);
    if (!create_graph) {
      for (auto& d : ds) d = d.detach();
    }
    return ds;
  };

  const int64_t n = x.size(0);
  auto zeros = [&] { return torch::zeros({n}, x.options().requires_grad(false)); };
  OdeState s0{x, zeros()};
  if (kinetic) s0.push_back(zeros());
  if (frobenius) s0.push_back(zeros());

  OdeResult r = options.adjoint()
                    ? odeint_adjoint(dynamics, params, s0, t0, t1, options.solver())
                    : odeint(dynamics, s0, t0, t1, options.solver());
  LogDensitySolve out;
  out.x = r.state[0];
  out.delta_log_density = r.state[1];
  size_t next = 2;
  if (kinetic) out.kinetic = r.state[next++];
  if (frobenius) out.jacobian = r.state[next++];
  r.state.clear();
  out.ode = std::move(r);
  return out;
}

int64_t event_shape_numel(const std::vector<int64_t>& shape) {
  check_arg(!shape.empty(), "event_shape.size()", shape.size(), "at least one dimension");
  int64_t d = 1;
  for (int64_t s : shape) {
    check_arg(s >= 1, "event_shape", s, "entries >= 1");
    d *= s;
  }
  return d;
}

torch::Tensor standard_normal_log_prob(const torch::Tensor& z) {
  const double log_2pi = std::log(2.0 * 3.14159265358979323846);
  auto flat = z.reshape({z.size(0), -1});
  return -0.5 * flat.square().sum(1) - 0.5 * static_cast<double>(flat.size(1)) * log_2pi;
}

namespace {

FlowDensity to_flow_density(LogDensitySolve&& s, torch::Tensor log_prob, bool nan_x) {
  FlowDensity out;
  const bool failed = !s.ode.ok();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.log_prob = failed ? torch::full_like(log_prob, nan) : log_prob;
  out.x = failed && nan_x ? torch::full_like(s.x, nan) : s.x;
  out.kinetic = s.kinetic;
  out.jacobian = s.jacobian;
  out.ode = std::move(s.ode);
  return out;
}

}  // namespace

FlowDensity flow_log_prob(const VelocityField& v, const std::vector<torch::Tensor>& params,
                          const torch::Tensor& x, const LogDensityOptions& options) {
  LogDensitySolve s = integrate_log_density(v, params, x, 1.0, 0.0, options);
  // delta = log p_0(x(0)) - log p_1(x(1)).
  torch::Tensor lp = standard_normal_log_prob(s.x) - s.delta_log_density;
  return to_flow_density(std::move(s), lp, /*nan_x=*/false);
}

FlowDensity flow_sample_and_log_prob(const VelocityField& v,
                                     const std::vector<torch::Tensor>& params,
                                     const torch::Tensor& z, const LogDensityOptions& options) {
  torch::Tensor base = standard_normal_log_prob(z);
  LogDensitySolve s = integrate_log_density(v, params, z, 0.0, 1.0, options);
  torch::Tensor lp = base + s.delta_log_density;
  return to_flow_density(std::move(s), lp, /*nan_x=*/true);
}

}  // namespace physgen
