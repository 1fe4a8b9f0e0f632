#pragma once
// `sample` as a library call: draws from a trained model, independently or through the
// Metropolis-corrected chain, with the free-energy report; shared by `physgen sample` and the
// Python module (Model.sample, Model.sample_mcmc).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/api/simulate.h"
#include "physgen/lattice/target.h"
#include "physgen/zoo/model.h"

namespace physgen {

/// How to draw.
struct SampleRequest {
  int64_t n = 10000;        ///< samples (the chain length with mcmc)
  int64_t batch = 1024;     ///< model samples per call
  uint64_t seed = 1;        ///< seed_all(seed) first
  bool mcmc = false;        ///< independence Metropolis with the model as proposal (exact)
  SamplerSettings settings; ///< the family's sampler settings (zoo/model.h)
  std::string model_path;   ///< recorded in the sidecar ("generator", "extra.model")
};

/// The samples (CPU; Ising projected to spins by to_spins, others float32), their sidecar
/// and the report `physgen sample --json` prints: acceptance and ess (mcmc), ess (likelihood
/// families of a known target), the family's sampler numbers (nfe, ...), and the free energy
/// per site (free_energy, free_energy_variational; for Ising at h = 0 the exact
/// free_energy_exact, free_energy_z, ...: observables/estimators/reweighting.h).
struct SampleOutcome {
  Ensemble ensemble;
  nlohmann::json report = nlohmann::json::object();
};

/// Draws `req.n` samples from `model`. InvalidArgument (naming "mcmc") for mcmc on a model
/// without a likelihood or of a system without a known action; memory is checked before
/// the first batch.
SampleOutcome sample_model(const Model& model, const SampleRequest& req);

/// The free energies per site from independent draws' log-weights log p~ - log q
/// (free_energy_per_site) and, for Ising at h = 0 and J >= 0, Kaufman's exact values
/// (lattice/ising_exact.h), written into `out`.
void report_free_energy(const Target& target, const torch::Tensor& log_weights, nlohmann::json& out);

}  // namespace physgen
