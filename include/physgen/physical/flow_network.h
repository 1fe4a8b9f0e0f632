#pragma once
// Physical learning in flow (resistor) networks: the network's own physics computes, and a
// local rule on each edge learns (the "learning without neurons" part of the first reference
// note).
//
// A flow network is N nodes joined by E edges with conductances k_e > 0. With the pressures of
// some nodes imposed (sources, ground, clamped outputs), the others follow from Kirchhoff's
// current law, i.e. they minimise the dissipated power
//     P(p) = 1/2 sum_e k_e (p_a(e) - p_b(e))^2 ,
// which is the linear system  L_ff p_f = -L_fc p_c  with L = B^T diag(k) B the weighted graph
// Laplacian (B the E x N incidence matrix), f the free and c the imposed nodes.
//
// Task (allostery): sources impose pressures on input nodes; the pressure drops
// dp_T = p_a - p_b across chosen target edges should reach target values d_T.
//
// Coupled learning (N. Stern, D. Hexner, J. W. Rocks, A. J. Liu, PRX 11, 021045 (2021)):
//  * free state p^F: the sources imposed;
//  * clamped state p^C: in addition the endpoints of every target edge are imposed so that its
//    drop is nudged toward its target, dp_T^C = dp_T^F + eta (d_T - dp_T^F) (each endpoint
//    moved by half the nudge, in opposite directions);
//  * every edge updates its own conductance from its own two drops,
//        k_e <- max(k_min, k_e + (alpha / eta) [ (dp_e^F)^2 - (dp_e^C)^2 ] ),
//    which descends the contrastive function (P^C - P^F) / eta; no gradient is computed.
// The baseline is gradient descent on the task error (1/2) sum_T (dp_T^F - d_T)^2 with the
// gradient by LibTorch autograd through the linear solve.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

/// The graph of a flow network.
struct FlowNetwork {
  int64_t nodes = 0;
  std::vector<std::pair<int64_t, int64_t>> edges;

  /// A connected random graph: a random spanning tree (each node i > 0 joined to a uniformly
  /// chosen earlier node) plus random extra edges up to mean degree `mean_degree` (>= 2), no
  /// multi-edges. Reproducible from `seed`.
  static FlowNetwork random(int64_t nodes, double mean_degree, uint64_t seed);
  /// (E, N) float64 incidence matrix B: B[e][a] = 1, B[e][b] = -1.
  torch::Tensor incidence() const;
};

/// An allosteric task: imposed source pressures and target drops on target edges.
struct FlowTask {
  std::vector<int64_t> source_nodes;
  std::vector<double> source_pressures;
  std::vector<int64_t> target_edges;
  std::vector<double> target_drops;

  /// `n_sources` + 1 source nodes (pressures uniform in [0, 1], one of them the ground at 0) and
  /// `n_targets` target edges away from the sources, with targets drawn uniformly in
  /// [-0.3, 0.3] (attainable drops for pressures in [0, 1]).
  static FlowTask random(const FlowNetwork& net, int64_t n_sources, int64_t n_targets, uint64_t seed);
};

/// Node pressures (N) of `net` with conductances `k` (E, float64) when the nodes `fixed` have
/// the pressures `values`: the minimum of the dissipated power (dense solve; differentiable).
torch::Tensor solve_pressures(const FlowNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                              const std::vector<double>& values);
torch::Tensor solve_pressures(const FlowNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                              const torch::Tensor& values);

/// Drops p_a - p_b of every edge (E).
torch::Tensor edge_drops(const FlowNetwork& net, const torch::Tensor& p);

/// The task error sum_T (dp_T - d_T)^2 / sum_T d_T^2 of the free state at conductances k.
double flow_task_error(const FlowNetwork& net, const FlowTask& task, const torch::Tensor& k);

/// Settings of train_flow_network.
struct PhysicalLearningOptions {
  std::string rule = "coupled";  ///< coupled | gradient
  int64_t steps = 2000;
  double eta = 0.1;              ///< coupled: nudge amplitude
  double alpha = 0.5;            ///< coupled: learning rate (of k per (alpha/eta) dp^2)
  double lr = 1.0;               ///< gradient: step on k
  double k_min = 1e-3;           ///< conductances stay >= k_min
  int64_t log_every = 10;
};

/// Error of the free state against training step.
struct PhysicalLearningResult {
  std::vector<int64_t> steps;
  std::vector<double> errors;
  torch::Tensor k;  ///< learned conductances (E)
};

/// Trains the conductances (starting from all ones) by the rule of `options`.
PhysicalLearningResult train_flow_network(const FlowNetwork& net, const FlowTask& task,
                                          const PhysicalLearningOptions& options);

}  // namespace physgen
