#pragma once
// Training objectives of any likelihood model (flows, CNFs, score SDEs, ...).
//
// Forward KL (maximum likelihood, from data x ~ p):
//   loss = -mean_i log q(x_i)   ( = KL(p || q) + H(p) in expectation)
// Reverse KL (from a target action S, p = exp(-S) / Z, x ~ q by sample_and_log_prob):
//   loss = mean_i [log q(x_i) + S(x_i)]   ( = KL(q || p) - log Z in expectation, >= -log Z)
// differentiated along the reparameterised samples (path-wise gradient). The reverse-KL
// diagnostics reuse the batch's importance weights log w = -S - log q (no extra passes).
//
// Samples that are not reparameterised (LikelihoodModel::reparameterized() false: spins, and
// the autoregressive samplers, which draw site by site without gradients) cannot be
// differentiated along; the gradient is the score-function (REINFORCE) estimator with a
// leave-one-out baseline,
//   grad KL = E_q[(f(x) - b) grad log q(x)],   f = log q + S,
//   estimate (1/B) sum_i (f_i - b_i) grad log q(x_i),  b_i = (1/(B-1)) sum_{j != i} f_j,
// unbiased because b_i is independent of x_i and E_q[grad log q] = 0; since
// f_i - b_i = B/(B-1) (f_i - mean f) it is the batch-mean baseline of VAN scaled by B/(B-1).
// The loss tensor has the value mean f and this gradient (surrogate - surrogate.detach()).
// For a scaled action t S (beta annealing, t in (0, 1]) the same holds with f = log q + t S.
//
// References: Papamakarios et al., JMLR 22 (2021), arXiv:1912.02762 (sec. 2.3);
// Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072;
// Wu, Wang, Zhang, PRL 122, 080602 (2019) (VAN: score-function gradient, baseline, annealing);
// Mnih, Gregor, ICML 2014 (leave-one-out baselines); Kool, van Hoof, Welling, ICLR 2019 workshop.
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "physgen/lattice/target.h"
#include "physgen/models/generative.h"

namespace physgen {

/// Forward-KL loss and its value.
struct ForwardKLResult {
  torch::Tensor loss;  ///< scalar, differentiable: -mean log q(x)
  double nll = 0;      ///< loss as a number (nats per sample)
};

/// -mean log q(x) over a data batch x (B, *event).
ForwardKLResult forward_kl(LikelihoodModel& model, const torch::Tensor& x);

/// Reverse-KL loss and diagnostics of one batch.
struct ReverseKLResult {
  torch::Tensor loss;         ///< scalar, differentiable: mean(log q(x) + S(x))
  double kl_up_to_log_z = 0;  ///< loss as a number: the KL(q || p) estimate minus log Z (at the scaled action)
  double log_z = 0;           ///< log mean w: importance estimate of log Z
  double ess = 0;             ///< ESS fraction (sum w)^2 / (N sum w^2) of the batch, in (0, 1]
  torch::Tensor samples;      ///< (B, *event), detached
  torch::Tensor log_weights;  ///< (B) float64 CPU, -S - log q
};

/// Throws InvalidArgument naming "target" unless `model` can be trained by reverse KL on
/// `target`: models of spins (LikelihoodModel::discrete) on discrete targets (Ising),
/// continuous models on continuous ones. `what` names the model in the message.
void check_reverse_kl_target(const LikelihoodModel& model, const Target& target,
                             const std::string& what = "the model");

/// Draws batch_size samples from `model` and evaluates the reverse KL against the action
/// action_scale * S of `target` (action_scale in (0, 1]: beta annealing; 1: the target).
/// Models whose samples are not reparameterised use the score-function gradient
/// (batch_size >= 2). check_reverse_kl_target applies.
ReverseKLResult reverse_kl(LikelihoodModel& model, const Target& target, int64_t batch_size,
                           double action_scale = 1.0);

}  // namespace physgen
