// Multispin-coded checkerboard Metropolis / heat-bath sweeps (64 chains per word).
#include <algorithm>
#include <cmath>

#include "ising_kernels.h"

namespace physgen {
namespace detail {

namespace {

// p as floor(p 2^64); sets `certain` when p rounds up to 1 at 64 bits.
uint64_t to_fixed(long double p, bool& certain) {
  const long double q = std::ldexp(p, 64);
  certain = q >= 18446744073709551616.0L;
  return certain ? ~uint64_t{0} : static_cast<uint64_t>(q);
}

}  // namespace

IsingFlipTable make_flip_table(const IsingParams& params, bool heatbath) {
  IsingFlipTable t{};
  const long double beta = params.beta, J = params.J, h = params.h;
  auto flip_probability = [&](int n, int s) -> long double {
    const long double dH = 2 * J * (4 - 2 * n) + 2 * h * s;
    if (heatbath) return 1 / (1 + std::exp(beta * dH));
    return beta * dH <= 0 ? 1.0L : std::exp(-beta * dH);
  };
  enum Kind { kAccept, kReject, kUncertain };
  auto add = [&](int n, uint8_t sel, Kind kind, uint64_t fixed) {
    if (kind == kAccept) t.accept[t.n_accept++] = {static_cast<uint8_t>(n), sel};
    if (kind == kReject) ++t.n_reject;
    if (kind == kUncertain) {
      t.p_fixed[t.n_uncertain] = fixed;
      t.uncertain[t.n_uncertain++] = {static_cast<uint8_t>(n), sel};
    }
  };
  for (int n = 0; n <= 4; ++n) {
    Kind kind[2];
    uint64_t fixed[2];
    for (int k = 0; k < 2; ++k) {  // k = 0: spin up (+1), k = 1: spin down (-1)
      bool certain = false;
      fixed[k] = to_fixed(flip_probability(n, k == 0 ? 1 : -1), certain);
      kind[k] = certain ? kAccept : (fixed[k] == 0 ? kReject : kUncertain);
    }
    if (kind[0] == kind[1] && (kind[0] != kUncertain || fixed[0] == fixed[1])) {
      add(n, IsingFlipTable::kAny, kind[0], fixed[0]);
    } else {
      add(n, IsingFlipTable::kUp, kind[0], fixed[0]);
      add(n, IsingFlipTable::kDown, kind[1], fixed[1]);
    }
  }
  int lowest = 64;  // lowest set bit over all uncertain p
  for (int j = 0; j < t.n_uncertain; ++j) {
    lowest = std::min(lowest, __builtin_ctzll(t.p_fixed[j]));
  }
  t.digits = t.n_uncertain > 0 ? 64 - lowest : 0;
  for (int k = 0; k < 64; ++k) {
    for (int j = 0; j < t.n_uncertain; ++j) {
      t.digit[k][j] = ((t.p_fixed[j] >> (63 - k)) & 1) ? ~uint64_t{0} : 0;
    }
  }
  return t;
}

namespace {

// Bit count without the libgcc call the portable (no -mpopcnt) build would emit.
inline uint64_t count_bits(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return (x * 0x0101010101010101ULL) >> 56;
}

// A lane class as constant masks: lanes with n anti-aligned neighbours are those
// where (b0, b1, b2) equal n's bits; `up` / `down` select the current spin.
struct ClassMask {
  uint64_t n0, n1, n2, up, down;
  ClassMask() = default;
  explicit ClassMask(IsingFlipTable::Class c)
      : n0((c.n & 1) ? ~uint64_t{0} : 0),
        n1((c.n & 2) ? ~uint64_t{0} : 0),
        n2((c.n & 4) ? ~uint64_t{0} : 0),
        up(c.sel != IsingFlipTable::kDown ? ~uint64_t{0} : 0),
        down(c.sel != IsingFlipTable::kUp ? ~uint64_t{0} : 0) {}
  inline uint64_t of(uint64_t b0, uint64_t b1, uint64_t b2, uint64_t s) const {
    return ~((b0 ^ n0) | (b1 ^ n1) | (b2 ^ n2)) & ((s & up) | (~s & down));
  }
};

// Sweeps with NU uncertain classes; W same-colour sites share one Bernoulli loop
// (fewer mispredicted loop exits, independent work for the core to overlap).
template <int NU>
class Sweeper {
 public:
  static constexpr int W = 4;

  explicit Sweeper(const IsingFlipTable& t)
      : n_accept_(t.n_accept), digits_(t.digits), accept_rest_(t.n_reject == 0) {
    for (int j = 0; j < t.n_accept; ++j) accept_[j] = ClassMask(t.accept[j]);
    for (int j = 0; j < NU; ++j) uncertain_[j] = ClassMask(t.uncertain[j]);
    for (int k = 0; k < 64; ++k)
      for (int j = 0; j < NU; ++j) digit_[k][j] = t.digit[k][j];
  }

  uint64_t run(uint64_t* w, int64_t L, Xoshiro256pp& rng, uint64_t lane_mask, int64_t n_sweeps) {
    Xoshiro256pp r = rng;  // local copy: keeps the state in registers
    uint64_t flips = 0;
    for (int64_t sweep = 0; sweep < n_sweeps; ++sweep) {
      for (int color = 0; color < 2; ++color) {
        for (int64_t y = 0; y < L; ++y) {
          uint64_t* row = w + y * L;
          const uint64_t* up = w + (y == 0 ? L - 1 : y - 1) * L;
          const uint64_t* down = w + (y == L - 1 ? 0 : y + 1) * L;
          int64_t x = (y + color) & 1;
          for (; x + 2 * (W - 1) < L; x += 2 * W)
            flips += update<W>(row, up, down, L, x, r, lane_mask);
          for (; x < L; x += 2) flips += update<1>(row, up, down, L, x, r, lane_mask);
        }
      }
    }
    rng = r;
    return flips;
  }

 private:
  // Updates sites x, x+2, ..., x+2(M-1) of one row; returns the flips in lane_mask.
  template <int M>
  inline uint64_t update(uint64_t* row, const uint64_t* up, const uint64_t* down, int64_t L,
                         int64_t x0, Xoshiro256pp& r, uint64_t lane_mask) const {
    uint64_t s[M], flip[M], eq[M], lt[M], lane[M][NU > 0 ? NU : 1];
    uint64_t any = 0;
    for (int i = 0; i < M; ++i) {
      const int64_t x = x0 + 2 * i;
      const int64_t xl = x == 0 ? L - 1 : x - 1;
      const int64_t xr = x == L - 1 ? 0 : x + 1;
      s[i] = row[x];
      // anti-aligned neighbours, counted by a bitwise adder: n = b0 + 2 b1 + 4 b2
      const uint64_t a0 = s[i] ^ row[xl], a1 = s[i] ^ row[xr], a2 = s[i] ^ up[x],
                     a3 = s[i] ^ down[x];
      const uint64_t x01 = a0 ^ a1, c01 = a0 & a1, x23 = a2 ^ a3, c23 = a2 & a3;
      const uint64_t b0 = x01 ^ x23, c = x01 & x23;
      const uint64_t b1 = c01 ^ c23 ^ c;
      const uint64_t b2 = (c01 & c23) | (c & (c01 | c23));
      eq[i] = 0;
      lt[i] = 0;
      for (int j = 0; j < NU; ++j) {
        lane[i][j] = uncertain_[j].of(b0, b1, b2, s[i]);
        eq[i] |= lane[i][j];
      }
      flip[i] = 0;
      if (accept_rest_) {  // no never-flip class: every certain lane flips
        flip[i] = ~eq[i];
      } else {
        for (int j = 0; j < n_accept_; ++j) flip[i] |= accept_[j].of(b0, b1, b2, s[i]);
      }
      any |= eq[i];
    }
    // Bernoulli(p_lane) per lane: U < p is decided at the first binary digit
    // where the lane's uniform U (one random word per digit) differs from p.
    for (int k = 0; any != 0 && k < digits_; ++k) {
      any = 0;
      for (int i = 0; i < M; ++i) {
        const uint64_t rk = r.next();
        uint64_t pk = 0;
        for (int j = 0; j < NU; ++j) pk |= lane[i][j] & digit_[k][j];
        lt[i] |= eq[i] & pk & ~rk;
        eq[i] &= ~(rk ^ pk);
        any |= eq[i];
      }
    }
    uint64_t flips = 0;
    for (int i = 0; i < M; ++i) {
      const uint64_t f = flip[i] | lt[i];
      row[x0 + 2 * i] = s[i] ^ f;
      flips += count_bits(f & lane_mask);
    }
    return flips;
  }

  int n_accept_, digits_;
  bool accept_rest_;
  ClassMask accept_[10];
  ClassMask uncertain_[NU > 0 ? NU : 1];
  uint64_t digit_[64][NU > 0 ? NU : 1];
};

template <int NU>
uint64_t sweeps_impl(uint64_t* w, int64_t L, const IsingFlipTable& t, Xoshiro256pp& rng,
                     uint64_t lane_mask, int64_t n_sweeps) {
  Sweeper<NU> sweeper(t);
  return sweeper.run(w, L, rng, lane_mask, n_sweeps);
}

}  // namespace

uint64_t multispin_sweeps(uint64_t* words, int64_t L, const IsingFlipTable& t, Xoshiro256pp& rng,
                          uint64_t lane_mask, int64_t n) {
  switch (t.n_uncertain) {
    case 0:
      return sweeps_impl<0>(words, L, t, rng, lane_mask, n);
    case 1:
      return sweeps_impl<1>(words, L, t, rng, lane_mask, n);
    case 2:
      return sweeps_impl<2>(words, L, t, rng, lane_mask, n);
    case 3:
      return sweeps_impl<3>(words, L, t, rng, lane_mask, n);
    case 4:
      return sweeps_impl<4>(words, L, t, rng, lane_mask, n);
    case 5:
      return sweeps_impl<5>(words, L, t, rng, lane_mask, n);
    case 6:
      return sweeps_impl<6>(words, L, t, rng, lane_mask, n);
    case 7:
      return sweeps_impl<7>(words, L, t, rng, lane_mask, n);
    case 8:
      return sweeps_impl<8>(words, L, t, rng, lane_mask, n);
    case 9:
      return sweeps_impl<9>(words, L, t, rng, lane_mask, n);
    default:
      return sweeps_impl<10>(words, L, t, rng, lane_mask, n);
  }
}

}  // namespace detail
}  // namespace physgen
