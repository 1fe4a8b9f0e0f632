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

/// Free energies per site of p = exp(-beta E) / Z from N independent draws of a normalised
/// model q with log-weights lw_i = -beta E(x_i) - log q(x_i) (so E_q[w] = Z):
///   variational  F_q = -(1/(beta V)) mean lw  = (1/V) E_q[E + log q / beta]  >= F
///                error: std(lw) / sqrt(N) / (beta V)
///   importance   F   = -(1/(beta V)) log mean w    (neural importance sampling)
///                error (delta method): std(w / mean w) / sqrt(N) / (beta V)
/// F = -log Z / (beta V) in units of E. The importance estimate is biased upwards by
/// ~ var(w/mean w) / (2 N beta V) (Jensen); the error dominates it when the ESS is fair.
/// References: Wu, Wang, Zhang, PRL 122, 080602 (2019); Nicoli et al., PRE 101, 023304 (2020).
struct FreeEnergyEstimate {
  Estimate variational;  ///< F_q (tau_int 0.5: independent draws)
  Estimate importance;   ///< F from log mean w
};

/// The estimates above; beta > 0, volume >= 1, N >= 2 log-weights.
FreeEnergyEstimate free_energy_per_site(const torch::Tensor& log_weights, double beta, int64_t volume);

}  // namespace physgen
