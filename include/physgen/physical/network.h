#pragma once
// Physical learning in linear networks: flow (resistor) networks and elastic (central-force
// spring) networks whose own physics computes, trained by local rules (the "learning without
// neurons" half of the first reference note).
//
// Both kinds are one linear problem. A network has nodes at positions x_v in the unit square, D
// degrees of freedom per node (flow: D = 1, the pressure; elastic: D = 2, the displacement) and
// edges e = (a, b) with a learnable conductance / stiffness k_e > 0. The edge's "drop" is
//     s_e = c_e . u,   flow: p_a - p_b,   elastic: n_ab . (u_a - u_b)  (its extension),
// with n_ab = (x_a - x_b) / |x_a - x_b|; the rows c_e form the compatibility matrix C (E x ND).
// The physics relaxes to the minimum of
//     E(u) = 1/2 sum_e k_e s_e^2 + 1/2 tether |u|^2  =  1/2 u^T K u,   K = C^T diag(k) C + tether I,
// the dissipated power (Kirchhoff's laws) or the elastic energy (force balance), with some
// degrees of freedom imposed. The weak substrate `tether` (elastic only) removes the floppy
// modes of dangling nodes; it is 0 for flow networks.
//
// A task imposes drops on input node pairs (both nodes fixed, at +-s/2 along n_ab) and asks for
// target drops y on output node pairs; the outputs are the drops d = R u of those pairs. Error:
//     err = sum_m |d_m - y_m|^2 / sum_m |y_m|^2   (over the task's examples m).
//
// Learning rules, all from two equilibrium states and the local quantity dE/dk_e = s_e^2 / 2:
//  * coupled learning (N. Stern, D. Hexner, J. W. Rocks, A. J. Liu, PRX 11, 021045 (2021)):
//    the free state u^F (inputs imposed) and the clamped state u^C (in addition every output
//    pair's drop imposed at d^F + eta (y - d^F), as by a pump or an actuator across the pair: its
//    common level stays free);  k_e <- max(k_min, k_e + (alpha / eta) <(s_e^F)^2 - (s_e^C)^2>_m);
//  * equilibrium propagation (B. Scellier, Y. Bengio, Front. Comput. Neurosci. 11, 24 (2017)):
//    the nudged state minimises E + (beta / 2) |R u - y|^2 (a weak force on the outputs instead
//    of a clamp);  k_e <- max(k_min, k_e + (alpha / beta) <(s_e^0)^2 - (s_e^beta)^2>_m);
//  * gradient descent, the baseline: k <- max(k_min, k - lr dL/dk), L = <|d - y|^2>_m / 2,
//    by LibTorch autograd through the linear solve.
// For small eta and beta both local rules are gradient descent on L preconditioned by the
// outputs' effective stiffness (Stern et al. Sec. III); neither computes a gradient.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "physgen/physical/learning_curve.h"

namespace physgen {

using NodePair = std::pair<int64_t, int64_t>;

/// A flow or elastic network on nodes in the unit square.
struct PhysicalNetwork {
  std::string kind = "flow";  ///< flow | elastic
  int64_t nodes = 0;
  std::vector<NodePair> edges;
  torch::Tensor positions;  ///< (N, 2) float64
  double tether = 0.0;      ///< substrate stiffness per degree of freedom (elastic)

  /// Degrees of freedom per node: 1 (flow) or 2 (elastic).
  int64_t dim() const { return kind == "elastic" ? 2 : 1; }
  int64_t dofs() const { return nodes * dim(); }

  /// A disordered spatial network: `nodes` points uniform in the unit square, each joined to its
  /// `neighbours` nearest others (0: 3 for flow, mean degree ~4; 5 for elastic, mean degree ~6.5,
  /// above the isostatic 4 of central-force networks in 2D), then components joined by their
  /// closest pair until connected; no multi-edges. Elastic networks get tether = 1e-3.
  /// Reproducible from `seed`.
  static PhysicalNetwork spatial(const std::string& kind, int64_t nodes, uint64_t seed, int64_t neighbours = 0);

  /// (P, N D) float64 rows of the drop functionals of `pairs` (flow: +1 at a, -1 at b; elastic:
  /// +n_ab at a's, -n_ab at b's displacement).
  torch::Tensor pair_rows(const std::vector<NodePair>& pairs) const;
  /// The compatibility matrix C = pair_rows(edges), (E, N D).
  torch::Tensor compatibility() const { return pair_rows(edges); }
};

/// Inputs, outputs and examples of a task on a network.
struct PhysicalTask {
  std::string name;               ///< allostery | classify
  std::vector<NodePair> inputs;   ///< node pairs whose drops are imposed
  std::vector<NodePair> outputs;  ///< node pairs whose drops are read
  torch::Tensor x, y;             ///< training examples: imposed drops (M, inputs), target drops (M, outputs)
  torch::Tensor x_test, y_test;   ///< held-out examples (classification; empty for allostery)
  torch::Tensor labels, labels_test;  ///< int64 class of each example (classification)

  /// One-hot targets (M, classes) of the labels (the Hopfield network's outputs live in [0, 1]).
  static torch::Tensor one_hot(const torch::Tensor& labels, int64_t classes);

  /// Allostery: one example; input drops of random sign and magnitude in [0.5, 1], and target
  /// drops those of a "teacher" network, the same graph with conductances log-uniform in
  /// [0.1, 10] (so the targets are attainable by construction). All pairs have distinct nodes.
  static PhysicalTask allostery(const PhysicalNetwork& net, int64_t n_inputs, int64_t n_outputs, uint64_t seed);
  /// Classification of `classes` Gaussian blobs in the plane (centres on a circle of radius 1,
  /// standard deviation 0.35): two input pairs carry the features (x1, x2), one output pair per
  /// class; the predicted class is the output pair with the largest drop ("which output carries
  /// the pressure"). The target drops are 0.25 (onehot - 1/classes): zero-sum, because a linear
  /// network's response is odd in its inputs (no bias: d(-x) = -d(x)). `train` and `test`
  /// examples, balanced over classes.
  static PhysicalTask classification(const PhysicalNetwork& net, int64_t classes, int64_t train, int64_t test,
                                     uint64_t seed);
};

/// The stiffness (flow: weighted Laplacian) matrix K = C^T diag(k) C + tether I, (N D, N D),
/// assembled edge by edge; differentiable in k.
torch::Tensor stiffness_matrix(const PhysicalNetwork& net, const torch::Tensor& k);
/// Edge drops s = C u (M, E) of states u (M, N D).
torch::Tensor edge_drops(const PhysicalNetwork& net, const torch::Tensor& u);

/// Equilibrium states (M, N D): the minimum over the free degrees of freedom of
///     1/2 u^T K(k) u + (beta / 2) |R u - y_m|^2
/// with the degrees of freedom `fixed` held at `values` (M, F). beta = 0 (R, y unused) is the
/// plain equilibrium. Dense Cholesky solve (K_ff is positive definite when every component of
/// the network has a fixed degree of freedom or a tether) with all M right-hand sides at once;
/// differentiable in k.
torch::Tensor solve_network(const PhysicalNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                            const torch::Tensor& values, const torch::Tensor& R = {}, const torch::Tensor& y = {},
                            double beta = 0.0);

/// Equilibrium states (M, N D) with, besides the fixed degrees of freedom, the drops of the pairs
/// R (T, N D) imposed: R u_m = c_m (c: (M, T)); a KKT solve (LU). Coupled learning's clamped state.
torch::Tensor solve_network_clamped(const PhysicalNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                                    const torch::Tensor& values, const torch::Tensor& R, const torch::Tensor& c);

/// The free state of `task` for imposed input drops x (M, inputs): (M, N D).
torch::Tensor free_state(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k,
                         const torch::Tensor& x);
/// Output drops (M, outputs) of the free state.
torch::Tensor network_outputs(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k,
                              const torch::Tensor& x);
/// err = sum |d - y|^2 / sum |y|^2 on the training (or held-out) examples.
double network_task_error(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k,
                          bool test = false);
/// Fraction of examples whose largest output drop is on the true class's pair (classification).
double network_accuracy(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k,
                        bool test = false);

/// Settings of train_network.
struct PhysicalLearningOptions {
  std::string rule = "coupled";  ///< coupled | eqprop | gradient
  int64_t steps = 2000;
  double eta = 0.1;     ///< coupled: nudge amplitude (fraction of the error)
  double beta = 0.1;    ///< eqprop: nudging force
  double alpha = 1.0;   ///< coupled, eqprop: learning rate
  double lr = 1.0;      ///< gradient: step on k
  double k_min = 1e-3;  ///< conductances / stiffnesses stay >= k_min
  int64_t log_every = 10;
};

/// Error (and accuracy, for classification) against training step, and the learned network.
struct PhysicalLearningResult : LearningCurve {
  torch::Tensor k;  ///< learned conductances / stiffnesses (E)
};

/// Trains k (starting from all ones) by the rule of `options`; every update uses all training
/// examples (their rule updates or gradients averaged).
PhysicalLearningResult train_network(const PhysicalNetwork& net, const PhysicalTask& task,
                                     const PhysicalLearningOptions& options);

}  // namespace physgen
