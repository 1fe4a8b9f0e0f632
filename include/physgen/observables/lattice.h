#pragma once
// Lattice observables of 2D configurations (Ising spins or phi^4 fields).
//
// Inputs are ensembles x of shape (N, L, L) (any dtype, e.g. int8 +-1 spins or
// float fields; periodic boundaries); per-configuration series come back as float64
// tensors on x's device. The lattice axes are mu = 0 (tensor dim 1) and mu = 1
// (tensor dim 2); V = L^2. Correlators are full (not connected): in a finite
// periodic volume the Z2 symmetry makes <phi> = 0, but a broken-phase chain that
// never tunnels keeps a constant <phi>^2 in G and C.
// Conventions: docs/conventions.md; DESIGN.md "Physics conventions".
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/lattice/target.h"
#include "physgen/observables/table.h"

namespace physgen {

/// Magnetization per site m = (1/V) sum_x phi_x: (N, L, L) -> (N).
torch::Tensor magnetization(const torch::Tensor& x);

/// The moments measure_lattice uses, each (N): m, |m|, m^2, m^4.
struct MagnetizationSeries {
  torch::Tensor m, abs_m, m2, m4;
};

/// m, |m|, m^2, m^4 per configuration of x (N, L, L).
MagnetizationSeries magnetization_series(const torch::Tensor& x);

/// Ising energy per site e = H/V, H = -J sum_<ij> s_i s_j - h sum_i s_i (each
/// nearest-neighbour bond once, periodic): (N, L, L) -> (N). Defaults J = 1, h = 0.
torch::Tensor ising_energy_density(const torch::Tensor& s, double J = 1.0, double h = 0.0);

/// Two-point function averaged over translations, per configuration:
///   G(r) = (1/V) sum_x phi_x phi_{x+r},  r = (r0, r1) in [0, L)^2   (N, L, L) -> (N, L, L),
/// computed as G = IFFT(|FFT(phi)|^2) / V.
torch::Tensor two_point_function(const torch::Tensor& x);

/// G at distance r along a lattice axis, averaged over both axes:
///   G_axis(r) = (G(r, 0) + G(0, r)) / 2,  r = 0..L/2    (N, L, L) -> (N, L/2 + 1).
/// G(r) = G(-r) per configuration, so r beyond L/2 adds nothing.
torch::Tensor two_point_axial(const torch::Tensor& x);

/// Zero-momentum correlator per configuration, time along axis mu:
///   Phi(t) = sum_{x_other} phi(t, x_other)   (sum over the L sites of time slice t),
///   C(t)   = (1/L) sum_{t0} Phi(t0) Phi(t0 + t),  t = 0..L-1   (N, L, L) -> (N, L).
/// So C(t) = L sum_{x_other} G(t, x_other) and C(t) = C(L - t). average_axes = true
/// (default) averages the two choices mu = 0, 1 (same expectation, less noise).
torch::Tensor zero_momentum_correlator(const torch::Tensor& x, bool average_axes = true);

/// Effective mass of a correlator c (..., T) -> (..., T - 2), entry t-1 for t = 1..T-2:
///   m_eff(t) = arccosh( (C(t-1) + C(t+1)) / (2 C(t)) ),
/// exact for C(t) = A cosh(m (t - L/2)) (periodic); NaN where the argument is < 1.
torch::Tensor effective_mass(const torch::Tensor& c);

/// Power spectrum per configuration on the 2D momentum grid (FFT order,
/// k_mu = 2 pi n_mu / L, n_mu = 0..L-1):
///   P(k) = |sum_x phi_x e^{-i k.x}|^2 / V = sum_r G(r) e^{-i k.r}     (N, L, L) -> (N, L, L).
torch::Tensor power_spectrum(const torch::Tensor& x);

/// Radially binned power spectrum.
struct RadialSpectrum {
  std::vector<double> k;       ///< bin centres 2 pi b / L, b = 0..n_bins-1
  std::vector<int64_t> modes;  ///< number of grid momenta in each bin
  torch::Tensor power;         ///< (N, n_bins): mean of P(k) over the bin's momenta
};

/// P(k) averaged over |n| in bins b = round(|n|), n_mu in (-L/2, L/2] the integer
/// wave numbers; n_bins = round(L/sqrt 2) + 1 (for even L).
RadialSpectrum radial_power_spectrum(const torch::Tensor& x);

/// All standard observables of a chain-major ensemble with errors (Gamma method).
///
/// ensemble: (N, L, L); configuration c * S + t is time t of chain c, S = N / chains
/// (chains independent replicas; N must be a multiple of chains).
/// system "ising": params {"beta", "J" (default 1), "h" (default 0), "L" (optional,
///   checked)}; spins must be +-1. energy_per_site = H/V.
/// system "phi4": params {"m2", "lambda", "L" (optional)}; energy_per_site = S/V with
///   S = sum_x [sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi_x^2 + lambda phi_x^4].
/// Scalars (in this order): energy_per_site, m, abs_m, chi = V <m^2>,
///   chi_connected = V (<m^2> - <|m|>^2) (the |m| form, finite in the broken phase),
///   binder = 1 - <m^4> / (3 <m^2>^2), and for Ising specific_heat =
///   beta^2 V (<e^2> - <e>^2) (per site, e = H/V). Ratios and differences of means are
///   derived quantities of the Gamma method (each has mean, error and tau_int).
/// Arrays: "G" = two_point_axial, r = 0..L/2; "C_t" = zero_momentum_correlator
///   (both axes), t = 0..L/2; "m_eff" = effective_mass of <C>, t = 1..L/2-1.
/// S is the Gamma method's windowing parameter. The ensemble may live on any device;
/// it is processed in chunks, so memory stays O(chunk L^2 + N L).
/// References: U. Wolff, hep-lat/0306017 (errors); K. Binder, Z. Phys. B 43 (1981) 119.
ObservableTable measure_lattice(const torch::Tensor& ensemble, const std::string& system,
                                const nlohmann::json& params, int64_t chains = 1,
                                double S = 1.5);

/// Same with the system and parameters of a Target (target.name(), target.params());
/// for "phi4" energy_per_site is target.action(x) / V.
ObservableTable measure_lattice(const torch::Tensor& ensemble, const Target& target,
                                int64_t chains = 1, double S = 1.5);

}  // namespace physgen
