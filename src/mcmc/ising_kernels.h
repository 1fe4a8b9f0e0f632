#pragma once
// Internal: the check-free CPU kernels behind IsingSampler (mcmc/ising.h).
#include <cstdint>
#include <vector>

#include "physgen/core/rng.h"
#include "physgen/lattice/ising.h"

namespace physgen {
namespace detail {

/// Flip probabilities of a multispin sweep, grouped into lane classes.
/// A class is (n, sel): n = number of anti-aligned neighbours (0..4) and
/// sel = which current spins it covers (kAny, kUp = bit 1, kDown = bit 0).
/// Classes with p >= 1 go to `accept`, p < 2^-64 are dropped (never flip), the
/// rest are `uncertain` with p as a 64-bit fixed-point fraction.
struct IsingFlipTable {
  enum Sel : uint8_t { kAny = 0, kUp = 1, kDown = 2 };
  struct Class {
    uint8_t n;
    uint8_t sel;
  };
  int n_accept = 0;
  Class accept[10];
  int n_reject = 0;         // classes that never flip (not listed)
  int n_uncertain = 0;
  Class uncertain[10];
  uint64_t p_fixed[10];     // floor(p 2^64) of each uncertain class
  int digits = 0;           // binary digits of p that can be nonzero (<= 64)
  uint64_t digit[64][10];   // digit[k][j] = ~0 if bit (63 - k) of p_fixed[j] is set, else 0
};

/// Flip table of "metropolis" (heatbath = false) or "heatbath" (true) for `p`:
/// dH(n, s) = 2 J (4 - 2n) + 2 h s; Metropolis p = min(1, e^{-beta dH}),
/// heat bath p = 1 / (1 + e^{beta dH}).
IsingFlipTable make_flip_table(const IsingParams& p, bool heatbath);

/// n checkerboard sweeps of one 64-chain group (words[site], V = L*L words).
/// Returns the number of flips in the lanes set in `lane_mask`.
uint64_t multispin_sweeps(uint64_t* words, int64_t L, const IsingFlipTable& table,
                          Xoshiro256pp& rng, uint64_t lane_mask, int64_t n);

/// Site neighbour table of the periodic L x L lattice: 4 per site (+x, -x, +y, -y).
std::vector<int32_t> lattice_neighbours(int64_t L);

/// One Wolff cluster update of one chain (spins[site] = +-1): a uniformly random
/// seed site, neighbours of the seed's sign join with probability
/// rng.next() < bond_threshold (= floor((1 - e^{-2 beta J}) 2^64)), and the cluster
/// is flipped. `stack` must hold >= V entries. Returns the cluster size.
uint64_t wolff_cluster(int8_t* spins, int64_t V, const int32_t* neighbours,
                       uint64_t bond_threshold, Xoshiro256pp& rng, int32_t* stack);

/// Wolff cluster updates of one chain until >= V spins were flipped; adds the
/// number of clusters to `clusters` and the flipped sizes to `flipped`.
void wolff_sweep_to_volume(int8_t* spins, int64_t V, const int32_t* neighbours,
                           uint64_t bond_threshold, Xoshiro256pp& rng,
                           std::vector<int32_t>& stack, uint64_t& clusters, uint64_t& flipped);

/// `n` Wolff cluster updates of one chain; adds n to `clusters` and the flipped
/// sizes to `flipped`.
void wolff_clusters(int8_t* spins, int64_t V, const int32_t* neighbours, uint64_t bond_threshold,
                    Xoshiro256pp& rng, int64_t n, std::vector<int32_t>& stack,
                    uint64_t& clusters, uint64_t& flipped);

}  // namespace detail
}  // namespace physgen
