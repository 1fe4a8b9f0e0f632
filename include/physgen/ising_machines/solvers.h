#pragma once
// Ising machines: heuristic ground-state solvers for IsingProblem, each batched over many
// independent replicas (trials).
//
//  * "sa": simulated annealing. Single-spin sweeps in a fresh random site order (Metropolis
//    or heat-bath) with local fields f_i = sum_j J_ij s_j + h_i kept up to date, dE_i = 2 s_i f_i, under
//    a geometric schedule beta_k = beta_start (beta_end / beta_start)^(k / (S - 1)).
//    Reference: S. Kirkpatrick, C. D. Gelatt & M. P. Vecchi, Science 220, 671 (1983).
//  * "pt": parallel tempering (replica exchange). Each replica is a ladder of M copies at
//    geometrically spaced beta_min..beta_max; every sweep is one Metropolis sweep (random order) of
//    every copy followed by exchange attempts between neighbouring rungs (even pairs on even
//    sweeps, odd pairs on odd sweeps), accepted with min(1, exp((beta_k - beta_{k+1})
//    (E_k - E_{k+1}))). The acceptance of each pair is reported.
//    Reference: K. Hukushima & K. Nemoto, J. Phys. Soc. Jpn. 65, 1604 (1996).
//  * "sb-ballistic" / "sb-discrete": simulated bifurcation (Goto et al., Sci. Adv. 5,
//    eaav2372 (2019); Sci. Adv. 7, eabe7953 (2021)). Positions x and momenta y of n
//    oscillators per replica, symplectic Euler with step dt over S iterations,
//        y <- y + [-(a0 - a(t)) x + c0 (J z + h)] dt,   x <- x + a0 y dt,
//    z = x (ballistic, bSB) or z = sign(x) (discrete, dSB), a(t) rising linearly from 0 to
//    a0 = 1, the inelastic wall |x| <= 1 (where |x| > 1: x = sign(x), y = 0), x and y
//    started uniform in [-0.1, 0.1]; c0 = 0.5 / (sqrt(n) sigma_J) with sigma_J the rms
//    coupling over all n (n - 1) ordered pairs (Goto 2021's choice) unless given; dt = 1.25
//    (Goto's) unless the spectrum of J makes it unstable: dt = min(1.25, 1.6 / omega_max),
//    omega_max^2 = a0 + c0 max|lambda(J)| (Max-Cut graphs need this; see solvers.cpp). The
//    spins are sign(x); each replica's best energy is tracked every `sb_eval_every`
//    iterations and at the end. Written with LibTorch (a sparse or dense J x product), so
//    it runs on any device.
//
// CPU kernels (sa, pt) run the replicas in parallel with at::parallel_for; replica r draws
// from Xoshiro256++ stream (seed, r) (core/rng.h, as the square-lattice samplers do), so a
// run is reproducible at fixed seed for any thread count. Their tensor kernel (kernel =
// "tensor", the default off the CPU) updates the colour classes of the graph for all replicas
// (PT: all copies, each at its rung's beta) at once with LibTorch (coloured_sampler.h): the
// same Metropolis / heat-bath rule, but one random stream for the batch, so its runs differ
// from the CPU kernel's at the same seed.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/core/rng.h"
#include "physgen/ising_machines/problem.h"

namespace physgen {

/// Settings of solve_ising (validated there, each error naming the setting).
struct SolverOptions {
  std::string solver = "sa";   ///< sa | pt | sb-ballistic | sb-discrete (ising_solvers())
  int64_t replicas = 64;       ///< independent trials (PT: independent ladders)
  int64_t sweeps = 1000;       ///< SA / PT sweeps, SB iterations
  uint64_t seed = 1;
  std::string update = "metropolis";  ///< SA: metropolis | heatbath
  double beta_start = 0.1;     ///< SA: first beta; PT: the hottest rung
  double beta_end = 3.0;       ///< SA: last beta;  PT: the coldest rung
  int64_t temperatures = 16;   ///< PT: rungs per ladder (>= 2)
  double dt = 0.0;             ///< SB time step; 0: min(1.25, 1.6 / omega_max) (solvers.cpp)
  double c0 = 0.0;             ///< SB coupling scale; 0: 0.5 / (sqrt(n) sigma_J)
  int64_t sb_eval_every = 10;  ///< SB: evaluate sign(x)'s energy every this many iterations
  double time_limit_s = 0.0;   ///< stop (between sweeps) after this many seconds; 0: none
  torch::Device device = torch::kCPU;  ///< SB; SA / PT with the tensor kernel
  /// SA / PT: "cpu" (per-replica scalar loops on the threads), "tensor" (the graph-coloured
  /// LibTorch kernel, coloured_sampler.h, all replicas as one batch: any device), or "auto"
  /// (cpu on the CPU, tensor elsewhere).
  std::string kernel = "auto";
  /// Called now and then with (fraction of sweeps done, best energy so far).
  std::function<void(double, double)> progress;
};

/// What one solve_ising run found.
struct SolverResult {
  std::string solver;
  std::string kernel;                 ///< "cpu" or "tensor" (SB: always tensor)
  int64_t replicas = 0;
  int64_t sweeps_done = 0;            ///< sweeps / iterations completed (time limit: fewer)
  bool time_limited = false;
  double seconds = 0.0;               ///< wall time of the whole batch
  double best_energy = 0.0;           ///< min over replicas of E(s) (without the offset)
  std::vector<int8_t> best_state;     ///< n spins +-1 reaching best_energy
  std::vector<double> replica_best;   ///< each replica's best energy
  std::vector<double> exchange_acceptance;  ///< PT: per neighbouring pair (M - 1 values)
  std::vector<double> betas;          ///< PT: the ladder
  double sb_dt = 0.0, sb_c0 = 0.0;    ///< SB: the time step and coupling scale used
};

/// {"sa", "pt", "sb-ballistic", "sb-discrete"}.
const std::vector<std::string>& ising_solvers();

/// Runs the solver of `options` on `p`. Throws InvalidArgument naming the option for an
/// unknown solver or update, replicas / sweeps / temperatures out of range, betas not
/// 0 <= beta_start, 0 < beta_end (PT: beta_start < beta_end), dt <= 0, an unknown kernel, or
/// a device other than the CPU for the cpu kernel of SA / PT.
SolverResult solve_ising(const IsingProblem& p, const SolverOptions& options);

/// Fraction of replicas whose best energy is within tol = 1e-9 (1 + |target|) of `target`
/// or below it.
double success_probability(const SolverResult& r, double target);

/// Time to solution with 99% confidence, TTS = t log(0.01) / log(1 - p), with t the
/// amortised time of one trial, seconds / replicas (the replicas of a batch run together).
/// p = 1 gives t; p = 0 gives +infinity.
/// Reference: T. Albash & D. A. Lidar, PRX 8, 031016 (2018).
double tts99(const SolverResult& r, double p);

/// Parallel tempering as a sampler: `runs` independent ladders at inverse temperatures
/// `betas` (increasing, >= 2 rungs), started at random spins. sweep() does one Metropolis
/// sweep of every copy, then one exchange pass (alternating even and odd pairs).
class ParallelTempering {
 public:
  ParallelTempering(const IsingProblem& p, std::vector<double> betas, int64_t runs, uint64_t seed);
  void sweep(int64_t n = 1);
  /// Recomputes every copy's local fields and energy after the problem's J or h changed in
  /// place (same graph): Boltzmann learning keeps its chains while the parameters move.
  void refresh();
  int64_t runs() const { return runs_; }
  int64_t rungs() const { return static_cast<int64_t>(betas_.size()); }
  const std::vector<double>& betas() const { return betas_; }
  /// The n spins of run r at rung k (the copy currently at that temperature).
  const int8_t* state(int64_t r, int64_t k) const;
  /// E(s) of run r at rung k.
  double energy(int64_t r, int64_t k) const;
  /// Accepted / attempted exchanges of each neighbouring pair since construction.
  std::vector<double> exchange_acceptance() const;
  /// Lowest energy seen by any copy of run r, and its spins.
  double best_energy(int64_t r) const { return best_e_[r]; }
  const int8_t* best_state(int64_t r) const;

 private:
  const IsingProblem* p_;
  std::vector<double> betas_;
  int64_t runs_, sweeps_ = 0;
  std::vector<int8_t> spins_;    // (runs, M, n)
  std::vector<double> fields_;   // (runs, M, n) local fields
  std::vector<double> energy_;   // (runs, M)
  std::vector<int64_t> slot_;    // (runs, M): copy at rung k
  std::vector<Xoshiro256pp> rng_;
  std::vector<int64_t> acc_, tries_;  // (runs, M - 1)
  std::vector<double> best_e_;
  std::vector<int8_t> best_s_;
  std::vector<int32_t> order_;  // (runs, n) site visiting order
};

// --- exact results for small problems --------------------------------------------------

/// Exact enumeration of all 2^n states (n <= 30) by a Gray code: the ground-state energy,
/// one ground state, and, for beta >= 0 given, log Z = log sum_s exp(-beta E(s)).
struct ExactIsing {
  double ground_energy = 0.0;
  std::vector<int8_t> ground_state;
  int64_t degeneracy = 0;  ///< states within 1e-9 (1 + |E0|) of the ground energy
};
ExactIsing exact_ground_state(const IsingProblem& p);
/// All 2^n energies, indexed by the bits of the state (bit i set: s_i = +1); n <= 24.
std::vector<double> enumerate_energies(const IsingProblem& p);
/// Index of a state in enumerate_energies' order.
int64_t state_index(const int8_t* s, int64_t n);

}  // namespace physgen
