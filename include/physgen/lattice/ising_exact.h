#pragma once
// Exact results for the 2D Ising model on the periodic L x L lattice
// (conventions of lattice/ising.h): brute-force enumeration of all 2^V states
// for small lattices, and Kaufman's closed-form partition function at h = 0 for
// any L. They are the ground truth the MCMC samplers and generative models are
// tested against.
#include <cstdint>

#include "physgen/lattice/ising.h"

namespace physgen {

/// Exact equilibrium averages of one Ising system. Per-site quantities:
/// e = H/V, m = (1/V) sum_i s_i.
struct IsingExact {
  double log_z = 0;            ///< ln Z
  double energy = 0;           ///< <e> (includes the field term)
  double energy_sq = 0;        ///< <e^2>
  double magnetization = 0;    ///< <m> (0 at h = 0 by symmetry)
  double abs_magnetization = 0;  ///< <|m|>
  double m2 = 0;               ///< <m^2>
  double m4 = 0;               ///< <m^4>
  double susceptibility = 0;   ///< chi = V <m^2>
  double susceptibility_connected = 0;  ///< V (<m^2> - <|m|>^2)
  double binder = 0;           ///< U4 = 1 - <m^4> / (3 <m^2>^2)
  double specific_heat = 0;    ///< C = beta^2 V (<e^2> - <e>^2)
};

/// Exact averages by enumerating all 2^V configurations (Gray-code order, one
/// spin flip per state, so each state costs O(1)); any J, h, beta.
/// Requires V = L*L <= 25 (L <= 5); L = 5 (3.4e7 states) takes ~0.2 s.
IsingExact ising_exact_enumeration(const IsingParams& params);

/// Kaufman's exact partition function of the periodic L x L ferromagnet at h = 0,
///
///   Z = 1/2 (2 sinh 2K)^{V/2} [ prod_r 2cosh(L g_{2r+1}/2) + prod_r 2sinh(L g_{2r+1}/2)
///                             + prod_r 2cosh(L g_{2r}/2)   + prod_r 2sinh(L g_{2r}/2) ],
///   r = 0..L-1,  K = beta J,  cosh g_l = cosh 2K coth 2K - cos(pi l / L)  (g_l > 0, l >= 1),
///   g_0 = 2K + ln tanh K  (negative above T_c),
///
/// with ln Z, the energy per site u = -(J/V) d lnZ/dK and the specific heat per
/// site C = (K^2/V) d^2 lnZ/dK^2 from analytic derivatives in long double.
/// Only log_z, energy and specific_heat are filled (the rest stays 0).
/// Requires h = 0 and J >= 0. Cost O(L).
/// References: B. Kaufman, Phys. Rev. 76, 1232 (1949);
///             A. E. Ferdinand & M. E. Fisher, Phys. Rev. 185, 832 (1969).
IsingExact ising_exact_kaufman(const IsingParams& params);

/// Onsager's infinite-volume energy per site at h = 0, J >= 0:
///   u = -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K1(k)],  k = 2 sinh 2K / cosh^2 2K,
/// with K1 the complete elliptic integral of the first kind (u(beta_c) = -sqrt 2 J).
/// References: L. Onsager, Phys. Rev. 65, 117 (1944).
double ising_energy_onsager(double beta, double J = 1.0);

}  // namespace physgen
