#pragma once
// Seeded, reproducible random numbers.
//
// Two sources, one seed:
//  * tensor code (HMC momenta, network initialisation, minibatches) draws from
//    LibTorch's default generators, seeded by seed_all(seed) on CPU and CUDA;
//  * plain C++ kernels (Ising multispin updates, Wolff clusters) own Xoshiro256++
//    streams derived from (seed, stream id) by SplitMix64, so C chains give C
//    independent, reproducible streams.
//
// References: Blackman & Vigna, "Scrambled linear pseudorandom number
// generators", ACM TOMS 47 (2021), arXiv:1805.01407.
#include <cstdint>
#include <torch/types.h>

namespace physgen {

/// SplitMix64 step: advances `state` and returns a well-mixed 64-bit word.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Xoshiro256++: 256-bit state, period 2^256 - 1, passes BigCrush.
struct Xoshiro256pp {
  uint64_t s[4];

  /// Stream `stream` of seed `seed`: the state is four SplitMix64 outputs of a
  /// seed mixed with the stream id, so distinct (seed, stream) give unrelated streams.
  explicit Xoshiro256pp(uint64_t seed = 0, uint64_t stream = 0) {
    uint64_t sm = seed ^ (0xD1B54A32D192ED03ULL * (stream + 1));
    for (auto& w : s) w = splitmix64(sm);
  }

  static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  /// Next 64 uniformly random bits.
  inline uint64_t next() {
    const uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }

  /// Uniform double in [0, 1) with 53 random bits.
  inline double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform integer in [0, n) (Lemire's multiply-shift; bias below 2^-32 for n < 2^32).
  inline uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
};

/// Seeds LibTorch's default CPU generator (and every CUDA generator when CUDA is
/// available) with `seed`, so all tensor-level randomness of a run is reproducible.
void seed_all(uint64_t seed);

}  // namespace physgen
