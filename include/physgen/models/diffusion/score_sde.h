#pragma once
// Score-based generative model on a VP or VE SDE (sde.h), trained by denoising score matching
// and sampled by Euler-Maruyama, predictor-corrector or the probability-flow ODE; the ODE also
// gives the exact likelihood, so the model is a LikelihoodModel (flow MCMC, reweighting).
//
// Parameterisation (noise prediction with input scaling):
//   score_theta(x, t, c) = -net(t, c_in(t) x, c) / s(t),   c_in = 1 / sqrt(a^2 sigma_data^2 + s^2),
// and the denoising score-matching loss with weight lambda(t) = s(t)^2,
//   loss = E_{x0, t ~ U[t_eps, 1], z} mean_j (net(t, c_in (a x0 + s z), c) - z)_j^2.
// Sampling starts from the prior N(0, s_p^2 I) and ends at sampler.t_min; log_prob is the
// density at t_min (probability-flow ODE from t_min to 1 plus the prior).
//
// Shapes: (n, *event_shape); conditions as in condition.h. Submodule: "net" (DenoiserNet).
//
// References: Song et al., arXiv:2011.13456; Karras et al., "Elucidating the design space of
// diffusion-based generative models", arXiv:2206.00364 (input scaling c_in);
// Ho & Salimans, arXiv:2207.12598 (classifier-free guidance).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/common/condition.h"
#include "physgen/models/diffusion/denoiser_net.h"
#include "physgen/models/diffusion/sde.h"
#include "physgen/models/generative.h"
#include "physgen/models/common/diffusion_task.h"

namespace physgen {

struct ScoreSDEOptions {
  explicit ScoreSDEOptions(std::vector<int64_t> event_shape = {1})
      : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Forward SDE [vp, beta 0.1..20].
  TORCH_ARG(SdeOptions, sde) = SdeOptions();
  /// Network [DenoiserNetOptions defaults].
  TORCH_ARG(DenoiserNetOptions, network) = DenoiserNetOptions();
  /// Condition [none].
  TORCH_ARG(ConditionOptions, condition) = ConditionOptions();
  /// Training times t ~ U[train_t_min, 1] (0 < train_t_min < 1) [1e-5].
  TORCH_ARG(double, train_t_min) = 1e-5;
  /// Scale sigma_data of the input scaling c_in (> 0) [1].
  TORCH_ARG(double, data_std) = 1.0;
  /// Sampler of sample(): "em" | "pc" | "ode" [em].
  TORCH_ARG(std::string, sampler) = "em";
  /// Stochastic samplers' options (steps, t_min, snr, ...) [1000 steps, t_min 1e-3].
  TORCH_ARG(SdeSamplerOptions, sampling) = SdeSamplerOptions();
  /// Solver of the probability-flow ODE and of log_prob [dopri5, rtol = atol = 1e-5].
  TORCH_ARG(OdeOptions, solver) = OdeOptions();
  /// Trace estimator of log_prob: "exact" | "hutchinson" [exact]; probe [rademacher].
  TORCH_ARG(std::string, trace) = "exact";
  TORCH_ARG(std::string, probe) = "rademacher";
  /// Classifier-free guidance weight w >= 0 of conditional sampling [0].
  TORCH_ARG(double, guidance) = 0.0;

 public:
  nlohmann::json to_json() const;
  static ScoreSDEOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("sde", sde());
    v("network", network());
    v("condition", condition());
    v("train_t_min", train_t_min());
    v("data_std", data_std());
    v("sampler", sampler());
    v("sampling", sampling());
    v("solver", solver());
    v("trace", trace());
    v("probe", probe());
    v("guidance", guidance());
  }
};

/// Names accepted by ScoreSDEOptions::sampler: "em", "ode", "pc".
std::vector<std::string> score_sde_sampler_names();

class ScoreSDEImpl : public torch::nn::Cloneable<ScoreSDEImpl>, public LikelihoodModel {
 public:
  explicit ScoreSDEImpl(const ScoreSDEOptions& options);
  void reset() override;

  /// Denoising score-matching loss of a batch (n, *event_shape) (cond: see condition.h).
  torch::Tensor loss(const torch::Tensor& batch, const torch::Tensor& cond = torch::Tensor());
  /// score_theta(x, t, c) for condition features c (or undefined); differentiable in x.
  torch::Tensor score(const torch::Tensor& x, double t, const torch::Tensor& features);
  /// The samplers' score(x, t), conditional on `cond` with guidance w (unconditional when cond
  /// is undefined). Valid while this model lives.
  ScoreFunction score_function(const torch::Tensor& cond = torch::Tensor(), double guidance = 0.0);

  /// n samples with the configured sampler.
  torch::Tensor sample(int64_t n) override;
  /// Conditional samples, one per row of cond, guidance options.guidance().
  torch::Tensor sample_conditional(const torch::Tensor& cond);
  /// Runs the configured sampler from prior draws x_1 (n, *event_shape).
  torch::Tensor sample_from(const torch::Tensor& x_1, const torch::Tensor& cond = torch::Tensor());
  /// log p_{t_min}(x) by the probability-flow ODE (unconditional); NaN where the solve failed.
  torch::Tensor log_prob(const torch::Tensor& x) override;
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  const Sde& sde() const { return *sde_; }
  /// Counters of the latest ODE solve.
  const OdeStats& last_stats() const { return last_stats_; }

  ScoreSDEOptions options;
  DenoiserNet net{nullptr};

 private:
  std::vector<int64_t> batch_shape(int64_t n) const;
  torch::Tensor check_batch(const torch::Tensor& x, const char* name) const;
  LogDensityOptions density_options() const;
  std::shared_ptr<Sde> sde_;
  OdeStats last_stats_;
};
TORCH_MODULE(ScoreSDE);

/// Trains a ScoreSDE through the shared Trainer (models/common/diffusion_task.h).
using ScoreSDETask = DiffusionTask<ScoreSDE>;

}  // namespace physgen
