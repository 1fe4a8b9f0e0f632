#pragma once
// Denoising diffusion probabilistic model: a network eps_theta(x_i, t_i, c) trained to predict
// the noise of the forward chain (schedule.h), sampled by ancestral steps or DDIM
// (ddpm_sampling.h), optionally conditional with classifier-free guidance (condition.h).
//
//   loss = E_{x0, i ~ U{0..T-1}, eps ~ N(0, I)} mean_j (eps_theta(sqrt(abar_i) x0
//          + sqrt(1 - abar_i) eps, t_i, c) - eps)_j^2,     t_i = (i + 1) / T
//
// (Ho et al.'s "simple" objective; with a condition it is dropped with probability
// condition.dropout). Sampling starts from x_T ~ N(0, I).
//
// Shapes: batches (n, *event_shape); class conditions (n) int64, continuous (n, dim).
// Submodule: "net" (DenoiserNet).
//
// References: Ho, Jain & Abbeel, arXiv:2006.11239; Song, Meng & Ermon, arXiv:2010.02502
// (DDIM); Nichol & Dhariwal, arXiv:2102.09672; Ho & Salimans, arXiv:2207.12598 (guidance).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/common/condition.h"
#include "physgen/models/diffusion/ddpm_sampling.h"
#include "physgen/models/diffusion/denoiser_net.h"
#include "physgen/models/diffusion/schedule.h"
#include "physgen/models/diffusion/sde.h"
#include "physgen/models/generative.h"
#include "physgen/ode/odeint.h"
#include "physgen/models/common/diffusion_task.h"

namespace physgen {

struct DDPMOptions {
  explicit DDPMOptions(std::vector<int64_t> event_shape = {1})
      : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Noise schedule [linear, T = 1000].
  TORCH_ARG(NoiseScheduleOptions, schedule) = NoiseScheduleOptions();
  /// Network [DenoiserNetOptions defaults: auto].
  TORCH_ARG(DenoiserNetOptions, network) = DenoiserNetOptions();
  /// Condition [none].
  TORCH_ARG(ConditionOptions, condition) = ConditionOptions();
  /// Default sampler of sample(): "ddpm" (ancestral) | "ddim" [ddpm].
  TORCH_ARG(std::string, sampler) = "ddpm";
  /// Ancestral sampler options [variance beta].
  TORCH_ARG(AncestralOptions, ancestral) = AncestralOptions();
  /// DDIM options [50 steps, eta 0, uniform].
  TORCH_ARG(DdimOptions, ddim) = DdimOptions();
  /// Classifier-free guidance weight w >= 0 of conditional sampling [0].
  TORCH_ARG(double, guidance) = 0.0;

 public:
  nlohmann::json to_json() const;
  static DDPMOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("schedule", schedule());
    v("network", network());
    v("condition", condition());
    v("sampler", sampler());
    v("variance", ancestral().variance());
    v.table("ddim", [&](auto&& t) {
      t("steps", ddim().steps());
      t("eta", ddim().eta());
      t("spacing", ddim().spacing());
      t("clip_x0", ddim().clip_x0());
    });
    v("guidance", guidance());
  }
};

/// Names accepted by DDPMOptions::sampler: "ddim", "ddpm".
std::vector<std::string> ddpm_sampler_names();

class DDPMImpl : public torch::nn::Cloneable<DDPMImpl>, public GenerativeModel {
 public:
  explicit DDPMImpl(const DDPMOptions& options);
  void reset() override;

  /// Noise-prediction loss of a batch (n, *event_shape); `cond` as in condition.h
  /// (undefined for unconditional models).
  torch::Tensor loss(const torch::Tensor& batch, const torch::Tensor& cond = torch::Tensor());
  /// Loss at given steps (n) and noise (x's shape), condition features given (for tests).
  torch::Tensor loss_at(const torch::Tensor& x0, const torch::Tensor& step,
                        const torch::Tensor& noise, const torch::Tensor& features);

  /// eps_theta(x, t_step, c) for condition features c (or undefined).
  torch::Tensor epsilon(const torch::Tensor& x, int64_t step, const torch::Tensor& features);
  /// The sampler's eps(x, i): conditional on `cond` with guidance weight w (w ignored and
  /// unconditional when cond is undefined). Valid while this model lives.
  EpsilonFunction epsilon_function(const torch::Tensor& cond = torch::Tensor(),
                                   double guidance = 0.0);

  /// n samples with the configured sampler (unconditional).
  torch::Tensor sample(int64_t n) override;
  /// Conditional samples: one per row of cond, guidance options.guidance().
  torch::Tensor sample_conditional(const torch::Tensor& cond);
  /// Runs the configured sampler from given x_T (n, *event_shape).
  torch::Tensor sample_from(const torch::Tensor& x_T, const torch::Tensor& cond = torch::Tensor());
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  const NoiseSchedule& schedule() const { return schedule_; }

  /// The continuous-time limit of the linear schedule: the VP SDE with
  ///   beta(t) = 1000 beta_start + t 1000 (beta_end - beta_start),  abar(t) = exp(-B(t)),
  /// which matches abar_i at the network time t_i = (i + 1) / T up to O(1 / T) (the
  /// schedule scales beta_i by 1000 / T, so the limit does not depend on T).
  /// InvalidArgument for the cosine schedule.
  VPSde continuous_sde() const;
  /// Probability-flow ODE sampler on the trained noise predictor:
  ///   dx/dt = -beta(t) / 2 (x - eps_theta(x, t, c) / sqrt(1 - abar(t))),
  /// solved from x_T at t = 1 down to t_0 = 1 / T by `solver`, followed by the last DDIM
  /// update x0 = (x - sqrt(1 - abar_0) eps(x, 0)) / sqrt(abar_0). Conditional on `cond`
  /// with guidance w as epsilon_function. Linear schedule only; `stats` gets the solver's
  /// counters (a failed solve returns NaN). References: Song et al., arXiv:2011.13456
  /// (Eq. 13); Song, Meng & Ermon, arXiv:2010.02502 (Sec. 4.3).
  torch::Tensor probability_flow_sample(const torch::Tensor& x_T, const torch::Tensor& cond,
                                        double guidance, const OdeOptions& solver,
                                        OdeStats* stats = nullptr);

  DDPMOptions options;
  DenoiserNet net{nullptr};

 private:
  std::vector<int64_t> batch_shape(int64_t n) const;
  torch::Tensor check_batch(const torch::Tensor& x, const char* name) const;
  NoiseSchedule schedule_;
};
TORCH_MODULE(DDPM);

/// Trains a DDPM through the shared Trainer (models/common/diffusion_task.h).
using DDPMTask = DiffusionTask<DDPM>;

}  // namespace physgen
