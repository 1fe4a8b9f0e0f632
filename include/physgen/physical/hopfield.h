#pragma once
// A continuous Hopfield network trained by equilibrium propagation (B. Scellier, Y. Bengio,
// "Equilibrium propagation: bridging the gap between energy-based models and backpropagation",
// Front. Comput. Neurosci. 11, 24 (2017)): a nonlinear physical system that relaxes to a minimum
// of its energy and learns by a local, contrastive rule on each coupling.
//
// Layered network: inputs x (clamped), hidden units h and output units y, states in [0, 1]
// (the hard-sigmoid nonlinearity rho(s) = clip(s, 0, 1) folded into a box constraint), energy
//     E(h, y) = 1/2 |h|^2 + 1/2 |y|^2 - x W1 h - h W2 y - b1 . h - b2 . y ,
// relaxed by projected gradient descent  s <- clip(s - dt dF/ds, 0, 1)  on the total energy
//     F = E + (beta / 2) |y - t|^2
// (beta = 0: the free phase; beta > 0: the nudged phase, outputs pulled weakly toward targets t).
// Rules, from the free state s^0 and a second state:
//  * eqprop: the nudged state s^beta;  theta <- theta - (alpha / beta) (dE/dtheta(s^beta) - dE/dtheta(s^0)),
//    i.e. W1 += (alpha / beta) <x^T h^beta - x^T h^0>, W2 += (alpha / beta) <h^beta^T y^beta - h^0^T y^0>,
//    b += (alpha / beta) <s^beta - s^0>. As beta -> 0 this is -alpha dL/dtheta for the loss
//    L = 1/2 |y^0 - t|^2 at the free fixed point (Scellier and Bengio, Theorem 1): a gradient
//    obtained from two relaxations of the physics and products of neighbouring units only;
//  * coupled: the outputs clamped at y^0 + eta (t - y^0) and h relaxed (coupled learning's clamp,
//    Stern et al. 2021), the same update with alpha / eta;
//  * gradient: backpropagation through the unrolled free relaxation (LibTorch autograd), the
//    baseline.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "physgen/physical/learning_curve.h"

namespace physgen {

/// Couplings and biases of a layered continuous Hopfield network.
struct HopfieldNetwork {
  torch::Tensor W1, W2, b1, b2;  ///< (I, H), (H, O), (H), (O), float64

  /// Glorot-uniform couplings (limit sqrt(6 / (fan_in + fan_out))), zero biases; reproducible.
  static HopfieldNetwork random(int64_t inputs, int64_t hidden, int64_t outputs, uint64_t seed);
  int64_t inputs() const { return W1.size(0); }
  int64_t hidden() const { return W1.size(1); }
  int64_t outputs() const { return W2.size(1); }
};

/// Relaxation settings.
struct HopfieldRelaxation {
  double dt = 0.5;           ///< step of the projected gradient descent
  int64_t free_steps = 100;  ///< free phase, from the zero state
  int64_t nudged_steps = 40; ///< nudged or clamped phase, from the free state
};

/// Equilibrium (hidden, output) for clamped inputs x (M, I): `steps` projected gradient steps on
/// F = E + (beta / 2) |y - t|^2 from (h0, y0) (empty: zeros). Differentiable in the couplings.
std::pair<torch::Tensor, torch::Tensor> hopfield_relax(const HopfieldNetwork& net, const torch::Tensor& x,
                                                       int64_t steps, double dt, const torch::Tensor& h0 = {},
                                                       const torch::Tensor& y0 = {}, double beta = 0.0,
                                                       const torch::Tensor& t = {});
/// The energy E(h, y) of each example (M).
torch::Tensor hopfield_energy(const HopfieldNetwork& net, const torch::Tensor& x, const torch::Tensor& h,
                              const torch::Tensor& y);

/// Settings of train_hopfield.
struct HopfieldLearningOptions {
  std::string rule = "eqprop";  ///< eqprop | coupled | gradient
  int64_t steps = 500;
  double alpha = 0.5;  ///< eqprop, coupled: learning rate
  double beta = 0.5;   ///< eqprop: nudging force
  double eta = 0.5;    ///< coupled: clamp fraction
  double lr = 0.5;     ///< gradient: learning rate
  HopfieldRelaxation relax;
  int64_t log_every = 10;
};

/// Error sum |y - t|^2 / sum |t|^2 and accuracy (argmax y = label) against step.
using HopfieldLearningResult = LearningCurve;

/// Output states (M, O) of the free phase.
torch::Tensor hopfield_outputs(const HopfieldNetwork& net, const torch::Tensor& x, const HopfieldRelaxation& relax);

/// Trains `net` in place on inputs x (M, I), targets t (M, O) and labels (M), full batch; the
/// held-out set (x_test, t_test, labels_test) may be empty.
HopfieldLearningResult train_hopfield(HopfieldNetwork& net, const torch::Tensor& x, const torch::Tensor& t,
                                      const torch::Tensor& labels, const torch::Tensor& x_test,
                                      const torch::Tensor& t_test, const torch::Tensor& labels_test,
                                      const HopfieldLearningOptions& options);

}  // namespace physgen
