// Reverse-time samplers and the probability-flow likelihood of score SDEs.
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/diffusion/sde.h"

namespace physgen {

namespace {

void check_inputs(const ScoreFunction& score, const torch::Tensor& x, const char* name) {
  check_arg(static_cast<bool>(score), "score", "empty function", "a callable score(x, t)");
  check_arg(x.defined() && x.dim() >= 1 && x.size(0) >= 1 && x.is_floating_point(),
            std::string(name) + ".dim()", x.defined() ? x.dim() : -1,
            "a floating-point tensor (n >= 1, *event_shape)");
}

void check_sampler_options(const SdeSamplerOptions& o) {
  check_arg(o.steps() >= 1, "steps", o.steps(), "an integer >= 1");
  check_arg(o.t_min() >= 0 && o.t_min() < 1, "t_min", o.t_min(), "a value in [0, 1)");
  check_arg(o.snr() > 0 && std::isfinite(o.snr()), "snr", o.snr(), "a finite value > 0");
  check_arg(o.corrector_steps() >= 0, "corrector_steps", o.corrector_steps(), "an integer >= 0");
}

/// Mean over the batch of the per-sample Euclidean norms.
double mean_norm(const torch::Tensor& v) {
  return v.reshape({v.size(0), -1}).norm(2, 1).mean().item<double>();
}

torch::Tensor reverse_sde(const ScoreFunction& score, const Sde& sde, const torch::Tensor& x_1,
                          const SdeSamplerOptions& o, bool corrector) {
  check_sampler_options(o);
  torch::NoGradGuard no_grad;
  auto x = x_1.clone();
  const double dt = (1.0 - o.t_min()) / static_cast<double>(o.steps());
  for (int64_t k = 0; k < o.steps(); ++k) {
    const double t = 1.0 - static_cast<double>(k) * dt;
    const double g2 = sde.diffusion_squared(t);
    if (corrector) {
      const double alpha = sde.name() == "vp" ? std::max(1.0 - g2 * dt, 0.0) : 1.0;
      for (int64_t c = 0; c < o.corrector_steps(); ++c) {
        auto s = score(x, t);
        auto z = torch::randn_like(x);
        const double sn = mean_norm(s);
        if (!(sn > 0)) break;
        const double ratio = o.snr() * mean_norm(z) / sn;
        const double e = 2.0 * alpha * ratio * ratio;
        x = x + e * s + std::sqrt(2.0 * e) * z;
      }
    }
    auto s = score(x, t);
    auto mean = x - (sde.drift_coefficient(t) * x - g2 * s) * dt;
    const bool last = k + 1 == o.steps();
    x = last && o.denoise() ? mean : mean + std::sqrt(g2 * dt) * torch::randn_like(x);
  }
  return x;
}

/// Probability-flow velocity on flattened states (n, d) for events of `shape`. The score is
/// copied (the adjoint's backward solve may call the field after the caller returned); the
/// SDE must outlive that solve.
VelocityField flow_field(ScoreFunction score, const Sde& sde, std::vector<int64_t> shape) {
  return [score, &sde, shape](double t, const torch::Tensor& xf) {
    auto x = xf.reshape(shape);
    return sde.probability_flow_drift(x, score(x, t), t).reshape(xf.sizes());
  };
}

torch::Tensor gaussian_log_prob(const torch::Tensor& x, double std) {
  const double d = static_cast<double>(x.numel() / std::max<int64_t>(x.size(0), 1));
  return standard_normal_log_prob(x / std) - d * std::log(std);
}

}  // namespace

torch::Tensor euler_maruyama_sample(const ScoreFunction& score, const Sde& sde,
                                    const torch::Tensor& x_1, const SdeSamplerOptions& options) {
  check_inputs(score, x_1, "x_1");
  return reverse_sde(score, sde, x_1, options, /*corrector=*/false);
}

torch::Tensor predictor_corrector_sample(const ScoreFunction& score, const Sde& sde,
                                         const torch::Tensor& x_1,
                                         const SdeSamplerOptions& options) {
  check_inputs(score, x_1, "x_1");
  return reverse_sde(score, sde, x_1, options, /*corrector=*/true);
}

torch::Tensor probability_flow_sample(const ScoreFunction& score, const Sde& sde,
                                      const torch::Tensor& x_1, double t_min,
                                      const OdeOptions& solver, OdeStats* stats) {
  check_inputs(score, x_1, "x_1");
  check_arg(t_min >= 0 && t_min < 1, "t_min", t_min, "a value in [0, 1)");
  check_ode_options(solver, 1.0, t_min);
  torch::NoGradGuard no_grad;
  const int64_t n = x_1.size(0);
  VelocityField v = flow_field(score, sde, x_1.sizes().vec());
  OdeResult r = odeint(v, x_1.reshape({n, -1}), 1.0, t_min, solver);
  if (stats) *stats = r;
  auto x = r.ok() ? r.y() : torch::full_like(r.y(), std::numeric_limits<double>::quiet_NaN());
  return x.reshape(x_1.sizes());
}

FlowDensity probability_flow_log_prob(const ScoreFunction& score,
                                      const std::vector<torch::Tensor>& params, const Sde& sde,
                                      const torch::Tensor& x, double t_min,
                                      const LogDensityOptions& options) {
  check_inputs(score, x, "x");
  check_arg(t_min >= 0 && t_min < 1, "t_min", t_min, "a value in [0, 1)");
  const int64_t n = x.size(0);
  VelocityField v = flow_field(score, sde, x.sizes().vec());
  LogDensitySolve s = integrate_log_density(v, params, x.reshape({n, -1}), t_min, 1.0, options);
  FlowDensity out;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // delta = log p_1(x(1)) - log p_tmin(x).
  auto lp = gaussian_log_prob(s.x, sde.prior_std()) - s.delta_log_density;
  out.log_prob = s.ode.ok() ? lp : torch::full_like(lp, nan);
  out.x = s.x;
  out.kinetic = s.kinetic;
  out.jacobian = s.jacobian;
  out.ode = std::move(s.ode);
  return out;
}

FlowDensity probability_flow_sample_and_log_prob(const ScoreFunction& score,
                                                 const std::vector<torch::Tensor>& params,
                                                 const Sde& sde, const torch::Tensor& x_1,
                                                 double t_min, const LogDensityOptions& options) {
  check_inputs(score, x_1, "x_1");
  check_arg(t_min >= 0 && t_min < 1, "t_min", t_min, "a value in [0, 1)");
  const int64_t n = x_1.size(0);
  auto flat = x_1.reshape({n, -1});
  auto base = gaussian_log_prob(flat, sde.prior_std());
  VelocityField v = flow_field(score, sde, x_1.sizes().vec());
  LogDensitySolve s = integrate_log_density(v, params, flat, 1.0, t_min, options);
  FlowDensity out;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto lp = base + s.delta_log_density;
  const bool ok = s.ode.ok();
  out.log_prob = ok ? lp : torch::full_like(lp, nan);
  out.x = (ok ? s.x : torch::full_like(s.x, nan)).reshape(x_1.sizes());
  out.kinetic = s.kinetic;
  out.jacobian = s.jacobian;
  out.ode = std::move(s.ode);
  return out;
}

}  // namespace physgen
