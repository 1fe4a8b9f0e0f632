#pragma once
// Conditional flow matching: regress a velocity field v_theta(t, x) on the target
// velocities of a conditional probability path (paths.h),
//
//   loss = E_{t ~ U[0, t_max], (x0, x1) ~ coupling} mean_i (v_theta(t, x_t) - u_t)_i^2,
//
// with x0 ~ N(0, I) (base, t = 0) and x1 from the data (t = 1). Couplings:
//   "independent"  x0 drawn independently of the batch;
//   "ot"           minibatch optimal transport: the batch's x0 and x1 are paired by the
//                  exact assignment minimising sum |x0 - x1|^2 (assignment.h, O(n^3));
//   reflow         a teacher flow regenerates the pairs (x0, x1 = ODE_teacher(x0)), see
//                  set_reflow_teacher / reflow_pairs.
// Sampling integrates dx/dt = v_theta from t = 0 to 1 (odeint with `solver`);
// log_prob integrates data -> base with the CNF log-density transport (log_density.h),
// exact trace by default, so flow MCMC works as for any likelihood model. A failed
// solve gives NaN (last_stats() says why).
//
// Shapes: batch (n, *event_shape); the field sees flattened (n, d) states.
// Parameters: "field" (TimeMLP) or "conv_field" (TimeConvField, with options.conv_field).
//
// References: Lipman et al., "Flow matching for generative modeling", arXiv:2210.02747;
// Liu, Gong & Liu, "Flow straight and fast: rectified flow", arXiv:2209.03003 (linear path,
// reflow); Tong et al., "Improving and generalizing flow-based generative models with
// minibatch optimal transport", arXiv:2302.00482 (OT-CFM).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/models/cnf/log_density.h"
#include "physgen/models/flow_matching/paths.h"
#include "physgen/models/generative.h"
#include "physgen/nn/time_conv.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/ode/odeint.h"

namespace physgen {

struct FlowMatchingOptions {
  explicit FlowMatchingOptions(std::vector<int64_t> event_shape)
      : event_shape_(std::move(event_shape)) {}
  /// Shape of one sample (non-empty, entries >= 1).
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Field network; its dim is overwritten with prod(event_shape). Default hidden {64, 64},
  /// tanh, t concatenated.
  TORCH_ARG(TimeMLPOptions, field) = TimeMLPOptions(1);
  /// Periodic convolutional field instead of the MLP (event shapes (H, W) only; its height
  /// and width are overwritten from event_shape). Unset (default): the TimeMLP `field`.
  /// Set: the parameters live in the submodule "conv_field" and `field` stays empty.
  TORCH_ARG(c10::optional<TimeConvFieldOptions>, conv_field) = c10::nullopt;
  /// "linear" (default) | "vp".
  TORCH_ARG(std::string, path) = "linear";
  /// Linear path: sigma_min in [0, 1) (default 0: rectified flow).
  TORCH_ARG(double, sigma_min) = 0.0;
  /// VP path: beta_min, beta_max (defaults 0.1, 20) and training t in [0, 1 - time_epsilon].
  TORCH_ARG(double, beta_min) = 0.1;
  TORCH_ARG(double, beta_max) = 20.0;
  TORCH_ARG(double, time_epsilon) = 1e-3;
  /// Data augmentation for distributions symmetric under x -> -x (e.g. phi^4 without a
  /// field): loss() flips the sign of each data sample with probability 1/2. Default false.
  TORCH_ARG(bool, z2_augment) = false;
  /// "independent" (default) | "ot" (exact minibatch OT pairing).
  TORCH_ARG(std::string, coupling) = "independent";
  /// Solver for sample, sample_and_log_prob, log_prob and reflow (default dopri5, 1e-5).
  TORCH_ARG(OdeOptions, solver) = OdeOptions();
  /// Trace estimator of log_prob: "exact" (default) | "hutchinson".
  TORCH_ARG(std::string, trace) = "exact";
  /// Hutchinson probes: "rademacher" (default) | "gaussian".
  TORCH_ARG(std::string, probe) = "rademacher";
};

/// Names accepted by FlowMatchingOptions::coupling.
std::vector<std::string> coupling_names();

class FlowMatchingImpl : public torch::nn::Cloneable<FlowMatchingImpl>, public LikelihoodModel {
 public:
  explicit FlowMatchingImpl(const FlowMatchingOptions& options);
  void reset() override;

  /// Flow-matching loss on a data batch (n, *event_shape): draws x0 and t, pairs by the
  /// coupling (or uses the reflow teacher's pairs, ignoring the batch's values).
  torch::Tensor loss(const torch::Tensor& batch);
  /// Loss on given pairs (x0, x1) (n, *event_shape) with t ~ U[0, t_max].
  torch::Tensor loss_pairs(const torch::Tensor& x0, const torch::Tensor& x1);
  /// Loss at given times t (n): mean over elements of (v(t, x_t) - u_t)^2.
  torch::Tensor loss_pairs_at(const torch::Tensor& x0, const torch::Tensor& x1,
                              const torch::Tensor& t);

  /// Reorders the rows of x1 so that (x0_i, x1_i) is the optimal assignment for the
  /// squared Euclidean cost (n <= 256 or so: O(n^3)).
  static torch::Tensor ot_pair(const torch::Tensor& x0, const torch::Tensor& x1);

  /// n reflow pairs (z, ODE(z)) of this model's flow, z ~ N(0, I), without autograd.
  std::pair<torch::Tensor, torch::Tensor> reflow_pairs(int64_t n);
  /// From now on loss(batch) trains on pairs regenerated by `teacher` (a frozen copy,
  /// e.g. std::dynamic_pointer_cast<FlowMatchingImpl>(model->clone())); nullptr: back to
  /// the coupling. The teacher is not a submodule (no checkpoint keys).
  void set_reflow_teacher(std::shared_ptr<FlowMatchingImpl> teacher);

  torch::Tensor log_prob(const torch::Tensor& x) override;
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) override;
  /// n samples by one plain ODE solve (no log-density).
  torch::Tensor sample(int64_t n) override;
  /// Pushes given base points z (n, *event_shape) from t = 0 to 1.
  torch::Tensor transport(const torch::Tensor& z);
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  /// v(t, x) on flattened states (n, d).
  torch::Tensor velocity(double t, const torch::Tensor& x);
  /// v(t, x) with one time per sample t (n).
  torch::Tensor velocity(const torch::Tensor& t, const torch::Tensor& x);
  const ProbabilityPath& path() const { return *path_; }
  /// Counters and status of the latest solve.
  const OdeStats& last_stats() const { return last_stats_; }

  FlowMatchingOptions options;
  TimeMLP field{nullptr};
  TimeConvField conv_field{nullptr};

 private:
  VelocityField velocity_field();
  LogDensityOptions density_options() const;
  torch::Tensor check_batch(const torch::Tensor& x, const char* name) const;
  std::vector<int64_t> batch_shape(int64_t n) const;
  int64_t dim_ = 1;
  std::shared_ptr<ProbabilityPath> path_;
  std::shared_ptr<FlowMatchingImpl> teacher_;
  OdeStats last_stats_;
};
TORCH_MODULE(FlowMatching);

}  // namespace physgen
