#pragma once
// The Markov-chain contract shared by every MCMC algorithm in physgen.
//
// A MarkovChain advances C independent chains at once (one tensor / one bit-plane
// per chain); update(n) applies n elementary updates (a checkerboard sweep for
// local algorithms, one trajectory for HMC, one sweep-equivalent of clusters for
// Wolff). record_chain() in mcmc/simulate.h turns any MarkovChain into an
// ensemble with thermalisation and thinning.
#include <cstdint>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

class MarkovChain {
 public:
  virtual ~MarkovChain() = default;
  /// Advances every chain by n updates.
  virtual void update(int64_t n = 1) = 0;
  /// Current configurations, (chains, *event_shape), on the chain's device
  /// (Ising: int8 +-1; phi^4: the chain's floating dtype).
  virtual torch::Tensor state() const = 0;
  /// Number of independent chains C.
  virtual int64_t chains() const = 0;
  /// Algorithm name, its settings and running statistics (acceptance rate, ...),
  /// e.g. {"algorithm": "hmc", "step_size": 0.1, "n_steps": 10, "acceptance": 0.83}.
  virtual nlohmann::json info() const = 0;
};

}  // namespace physgen
