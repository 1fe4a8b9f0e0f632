#pragma once
// The particle-mesh (PM) gravity solver on a periodic mesh, in 2-D or 3-D, in LibTorch
// (differentiable in the particle positions and in any potential filter's parameters).
//
// Units (those of JaxPM / FastPM): lengths in mesh cells (positions x in [0, n), taken modulo
// n), time the scale factor a, momenta p = a^3 E(a) dx/da (H0 = 1). Particles carry the mass
// n^d / N_particles so that the mean painted density is 1 and delta = rho - 1. Gravity:
//   laplacian phi = delta,   F = -grad phi   (the 3/2 Omega_m / a factor is in the equations
// of motion, particles/nbody.h). Box sizes enter only through P(k) and k in h/Mpc.
//
// One force evaluation:
//   rho = CIC paint (cloud-in-cell, Hockney & Eastwood sec. 5-3),  delta_k = FFT(rho - 1),
//   [delta_k /= W_cic(k) with compensate_cic: the painting window, W_cic = prod_i sinc^2(k_i / 2)],
//   phi_k = G(k) delta_k S(k) filter(|k|),
//     G = -1/k^2 (laplace "exact") or -1 / sum_i 4 sin^2(k_i/2) (the 2-point discrete Laplacian),
//     S = exp(-k^2 r_split^2) (Gaussian long-range smoothing, r_split in cells; 0: none),
//   F_i = -IFFT(D_i(k) phi_k), read back to the particles by CIC,
//     D_i = i k_i (gradient "fourier"; zero on the Nyquist plane, so D is odd and real),
//           i sin k_i ("fd2": the centred 2-point difference (phi(x+1) - phi(x-1))/2),
//           i (8 sin k_i - sin 2k_i)/6 ("fd4": the 4-point difference, the default as in
//           FastPM / JaxPM);
//   the spectral gradient i k rings on unresolved (point-like) sources, a checkerboard of the
//   Nyquist modes, unless r_split >~ 1 cell; compensate_cic sharpens the force of a point mass
//   the wrong way (it amplifies the aliased high-k modes) and is meant for smooth fields;
//   a finite-difference gradient is applied through its exact Fourier symbol, which on the
//   periodic mesh is the same operator as the real-space stencil (tested against torch::roll).
// With the same CIC kernel for painting and readout and an odd gradient, the total force
// vanishes (momentum is conserved to rounding; Hockney & Eastwood sec. 7-6).
//
// k on the mesh is in radians per cell: k_i = 2 pi m_i / n, |m_i| <= n/2.
//
// References: Hockney & Eastwood, "Computer Simulation Using Particles" (1988);
// Feng, Chu, Seljak, McDonald, JCAP 12 (2016) 043 (FastPM); Modi, Lanusse, Seljak,
// Astron. Comput. 37 (2021) 100505 (FlowPM); JaxPM (github.com/DifferentiableUniverseInitiative).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

namespace physgen {

/// Options of the PM force (defaults in brackets).
struct PmOptions {
  TORCH_ARG(int64_t, mesh) = 64;                 ///< cells per side n (even, >= 4) [64]
  TORCH_ARG(int64_t, dim) = 3;                   ///< 2 or 3 [3]
  TORCH_ARG(std::string, laplace) = "exact";     ///< exact | discrete [exact]
  TORCH_ARG(std::string, gradient) = "fd4";      ///< fourier | fd2 | fd4 [fd4]
  TORCH_ARG(bool, compensate_cic) = false;       ///< deconvolve the CIC painting window [false]
  TORCH_ARG(double, r_split) = 0.0;              ///< Gaussian smoothing scale in cells, 0 = off [0]

 public:
  /// InvalidArgument naming the option outside its domain.
  void validate() const;
};

/// The wavenumbers k_i = 2 pi m_i / n (radians per cell, float64) of a periodic (n,)*d mesh, one
/// tensor per axis shaped to broadcast (axis i has length n, m_i in numpy's fftfreq order
/// 0 .. n/2-1, -n/2 .. -1); with `rfft` the last axis is the half axis of rfftn (m = 0 .. n/2).
std::vector<torch::Tensor> mesh_wavenumbers(int64_t n, int64_t d, bool rfft);

/// k with its Nyquist components (|k| = pi) set to 0: the spectral derivative i k of a real field
/// stays real and odd.
torch::Tensor zero_nyquist(const torch::Tensor& k);

/// CIC (cloud-in-cell) density of particles at `pos` (N, d), each of mass `mass`, on a periodic
/// mesh of n cells per side: a (n,)*d field, differentiable in pos.
torch::Tensor cic_paint(const torch::Tensor& pos, int64_t n, double mass);

/// A multiplicative filter of the potential in Fourier space: given |k| (radians per cell) on
/// the rfft grid, the factor phi_k is multiplied by (same shape). The neural correction and the
/// tests use it.
using PotentialFilter = std::function<torch::Tensor(const torch::Tensor& kmag)>;

/// The mesh with its precomputed Fourier kernels; paint, readout, forces.
class PmMesh {
 public:
  PmMesh(PmOptions options, torch::Dtype dtype = torch::kFloat32,
         torch::Device device = torch::kCPU);

  const PmOptions& options() const { return o_; }
  int64_t n() const { return o_.mesh(); }
  int64_t dim() const { return o_.dim(); }

  /// CIC density of particles at `pos` (N, d) with mass `mass` each: a (n,)*d field.
  torch::Tensor paint(const torch::Tensor& pos, double mass) const;
  /// CIC interpolation of `field` ((n,)*d, or (C, (n,)*d) for C components) at `pos` (N, d):
  /// (N,) or (N, C).
  torch::Tensor readout(const torch::Tensor& field, const torch::Tensor& pos) const;
  /// The potential phi_k on the rfft grid of a density contrast `delta` (n,)*d (optionally
  /// multiplied by `filter`(|k|)).
  torch::Tensor potential_k(const torch::Tensor& delta, const PotentialFilter& filter = {}) const;
  /// The potential in real space.
  torch::Tensor potential(const torch::Tensor& delta, const PotentialFilter& filter = {}) const;
  /// The force field -grad phi on the mesh from phi_k: (d, (n,)*d).
  torch::Tensor force_field(const torch::Tensor& phi_k) const;
  /// Forces on particles at `pos` (N, d) each of mass `mass`: (N, d).
  torch::Tensor forces(const torch::Tensor& pos, double mass, const PotentialFilter& filter = {}) const;

  /// |k| on the rfft grid (radians per cell), shape (n,)*(d-1) x (n/2+1).
  const torch::Tensor& kmag() const { return kmag_; }
  /// Component i of k on the rfft grid, broadcastable to kmag().
  const torch::Tensor& k(int i) const { return k_[i]; }

 private:
  PmOptions o_;
  torch::TensorOptions topt_;
  std::vector<int64_t> fft_dims_, shape_;
  std::vector<torch::Tensor> k_, grad_;  // k_i and the gradient symbols D_i / i
  torch::Tensor kmag_, green_;           // |k|, G(k) S(k) [/ W^2]
};

/// Power spectrum of one field (or the cross spectrum of two) in shells of |k|.
struct PowerSpectrum {
  torch::Tensor k;      ///< mean |k| of the modes of each shell, h/Mpc (B,)
  torch::Tensor power;  ///< P(k) in (Mpc/h)^d (B,); differentiable in the fields
  torch::Tensor modes;  ///< number of Fourier modes in each shell (B,)
};

/// P(k) = V |delta_k|^2 / N_cells^2 (delta_k the DFT, V = box^d), averaged over the shells
/// [(b + 1/2) k_f, (b + 3/2) k_f), b = 0 .. n/2 - 1, k_f = 2 pi / box (the last one ends at the
/// Nyquist wavenumber). `other` given: the cross spectrum Re(delta_k other_k^*) alike. With
/// `compensate_cic` each field is divided by the CIC window W_cic(k) first. Shot noise is not
/// subtracted.
PowerSpectrum power_spectrum(const torch::Tensor& delta, double box, const torch::Tensor& other = {},
                             bool compensate_cic = false);

/// The cross-correlation coefficient r(k) = P_ab / sqrt(P_aa P_bb) of two fields, per shell.
PowerSpectrum cross_correlation(const torch::Tensor& a, const torch::Tensor& b, double box,
                                bool compensate_cic = false);

/// The exact force of a periodic point mass on the continuous torus, by Ewald summation
/// (float64): the force on a test particle at separation `r` (M, d) (cells) from a particle of
/// mass `mass` in a periodic box of n cells per side, for laplacian phi = delta with the mean
/// density subtracted, i.e. F(r) = -(mass/V) sum_{k != 0} k sin(k.r) / k^2, V = n^d. Split with
/// alpha = 6/n (both sums converged to ~1e-15): images |r_m| = |r + n m|, |m_i| <= 2, give
///   3-D: -mass r_m / (4 pi |r_m|^3) [erfc(alpha |r_m|) + 2 alpha |r_m| / sqrt(pi) exp(-alpha^2 |r_m|^2)],
///   2-D: -mass r_m exp(-alpha^2 |r_m|^2) / (2 pi |r_m|^2),
/// and the reciprocal sum -(mass/V) sum_{0 < |k_i| <= 14 (2 pi / n)} k sin(k.r) exp(-k^2/(4 alpha^2)) / k^2.
/// It points towards the mass and tends to mass / (4 pi r^2) (3-D), mass / (2 pi r) (2-D) at
/// small r. Reference: Hernquist, Bouchet, Suto, ApJS 75 (1991) 231.
torch::Tensor ewald_force(const torch::Tensor& r, int64_t n, double mass);

}  // namespace physgen
