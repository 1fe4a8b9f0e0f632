#include "physgen/physical/network.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"

namespace physgen {

namespace {

// Box-Muller. ising_machines/problem.cpp has its own (u1 = uniform, redrawn at 0, instead of
// 1 - uniform); one shared generator in core/rng.h would change one of the two random streams,
// and with it the SK instances or the blobs behind the tables in docs/, so both stay for now.
double blob_normal(Xoshiro256pp& r) {
  const double u1 = 1.0 - r.uniform(), u2 = r.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

struct UnionFind {
  std::vector<int64_t> parent;
  explicit UnionFind(int64_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int64_t find(int64_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  bool unite(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    parent[a] = b;
    return true;
  }
};

/// Unit vector from b to a at rest (elastic), or 1 (flow), as D numbers.
std::vector<double> direction(const PhysicalNetwork& net, int64_t a, int64_t b) {
  if (net.dim() == 1) return {1.0};
  auto x = net.positions.accessor<double, 2>();
  const double dx = x[a][0] - x[b][0], dy = x[a][1] - x[b][1], n = std::hypot(dx, dy);
  return {dx / n, dy / n};
}

/// The input constraints: both nodes of every input pair fixed at +-s/2 along its direction.
/// Returns the fixed degrees of freedom and their values (M, F) for drops x (M, P).
std::pair<std::vector<int64_t>, torch::Tensor> pair_constraints(const PhysicalNetwork& net,
                                                                const std::vector<NodePair>& pairs,
                                                                const torch::Tensor& x) {
  const int64_t D = net.dim(), M = x.size(0);
  std::vector<int64_t> fixed;
  std::vector<torch::Tensor> cols;
  for (size_t p = 0; p < pairs.size(); ++p) {
    const auto [a, b] = pairs[p];
    const std::vector<double> n = direction(net, a, b);
    const torch::Tensor half = 0.5 * x.select(1, static_cast<int64_t>(p));
    for (int64_t d = 0; d < D; ++d) {
      fixed.push_back(a * D + d);
      cols.push_back(n[d] * half);
    }
    for (int64_t d = 0; d < D; ++d) {
      fixed.push_back(b * D + d);
      cols.push_back(-n[d] * half);
    }
  }
  return {fixed, cols.empty() ? torch::zeros({M, 0}, torch::kFloat64) : torch::stack(cols, 1)};
}

/// Distinct random nodes.
std::vector<int64_t> distinct_nodes(int64_t nodes, int64_t count, Xoshiro256pp& r) {
  std::set<int64_t> used;
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < count) {
    const int64_t v = static_cast<int64_t>(r.below(nodes));
    if (used.insert(v).second) out.push_back(v);
  }
  return out;
}

}  // namespace

torch::Tensor stiffness_matrix(const PhysicalNetwork& net, const torch::Tensor& k) {
  // K = C^T diag(k) C assembled edge by edge: k_e c_e c_e^T has the blocks +-k_e n n^T on the
  // (a, a), (b, b), (a, b), (b, a) degrees of freedom; O(E D^2) entries, scattered with
  // accumulation (differentiable in k).
  const int64_t D = net.dim(), E = static_cast<int64_t>(net.edges.size()), ND = net.dofs();
  const int64_t per = 4 * D * D;
  std::vector<int64_t> index(E * per), edge(E * per);
  std::vector<double> coef(E * per);
  int64_t i = 0;
  for (int64_t e = 0; e < E; ++e) {
    const auto [a, b] = net.edges[e];
    const std::vector<double> n = direction(net, a, b);
    for (int64_t p = 0; p < 2; ++p)
      for (int64_t q = 0; q < 2; ++q)
        for (int64_t d1 = 0; d1 < D; ++d1)
          for (int64_t d2 = 0; d2 < D; ++d2, ++i) {
            const int64_t r = (p == 0 ? a : b) * D + d1, c = (q == 0 ? a : b) * D + d2;
            index[i] = r * ND + c;
            edge[i] = e;
            coef[i] = (p == q ? 1.0 : -1.0) * n[d1] * n[d2];
          }
  }
  const torch::Tensor vals = torch::tensor(coef, torch::kFloat64) * k.to(torch::kFloat64).index_select(0, torch::tensor(edge));
  torch::Tensor K = torch::zeros({ND * ND}, torch::kFloat64).index_add(0, torch::tensor(index), vals).view({ND, ND});
  if (net.tether > 0) K = K + net.tether * torch::eye(ND, torch::kFloat64);
  return K;
}

torch::Tensor edge_drops(const PhysicalNetwork& net, const torch::Tensor& u) {
  // s_e = sum_d n_d (u[a D + d] - u[b D + d]) by gathers, without the dense (E, N D) matrix C
  const int64_t D = net.dim(), E = static_cast<int64_t>(net.edges.size());
  std::vector<int64_t> ia(E * D), ib(E * D);
  std::vector<double> w(E * D);
  for (int64_t e = 0; e < E; ++e) {
    const auto [a, b] = net.edges[e];
    const std::vector<double> n = direction(net, a, b);
    for (int64_t d = 0; d < D; ++d) {
      ia[e * D + d] = a * D + d;
      ib[e * D + d] = b * D + d;
      w[e * D + d] = n[d];
    }
  }
  const torch::Tensor diff = (u.index_select(1, torch::tensor(ia)) - u.index_select(1, torch::tensor(ib))) *
                             torch::tensor(w, torch::kFloat64);
  return diff.view({u.size(0), E, D}).sum(2);
}

PhysicalNetwork PhysicalNetwork::spatial(const std::string& kind, int64_t nodes, uint64_t seed, int64_t neighbours) {
  check_arg(kind == "flow" || kind == "elastic", "kind", kind, "flow or elastic");
  check_arg(nodes >= 8 && nodes <= 4096, "nodes", nodes, "8 .. 4096");
  if (neighbours == 0) neighbours = kind == "flow" ? 3 : 5;
  check_arg(neighbours >= 1 && neighbours < nodes, "neighbours", neighbours, "1 <= neighbours < nodes");
  Xoshiro256pp r(seed, 0xf1);
  PhysicalNetwork net;
  net.kind = kind;
  net.nodes = nodes;
  net.tether = kind == "elastic" ? 1e-3 : 0.0;
  net.positions = torch::empty({nodes, 2}, torch::kFloat64);
  auto x = net.positions.accessor<double, 2>();
  for (int64_t v = 0; v < nodes; ++v) {
    x[v][0] = r.uniform();
    x[v][1] = r.uniform();
  }
  auto dist2 = [&](int64_t a, int64_t b) {
    const double dx = x[a][0] - x[b][0], dy = x[a][1] - x[b][1];
    return dx * dx + dy * dy;
  };
  std::set<NodePair> seen;
  UnionFind uf(nodes);
  auto add = [&](int64_t a, int64_t b) {
    const NodePair key{std::min(a, b), std::max(a, b)};
    if (a == b || !seen.insert(key).second) return;
    net.edges.push_back(key);
    uf.unite(a, b);
  };
  std::vector<int64_t> order(nodes);
  for (int64_t v = 0; v < nodes; ++v) {
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + neighbours + 1, order.end(),
                      [&](int64_t a, int64_t b) { return dist2(v, a) < dist2(v, b); });
    for (int64_t i = 0, taken = 0; taken < neighbours; ++i) {
      if (order[i] == v) continue;
      add(v, order[i]);
      ++taken;
    }
  }
  // join components by their closest pair until one is left
  for (;;) {
    const int64_t root = uf.find(0);
    double best = 1e300;
    int64_t ba = -1, bb = -1;
    for (int64_t a = 0; a < nodes; ++a) {
      if (uf.find(a) != root) continue;
      for (int64_t b = 0; b < nodes; ++b)
        if (uf.find(b) != root && dist2(a, b) < best) {
          best = dist2(a, b);
          ba = a;
          bb = b;
        }
    }
    if (ba < 0) break;
    add(ba, bb);
  }
  std::sort(net.edges.begin(), net.edges.end());
  return net;
}

torch::Tensor PhysicalNetwork::pair_rows(const std::vector<NodePair>& pairs) const {
  const int64_t D = dim();
  torch::Tensor R = torch::zeros({static_cast<int64_t>(pairs.size()), dofs()}, torch::kFloat64);
  auto a_ = R.accessor<double, 2>();
  for (size_t p = 0; p < pairs.size(); ++p) {
    const auto [a, b] = pairs[p];
    check_arg(a >= 0 && a < nodes && b >= 0 && b < nodes && a != b, "pair", std::to_string(a) + "-" + std::to_string(b),
              "two distinct nodes in [0, nodes)");
    const std::vector<double> n = direction(*this, a, b);
    for (int64_t d = 0; d < D; ++d) {
      a_[p][a * D + d] = n[d];
      a_[p][b * D + d] = -n[d];
    }
  }
  return R;
}

PhysicalTask PhysicalTask::allostery(const PhysicalNetwork& net, int64_t n_inputs, int64_t n_outputs, uint64_t seed) {
  check_arg(n_inputs >= 1, "n_inputs", n_inputs, "at least 1");
  check_arg(n_outputs >= 1, "n_outputs", n_outputs, "at least 1");
  check_arg(2 * (n_inputs + n_outputs) <= net.nodes, "n_inputs + n_outputs", n_inputs + n_outputs,
            "at most nodes / 2 (every pair has two distinct nodes of its own)");
  Xoshiro256pp r(seed, 0xf2);
  PhysicalTask t;
  t.name = "allostery";
  const std::vector<int64_t> v = distinct_nodes(net.nodes, 2 * (n_inputs + n_outputs), r);
  for (int64_t i = 0; i < n_inputs; ++i) t.inputs.emplace_back(v[2 * i], v[2 * i + 1]);
  for (int64_t i = 0; i < n_outputs; ++i) t.outputs.emplace_back(v[2 * (n_inputs + i)], v[2 * (n_inputs + i) + 1]);
  t.x = torch::empty({1, n_inputs}, torch::kFloat64);
  for (int64_t i = 0; i < n_inputs; ++i) t.x[0][i] = (r.uniform() < 0.5 ? -1.0 : 1.0) * (0.5 + 0.5 * r.uniform());
  torch::Tensor teacher = torch::empty({static_cast<int64_t>(net.edges.size())}, torch::kFloat64);
  for (int64_t e = 0; e < teacher.size(0); ++e) teacher[e] = std::exp(std::log(0.1) + r.uniform() * std::log(100.0));
  t.y = network_outputs(net, t, teacher, t.x).detach();
  return t;
}

PhysicalTask PhysicalTask::classification(const PhysicalNetwork& net, int64_t classes, int64_t train, int64_t test,
                                          uint64_t seed) {
  check_arg(classes >= 2 && classes <= 10, "classes", classes, "2 .. 10");
  check_arg(train >= classes, "train", train, "at least one example per class");
  check_arg(test >= 0, "test", test, ">= 0");
  check_arg(2 * (2 + classes) <= net.nodes, "classes", classes, "at most nodes / 2 - 2 (pairs of distinct nodes)");
  Xoshiro256pp r(seed, 0xf3);
  PhysicalTask t;
  t.name = "classify";
  const std::vector<int64_t> v = distinct_nodes(net.nodes, 2 * (2 + classes), r);
  for (int64_t i = 0; i < 2; ++i) t.inputs.emplace_back(v[2 * i], v[2 * i + 1]);
  for (int64_t c = 0; c < classes; ++c) t.outputs.emplace_back(v[2 * (2 + c)], v[2 * (2 + c) + 1]);
  auto draw = [&](int64_t m, torch::Tensor& x, torch::Tensor& y, torch::Tensor& labels) {
    x = torch::empty({m, 2}, torch::kFloat64);
    y = torch::full({m, classes}, -0.25 / static_cast<double>(classes), torch::kFloat64);
    labels = torch::empty({m}, torch::kInt64);
    for (int64_t i = 0; i < m; ++i) {
      const int64_t c = i % classes;
      const double phi = 2.0 * M_PI * static_cast<double>(c) / static_cast<double>(classes);
      x[i][0] = std::cos(phi) + 0.35 * blob_normal(r);
      x[i][1] = std::sin(phi) + 0.35 * blob_normal(r);
      y[i][c] += 0.25;
      labels[i] = c;
    }
  };
  draw(train, t.x, t.y, t.labels);
  if (test > 0) draw(test, t.x_test, t.y_test, t.labels_test);
  return t;
}

torch::Tensor PhysicalTask::one_hot(const torch::Tensor& labels, int64_t classes) {
  return torch::one_hot(labels, classes).to(torch::kFloat64);
}

namespace {

/// Checks k and the fixed values of a solve and returns the free degrees of freedom (those not
/// in `fixed`), in increasing order.
std::vector<int64_t> free_dofs(const PhysicalNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                               const torch::Tensor& values) {
  const int64_t E = static_cast<int64_t>(net.edges.size()), ND = net.dofs();
  check_arg(k.dim() == 1 && k.size(0) == E, "k", k.sizes(), "one conductance / stiffness per edge (" + std::to_string(E) + ")");
  check_arg(values.dim() == 2 && values.size(1) == static_cast<int64_t>(fixed.size()), "values", values.sizes(),
            "(examples, " + std::to_string(fixed.size()) + " fixed degrees of freedom)");
  std::vector<char> is_fixed(ND, 0);
  for (int64_t v : fixed) {
    check_arg(v >= 0 && v < ND && !is_fixed[v], "fixed", v, "distinct degrees of freedom in [0, N D)");
    is_fixed[v] = 1;
  }
  std::vector<int64_t> free;
  for (int64_t v = 0; v < ND; ++v)
    if (!is_fixed[v]) free.push_back(v);
  return free;
}

}  // namespace

torch::Tensor solve_network(const PhysicalNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                            const torch::Tensor& values, const torch::Tensor& R, const torch::Tensor& y, double beta) {
  const int64_t ND = net.dofs();
  check_arg(beta >= 0, "beta", beta, ">= 0");
  const std::vector<int64_t> free = free_dofs(net, k, fixed, values);
  torch::Tensor K = stiffness_matrix(net, k);
  const torch::Tensor fi = torch::tensor(free), ci = torch::tensor(fixed);
  const torch::Tensor uc = values.to(torch::kFloat64);  // (M, F)
  torch::Tensor A = K.index_select(0, fi).index_select(1, fi);
  torch::Tensor rhs = -torch::mm(K.index_select(0, fi).index_select(1, ci), uc.t());  // (free, M)
  if (beta > 0) {
    check_arg(R.dim() == 2 && R.size(1) == ND, "R", R.sizes(), "(targets, N D)");
    check_arg(y.dim() == 2 && y.size(0) == uc.size(0) && y.size(1) == R.size(0), "y", y.sizes(), "(examples, targets)");
    const torch::Tensor Rf = R.index_select(1, fi), Rc = R.index_select(1, ci);
    A = A + beta * torch::mm(Rf.t(), Rf);
    rhs = rhs + beta * torch::mm(Rf.t(), (y - torch::mm(uc, Rc.t())).t());
  }
  const torch::Tensor uf = torch::cholesky_solve(rhs, torch::linalg_cholesky(A)).t();  // (M, free)
  // scatter the columns: u[:, free] = uf, u[:, fixed] = uc (out of place, so autograd follows)
  return torch::cat({uf, uc}, 1).index_select(1, torch::argsort(torch::cat({fi, ci})));
}

torch::Tensor solve_network_clamped(const PhysicalNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                                    const torch::Tensor& values, const torch::Tensor& R, const torch::Tensor& c) {
  const int64_t ND = net.dofs();
  const std::vector<int64_t> free = free_dofs(net, k, fixed, values);
  check_arg(R.dim() == 2 && R.size(1) == ND, "R", R.sizes(), "(clamped pairs, N D)");
  check_arg(c.dim() == 2 && c.size(0) == values.size(0) && c.size(1) == R.size(0), "c", c.sizes(),
            "(examples, clamped pairs)");
  const torch::Tensor K = stiffness_matrix(net, k);
  const torch::Tensor fi = torch::tensor(free), ci = torch::tensor(fixed);
  const torch::Tensor uc = values.to(torch::kFloat64);
  const torch::Tensor Rf = R.index_select(1, fi), Rc = R.index_select(1, ci);
  const int64_t T = R.size(0);
  // KKT system of min 1/2 u^T K u subject to R u = c:  [K_ff R_f^T; R_f 0] [u_f; lambda] = [-K_fc u_c; c - R_c u_c]
  const torch::Tensor top = torch::cat({K.index_select(0, fi).index_select(1, fi), Rf.t()}, 1);
  const torch::Tensor bottom = torch::cat({Rf, torch::zeros({T, T}, torch::kFloat64)}, 1);
  const torch::Tensor rhs = torch::cat({-torch::mm(K.index_select(0, fi).index_select(1, ci), uc.t()),
                                        (c.to(torch::kFloat64) - torch::mm(uc, Rc.t())).t()},
                                       0);
  const torch::Tensor sol = torch::linalg_solve(torch::cat({top, bottom}, 0), rhs, true);
  const torch::Tensor uf = sol.narrow(0, 0, static_cast<int64_t>(free.size())).t();
  return torch::cat({uf, uc}, 1).index_select(1, torch::argsort(torch::cat({fi, ci})));
}

torch::Tensor free_state(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k,
                         const torch::Tensor& x) {
  check_arg(x.dim() == 2 && x.size(1) == static_cast<int64_t>(task.inputs.size()), "x", x.sizes(),
            "(examples, " + std::to_string(task.inputs.size()) + " inputs)");
  const auto [fixed, values] = pair_constraints(net, task.inputs, x.to(torch::kFloat64));
  return solve_network(net, k, fixed, values);
}

torch::Tensor network_outputs(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k,
                              const torch::Tensor& x) {
  return torch::mm(free_state(net, task, k, x), net.pair_rows(task.outputs).t());
}

double network_task_error(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k, bool test) {
  torch::NoGradGuard ng;
  const torch::Tensor& x = test ? task.x_test : task.x;
  const torch::Tensor& y = test ? task.y_test : task.y;
  check_arg(x.defined() && x.numel() > 0, "test", test, "a task with held-out examples");
  return relative_error(network_outputs(net, task, k, x), y);
}

double network_accuracy(const PhysicalNetwork& net, const PhysicalTask& task, const torch::Tensor& k, bool test) {
  torch::NoGradGuard ng;
  const torch::Tensor& x = test ? task.x_test : task.x;
  const torch::Tensor& labels = test ? task.labels_test : task.labels;
  check_arg(labels.defined() && labels.numel() > 0, "task", task.name, "a classification task");
  return argmax_accuracy(network_outputs(net, task, k, x), labels);
}

PhysicalLearningResult train_network(const PhysicalNetwork& net, const PhysicalTask& task,
                                     const PhysicalLearningOptions& o) {
  check_arg(o.rule == "coupled" || o.rule == "eqprop" || o.rule == "gradient", "rule", o.rule,
            "coupled, eqprop or gradient");
  check_arg(o.steps >= 1, "steps", o.steps, "at least 1");
  check_arg(o.eta > 0 && o.eta <= 1, "eta", o.eta, "a nudge in (0, 1]");
  check_arg(o.beta > 0, "beta", o.beta, "a nudging force > 0");
  check_arg(o.alpha > 0, "alpha", o.alpha, "a learning rate > 0");
  check_arg(o.lr > 0, "lr", o.lr, "a step > 0");
  check_arg(o.k_min > 0, "k_min", o.k_min, "a floor > 0");
  check_arg(o.log_every >= 1, "log_every", o.log_every, "at least 1");
  const int64_t E = static_cast<int64_t>(net.edges.size());
  const bool held_out = task.x_test.defined() && task.x_test.numel() > 0;
  torch::Tensor k = torch::ones({E}, torch::kFloat64);
  const torch::Tensor R = net.pair_rows(task.outputs);
  const auto [in_fixed, in_values] = pair_constraints(net, task.inputs, task.x);
  PhysicalLearningResult res;
  auto log = [&](int64_t step) {  // one free solve per example set serves error and accuracy
    torch::NoGradGuard ng;
    res.record(step, network_outputs(net, task, k, task.x), task.y, task.labels,
               held_out ? network_outputs(net, task, k, task.x_test) : torch::Tensor(), task.y_test, task.labels_test);
  };
  log(0);
  for (int64_t step = 1; step <= o.steps; ++step) {
    if (o.rule == "gradient") {
      torch::Tensor kk = k.clone().requires_grad_(true);
      const torch::Tensor d = torch::mm(solve_network(net, kk, in_fixed, in_values), R.t());
      const torch::Tensor loss = 0.5 * (d - task.y).pow(2).sum(1).mean();
      loss.backward();
      k = (k - o.lr * kk.grad()).clamp_min(o.k_min).detach();
    } else {
      torch::NoGradGuard ng;
      const torch::Tensor uF = solve_network(net, k, in_fixed, in_values);  // (M, ND)
      const torch::Tensor sF = edge_drops(net, uF);                         // (M, E)
      torch::Tensor sN;
      double scale;
      if (o.rule == "coupled") {
        // every output pair's drop imposed at d^F + eta (y - d^F); the pair's common level free
        const torch::Tensor dF = torch::mm(uF, R.t());
        sN = edge_drops(net, solve_network_clamped(net, k, in_fixed, in_values, R, dF + o.eta * (task.y - dF)));
        scale = o.alpha / o.eta;
      } else {
        sN = edge_drops(net, solve_network(net, k, in_fixed, in_values, R, task.y, o.beta));
        scale = o.alpha / o.beta;
      }
      k = (k + scale * (sF.pow(2) - sN.pow(2)).mean(0)).clamp_min(o.k_min);
    }
    if (step % o.log_every == 0 || step == o.steps) log(step);
  }
  res.k = k;
  return res;
}

}  // namespace physgen
