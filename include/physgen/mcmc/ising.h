#pragma once
// Markov chains for the 2D Ising model (lattice/ising.h conventions):
// multispin-coded checkerboard Metropolis and heat-bath, and Wolff clusters.
//
// These are CPU kernels: the chains live in host memory and state() returns a
// CPU tensor (move it with .to(device) where a model needs it).
//
// Multispin coding: 64 chains share one uint64 word per site (bit c of
// word[site] = spin of chain c, 1 = +1). A site update computes, for all 64
// chains at once, the number n of anti-aligned neighbours with bitwise adders;
// the flip probability p(n, s_i) takes at most 10 values (n = 0..4, s_i = +-1),
// and a per-lane Bernoulli(p) word is drawn exactly by comparing a uniform
// U = 0.r_1 r_2 ... (one random word per binary digit, shared by all lanes)
// against the binary expansion of each lane's p, most significant bit first:
//   lt |= eq & pbit_k & ~r_k;  eq &= ~(r_k ^ pbit_k);  until eq == 0,
// so a lane flips iff U < p (p resolved to 64 bits): ~7 random words per 64 lanes.
// Chains are padded to a multiple of 64; each 64-chain group owns a Xoshiro256++
// stream (seed, group), and groups run in parallel with at::parallel_for, so a
// run is reproducible at fixed seed for any thread count.
//
// References: N. Metropolis et al., J. Chem. Phys. 21, 1087 (1953);
//   multispin coding: M. Creutz, L. Jacobs & C. Rebbi, Phys. Rev. Lett. 42, 1390 (1979),
//   N. Ito & Y. Kanada, Supercomputer 5, 31 (1988);
//   U. Wolff, Phys. Rev. Lett. 62, 361 (1989).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/core/rng.h"
#include "physgen/lattice/ising.h"
#include "physgen/mcmc/markov_chain.h"

namespace physgen {

namespace detail {
struct IsingFlipTable;  // multispin flip probabilities (src/mcmc/ising_kernels.h)
}  // namespace detail

/// C independent Ising chains advanced by one algorithm:
///  * "metropolis": checkerboard sweeps (all even sites, then all odd sites), each
///    site flipped with probability min(1, exp(-beta dH)), dH = 2 s_i (J sum_nn s_j + h)
///    (at beta = 0 this flips every spin every sweep: use heatbath there);
///  * "heatbath":   same sweep order, flip probability 1 / (1 + exp(beta dH))
///    (the new spin drawn from its conditional distribution);
///  * "wolff":      single-cluster updates, bond probability 1 - exp(-2 beta J).
///    The first kWolffCalibrationSweeps (20) updates after construction are
///    thermalisation: each flips clusters until >= V spins flipped, and the
///    second half of them measures the mean cluster size s. After that, every
///    update is a fixed k = clusters_per_sweep() = max(1, round(V / s)) clusters
///    per chain (~V flipped spins), an exact pi-invariant kernel. (Stopping each
///    update once V spins flipped is not: the stopping time depends on the
///    clusters just flipped and biases the state it stops at; measured at L = 4,
///    beta = 0.3: <e> off by 23%.) Discard at least the first 20 updates.
///    Requires h = 0 and J >= 0.
/// The initial state is random (infinite temperature). State is CPU-only.
class IsingSampler : public MarkovChain {
 public:
  /// `chains` >= 1 chains of the model `params`, with `algorithm` one of
  /// algorithms(); all randomness derives from `seed`.
  IsingSampler(IsingParams params, const std::string& algorithm, int64_t chains, uint64_t seed);
  ~IsingSampler() override;

  /// {"metropolis", "heatbath", "wolff"}.
  static const std::vector<std::string>& algorithms();

  /// n >= 0 sweeps (Wolff: n sweep-equivalents of clusters) of every chain.
  void update(int64_t n = 1) override;

  /// Current configurations: (chains, L, L) int8 +-1 CPU tensor (a copy).
  torch::Tensor state() const override;

  /// Replaces the configurations: `s` is (chains, L, L) with +-1 values, any dtype/device.
  void set_state(const torch::Tensor& s);

  int64_t chains() const override { return chains_; }

  /// Snapshots hold the spins (bit-planes or int8), every Xoshiro stream, the sweep count,
  /// the Wolff calibration and the acceptance / cluster statistics.
  bool resumable() const override { return true; }
  ChainSnapshot snapshot() const override;
  void restore(const ChainSnapshot& s) override;

  /// {"algorithm", "L", "beta", "h", "J", "chains", "sweeps"} plus, for metropolis /
  /// heatbath, "acceptance" (fraction of site updates that flipped the spin) and,
  /// for wolff, "clusters_per_sweep", "mean_cluster_size" and
  /// "flipped_per_sweep" (per chain), accumulated since construction (0 before
  /// the first update).
  nlohmann::json info() const override;

  /// Wolff: updates that run "until V spins flipped" before the cluster count is fixed.
  static constexpr int64_t kWolffCalibrationSweeps = 20;
  /// Wolff: cluster updates per chain in one update; 0 while calibrating (and
  /// for the other algorithms).
  int64_t clusters_per_sweep() const { return clusters_per_sweep_; }
  /// Wolff: fixes the cluster updates per chain in one update (k >= 1), ending
  /// (or skipping) the calibration.
  IsingSampler& set_clusters_per_sweep(int64_t k);

  const IsingParams& params() const { return params_; }
  const std::string& algorithm() const { return algorithm_; }
  /// Number of updates applied since construction.
  int64_t sweeps() const { return sweeps_; }

 private:
  enum class Kind { kMetropolis, kHeatbath, kWolff };

  IsingParams params_;
  std::string algorithm_;
  Kind kind_;
  int64_t chains_;
  int64_t sweeps_ = 0;

  // multispin (metropolis, heatbath): words_[g * V + site], one rng per 64-chain group
  int64_t groups_ = 0;
  std::vector<uint64_t> words_;
  std::vector<Xoshiro256pp> group_rngs_;
  std::vector<uint64_t> flips_;  // accepted flips per group (real lanes only)
  std::unique_ptr<detail::IsingFlipTable> table_;

  // wolff: spins_[c * V + site], one rng per chain
  std::vector<int8_t> spins_;
  std::vector<Xoshiro256pp> chain_rngs_;
  std::vector<int32_t> neighbours_;  // 4 per site: +x, -x, +y, -y
  uint64_t bond_threshold_ = 0;      // floor((1 - e^{-2 beta J}) 2^64)
  int64_t clusters_per_sweep_ = 0;  // 0: calibrating
  std::vector<uint64_t> calib_clusters_, calib_spins_;  // per chain, second calibration half
  std::vector<uint64_t> cluster_count_, cluster_spins_;  // per chain
};

}  // namespace physgen
