#pragma once
// Boltzmann machine learning: fit the couplings J and fields h of a fully visible Ising model
//
//   p(s) = exp(-E(s)) / Z,   E(s) = - sum_{(ij) in G} J_ij s_i s_j - sum_i h_i s_i,
//
// (beta absorbed into J and h) to data s^(1..N) by maximum likelihood. The log-likelihood is
// concave and its gradient is data statistics minus model statistics (the first reference
// note, eq. 2.7, for the exponential family with Phi = (s_i s_j, s_i)):
//
//   dL/dJ_ij = <s_i s_j>_data - <s_i s_j>_model,    dL/dh_i = <s_i>_data - <s_i>_model.
//
// The model statistics come from persistent parallel tempering (ising_machines/solvers.h):
// `chains` ladders whose coldest rung is at beta = 1, advanced `sweeps_per_step` sweeps per
// step with the current parameters (persistent contrastive divergence with replica exchange).
// The update is gradient ascent with step `lr`; the returned parameters are the Polyak average
// over the last `average_fraction` of the steps, which removes most of the sampler's noise.
//
// References: D. H. Ackley, G. E. Hinton & T. J. Sejnowski, Cognitive Science 9, 147 (1985);
//   T. Tieleman, ICML 2008 (persistent contrastive divergence); H. C. Nguyen, R. Zecchina &
//   J. Berg, Adv. Phys. 66, 197 (2017) (the inverse Ising problem).
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/ising_machines/problem.h"

namespace physgen {

/// Settings of fit_boltzmann_machine (validated there, each error naming the setting).
struct BoltzmannFitOptions {
  int64_t steps = 2000;           ///< gradient steps
  double lr = 0.05;               ///< gradient-ascent step size
  int64_t chains = 64;            ///< persistent PT ladders
  int64_t rungs = 4;              ///< rungs per ladder, geometric from beta_min to 1
  double beta_min = 0.3;          ///< hottest rung
  int64_t sweeps_per_step = 1;    ///< PT sweeps between gradient steps
  double average_fraction = 0.5;  ///< Polyak average over this last fraction of the steps
  uint64_t seed = 1;
};

/// Sufficient statistics of an Ising model over the edges of a structure: the pair moments
/// <s_i s_j> in the order of structure.edge_list() and the magnetisations <s_i>.
struct IsingMoments {
  std::vector<double> pairs;
  std::vector<double> means;
};

/// What fit_boltzmann_machine returns.
struct BoltzmannFit {
  IsingProblem model;                  ///< the structure with the fitted J and h (kind "ising")
  std::vector<double> gradient_max;    ///< max |gradient| of every step (sampler estimate)
  IsingMoments data;                   ///< the data statistics
  /// {"steps", "chains", "final_gradient_max", "couplings": [[i, j, J]...], "fields": [...]}.
  nlohmann::json to_json() const;
};

/// Data statistics of `data` ((N, n) +-1, any dtype, N >= 1) on the edges of `structure`.
IsingMoments data_moments(const torch::Tensor& data, const IsingProblem& structure);

/// Exact model statistics of p(s) = exp(-beta E(s)) / Z by enumeration (n <= 24).
IsingMoments exact_moments(const IsingProblem& p, double beta = 1.0);

/// Fits J on the edges of `structure` (its couplings are the starting point; its fields too)
/// and h on every spin. Throws InvalidArgument naming the argument for data that are not
/// (N, n) +-1 values with n = structure.n, or settings out of range.
BoltzmannFit fit_boltzmann_machine(const torch::Tensor& data, const IsingProblem& structure,
                                   const BoltzmannFitOptions& options = {});

/// The complete graph on n spins with zero couplings (a structure that learns every pair).
IsingProblem complete_structure(int64_t n);

}  // namespace physgen
