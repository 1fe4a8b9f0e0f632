#pragma once
// `simulate` as a library call: the Markov chains and exact samplers behind
// `physgen simulate ising|phi4|toy`, shared by the CLI (which streams to a file) and the
// Python module (which records in memory). Both build the chain here, so the same seed gives
// the same ensemble from either.
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/io/sidecar.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/markov_chain.h"
#include "physgen/mcmc/phi4_metropolis.h"
#include "physgen/mcmc/simulate.h"

namespace physgen {

/// An ensemble in memory: the samples (N, *event_shape) on the CPU and what they are.
struct Ensemble {
  torch::Tensor x;
  EnsembleMeta meta;
};

/// How a simulation records: the chain count and seed, and the RecordOptions of
/// mcmc/simulate.h (therm, samples per chain, every, progress).
struct ChainSettings {
  int64_t chains = 4;
  uint64_t seed = 1;
  RecordOptions record;
  void validate() const;  ///< InvalidArgument naming chains / samples / therm / every
};

/// A chain ready to run, with what the ensemble's sidecar says about it.
struct SimulationChain {
  std::unique_ptr<MarkovChain> chain;
  std::string system;                  ///< "ising" | "phi4"
  nlohmann::json params;               ///< the target's parameters (sidecar "params")
  nlohmann::json algorithm_settings;   ///< algo, device and the update's settings (resume key)
  torch::ScalarType dtype;             ///< stored dtype: int8 (Ising), float32 / float64 (phi^4)
  std::string label;                   ///< progress label, e.g. "ising wolff"
};

/// The 2-D Ising chain (mcmc/ising.h IsingSampler: "metropolis", "heatbath" or "wolff"),
/// H = -J sum_<ij> s_i s_j - h sum_i s_i on the periodic L x L lattice; CPU kernels.
SimulationChain ising_chain(const IsingParams& params, const std::string& algorithm, const ChainSettings& s);

/// What selects and tunes a phi^4 update: "hmc" (mcmc/hmc.h, Duane et al. 1987) or
/// "metropolis" (mcmc/phi4_metropolis.h).
struct Phi4Update {
  std::string algorithm = "hmc";
  HmcOptions hmc = HmcOptions().step_size(0.1).n_steps(10).integrator("omelyan");
  Phi4MetropolisOptions metropolis = Phi4MetropolisOptions().delta(1.0).n_hits(1);
  torch::ScalarType stored_dtype = torch::kFloat32;  ///< chains always run in float64
};

/// The phi^4 chain, S = sum_x [sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi^2 + lambda phi^4]
/// (docs/conventions.md), started cold. Seeds the global generator with s.seed first (HMC
/// momenta and Metropolis proposals draw from it).
SimulationChain phi4_chain(const Phi4Params& params, const Phi4Update& update, const ChainSettings& s,
                           const torch::Device& device);

/// The sidecar of an ensemble recorded from `sim` (after the run: chain.info() has the
/// acceptance etc.).
EnsembleMeta simulation_meta(const SimulationChain& sim, const ChainSettings& s);

/// Runs the chain and returns the ensemble in memory, chain-major (record_chain).
Ensemble simulate(SimulationChain& sim, const ChainSettings& s);

/// Runs the chain streaming to `stream.path` (record_chain_to_file: resumable, never the
/// whole ensemble in memory). Fills stream.run with the settings a resume must match.
StreamResult simulate_to_file(SimulationChain& sim, const ChainSettings& s, StreamOptions stream);

/// Exact samples of a toy 2-D density (data/toy2d.h), float32 (n, 2).
Ensemble simulate_toy(const std::string& name, int64_t n, uint64_t seed);

}  // namespace physgen
