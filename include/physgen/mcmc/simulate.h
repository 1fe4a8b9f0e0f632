#pragma once
// Turning any MarkovChain into an ensemble: thermalisation, thinning, recording.
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "physgen/mcmc/markov_chain.h"

namespace physgen {

/// How record_chain() runs a chain. Defaults: 1000 thermalisation updates,
/// 1000 recorded samples per chain, one update between samples.
struct RecordOptions {
  int64_t therm = 1000;    ///< updates discarded before recording (>= 0)
  int64_t samples = 1000;  ///< samples recorded per chain (>= 1)
  int64_t every = 1;       ///< updates between recorded samples (>= 1)
  bool progress = true;    ///< progress bar on a terminal
  std::string label = "mcmc";
  void validate() const;
};

/// Runs `chain` for therm + samples * every updates and returns the recorded
/// configurations, chain-major: (C * S, *event_shape) on the CPU, where row
/// c * S + t is sample t of chain c (C = chain.chains(), S = opts.samples).
/// Sidecars record this layout as "chain-major" with "chains": C.
torch::Tensor record_chain(MarkovChain& chain, const RecordOptions& opts);

}  // namespace physgen
