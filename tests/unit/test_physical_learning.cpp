// Physical learning (physical/network.h, physical/hopfield.h): the physics of flow and elastic
// networks (Kirchhoff's law, force balance, rigid motions, the energy minimum), the exactness of
// the gradient baseline (autograd against finite differences), the local rules' relation to the
// gradient in the small-nudge limit (equilibrium propagation's theorem; coupled learning with one
// output), and learning itself: coupled learning reduces an allosteric task's error 100-fold on
// a 256-node flow network (re-solved from scratch), and equilibrium propagation trains a
// continuous Hopfield network to classify.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include <torch/torch.h>

#include "physgen/physical/hopfield.h"
#include "physgen/physical/network.h"

namespace physgen {
namespace {

torch::Tensor random_k(const PhysicalNetwork& net, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::rand({static_cast<int64_t>(net.edges.size())}, torch::kFloat64) + 0.5;
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (torch::dot(a, b) / (a.norm() * b.norm())).item<double>();
}

TEST(PhysicalNetwork, StiffnessIsCTransposeDiagKC) {
  for (const std::string kind : {"flow", "elastic"}) {
    const PhysicalNetwork net = PhysicalNetwork::spatial(kind, 30, 3);
    const torch::Tensor k = random_k(net, 1), C = net.compatibility();
    torch::Tensor dense = torch::mm(C.t() * k, C);
    if (net.tether > 0) dense = dense + net.tether * torch::eye(net.dofs(), torch::kFloat64);
    EXPECT_LT((stiffness_matrix(net, k) - dense).abs().max().item<double>(), 1e-13) << kind;
    const torch::Tensor u = torch::randn({4, net.dofs()}, torch::kFloat64);
    EXPECT_LT((edge_drops(net, u) - torch::mm(u, C.t())).abs().max().item<double>(), 1e-13) << kind;
  }
}

TEST(PhysicalNetwork, FlowStateObeysKirchhoffAndMinimisesThePower) {
  const PhysicalNetwork net = PhysicalNetwork::spatial("flow", 60, 3);
  const PhysicalTask task = PhysicalTask::allostery(net, 2, 2, 5);
  const torch::Tensor k = random_k(net, 2);
  const torch::Tensor u = free_state(net, task, k, task.x);  // (1, N)
  // the net current into every node that is not an input node vanishes: (K p)_v = 0
  const torch::Tensor current = torch::mv(stiffness_matrix(net, k), u[0]);
  std::vector<char> imposed(net.nodes, 0);
  for (const auto& [a, b] : task.inputs) imposed[a] = imposed[b] = 1;
  for (int64_t v = 0; v < net.nodes; ++v)
    if (!imposed[v]) {
      EXPECT_NEAR(current[v].item<double>(), 0.0, 1e-12) << "node " << v;
    }
  // the imposed drops are there
  const torch::Tensor drops = torch::mv(net.pair_rows(task.inputs), u[0]);
  EXPECT_LT((drops - task.x[0]).abs().max().item<double>(), 1e-14);
  // a perturbation of the free pressures raises the power 1/2 p^T K p
  const torch::Tensor K = stiffness_matrix(net, k);
  auto power = [&](const torch::Tensor& p) { return 0.5 * torch::dot(p, torch::mv(K, p)).item<double>(); };
  torch::Tensor dp = 1e-3 * torch::randn({net.nodes}, torch::kFloat64);
  for (int64_t v = 0; v < net.nodes; ++v)
    if (imposed[v]) dp[v] = 0.0;
  EXPECT_GT(power(u[0] + dp), power(u[0]));
  EXPECT_GT(power(u[0] - dp), power(u[0]));
}

TEST(PhysicalNetwork, ElasticRigidMotionsDoNotStretchAndForcesBalance) {
  PhysicalNetwork net = PhysicalNetwork::spatial("elastic", 50, 4);
  // translations and the infinitesimal rotation u_v = (-y_v, x_v) leave every bond length alone
  torch::Tensor tx = torch::zeros({1, net.dofs()}, torch::kFloat64), rot = tx.clone();
  for (int64_t v = 0; v < net.nodes; ++v) {
    tx[0][2 * v] = 1.0;
    rot[0][2 * v] = -net.positions[v][1];
    rot[0][2 * v + 1] = net.positions[v][0];
  }
  EXPECT_LT(edge_drops(net, tx).abs().max().item<double>(), 1e-14);
  EXPECT_LT(edge_drops(net, rot).abs().max().item<double>(), 1e-14);
  // a plausible wrong compatibility, the bond direction turned by 90 degrees, would stretch
  // under the rotation by the bond's length: the check above can fail
  const auto [a0, b0] = net.edges[0];
  const torch::Tensor n0 = net.pair_rows({{a0, b0}})[0];
  torch::Tensor turned = torch::zeros_like(n0);
  for (int64_t v : {a0, b0}) {
    turned[2 * v] = -n0[2 * v + 1];
    turned[2 * v + 1] = n0[2 * v];
  }
  const double length = (net.positions[a0] - net.positions[b0]).norm().item<double>();
  EXPECT_NEAR(std::abs(torch::dot(turned, rot[0]).item<double>()), length, 1e-12);
  // force balance: K u = 0 on every degree of freedom not imposed
  const PhysicalTask task = PhysicalTask::allostery(net, 2, 2, 6);
  const torch::Tensor k = random_k(net, 3);
  const torch::Tensor u = free_state(net, task, k, task.x);
  const torch::Tensor force = torch::mv(stiffness_matrix(net, k), u[0]);
  std::vector<char> imposed(net.nodes, 0);
  for (const auto& [a, b] : task.inputs) imposed[a] = imposed[b] = 1;
  for (int64_t v = 0; v < net.nodes; ++v)
    if (!imposed[v]) {
      for (int64_t d = 0; d < 2; ++d) EXPECT_NEAR(force[2 * v + d].item<double>(), 0.0, 1e-12) << "node " << v;
    }
  // the imposed extensions are there
  EXPECT_LT((torch::mv(net.pair_rows(task.inputs), u[0]) - task.x[0]).abs().max().item<double>(), 1e-14);
}

TEST(PhysicalNetwork, NudgedStateIsStationaryForTheNudgedEnergy) {
  const PhysicalNetwork net = PhysicalNetwork::spatial("elastic", 40, 5);
  const PhysicalTask task = PhysicalTask::allostery(net, 2, 2, 7);
  const torch::Tensor k = random_k(net, 4), R = net.pair_rows(task.outputs);
  const torch::Tensor u0 = free_state(net, task, k, task.x);
  std::vector<int64_t> fixed;
  std::vector<char> imposed(net.dofs(), 0);
  for (const auto& [a, b] : task.inputs)
    for (int64_t v : {a, b})
      for (int64_t d = 0; d < 2; ++d) fixed.push_back(2 * v + d), imposed[2 * v + d] = 1;
  const torch::Tensor values = u0.index_select(1, torch::tensor(fixed));
  const double beta = 0.7;
  const torch::Tensor u = solve_network(net, k, fixed, values, R, task.y, beta)[0];
  // grad of 1/2 u^T K u + beta/2 |R u - y|^2 vanishes on the free degrees of freedom
  const torch::Tensor g = torch::mv(stiffness_matrix(net, k), u) + beta * torch::mv(R.t(), torch::mv(R, u) - task.y[0]);
  for (int64_t i = 0; i < net.dofs(); ++i)
    if (!imposed[i]) {
      EXPECT_NEAR(g[i].item<double>(), 0.0, 1e-12) << "dof " << i;
    }
  // and the nudge moved the outputs toward the targets
  const torch::Tensor d0 = torch::mv(R, u0[0]), d = torch::mv(R, u);
  EXPECT_LT((d - task.y[0]).norm().item<double>(), (d0 - task.y[0]).norm().item<double>());
  // the clamped state (coupled learning's) imposes the output drops exactly, and is the limit of
  // an ever stronger nudge: beta -> infinity
  const torch::Tensor c = (d0 + 0.3 * (task.y[0] - d0)).unsqueeze(0);
  const torch::Tensor uC = solve_network_clamped(net, k, fixed, values, R, c)[0];
  EXPECT_LT((torch::mv(R, uC) - c[0]).abs().max().item<double>(), 1e-12);
  const torch::Tensor uB = solve_network(net, k, fixed, values, R, c, 1e9)[0];
  EXPECT_LT((uB - uC).abs().max().item<double>(), 1e-6);
  // (a clamp that fixed both nodes of each pair instead would differ from it)
}

/// dL/dk of L = 1/2 <|d - y|^2> by autograd through the solve.
torch::Tensor autograd_gradient(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k) {
  torch::Tensor kk = k.clone().requires_grad_(true);
  const torch::Tensor d = network_outputs(net, task, kk, task.x);
  (0.5 * (d - task.y).pow(2).sum(1).mean()).backward();
  return kk.grad();
}

TEST(PhysicalNetwork, AutogradThroughTheSolveMatchesFiniteDifferences) {
  for (const std::string kind : {"flow", "elastic"}) {
    const PhysicalNetwork net = PhysicalNetwork::spatial(kind, 30, 7);
    const PhysicalTask task = PhysicalTask::allostery(net, 2, 2, 8);
    const torch::Tensor k = random_k(net, 5);
    const torch::Tensor g = autograd_gradient(net, task, k);
    torch::NoGradGuard ng;
    auto loss = [&](const torch::Tensor& kk) {
      return (0.5 * (network_outputs(net, task, kk, task.x) - task.y).pow(2).sum()).item<double>();
    };
    for (int64_t e : {0, 5, 17}) {
      torch::Tensor kp = k.clone(), km = k.clone();
      kp[e] += 1e-6;
      km[e] -= 1e-6;
      const double fd = (loss(kp) - loss(km)) / 2e-6;
      EXPECT_NEAR(g[e].item<double>(), fd, 1e-7 * (1 + std::abs(fd))) << kind << " edge " << e;
    }
  }
}

/// The update direction of a local rule at k = 1 (where train_network starts), per unit
/// learning rate, from one step.
torch::Tensor rule_update(const PhysicalNetwork& net, const PhysicalTask& task, const std::string& rule, double nudge) {
  PhysicalLearningOptions o;
  o.rule = rule;
  o.steps = 1;
  o.alpha = 1e-9;  // a step so small that k - 1 is the update direction times alpha
  o.eta = o.beta = nudge;
  o.k_min = 1e-12;
  const PhysicalLearningResult r = train_network(net, task, o);
  return (r.k - 1.0) / o.alpha;
}

TEST(PhysicalNetwork, EquilibriumPropagationIsTheGradientForSmallBeta) {
  // Scellier and Bengio's theorem: (1/beta) (dE/dk(u^beta) - dE/dk(u^0)) -> dL/dk, with
  // dE/dk_e = s_e^2 / 2: the eqprop update (s0^2 - sb^2) / beta -> -2 dL/dk.
  for (const std::string kind : {"flow", "elastic"}) {
    const PhysicalNetwork net = PhysicalNetwork::spatial(kind, 40, 9);
    const PhysicalTask task = PhysicalTask::allostery(net, 2, 3, 10);
    const torch::Tensor ones = torch::ones({static_cast<int64_t>(net.edges.size())}, torch::kFloat64);
    const torch::Tensor g = autograd_gradient(net, task, ones);
    const torch::Tensor ep = rule_update(net, task, "eqprop", 1e-5);
    const double rel = ((ep + 2 * g).norm() / (2 * g).norm()).item<double>();
    std::cout << "[ measured ] " << kind << ": |eqprop + 2 grad| / |2 grad| = " << rel << " at beta 1e-5\n";
    EXPECT_LT(rel, 1e-3) << kind;
    // a wrong normalisation (the update not divided by 2) or sign fails the same check
    EXPECT_GT(((ep + g).norm() / g.norm()).item<double>(), 0.5);
    EXPECT_GT(((-ep + 2 * g).norm() / (2 * g).norm()).item<double>(), 1.0);
  }
}

TEST(PhysicalNetwork, CoupledLearningWithOneOutputIsAPositiveMultipleOfTheGradient) {
  // for small eta, (1/eta) (s_F^2 - s_C^2) -> -2 K_eff (dL/dk) with K_eff > 0 the output's
  // effective stiffness (a scalar for one output): the direction of gradient descent. (The first
  // version clamped both nodes of the pair at d^F +- h/2 instead of their drop alone; it measured
  // a cosine of 0.966 here and fails this check.)
  const PhysicalNetwork net = PhysicalNetwork::spatial("flow", 40, 11);
  const PhysicalTask task = PhysicalTask::allostery(net, 2, 1, 12);
  const torch::Tensor ones = torch::ones({static_cast<int64_t>(net.edges.size())}, torch::kFloat64);
  const torch::Tensor g = autograd_gradient(net, task, ones);
  const torch::Tensor cl = rule_update(net, task, "coupled", 1e-5);
  const double c = cosine(cl, -g);
  std::cout << "[ measured ] coupled vs -grad, one output: cosine " << c << "\n";
  EXPECT_GT(c, 1 - 1e-6);
}

TEST(PhysicalNetwork, CoupledLearningReducesAnAllostericTaskHundredfold) {
  // 256 nodes (the "few hundred"), 3 input and 3 output pairs, alpha = 30, eta = 0.1.
  // alpha = 30 is what the first version of bench_physical_learning's tuning picked on a
  // separate 128-node instance, not tuned on this one. The bench's later per-size tuning picks
  // 300 at 256 nodes, and at 300 this very instance does not converge (docs/physical_learning.md):
  // the rule's rate matters, and this test checks the rule at a rate where it works.
  const PhysicalNetwork net = PhysicalNetwork::spatial("flow", 256, 1);
  const PhysicalTask task = PhysicalTask::allostery(net, 3, 3, 2);
  PhysicalLearningOptions o;
  o.rule = "coupled";
  o.steps = 300;
  o.alpha = 30;
  o.log_every = 10;
  const PhysicalLearningResult r = train_network(net, task, o);
  std::cout << "[ measured ] coupled, 256 nodes: error " << r.errors.front() << " -> " << r.errors.back()
            << ", 100x at step " << r.steps_to_reduce(100) << "\n";
  EXPECT_LT(r.errors.back(), r.errors.front() / 100);
  // the learned network re-solved from scratch gives the same error
  EXPECT_NEAR(network_task_error(net, task, r.k), r.errors.back(), 1e-12 + 1e-9 * r.errors.back());
  EXPECT_GE(r.k.min().item<double>(), o.k_min);
  // the untrained network (k = 1) is far from the targets: the check is not passed for free
  EXPECT_GT(network_task_error(net, task, torch::ones_like(r.k)), 100 * r.errors.back());
}

TEST(Hopfield, RelaxationReachesAFixedPointOfTheEnergy) {
  const PhysicalNetwork dummy = PhysicalNetwork::spatial("flow", 16, 1);
  const PhysicalTask task = PhysicalTask::classification(dummy, 3, 30, 0, 3);
  HopfieldNetwork net = HopfieldNetwork::random(2, 20, 3, 4);
  torch::NoGradGuard ng;
  net.W2 = net.W2 * (0.9 / torch::linalg_matrix_norm(net.W2, 2).item<double>());  // |W2| < 1: E convex
  const auto [h, y] = hopfield_relax(net, task.x, 2000, 0.2);
  // one more projected step moves nothing: the box-constrained stationarity (KKT) condition
  const auto [h2, y2] = hopfield_relax(net, task.x, 1, 0.2, h, y);
  EXPECT_LT((h2 - h).abs().max().item<double>(), 1e-10);
  EXPECT_LT((y2 - y).abs().max().item<double>(), 1e-10);
  // and the energy went down from the start (zero state)
  const torch::Tensor z = torch::zeros_like(h), zy = torch::zeros_like(y);
  EXPECT_LT((hopfield_energy(net, task.x, h, y) - hopfield_energy(net, task.x, z, zy)).max().item<double>(), 0.0);
}

TEST(Hopfield, EquilibriumPropagationMatchesTheFiniteDifferenceGradient) {
  // Theorem 1 of Scellier and Bengio: -(1/beta) (h^b y^b - h^0 y^0) -> dL/dW2 at the free fixed
  // point, L = 1/2 |y^0 - t|^2 (per example, averaged); checked against central differences of
  // L through a converged relaxation.
  const PhysicalNetwork dummy = PhysicalNetwork::spatial("flow", 16, 1);
  const PhysicalTask task = PhysicalTask::classification(dummy, 3, 12, 0, 5);
  HopfieldNetwork net = HopfieldNetwork::random(2, 8, 3, 6);
  const torch::Tensor t = 0.25 * PhysicalTask::one_hot(task.labels, 3);  // targets 0.25 / 0, inside the box
  torch::NoGradGuard ng;
  // weak couplings and a bias keep the states inside (0, 1) (where L is smooth) and E convex
  net.W1 = 0.3 * net.W1;
  net.W2 = net.W2 * (0.5 / torch::linalg_matrix_norm(net.W2, 2).item<double>());
  net.b1 = torch::full({net.hidden()}, 0.5, torch::kFloat64);
  net.b2 = torch::full({net.outputs()}, 0.2, torch::kFloat64);
  const int64_t steps = 3000;
  const double dt = 0.2, beta = 1e-6;
  const auto [h0, y0] = hopfield_relax(net, task.x, steps, dt);
  const auto [hb, yb] = hopfield_relax(net, task.x, steps, dt, h0, y0, beta, t);
  const double M = static_cast<double>(task.x.size(0));
  const torch::Tensor ep = -(torch::mm(hb.t(), yb) - torch::mm(h0.t(), y0)) / (beta * M);
  auto loss = [&](const HopfieldNetwork& n) {
    const torch::Tensor y = hopfield_relax(n, task.x, steps, dt).second;
    return (0.5 * (y - t).pow(2).sum() / M).item<double>();
  };
  torch::Tensor fd = torch::zeros_like(net.W2);
  for (int64_t i = 0; i < net.hidden(); ++i)
    for (int64_t j = 0; j < net.outputs(); ++j) {
      HopfieldNetwork p = net, m = net;
      p.W2 = net.W2.clone();
      m.W2 = net.W2.clone();
      p.W2[i][j] += 1e-5;
      m.W2[i][j] -= 1e-5;
      fd[i][j] = (loss(p) - loss(m)) / 2e-5;
    }
  const double rel = ((ep - fd).norm() / fd.norm()).item<double>();
  std::cout << "[ measured ] Hopfield: |EP - FD| / |FD| for dL/dW2 = " << rel << "\n";
  EXPECT_LT(rel, 1e-3);
  EXPECT_GT(((-ep - fd).norm() / fd.norm()).item<double>(), 1.0);  // the wrong sign fails
}

TEST(Hopfield, EquilibriumPropagationLearnsToClassify) {
  // 3 Gaussian blobs (centres 1.73 apart, sigma 0.35: the Bayes accuracy is ~0.99); 60 training
  // examples, 600 held out; alpha = beta = 0.5, 500 steps. Chance is 1/3.
  const PhysicalNetwork dummy = PhysicalNetwork::spatial("flow", 16, 1);
  const PhysicalTask task = PhysicalTask::classification(dummy, 3, 60, 600, 2);
  HopfieldNetwork net = HopfieldNetwork::random(2, 32, 3, 1);
  HopfieldLearningOptions o;
  o.rule = "eqprop";
  o.steps = 300;
  o.log_every = 50;
  const HopfieldLearningResult r =
      train_hopfield(net, task.x, PhysicalTask::one_hot(task.labels, 3), task.labels, task.x_test,
                     PhysicalTask::one_hot(task.labels_test, 3), task.labels_test, o);
  std::cout << "[ measured ] Hopfield eqprop: held-out accuracy " << r.test_accuracies.front() << " -> "
            << r.test_accuracies.back() << ", error " << r.errors.front() << " -> " << r.errors.back() << "\n";
  EXPECT_GT(r.test_accuracies.back(), 0.9);
  EXPECT_LT(r.errors.back(), r.errors.front() / 10);
}

TEST(PhysicalNetwork, BadArgumentsAreRefused) {
  EXPECT_THROW(PhysicalNetwork::spatial("magnetic", 30, 1), std::invalid_argument);
  EXPECT_THROW(PhysicalNetwork::spatial("flow", 4, 1), std::invalid_argument);
  const PhysicalNetwork net = PhysicalNetwork::spatial("flow", 20, 1);
  EXPECT_THROW(PhysicalTask::allostery(net, 6, 6, 1), std::invalid_argument);
  const PhysicalTask task = PhysicalTask::allostery(net, 2, 2, 1);
  PhysicalLearningOptions o;
  o.rule = "backprop";
  EXPECT_THROW(train_network(net, task, o), std::invalid_argument);
  EXPECT_THROW(free_state(net, task, torch::ones({3}, torch::kFloat64), task.x), std::invalid_argument);
}

}  // namespace
}  // namespace physgen
