#include "physgen/lattice/ising_exact.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "physgen/core/check.h"

namespace physgen {

// ---------------------------------------------------------------------------
// Enumeration: the Gray code visits all 2^V states flipping one spin per step,
// so the bond sum B = sum_<ij> s_i s_j and the magnetisation M are updated in
// O(1). The joint histogram N(B, M) (the density of states) is then reweighted
// with exp(beta (J B + h M)).
// ---------------------------------------------------------------------------
IsingExact ising_exact_enumeration(const IsingParams& params) {
  params.validate();
  const int64_t L = params.L;
  const int V = static_cast<int>(params.volume());
  check_arg(params.volume() <= 25, "L", L, "L*L <= 25 for exact enumeration (L <= 5)");

  std::vector<int> nbr(4 * V);
  for (int y = 0; y < L; ++y) {
    for (int x = 0; x < L; ++x) {
      const int i = static_cast<int>(y * L + x);
      nbr[4 * i + 0] = static_cast<int>(y * L + (x + 1) % L);
      nbr[4 * i + 1] = static_cast<int>(y * L + (x + L - 1) % L);
      nbr[4 * i + 2] = static_cast<int>(((y + 1) % L) * L + x);
      nbr[4 * i + 3] = static_cast<int>(((y + L - 1) % L) * L + x);
    }
  }

  // B is congruent to 2V mod 4, so (B + 2V)/4 indexes 0..V; n_up indexes 0..V.
  const int nb_levels = V + 1;
  std::vector<uint64_t> hist(static_cast<size_t>(nb_levels) * (V + 1), 0);
  std::vector<int8_t> s(V, -1);
  int bond = 2 * V;
  int n_up = 0;
  hist[static_cast<size_t>((bond + 2 * V) / 4) * (V + 1) + n_up] += 1;
  const uint64_t n_states = uint64_t{1} << V;
  for (uint64_t i = 1; i < n_states; ++i) {
    const int k = __builtin_ctzll(i);
    const int* nb = &nbr[4 * k];
    const int field = s[nb[0]] + s[nb[1]] + s[nb[2]] + s[nb[3]];
    const int sk = s[k];
    bond -= 2 * sk * field;
    n_up -= sk;  // -1 -> +1 adds one up spin, +1 -> -1 removes one
    s[k] = static_cast<int8_t>(-sk);
    hist[static_cast<size_t>((bond + 2 * V) / 4) * (V + 1) + n_up] += 1;
  }

  // Reweight in long double with the largest log-weight subtracted.
  struct Level {
    long double logw, e, m;
  };
  std::vector<Level> levels;
  long double max_logw = -std::numeric_limits<long double>::infinity();
  for (int bi = 0; bi < nb_levels; ++bi) {
    for (int u = 0; u <= V; ++u) {
      const uint64_t c = hist[static_cast<size_t>(bi) * (V + 1) + u];
      if (c == 0) continue;
      const long double B = 4.0L * bi - 2.0L * V;
      const long double M = 2.0L * u - V;
      const long double H = -params.J * B - params.h * M;
      const long double lw = std::log(static_cast<long double>(c)) - params.beta * H;
      levels.push_back({lw, H / V, M / V});
      max_logw = std::max(max_logw, lw);
    }
  }
  long double z = 0, se = 0, se2 = 0, sm = 0, sam = 0, sm2 = 0, sm4 = 0;
  for (auto& lv : levels) {
    const long double w = std::exp(lv.logw - max_logw);
    lv.logw = w;  // reuse as the normalised-later weight
    z += w;
    se += w * lv.e;
    se2 += w * lv.e * lv.e;
    sm += w * lv.m;
    sam += w * std::fabs(lv.m);
    sm2 += w * lv.m * lv.m;
    sm4 += w * lv.m * lv.m * lv.m * lv.m;
  }
  const long double mean_e = se / z;
  long double var_e = 0;
  for (const auto& lv : levels) var_e += lv.logw * (lv.e - mean_e) * (lv.e - mean_e);
  var_e /= z;

  IsingExact r;
  r.log_z = static_cast<double>(max_logw + std::log(z));
  r.energy = static_cast<double>(mean_e);
  r.energy_sq = static_cast<double>(se2 / z);
  r.magnetization = static_cast<double>(sm / z);
  r.abs_magnetization = static_cast<double>(sam / z);
  r.m2 = static_cast<double>(sm2 / z);
  r.m4 = static_cast<double>(sm4 / z);
  r.susceptibility = static_cast<double>(V * (sm2 / z));
  r.susceptibility_connected =
      static_cast<double>(V * (sm2 / z - (sam / z) * (sam / z)));
  r.binder = static_cast<double>(1.0L - (sm4 / z) / (3.0L * (sm2 / z) * (sm2 / z)));
  r.specific_heat = static_cast<double>(params.beta * params.beta * V * var_e);
  return r;
}

// ---------------------------------------------------------------------------
// Kaufman. Each of the four terms Z_i is a product of factors f(x_l) with
// x_l = (L/2) gamma_l(K); we carry ln|Z_i| and the first two K-derivatives of
// ln Z_i. The l = 0 factor (in Z_3 as 2cosh, in Z_4 as 2sinh) may vanish at
// K_c (gamma_0 = 0), so it is kept as a value times e^{|x_0|}, never divided by.
// ---------------------------------------------------------------------------
namespace {

using ld = long double;

struct Gamma {
  ld x, dx, ddx;  // (L/2) gamma_l and its first two K-derivatives
};

// Sums of ln f, (ln f)', (ln f)'' over a set of factors.
struct LogSums {
  ld log = 0, d1 = 0, d2 = 0;
  void add_cosh(const Gamma& g) {  // f = 2 cosh x, x > 0
    const ld t = std::tanh(g.x);
    log += g.x + std::log1p(std::exp(-2 * g.x));
    d1 += t * g.dx;
    d2 += (1 - t * t) * g.dx * g.dx + t * g.ddx;
  }
  void add_sinh(const Gamma& g) {  // f = 2 sinh x, x > 0
    const ld ct = 1 / std::tanh(g.x);
    log += g.x + std::log1p(-std::exp(-2 * g.x));
    d1 += ct * g.dx;
    d2 += (1 - ct * ct) * g.dx * g.dx + ct * g.ddx;
  }
};

// One term Z_i / e^{A}: value and K-derivatives.
struct Term {
  ld a;           // log scale of the term
  ld g, g1, g2;   // term = e^{a} g, term' = e^{a} g1, term'' = e^{a} g2
};

Term plain_term(const LogSums& s) {
  return {s.log, 1, s.d1, s.d2 + s.d1 * s.d1};
}

// Term = f0 * R with f0 = 2cosh(x0) (is_sinh = false) or 2sinh(x0), R from `rest`.
Term special_term(const Gamma& g0, bool is_sinh, const LogSums& rest) {
  const ld ax = std::fabs(g0.x);
  const ld sg = g0.x < 0 ? -1 : 1;
  const ld ep = 1 + std::exp(-2 * ax);     // e^{-|x|} 2cosh x
  const ld em = -std::expm1(-2 * ax) * sg;  // e^{-|x|} 2sinh x
  ld f, f1, f2;
  if (is_sinh) {
    f = em;
    f1 = ep * g0.dx;
    f2 = em * g0.dx * g0.dx + ep * g0.ddx;
  } else {
    f = ep;
    f1 = em * g0.dx;
    f2 = ep * g0.dx * g0.dx + em * g0.ddx;
  }
  const ld D1 = rest.d1, D2 = rest.d2 + rest.d1 * rest.d1;  // R'/R, R''/R
  return {rest.log + ax, f, f1 + f * D1, f2 + 2 * f1 * D1 + f * D2};
}

}  // namespace

IsingExact ising_exact_kaufman(const IsingParams& params) {
  params.validate();
  check_arg(params.h == 0.0, "h", params.h, "0 (Kaufman's solution is for zero field)");
  check_arg(params.J >= 0.0, "J", params.J, "J >= 0 (Kaufman's solution is for the ferromagnet)");
  const int64_t L = params.L;
  const ld V = static_cast<ld>(params.volume());
  const ld K = static_cast<ld>(params.beta) * static_cast<ld>(params.J);

  IsingExact r;
  if (K == 0) {  // infinite temperature: Z = 2^V, no energy fluctuations.
    r.log_z = static_cast<double>(V * std::log(2.0L));
    return r;
  }

  const ld sh = std::sinh(2 * K), ch = std::cosh(2 * K);
  const ld half_L = static_cast<ld>(L) / 2;
  const ld pi = 3.141592653589793238462643383279502884L;
  // c(K) = cosh 2K coth 2K = sh + 1/sh and its derivatives.
  const ld c1 = 2 * ch * (1 - 1 / (sh * sh));
  const ld c2 = 4 * sh - 4 / sh + 8 * ch * ch / (sh * sh * sh);
  const ld c_minus_2 = (sh - 1) * (sh - 1) / sh;

  auto gamma_l = [&](int64_t l) -> Gamma {
    // cosh g - 1 = (c - 2) + 2 sin^2(theta/2), theta = pi l / L (accurate near 1).
    const ld sn = std::sin(pi * static_cast<ld>(l) / (2 * static_cast<ld>(L)));
    const ld delta = c_minus_2 + 2 * sn * sn;
    const ld sinh_g = std::sqrt(delta * (delta + 2));
    const ld g = std::log1p(delta + sinh_g);
    const ld dg = c1 / sinh_g;
    const ld ddg = (c2 - (1 + delta) * dg * dg) / sinh_g;
    return {half_L * g, half_L * dg, half_L * ddg};
  };
  const Gamma g0{half_L * (2 * K + std::log(std::tanh(K))), half_L * (2 + 2 / sh),
                 half_L * (-4 * ch / (sh * sh))};

  LogSums odd_cosh, odd_sinh, even_cosh, even_sinh;
  for (int64_t rr = 0; rr < L; ++rr) {
    const Gamma go = gamma_l(2 * rr + 1);
    odd_cosh.add_cosh(go);
    odd_sinh.add_sinh(go);
    if (rr > 0) {
      const Gamma ge = gamma_l(2 * rr);
      even_cosh.add_cosh(ge);
      even_sinh.add_sinh(ge);
    }
  }
  const Term terms[4] = {plain_term(odd_cosh), plain_term(odd_sinh),
                         special_term(g0, false, even_cosh), special_term(g0, true, even_sinh)};
  ld A = terms[0].a;
  for (const auto& t : terms) A = std::max(A, t.a);
  ld S = 0, S1 = 0, S2 = 0;
  for (const auto& t : terms) {
    const ld w = std::exp(t.a - A);
    S += w * t.g;
    S1 += w * t.g1;
    S2 += w * t.g2;
  }
  const ld log_z = -std::log(2.0L) + V / 2 * std::log(2 * sh) + A + std::log(S);
  const ld dlogz = V * ch / sh + S1 / S;
  const ld ddlogz = -2 * V / (sh * sh) + S2 / S - (S1 / S) * (S1 / S);

  r.log_z = static_cast<double>(log_z);
  r.energy = static_cast<double>(-static_cast<ld>(params.J) * dlogz / V);
  r.specific_heat = static_cast<double>(K * K * ddlogz / V);
  return r;
}

double ising_energy_onsager(double beta, double J) {
  check_arg(std::isfinite(beta) && beta >= 0.0, "beta", beta, "a finite number >= 0");
  check_arg(std::isfinite(J) && J >= 0.0, "J", J, "a finite number >= 0");
  const double K = beta * J;
  if (K == 0.0) return 0.0;
  const double t = std::tanh(2 * K);
  const double ch = std::cosh(2 * K);
  const double k = 2 * std::sinh(2 * K) / (ch * ch);
  if (k >= 1.0) return -J / t;  // K = K_c: the elliptic term vanishes
  const double pi = 3.14159265358979323846;
  return -J / t * (1 + 2 / pi * (2 * t * t - 1) * std::comp_ellint_1(k));
}

}  // namespace physgen
