#pragma once
// Cosmological particle-mesh N-body runs: Gaussian initial conditions from a linear power
// spectrum, Lagrangian perturbation theory (Zel'dovich and 2LPT) to start, and the equations of
// motion in the scale factor integrated with physgen's ODE solvers or a kick-drift-kick leapfrog.
//
// Equations of motion (units of pm.h: positions in cells, time a, H0 = 1):
//   dx/da = p / (a^3 E(a)),     dp/da = 3/2 Omega_m / (a^2 E(a)) F(x),    F = -grad phi, lap phi = delta.
// In Einstein-de Sitter linear theory x = q + a Psi, p = a^(3/2) Psi solves them exactly.
//
// Initial conditions. The linear density delta_0 at a = 1 is a Gaussian random field on the
// particle lattice (n_p per side, spacing box / n_p): white noise w ~ N(0, 1) per cell,
// delta_0 = IFFT( FFT(w) sqrt(P(k) / V_cell) ), so that <|delta_k|^2> = V P(k) in the continuum
// normalisation (P from LinearPower). Then, with phi1: lap phi1 = delta_0 and phi2:
// lap phi2 = sum_{i<j} (phi1_ii phi1_jj - phi1_ij^2) (Fourier derivatives on the lattice):
//   x = q - D1(a) grad phi1 + D2(a) grad phi2,
//   p = a^2 E(a) [ -f1 D1 grad phi1 + f2 D2 grad phi2 ]          (order 2; order 1 drops phi2),
// with D2 ~ -3/7 D1^2 (cosmology.h), q the lattice sites in cells (mesh / n_p apart).
// References: Zel'dovich, A&A 5 (1970) 84; Bouchet et al., A&A 296 (1995) 575; Scoccimarro,
// MNRAS 299 (1998) 1097 (2LPT initial conditions).
//
// Time stepping: "dopri5" (or any ode/odeint.h method) on the state {x, p} in a, or "leapfrog":
// kick-drift-kick with steps uniform in a and the exact background factors
//   kick K(a0, a1) = int 3/2 Omega_m / (a^2 E) da,   drift D(a0, a1) = int da / (a^3 E),
// (Gauss-Legendre; Quinn, Katz, Stadel, Lake 1997 for KDK in cosmology).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/ode/odeint.h"
#include "physgen/particles/cosmology.h"
#include "physgen/particles/pm.h"

namespace physgen {

/// Positions (N, d) in cells and momenta (N, d) of one snapshot.
struct ParticleState {
  torch::Tensor x, p;
};

/// The linear density contrast at a = 1 on an n^dim lattice of side `box` Mpc/h, seeded.
torch::Tensor linear_density(int64_t n, int64_t dim, double box, const LinearPower& power, uint64_t seed,
                             torch::Dtype dtype = torch::kFloat32);

/// Lattice sites q (n_p^d, d) in cells of a mesh with `mesh` cells per side.
torch::Tensor lattice_positions(int64_t n_particles, int64_t dim, int64_t mesh,
                                torch::Dtype dtype = torch::kFloat32);

/// The LPT displacement fields of a linear density delta_0 on the particle lattice (n_p,)*d,
/// in lattice units: psi1 = -grad phi1 and psi2 = grad phi2 (growth factors not applied), each
/// (n_p^d, d) in the order of lattice_positions.
std::pair<torch::Tensor, torch::Tensor> lpt_displacements(const torch::Tensor& delta0);

/// Particles at scale factor `a` from delta_0 by LPT of `order` 1 or 2, positions in cells of
/// a mesh with `mesh` cells per side (lattice spacing mesh / n_p).
ParticleState lpt_initial_conditions(const torch::Tensor& delta0, double a, const Growth& growth, int order,
                                     int64_t mesh);

/// The right-hand side of the equations of motion: {dx/da, dp/da} at (a, {x, p}).
class NbodyDynamics {
 public:
  NbodyDynamics(const Cosmology& c, const PmMesh& mesh, int64_t n_particles_total,
                PotentialFilter filter = {});
  /// Forces (N, d) at positions x and scale factor a (the filter may depend on a through
  /// set_filter_for_a; see particles/pm_correction.h).
  torch::Tensor forces(double a, const torch::Tensor& x) const;
  OdeState operator()(double a, const OdeState& s) const;
  /// Optional a-dependent filter: called with a before each force evaluation.
  std::function<PotentialFilter(double a)> filter_at;
  double mass() const { return mass_; }
  const Cosmology& cosmology() const { return c_; }
  const PmMesh& mesh() const { return mesh_; }

 private:
  Cosmology c_;
  PmMesh mesh_;
  double mass_;
  PotentialFilter filter_;
};

/// Kick and drift factors of the leapfrog (see the header comment).
double kick_factor(const Cosmology& c, double a0, double a1);
double drift_factor(const Cosmology& c, double a0, double a1);

/// Options of an integration from a_init through the snapshots.
struct NbodyIntegration {
  TORCH_ARG(std::string, integrator) = "dopri5";  ///< dopri5 | rk4 | midpoint | euler | leapfrog [dopri5]
  TORCH_ARG(int64_t, steps) = 0;                  ///< fixed-step methods and leapfrog: steps over [a_init, a_last] (>0)
  TORCH_ARG(double, rtol) = 1e-5;                 ///< dopri5 [1e-5]
  TORCH_ARG(double, atol) = 1e-5;                 ///< dopri5 [1e-5]

 public:
  void validate() const;
};

/// The result: the snapshots in order, and the solver's counters summed over the segments.
struct NbodyTrajectory {
  std::vector<double> a;
  std::vector<ParticleState> states;
  OdeStats stats;
};

/// Integrates from `start` at a0 through the increasing `snapshots` (all > a0). With
/// `adjoint_params` non-empty and integrator dopri5 / fixed-step, every segment is solved by
/// odeint_adjoint with those parameters (the states are differentiable in them and in start);
/// otherwise by odeint (leapfrog: plain autograd through the steps). A failed solve throws
/// std::runtime_error with the solver's summary.
NbodyTrajectory integrate_nbody(const NbodyDynamics& dyn, const ParticleState& start, double a0,
                                const std::vector<double>& snapshots, const NbodyIntegration& how,
                                const std::vector<torch::Tensor>& adjoint_params = {});

/// Everything of one simulation (defaults in brackets; the CLI's flags).
struct NbodyOptions {
  Cosmology cosmology;
  TORCH_ARG(int64_t, dim) = 3;             ///< [3]
  TORCH_ARG(int64_t, particles) = 32;      ///< particles per side [32]
  TORCH_ARG(int64_t, mesh) = 32;           ///< PM cells per side [32]
  TORCH_ARG(double, box) = 100.0;          ///< box side in Mpc/h [100]
  TORCH_ARG(double, a_init) = 0.1;         ///< [0.1]
  TORCH_ARG(std::vector<double>, snapshots) = std::vector<double>{1.0};  ///< increasing, > a_init [1]
  TORCH_ARG(int64_t, lpt_order) = 2;       ///< 1 | 2 [2]
  TORCH_ARG(uint64_t, seed) = 1;           ///< [1]
  TORCH_ARG(bool, float64) = false;        ///< [false: float32]
  TORCH_ARG(PmOptions, pm) = PmOptions();
  TORCH_ARG(NbodyIntegration, integration) = NbodyIntegration();

 public:
  /// InvalidArgument naming the option outside its domain (checked before any allocation).
  void validate() const;
  torch::Dtype dtype() const { return float64() ? torch::kFloat64 : torch::kFloat32; }
  /// pm() with this run's mesh and dim: the options of its PmMesh.
  PmOptions pm_options() const;
};

/// A complete run: delta_0, the initial particles, the snapshots.
struct NbodyRun {
  torch::Tensor delta0;          ///< linear density at a = 1 on the particle lattice
  ParticleState initial;
  NbodyTrajectory trajectory;
  double mass = 1.0;             ///< particle mass in mesh units
};

/// Runs a simulation; `filter_at` (optional) gives the potential filter at each a.
NbodyRun run_nbody(const NbodyOptions& o, const std::function<PotentialFilter(double a)>& filter_at = {});

/// The density contrast of particles at `x` painted on a mesh of n cells per side (CIC).
torch::Tensor density_contrast(const torch::Tensor& x, int64_t n, int64_t dim, int64_t n_particles_total);

}  // namespace physgen
