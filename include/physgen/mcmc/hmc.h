#pragma once
// Hybrid (Hamiltonian) Monte Carlo for any Target, C chains batched as one tensor.
//
// One trajectory: draw momenta p ~ N(0, 1) per component, integrate Hamilton's equations
//   dx/dt = p,   dp/dt = -dS/dx = -force(x)
// for n_steps steps of size eps with a reversible, area-preserving integrator, and accept the
// end point per chain with probability min(1, exp(-dH)), H(x, p) = S(x) + p.p/2.
//
// Integrators (both kick-drift sequences of 2nd order; kicks of adjacent steps are merged):
//  * "leapfrog":  K(eps/2) D(eps) K(eps/2)                                   1 force / step
//  * "omelyan":   K(l eps) D(eps/2) K((1-2l) eps) D(eps/2) K(l eps),
//                 l = 0.1931833275037836 (2nd-order minimum-norm)            2 forces / step
// with K(a): p -= a force(x) and D(a): x += a p.
//
// References: S. Duane, A. D. Kennedy, B. J. Pendleton, D. Roweth, Phys. Lett. B 195, 216 (1987);
// I. P. Omelyan, I. M. Mryglod, R. Folk, Comput. Phys. Commun. 151, 272 (2003);
// T. Takaishi, Ph. de Forcrand, Phys. Rev. E 73, 036706 (2006), arXiv:hep-lat/0505020.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/lattice/phi4.h"
#include "physgen/lattice/target.h"
#include "physgen/mcmc/markov_chain.h"

namespace physgen {

/// The Omelyan 2nd-order minimum-norm parameter lambda (Omelyan, Mryglod, Folk 2003).
constexpr double kOmelyanLambda = 0.1931833275037836;

/// Options of Hmc. All optional (chainable setters):
///   step_size  = 0.1         eps > 0, finite
///   n_steps    = 10          integrator steps per trajectory (>= 1); trajectory length eps * n_steps
///   integrator = "leapfrog"  "leapfrog" | "omelyan"
///   jitter     = 0.1         per trajectory the step size is eps (1 + jitter u), u ~ U(-1, 1)
///                            (one draw shared by all chains, from LibTorch's default generator;
///                            in [0, 1)). A fixed trajectory length is not ergodic for modes that
///                            are (nearly) harmonic with omega * length = n pi, e.g. the free field;
///                            jitter = 0 gives exactly step_size every trajectory.
///                            References: P. B. Mackenzie, Phys. Lett. B 226, 369 (1989).
struct HmcOptions {
  TORCH_ARG(double, step_size) = 0.1;
  TORCH_ARG(int64_t, n_steps) = 10;
  TORCH_ARG(std::string, integrator) = "leapfrog";
  TORCH_ARG(double, jitter) = 0.1;

 public:
  /// Throws InvalidArgument naming the offending option.
  void validate() const;
};

/// The integrator names accepted by HmcOptions::integrator and integrate(): {"leapfrog", "omelyan"}.
std::vector<std::string> hmc_integrators();

/// Integrates Hamilton's equations for n_steps steps of size eps in place of (x, p):
/// x, p (C, *event_shape) are rebound to the end point (the input tensors are not modified).
/// Phi4Action on CPU float64 runs the fused kernel (Phi4Action::integrate_fused); every other
/// target / device / dtype runs tensor ops on target.force. Validates eps > 0, n_steps >= 1,
/// the integrator name and that x and p have the same shape. Reversible: integrating back from
/// (x, -p) returns to the start (to rounding).
void integrate(const Target& target, torch::Tensor& x, torch::Tensor& p, double eps,
               int64_t n_steps, const std::string& integrator = "leapfrog");

/// H = S(x) + sum p^2 / 2 per chain: (C, *event_shape) x 2 -> (C).
torch::Tensor hamiltonian(const Target& target, const torch::Tensor& x, const torch::Tensor& p);

/// Batched HMC over C chains (state (C, *event_shape) on any device, floating dtype).
/// update(n) = n trajectories, each with an independent Metropolis accept/reject per chain.
/// Momenta come from torch::randn (LibTorch's default generator: physgen::seed_all seeds it).
/// info(): {"algorithm": "hmc", "target", "params", "step_size", "n_steps", "integrator", "jitter",
///          "chains", "trajectories", "acceptance" (fraction of accepted chain-trajectories),
///          "mean_exp_minus_dH" (<exp(-dH)>, = 1 for an exact area-preserving reversible
///          integrator: a check), "mean_dH", "fused_cpu" (whether the fused kernel runs)}.
class Hmc : public MarkovChain {
 public:
  /// initial_state: (C, *target->event_shape()), floating dtype; copied.
  Hmc(std::shared_ptr<const Target> target, HmcOptions opts, torch::Tensor initial_state);

  void update(int64_t n = 1) override;
  torch::Tensor state() const override { return x_; }
  int64_t chains() const override { return x_.size(0); }
  nlohmann::json info() const override;
  /// Snapshots hold x, the step size, the statistics and LibTorch's default generators.
  bool resumable() const override { return true; }
  ChainSnapshot snapshot() const override;
  void restore(const ChainSnapshot& s) override;

  const HmcOptions& options() const { return opts_; }
  /// Changes the step size for later trajectories (e.g. tuning during thermalisation; validated).
  void set_step_size(double eps);
  /// Clears the acceptance / dH statistics (e.g. after thermalisation).
  void reset_statistics();
  const Target& target() const { return *target_; }

 private:
  std::shared_ptr<const Target> target_;
  HmcOptions opts_;
  torch::Tensor x_;
  torch::Tensor accepted_;   // scalar float64 sums on the state's device (no host sync per step)
  torch::Tensor exp_sum_;
  torch::Tensor dh_sum_;
  int64_t trajectories_ = 0;
};

/// HMC on the 2D phi^4 action (Phi4Action with the fused CPU kernel where it applies), C chains
/// on `device` in `dtype`, starting cold (phi = 0, the default) or random (N(0,1) per site; see Phi4Start).
std::unique_ptr<Hmc> make_phi4_hmc(const Phi4Params& params, int64_t chains, HmcOptions opts,
                                   torch::Device device = torch::kCPU,
                                   torch::Dtype dtype = torch::kFloat64,
                                   Phi4Start start = Phi4Start::Cold);

}  // namespace physgen
