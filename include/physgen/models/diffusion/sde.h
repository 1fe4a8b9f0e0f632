#pragma once
// Score-based diffusion in continuous time: linear forward SDEs on t in [0, 1],
//
//   dx = f(t) x dt + g(t) dW,       x_t | x_0 ~ N(a(t) x_0, s(t)^2 I)   (closed form),
//
// and their reverse-time samplers given a score function score(x, t) ~ grad_x log p_t(x).
//
//   "vp" (variance preserving): beta(t) = beta_min + t (beta_max - beta_min),
//        B(t) = beta_min t + (beta_max - beta_min) t^2 / 2,
//        f = -beta / 2, g^2 = beta, a = exp(-B / 2), s^2 = 1 - exp(-B); prior N(0, I).
//   "ve" (variance exploding): sigma(t) = sigma_min (sigma_max / sigma_min)^t,
//        f = 0, g^2 = d sigma^2 / dt = 2 sigma^2 ln(sigma_max / sigma_min), a = 1,
//        s^2 = sigma(t)^2 - sigma_min^2 (exact: no noise at t = 0);
//        prior N(0, s(1)^2 I) (the data's spread is negligible against sigma_max).
//
// Samplers (the reverse SDE dx = [f x - g^2 score] dt + g dW-bar, integrated from t = 1 down to
// t_min on a uniform grid of `steps` intervals):
//   Euler-Maruyama     x <- x - [f x - g^2 score] dt + g sqrt(dt) z;
//   predictor-corrector before each predictor (Euler-Maruyama) step, `corrector_steps`
//                      Langevin steps x <- x + e score + sqrt(2 e) z with
//                      e = 2 alpha (snr |z| / |score|)^2 (norms averaged over the batch;
//                      alpha = 1 - beta(t) dt for VP, 1 for VE);
//   probability flow   the ODE dx/dt = f x - g^2 score / 2 solved by odeint (deterministic);
//                      its log-density along the way follows the CNF change of variables
//                      (models/cnf/log_density.h), log p_tmin(x) = log N(x(1); 0, s_p^2 I) - delta.
// With `denoise` the last stochastic step adds no noise (it returns the step's mean).
//
// Shapes: x (n, *event_shape); score(x, t) returns x's shape; t is shared by the batch.
//
// References: Song et al., "Score-based generative modeling through stochastic differential
// equations", arXiv:2011.13456 (Eq. 6, 13; Algorithms 1-5; App. D.2 likelihood).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/cnf/log_density.h"
#include "physgen/ode/odeint.h"

namespace physgen {

/// Score function score(x, t) = grad_x log p_t(x): x (n, *event_shape), t shared -> x's shape.
using ScoreFunction = std::function<torch::Tensor(const torch::Tensor& x, double t)>;

struct SdeOptions {
  SdeOptions() = default;
  /// "vp" | "ve" [vp].
  TORCH_ARG(std::string, name) = "vp";
  /// VP: beta_min, beta_max (0 <= beta_min <= beta_max, beta_max > 0) [0.1, 20].
  TORCH_ARG(double, beta_min) = 0.1;
  TORCH_ARG(double, beta_max) = 20.0;
  /// VE: sigma_min, sigma_max (0 < sigma_min < sigma_max) [0.01, 50].
  TORCH_ARG(double, sigma_min) = 0.01;
  TORCH_ARG(double, sigma_max) = 50.0;

 public:
  nlohmann::json to_json() const;
  static SdeOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("name", name());
    v("beta_min", beta_min());
    v("beta_max", beta_max());
    v("sigma_min", sigma_min());
    v("sigma_max", sigma_max());
  }
};

/// Names accepted by SdeOptions::name: "ve", "vp".
std::vector<std::string> sde_names();

/// A linear forward SDE dx = f(t) x dt + g(t) dW on [0, 1] with Gaussian marginals.
class Sde {
 public:
  virtual ~Sde() = default;
  virtual std::string name() const = 0;
  /// f(t): the drift is f(t) x.
  virtual double drift_coefficient(double t) const = 0;
  /// g(t)^2.
  virtual double diffusion_squared(double t) const = 0;
  /// a(t) and s(t) of the marginal N(a x0, s^2 I); elementwise on a tensor of times.
  virtual torch::Tensor mean_scale(const torch::Tensor& t) const = 0;
  virtual torch::Tensor marginal_std(const torch::Tensor& t) const = 0;
  double mean_scale(double t) const;
  double marginal_std(double t) const;
  /// Standard deviation s_p of the prior N(0, s_p^2 I) at t = 1.
  virtual double prior_std() const = 0;
  /// Drift of the probability-flow ODE: f x - g^2 score / 2.
  torch::Tensor probability_flow_drift(const torch::Tensor& x, const torch::Tensor& score,
                                       double t) const;
};

class VPSde : public Sde {
 public:
  VPSde(double beta_min = 0.1, double beta_max = 20.0);
  std::string name() const override { return "vp"; }
  double drift_coefficient(double t) const override;
  double diffusion_squared(double t) const override;
  torch::Tensor mean_scale(const torch::Tensor& t) const override;
  torch::Tensor marginal_std(const torch::Tensor& t) const override;
  using Sde::marginal_std;
  using Sde::mean_scale;
  double prior_std() const override { return 1.0; }

 private:
  double beta_min_, beta_max_;
};

class VESde : public Sde {
 public:
  VESde(double sigma_min = 0.01, double sigma_max = 50.0);
  std::string name() const override { return "ve"; }
  double drift_coefficient(double) const override { return 0.0; }
  double diffusion_squared(double t) const override;
  torch::Tensor mean_scale(const torch::Tensor& t) const override;
  torch::Tensor marginal_std(const torch::Tensor& t) const override;
  using Sde::marginal_std;
  using Sde::mean_scale;
  double prior_std() const override;

 private:
  double sigma_min_, sigma_max_;
};

/// The SDE described by `options` (InvalidArgument naming a bad option).
std::shared_ptr<Sde> make_sde(const SdeOptions& options);

/// Options of the stochastic reverse-time samplers.
struct SdeSamplerOptions {
  SdeSamplerOptions() = default;
  /// Uniform time steps from t = 1 to t_min (>= 1) [1000].
  TORCH_ARG(int64_t, steps) = 1000;
  /// Final time t_min in [0, 1) [1e-3] (0 needs a score that is regular at t = 0).
  TORCH_ARG(double, t_min) = 1e-3;
  /// No noise in the last predictor step [true].
  TORCH_ARG(bool, denoise) = true;
  /// Predictor-corrector: signal-to-noise ratio of the Langevin step (> 0) [0.16].
  TORCH_ARG(double, snr) = 0.16;
  /// Predictor-corrector: Langevin steps per time step (>= 0) [1].
  TORCH_ARG(int64_t, corrector_steps) = 1;

 public:
  /// The JSON fields (core/options.h): the [model.sampling] table of score-sde.
  template <class V>
  void fields(V&& v) {
    v("steps", steps());
    v("t_min", t_min());
    v("denoise", denoise());
    v("snr", snr());
    v("corrector_steps", corrector_steps());
  }
};

/// Euler-Maruyama integration of the reverse SDE from x_1 (n, *event_shape).
torch::Tensor euler_maruyama_sample(const ScoreFunction& score, const Sde& sde,
                                    const torch::Tensor& x_1,
                                    const SdeSamplerOptions& options = SdeSamplerOptions());

/// Predictor-corrector sampling: Langevin corrector + Euler-Maruyama predictor per step.
torch::Tensor predictor_corrector_sample(const ScoreFunction& score, const Sde& sde,
                                         const torch::Tensor& x_1,
                                         const SdeSamplerOptions& options = SdeSamplerOptions());

/// Probability-flow ODE from x_1 at t = 1 to t_min with odeint; `stats` (optional) receives
/// the solver's counters. A failed solve returns NaN samples (stats->status says why).
torch::Tensor probability_flow_sample(const ScoreFunction& score, const Sde& sde,
                                      const torch::Tensor& x_1, double t_min,
                                      const OdeOptions& solver, OdeStats* stats = nullptr);

/// log p_tmin(x) of the probability-flow model for data x (n, *event_shape): integrates the
/// ODE with the log-density from t_min up to 1 and adds the prior's log-density.
/// `params` are the score's parameters (for the adjoint only). log_prob is (n); NaN on failure.
FlowDensity probability_flow_log_prob(const ScoreFunction& score,
                                      const std::vector<torch::Tensor>& params, const Sde& sde,
                                      const torch::Tensor& x, double t_min,
                                      const LogDensityOptions& options);

/// Pushes prior draws x_1 (n, *event_shape) down to t_min with their log-density: returns
/// the samples in FlowDensity::x (n, *event_shape) and log p_tmin of them.
FlowDensity probability_flow_sample_and_log_prob(const ScoreFunction& score,
                                                 const std::vector<torch::Tensor>& params,
                                                 const Sde& sde, const torch::Tensor& x_1,
                                                 double t_min, const LogDensityOptions& options);

}  // namespace physgen
