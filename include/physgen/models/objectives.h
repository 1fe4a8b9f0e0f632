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
// References: Papamakarios et al., JMLR 22 (2021), arXiv:1912.02762 (sec. 2.3);
// Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072.
#include <cstdint>

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
  double kl_up_to_log_z = 0;  ///< loss as a number: the KL(q || p) estimate minus log Z
  double log_z = 0;           ///< log mean w: importance estimate of log Z
  double ess = 0;             ///< ESS fraction (sum w)^2 / (N sum w^2) of the batch, in (0, 1]
  torch::Tensor samples;      ///< (B, *event), detached
  torch::Tensor log_weights;  ///< (B) float64 CPU, -S - log q
};

/// Draws batch_size samples from `model` and evaluates the reverse KL against `target`.
ReverseKLResult reverse_kl(LikelihoodModel& model, const Target& target, int64_t batch_size);

}  // namespace physgen
