#pragma once
// Langevin samplers for an energy U(x) (p(x) ~ exp(-U(x))), batched over chains, and a
// replay buffer of persistent chains.
//
//   ULA   x' = x - eps grad U(x) + noise_scale sqrt(2 eps) xi,   xi ~ N(0, I)
//   MALA  the ULA move (noise_scale 1) as a proposal, accepted per chain with probability
//         min(1, exp(U(x) - U(x') + log q(x|x') - log q(x'|x))),
//         log q(x'|x) = -|x' - x + eps grad U(x)|^2 / (4 eps)
// ULA is biased at finite eps (for U = a x^2 / 2 its stationary variance is
// 1 / (a (1 - eps a / 2)) instead of 1 / a); MALA is exact for any eps. noise_scale < 1
// (the "short-run" EBM heuristic) samples a colder distribution and is ULA-only.
//
// Persistent chains (ReplayBuffer): a store of past negatives; each draw takes n random
// entries, restarts each with probability reinit_prob from the initial distribution, and
// the caller writes the updated chains back (persistent contrastive divergence).
//
// Shapes: x (n, *event_shape); energies (n). Randomness from LibTorch's default generator.
//
// References: G. O. Roberts, R. L. Tweedie, "Exponential convergence of Langevin
// distributions and their discrete approximations", Bernoulli 2, 341 (1996) (ULA, MALA);
// T. Tieleman, "Training restricted Boltzmann machines using approximations to the
// likelihood gradient" (ICML 2008) (persistent chains); Y. Du, I. Mordatch, "Implicit
// generation and generalization in energy-based models", arXiv:1903.08689 (replay buffer).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/core/options.h"

namespace physgen {

/// An energy function: (n, *event_shape) -> (n), differentiable in x.
using EnergyFn = std::function<torch::Tensor(const torch::Tensor&)>;

/// Options of langevin(). Defaults in brackets.
struct LangevinOptions {
  /// Step size eps > 0 [0.01].
  TORCH_ARG(double, step_size) = 0.01;
  /// Steps per call (>= 0) [100].
  TORCH_ARG(int64_t, n_steps) = 100;
  /// "ula" | "mala" ["ula"]; "heatbath" names the spin-flip sampler of EnergyModel's "ising"
  /// network (langevin() refuses it).
  TORCH_ARG(std::string, method) = "ula";
  /// Noise multiplier in (0, 1] (ULA only; MALA requires 1) [1].
  TORCH_ARG(double, noise_scale) = 1.0;
  /// Clamp of each gradient component to [-g, g] (0 = off; ULA only) [0].
  TORCH_ARG(double, grad_clamp) = 0.0;

 public:
  void validate() const;
  /// The JSON fields (core/options.h): the [model.sampler] table of an EBM.
  template <class V>
  void fields(V&& v) {
    v("step_size", step_size());
    v("n_steps", n_steps());
    v("method", method());
    v("noise_scale", noise_scale());
    v("grad_clamp", grad_clamp());
  }
};

/// What langevin() returns.
struct LangevinResult {
  torch::Tensor x;          ///< final states (n, *event_shape), detached
  double acceptance = 1.0;  ///< MALA: accepted fraction of chain-steps (ULA: 1)
};

/// grad_x sum_i U(x_i): the energy gradient per chain, detached, x's shape.
torch::Tensor energy_gradient(const EnergyFn& energy, const torch::Tensor& x);

/// Runs opts.n_steps Langevin steps from x0 (not modified). Parameters of the energy get no
/// gradients (the calls run under torch::autograd::grad on x only).
LangevinResult langevin(const EnergyFn& energy, const torch::Tensor& x0, const LangevinOptions& opts);

/// Persistent chains: a buffer of `capacity` states initialised from the initial distribution
/// init_scale * N(0, I) ("normal"), init_scale * U[-1, 1] ("uniform") or random +-1 ("spins").
class ReplayBuffer {
 public:
  ReplayBuffer(int64_t capacity, std::vector<int64_t> event_shape, double reinit_prob = 0.05,
               std::string init = "normal", double init_scale = 1.0,
               torch::TensorOptions options = torch::kFloat32);

  /// n random entries (indices uniform with replacement): (states (n, *event_shape), indices (n)).
  /// Each state is replaced by a fresh initial draw with probability reinit_prob.
  std::pair<torch::Tensor, torch::Tensor> draw(int64_t n);
  /// Writes states (n, *event_shape) back at `indices` (from draw).
  void update(const torch::Tensor& indices, const torch::Tensor& states);
  /// n fresh draws from the initial distribution.
  torch::Tensor initial(int64_t n) const;

  /// All stored states (capacity, *event_shape) (a view: callers may register it as a buffer).
  torch::Tensor& states() { return states_; }
  const torch::Tensor& states() const { return states_; }
  int64_t capacity() const { return states_.size(0); }
  double reinit_prob() const { return reinit_prob_; }

 private:
  std::vector<int64_t> event_shape_;
  double reinit_prob_;
  std::string init_;
  double init_scale_;
  torch::Tensor states_;
};

}  // namespace physgen
