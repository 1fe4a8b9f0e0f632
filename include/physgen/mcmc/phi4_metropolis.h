#pragma once
// Local Metropolis for 2D phi^4, checkerboard-parallel, as tensor ops (runs on any device).
//
// One sweep visits the two parities (x1 + x2 even, then odd). For one parity, every site of that
// parity at once proposes phi'_x = phi_x + delta u, u ~ U(-1, 1), and accepts with probability
// min(1, exp(-dS_x)), where (the neighbours, all of the other parity, stay fixed)
//
//   dS_x = (4 + m2)(phi'^2 - phi^2) + lambda (phi'^4 - phi^4) - 2 (phi' - phi) sum_{y nn x} phi_y.
//
// n_hits proposals are made per site and parity before moving on. Sites of one parity do not
// interact, so the parallel update is exactly a product of single-site Metropolis steps; L must be
// even for the two parities to tile the periodic lattice.
//
// References: N. Metropolis, A. W. Rosenbluth, M. N. Rosenbluth, A. H. Teller, E. Teller,
// J. Chem. Phys. 21, 1087 (1953).
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/markov_chain.h"

namespace physgen {

/// Options of Phi4Metropolis. All optional (chainable setters):
///   delta  = 1.0   proposal half-width (> 0, finite); tune_delta() can adjust it
///   n_hits = 1     proposals per site and parity in one sweep (>= 1)
struct Phi4MetropolisOptions {
  TORCH_ARG(double, delta) = 1.0;
  TORCH_ARG(int64_t, n_hits) = 1;

 public:
  /// Throws InvalidArgument naming the offending option.
  void validate() const;
};

/// Batched checkerboard Metropolis for the 2D phi^4 action; state (C, L, L), any device, floating
/// dtype. update(n) = n sweeps. Uniforms come from LibTorch's default generator (seed_all).
/// info(): {"algorithm": "phi4_metropolis", "params", "delta", "n_hits", "chains", "sweeps",
///          "acceptance" (accepted / proposed single-site moves since the last reset)}.
class Phi4Metropolis : public MarkovChain {
 public:
  /// Validates params (L must be even), options and initial_state (C, L, L); the state is copied.
  Phi4Metropolis(Phi4Params params, Phi4MetropolisOptions opts, torch::Tensor initial_state);

  void update(int64_t n = 1) override;
  torch::Tensor state() const override { return x_; }
  int64_t chains() const override { return x_.size(0); }
  nlohmann::json info() const override;
  /// Snapshots hold x, delta, the statistics and LibTorch's default generators.
  bool resumable() const override { return true; }
  ChainSnapshot snapshot() const override;
  void restore(const ChainSnapshot& s) override;

  /// Runs `sweeps` sweeps (>= 1) in blocks of 10, rescaling delta after each block by
  /// clamp(acceptance / target, 0.5, 2) towards `target` (in (0, 1)); returns the final delta.
  /// Tuning breaks detailed balance: use it during thermalisation only (statistics are reset).
  double tune_delta(int64_t sweeps, double target = 0.5);

  const Phi4MetropolisOptions& options() const { return opts_; }
  const Phi4Params& params() const { return params_; }
  /// Acceptance since the last reset (NaN before any sweep).
  double acceptance() const;
  void reset_statistics();

 private:
  void sweep();
  Phi4Params params_;
  Phi4MetropolisOptions opts_;
  torch::Tensor x_;
  torch::Tensor parity_[2];  // (L, L) bool masks on the state's device
  torch::Tensor accepted_;   // scalar float64 sum on the state's device
  int64_t proposed_ = 0;
  int64_t sweeps_ = 0;
};

/// Phi4Metropolis with C chains on `device` in `dtype`, starting cold (phi = 0) or random.
std::unique_ptr<Phi4Metropolis> make_phi4_metropolis(const Phi4Params& params, int64_t chains,
                                                     Phi4MetropolisOptions opts = {},
                                                     torch::Device device = torch::kCPU,
                                                     torch::Dtype dtype = torch::kFloat64,
                                                     Phi4Start start = Phi4Start::Cold);

}  // namespace physgen
