#include "physgen/api/simulate.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/core/rng.h"
#include "physgen/data/toy2d.h"
#include "physgen/mcmc/ising.h"

namespace physgen {

void ChainSettings::validate() const {
  check_arg(chains >= 1, "chains", chains, "at least 1 chain");
  record.validate();
}

SimulationChain ising_chain(const IsingParams& params, const std::string& algorithm, const ChainSettings& s) {
  params.validate();
  s.validate();
  check_choice("algo", algorithm, IsingSampler::algorithms());
  SimulationChain sim;
  sim.chain = std::make_unique<IsingSampler>(params, algorithm, s.chains, s.seed);
  sim.system = "ising";
  sim.params = IsingModel(params).params();
  sim.algorithm_settings = {{"algo", algorithm}, {"device", "cpu"}};
  sim.dtype = torch::kInt8;
  sim.label = "ising " + algorithm;
  return sim;
}

SimulationChain phi4_chain(const Phi4Params& params, const Phi4Update& update, const ChainSettings& s,
                           const torch::Device& device) {
  params.validate();
  s.validate();
  check_choice("algo", update.algorithm, {"hmc", "metropolis"});
  check_arg(update.stored_dtype == torch::kFloat32 || update.stored_dtype == torch::kFloat64, "dtype",
            c10::toString(update.stored_dtype), "float32 or float64");
  seed_all(s.seed);
  SimulationChain sim;
  nlohmann::json algo{{"algo", update.algorithm}, {"device", device.str()}};
  if (update.algorithm == "hmc") {
    sim.chain = make_phi4_hmc(params, s.chains, update.hmc, device, torch::kFloat64, Phi4Start::Cold);
    algo.update({{"step_size", update.hmc.step_size()},
                 {"n_steps", update.hmc.n_steps()},
                 {"integrator", update.hmc.integrator()}});
  } else {
    sim.chain = make_phi4_metropolis(params, s.chains, update.metropolis, device, torch::kFloat64,
                                     Phi4Start::Cold);
    algo.update({{"delta", update.metropolis.delta()}, {"hits", update.metropolis.n_hits()}});
  }
  sim.system = "phi4";
  sim.params = Phi4Action(params).params();
  sim.algorithm_settings = std::move(algo);
  sim.dtype = update.stored_dtype;
  sim.label = "phi4 " + update.algorithm;
  return sim;
}

EnsembleMeta simulation_meta(const SimulationChain& sim, const ChainSettings& s) {
  EnsembleMeta meta;
  meta.system = sim.system;
  meta.params = sim.params;
  meta.generator = "physgen simulate " + sim.system;
  meta.algorithm = sim.chain->info().value("algorithm", std::string("?"));
  meta.seed = s.seed;
  meta.chains = sim.chain->chains();
  meta.samples_per_chain = s.record.samples;
  meta.extra = {{"therm", s.record.therm}, {"every", s.record.every}, {"chain_info", sim.chain->info()}};
  return meta;
}

Ensemble simulate(SimulationChain& sim, const ChainSettings& s) {
  RecordOptions record = s.record;
  record.label = sim.label;
  torch::Tensor x = record_chain(*sim.chain, record);
  Ensemble e{sim.dtype == torch::kInt8 ? x.to(torch::kInt8) : x.to(sim.dtype), simulation_meta(sim, s)};
  validate_ensemble(e.x, e.meta, "simulated ensemble", Blame::argument);
  return e;
}

StreamResult simulate_to_file(SimulationChain& sim, const ChainSettings& s, StreamOptions stream) {
  RecordOptions record = s.record;
  record.label = sim.label;
  stream.dtype = sim.dtype;
  nlohmann::json run = sim.algorithm_settings;
  run["system"] = sim.system;
  run["params"] = sim.params;
  run["chains"] = s.chains;
  run["seed"] = s.seed;
  run["therm"] = s.record.therm;
  run["every"] = s.record.every;
  run["dtype"] = c10::toString(sim.dtype);
  stream.run = std::move(run);
  return record_chain_to_file(*sim.chain, record, stream,
                              [&](const MarkovChain&) { return simulation_meta(sim, s); });
}

Ensemble simulate_toy(const std::string& name, int64_t n, uint64_t seed) {
  check_choice("name", name, toy_density_names());
  check_arg(n >= 1, "samples", n, "at least 1 point");
  seed_all(seed);
  auto density = make_toy_density(name);
  Ensemble e;
  e.x = density->sample(n).to(torch::kFloat32);
  e.meta.system = "toy";
  e.meta.params = {{"name", name}, {"exact_log_prob", density->has_exact_log_prob()}};
  e.meta.generator = "physgen simulate toy";
  e.meta.algorithm = "exact";
  e.meta.seed = seed;
  e.meta.chains = 1;
  e.meta.samples_per_chain = n;
  return e;
}

}  // namespace physgen
