#pragma once
// Importance weights: effective sample size and self-normalised reweighted means.
//
// Draws x_i ~ q (e.g. from a normalizing flow) reweighted to a target p carry
// log-weights lw_i = log p(x_i) - log q(x_i) (up to one common constant, which
// cancels everywhere below). With w_i = exp(lw_i - max_j lw_j) (stable for any
// magnitude of lw):
//   ESS / N = (sum w)^2 / (N sum w^2)  in [1/N, 1]  (1: equal weights)
//   <O>_p  ~ sum w_i O_i / sum w_i
// For correlated draws (reweighting an MCMC series) use gamma_method_derived on
// the primaries (w O, w) with f = a_1 / a_2 instead.
//
// References: A. Kong, "A note on importance sampling using standardized weights"
// (1992); J. S. Liu, "Monte Carlo strategies in scientific computing" (2001), sec. 2.5.3.
#include <vector>

#include <torch/types.h>

#include "physgen/observables/estimators/estimate.h"

namespace physgen {

/// ESS fraction (sum w)^2 / (N sum w^2) in (0, 1] from log-weights (N), N >= 1.
/// Entries may be -inf (weight 0); NaN, +inf and all -inf are rejected.
double ess(const torch::Tensor& log_weights);

/// Same for a vector of log-weights.
double ess(const std::vector<double>& log_weights);

/// Mean ESS fraction over consecutive blocks of `block` log-weights (a trailing
/// partial block is dropped): (1/K) sum_k ess(lw[k*block : (k+1)*block]).
/// With block = training batch size (64) this is the ESS the lattice flow
/// literature reports during training (Albergo et al., arXiv:2101.08176); it
/// exceeds the pooled ess(lw) when the log-weights have heavy tails, because a
/// rare large weight dominates only the one block it falls in. Needs N >= block >= 1.
double batch_ess(const torch::Tensor& log_weights, int64_t block);

/// Self-normalised importance-sampling mean of values (N) with log-weights (N):
///   mean = sum w O / sum w,   error^2 = sum w^2 (O - mean)^2 / (sum w)^2
/// (delta method for independent draws; tau_int = 0.5, tau_int_error = 0).
Estimate reweighted_mean(const torch::Tensor& values, const torch::Tensor& log_weights);

/// log(mean(exp(log_weights))) for log-weights (N), computed stably (log-sum-exp):
/// the importance-sampling estimate of log(Z_p / Z_q).
double log_mean_exp(const torch::Tensor& log_weights);

}  // namespace physgen
