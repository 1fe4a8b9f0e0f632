#pragma once
// Poisson flow generative model (PFGM): data as charges on the z = 0 plane of R^(N+1); a
// network learns the normalised empirical field of a large batch, and samples follow the field
// lines from a large-z plane down to z ~ 0 (poisson_field.h).
//
// Training (Xu et al., Algorithm 1 / App. B): for a batch S_B (the charges) and its first
// `perturbed_batch` rows S_b,
//   m ~ U[0, M], eps_x ~ N(0, sigma^2 I_N), eps_z ~ N(0, sigma^2), u uniform on S^(N-1),
//   x~ = (y + |eps_x| (1 + tau)^m u,  |eps_z| (1 + tau)^m),
//   target = -sqrt(N) E / (|E| + gamma),   E = empirical_poisson_field(S_B, x~)  (towards data),
//   loss = E_{S_b} sum_j (f_theta(x~) - target)_j^2 / (N + 1).
// The network f_theta: R^(N+1) -> R^(N+1) is a TimeMLP on u = x~ / (1 + |x~| / input_radius)
// with the extra input tau = ln z (the "time"); the squashing keeps far-away points (the prior's
// heavy tail) inside the range the network saw (a physgen choice; the paper feeds x~ as is).
// Sampling: x ~ the D = 1 kernel of radius z_max around 0 with the radius clipped to
// [1, max_prior_radius] (as the authors' code does), then dx/d ln z = z f_x / f_z from z_max to
// z_min and a straight last step to z = 0.
//
// Shapes: batches (n, *event_shape) (flattened to N). Submodule: "net" (TimeMLP).
//
// References: Xu, Liu, Tegmark & Jaakkola, "Poisson flow generative models", arXiv:2209.11178.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/generative.h"
#include "physgen/models/pfgm/poisson_field.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/ode/odeint.h"
#include "physgen/models/common/diffusion_task.h"

namespace physgen {

struct PFGMOptions {
  explicit PFGMOptions(std::vector<int64_t> event_shape = {1});
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Network on (N + 1) dims (dim is set by the model) [hidden {128, 128, 128}, silu, t concat].
  TORCH_ARG(TimeMLPOptions, network);
  /// Perturbation: sigma > 0 [0.01], tau > 0 [0.03], M >= 0 [280] (z up to ~ 2 sigma (1+tau)^M).
  TORCH_ARG(double, sigma) = 0.01;
  TORCH_ARG(double, tau) = 0.03;
  TORCH_ARG(double, M) = 280.0;
  /// Field normalisation gamma > 0 [5].
  TORCH_ARG(double, gamma) = 5.0;
  /// Rows of the batch that are perturbed (the rest only carry charge); 0 = all [0].
  TORCH_ARG(int64_t, perturbed_batch) = 0;
  /// Length scale of the input squashing (> 0) [4].
  TORCH_ARG(double, input_radius) = 4.0;
  /// Largest prior radius (> 1) [200].
  TORCH_ARG(double, max_prior_radius) = 200.0;
  /// Sampling: start height z_max > z_min > 0 [40, 1e-3].
  TORCH_ARG(double, z_max) = 40.0;
  TORCH_ARG(double, z_min) = 1e-3;
  /// ODE solver in ln z [rk4, 100 steps: predictable cost; an adaptive dopri5 can stall on a
  /// poorly trained field, e.g. 6 minutes for 1000 samples of an untrained 2-D model].
  TORCH_ARG(OdeOptions, solver) = OdeOptions("rk4").n_steps(100);

 public:
  nlohmann::json to_json() const;
  static PFGMOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v.table("network", [&](auto&& t) {
      t("hidden", network().hidden());
      t("activation", network().activation());
    });
    v("sigma", sigma());
    v("tau", tau());
    v("M", M());
    v("gamma", gamma());
    v("perturbed_batch", perturbed_batch());
    v("input_radius", input_radius());
    v("max_prior_radius", max_prior_radius());
    v("z_max", z_max());
    v("z_min", z_min());
    v("solver", solver());
  }
};

class PFGMImpl : public torch::nn::Cloneable<PFGMImpl>, public GenerativeModel {
 public:
  explicit PFGMImpl(const PFGMOptions& options);
  void reset() override;

  /// Loss of a batch (n, *event_shape): the whole batch are the charges.
  torch::Tensor loss(const torch::Tensor& batch);
  /// f_theta(x, z) (n, N + 1) for x (n, *event_shape), heights z (n) or a scalar tensor.
  torch::Tensor field(const torch::Tensor& x, const torch::Tensor& z);
  /// Perturbed augmented points (n, N + 1) of data rows y (n, *event_shape) (training).
  torch::Tensor perturb(const torch::Tensor& y);
  /// Prior draws on the plane z = z_max: (n, *event_shape).
  torch::Tensor prior(int64_t n, torch::TensorOptions options = torch::kFloat32);

  torch::Tensor sample(int64_t n) override;
  /// Follows the learned field from given x_max (n, *event_shape) at z_max.
  torch::Tensor sample_from(const torch::Tensor& x_max);
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  const OdeStats& last_stats() const { return last_stats_; }

  PFGMOptions options;
  TimeMLP net{nullptr};

 private:
  int64_t dim_ = 1;
  OdeStats last_stats_;
};
TORCH_MODULE(PFGM);

/// Trains a PFGM through the shared Trainer (models/common/diffusion_task.h).
using PFGMTask = DiffusionTask<PFGM>;

}  // namespace physgen
