#pragma once
// Batched single-spin Metropolis / heat-bath for a general Ising problem, written with LibTorch
// tensors so that it runs on any device: the tensor kernel of the "sa" and "pt" solvers
// (SolverOptions::kernel, solvers.h).
//
// A single-spin update needs the local field f_i = sum_j J_ij s_j + h_i of the current state,
// so sites that share an edge cannot be updated at once. A proper colouring of the graph
// (no edge inside a colour class) makes every class a set of independent sites: all of them
// are updated in parallel, over all chains, with the fields of the state before the class,
// which is exactly what a sequential sweep over that class would see. One sweep visits the
// classes in a fresh random order (as the CPU kernel visits sites in a fresh random order;
// a fixed order drags zero-cost domain walls along in lockstep, see solvers.cpp). After each
// class the fields follow the flips, f += J_{:,c} delta_c (dense, or sparse below 5% filling).
// Bipartite lattices need 2 classes (the checkerboard), random sparse graphs a handful, a
// complete graph (SK) n classes of one site: there the batch over chains is the parallelism.
//
// The per-site rule is the CPU kernel's: Metropolis accepts with min(1, exp(-beta dE)),
// heat-bath with 1 / (1 + exp(beta dE)), dE = 2 s_i f_i; each chain may have its own beta
// (parallel tempering). State, fields and energies are float64, so energies stay exact to
// rounding for integer couplings and the solvers' best states are re-scored on the CPU.
//
// References: the checkerboard decomposition of lattice Metropolis (e.g. T. Preis et al.,
// J. Comput. Phys. 228, 4468 (2009)); graph colouring for parallel Gibbs sampling:
// J. Gonzalez, Y. Low, A. Gretton & C. Guestrin, AISTATS 2011 ("chromatic sampler").
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/ising_machines/problem.h"

namespace physgen {

/// A proper colouring of the problem's graph by greedy largest-degree-first assignment
/// (Welsh & Powell 1967): colour[i] in 0 .. k-1, no edge joins two sites of one colour, and
/// k <= max degree + 1.
std::vector<int32_t> greedy_coloring(const IsingProblem& p);

/// Whether the tensor kernels (this sampler, simulated bifurcation) keep J dense: n <= 256 or
/// more than 5% of the pairs coupled (below that, sparse products are faster).
bool prefers_dense_couplings(const IsingProblem& p);

class ColouredSpinSampler {
 public:
  /// `chains` independent copies of the n spins, started uniformly at random, on `device`;
  /// the random numbers come from one generator of that device seeded with `seed` (so a run
  /// is reproducible for a fixed number of chains on a fixed device type).
  ColouredSpinSampler(const IsingProblem& p, int64_t chains, uint64_t seed, torch::Device device = torch::kCPU);

  /// One sweep (every site once) at inverse temperature `beta`: a scalar, or one value per
  /// chain (shape (chains)). Returns nothing; energies() follows the flips.
  void sweep(const torch::Tensor& beta, bool heatbath = false);
  void sweep(double beta, bool heatbath = false);

  /// (n, chains) float64 spins +-1 on the device.
  const torch::Tensor& spins() const { return s_; }
  /// (chains) float64 energies E(s) (without the offset), tracked through the flips.
  const torch::Tensor& energies() const { return e_; }
  /// Recomputes fields and energies from the spins (removes accumulated rounding).
  void refresh();
  int64_t chains() const { return chains_; }
  int64_t colours() const { return static_cast<int64_t>(classes_.size()); }

 private:
  const IsingProblem* p_;
  int64_t chains_;
  torch::Device device_;
  torch::Generator gen_;
  bool dense_;
  torch::Tensor J_, h_;                  // couplings (n, n) dense or sparse, fields (n, 1)
  torch::Tensor s_, f_, e_;              // spins (n, B), fields (n, B), energies (B)
  std::vector<torch::Tensor> classes_;   // site indices of each colour (int64, on device)
  std::vector<torch::Tensor> columns_;   // J[:, class] (n, |class|), dense or sparse
  Xoshiro256pp order_rng_;               // the class order of each sweep (CPU)
  std::vector<int64_t> order_;
};

}  // namespace physgen
