// Wolff single-cluster updates, one chain at a time (plain C++ with a stack).
#include "ising_kernels.h"

namespace physgen {
namespace detail {

std::vector<int32_t> lattice_neighbours(int64_t L) {
  std::vector<int32_t> nb(static_cast<size_t>(4 * L * L));
  for (int64_t y = 0; y < L; ++y) {
    for (int64_t x = 0; x < L; ++x) {
      int32_t* o = &nb[static_cast<size_t>(4 * (y * L + x))];
      o[0] = static_cast<int32_t>(y * L + (x + 1) % L);
      o[1] = static_cast<int32_t>(y * L + (x + L - 1) % L);
      o[2] = static_cast<int32_t>(((y + 1) % L) * L + x);
      o[3] = static_cast<int32_t>(((y + L - 1) % L) * L + x);
    }
  }
  return nb;
}

uint64_t wolff_cluster(int8_t* spins, int64_t V, const int32_t* nb, uint64_t bond_threshold,
                       Xoshiro256pp& rng, int32_t* stack) {
  // Sites are flipped as they join, so each joins at most once and the stack
  // never holds more than V entries. A bond to an aligned neighbour is tried
  // once per (site, direction); for L = 2 the doubled bonds are tried twice.
  const int32_t seed = static_cast<int32_t>(rng.below(static_cast<uint64_t>(V)));
  const int8_t s0 = spins[seed];
  spins[seed] = static_cast<int8_t>(-s0);
  int64_t top = 0;
  stack[top++] = seed;
  uint64_t size = 1;
  while (top > 0) {
    const int32_t* o = nb + 4 * static_cast<int64_t>(stack[--top]);
    for (int d = 0; d < 4; ++d) {
      const int32_t j = o[d];
      if (spins[j] == s0 && rng.next() < bond_threshold) {
        spins[j] = static_cast<int8_t>(-s0);
        stack[top++] = j;
        ++size;
      }
    }
  }
  return size;
}

void wolff_clusters(int8_t* spins, int64_t V, const int32_t* nb, uint64_t bond_threshold,
                    Xoshiro256pp& rng, int64_t n, std::vector<int32_t>& stack,
                    uint64_t& clusters, uint64_t& flipped) {
  stack.resize(static_cast<size_t>(V));
  for (int64_t i = 0; i < n; ++i) {
    flipped += wolff_cluster(spins, V, nb, bond_threshold, rng, stack.data());
  }
  clusters += static_cast<uint64_t>(n);
}

void wolff_sweep_to_volume(int8_t* spins, int64_t V, const int32_t* nb, uint64_t bond_threshold,
                           Xoshiro256pp& rng, std::vector<int32_t>& stack, uint64_t& clusters,
                           uint64_t& flipped) {
  stack.resize(static_cast<size_t>(V));
  uint64_t done = 0;
  while (done < static_cast<uint64_t>(V)) {
    done += wolff_cluster(spins, V, nb, bond_threshold, rng, stack.data());
    ++clusters;
  }
  flipped += done;
}

}  // namespace detail
}  // namespace physgen
