#include "physgen/physical/flow_network.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"

namespace physgen {

FlowNetwork FlowNetwork::random(int64_t nodes, double mean_degree, uint64_t seed) {
  check_arg(nodes >= 3 && nodes <= 5000, "nodes", nodes, "3 .. 5000");
  check_arg(mean_degree >= 2 && mean_degree < nodes - 1, "mean_degree", mean_degree, "2 <= degree < nodes - 1");
  Xoshiro256pp r(seed, 0xf1);
  FlowNetwork net;
  net.nodes = nodes;
  std::set<std::pair<int64_t, int64_t>> seen;
  auto add = [&](int64_t a, int64_t b) {
    if (a == b) return false;
    const auto key = std::make_pair(std::min(a, b), std::max(a, b));
    if (!seen.insert(key).second) return false;
    net.edges.push_back(key);
    return true;
  };
  for (int64_t i = 1; i < nodes; ++i) add(i, static_cast<int64_t>(r.below(i)));
  const int64_t target = static_cast<int64_t>(std::llround(mean_degree * nodes / 2));
  while (static_cast<int64_t>(net.edges.size()) < target)
    add(static_cast<int64_t>(r.below(nodes)), static_cast<int64_t>(r.below(nodes)));
  return net;
}

torch::Tensor FlowNetwork::incidence() const {
  torch::Tensor B = torch::zeros({static_cast<int64_t>(edges.size()), nodes}, torch::kFloat64);
  auto a = B.accessor<double, 2>();
  for (size_t e = 0; e < edges.size(); ++e) {
    a[e][edges[e].first] = 1.0;
    a[e][edges[e].second] = -1.0;
  }
  return B;
}

FlowTask FlowTask::random(const FlowNetwork& net, int64_t n_sources, int64_t n_targets, uint64_t seed) {
  check_arg(n_sources >= 1 && n_sources + 1 + 2 * n_targets <= net.nodes, "n_sources", n_sources,
            "at least 1, with the targets' endpoints fitting in the network");
  check_arg(n_targets >= 1, "n_targets", n_targets, "at least 1");
  Xoshiro256pp r(seed, 0xf2);
  FlowTask t;
  std::set<int64_t> used;
  while (static_cast<int64_t>(t.source_nodes.size()) < n_sources + 1) {
    const int64_t v = static_cast<int64_t>(r.below(net.nodes));
    if (!used.insert(v).second) continue;
    t.source_nodes.push_back(v);
    t.source_pressures.push_back(t.source_nodes.size() == 1 ? 0.0 : r.uniform());  // the first is the ground
  }
  int64_t tries = 0;
  while (static_cast<int64_t>(t.target_edges.size()) < n_targets) {
    check_arg(++tries < 100000, "n_targets", n_targets, "edges with free, distinct endpoints");
    const int64_t e = static_cast<int64_t>(r.below(net.edges.size()));
    const auto [a, b] = net.edges[e];
    if (used.count(a) || used.count(b)) continue;
    used.insert(a);
    used.insert(b);
    t.target_edges.push_back(e);
    t.target_drops.push_back(0.6 * r.uniform() - 0.3);
  }
  return t;
}

torch::Tensor solve_pressures(const FlowNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                              const torch::Tensor& values) {
  check_arg(k.dim() == 1 && k.size(0) == static_cast<int64_t>(net.edges.size()), "k", k.sizes(),
            "one conductance per edge (" + std::to_string(net.edges.size()) + ")");
  std::vector<char> is_fixed(net.nodes, 0);
  for (int64_t v : fixed) {
    check_arg(v >= 0 && v < net.nodes && !is_fixed[v], "fixed", v, "distinct node indices in [0, nodes)");
    is_fixed[v] = 1;
  }
  std::vector<int64_t> free;
  for (int64_t v = 0; v < net.nodes; ++v)
    if (!is_fixed[v]) free.push_back(v);
  const torch::Tensor B = net.incidence();
  const torch::Tensor L = torch::mm(B.t() * k.to(torch::kFloat64), B);  // B^T diag(k) B
  const torch::Tensor fi = torch::tensor(free), ci = torch::tensor(fixed);
  const torch::Tensor Lff = L.index_select(0, fi).index_select(1, fi);
  const torch::Tensor Lfc = L.index_select(0, fi).index_select(1, ci);
  const torch::Tensor pc = values.to(torch::kFloat64);
  const torch::Tensor pf = torch::linalg_solve(Lff, -torch::mv(Lfc, pc), true);
  torch::Tensor p = torch::zeros({net.nodes}, torch::kFloat64);
  p = p.index_put({fi}, pf).index_put({ci}, pc);
  return p;
}

torch::Tensor solve_pressures(const FlowNetwork& net, const torch::Tensor& k, const std::vector<int64_t>& fixed,
                              const std::vector<double>& values) {
  return solve_pressures(net, k, fixed, torch::tensor(values, torch::kFloat64));
}

torch::Tensor edge_drops(const FlowNetwork& net, const torch::Tensor& p) {
  // B p without building the dense (E, N) incidence matrix: p_a(e) - p_b(e)
  std::vector<int64_t> a, b;
  for (const auto& [u, v] : net.edges) {
    a.push_back(u);
    b.push_back(v);
  }
  return p.index_select(0, torch::tensor(a)) - p.index_select(0, torch::tensor(b));
}

namespace {
torch::Tensor target_drops_of(const FlowNetwork& net, const FlowTask& task, const torch::Tensor& p) {
  return edge_drops(net, p).index_select(0, torch::tensor(task.target_edges));
}
}  // namespace

double flow_task_error(const FlowNetwork& net, const FlowTask& task, const torch::Tensor& k) {
  torch::NoGradGuard ng;
  const torch::Tensor d = target_drops_of(net, task, solve_pressures(net, k, task.source_nodes, task.source_pressures));
  const torch::Tensor t = torch::tensor(task.target_drops, torch::kFloat64);
  return ((d - t).pow(2).sum() / t.pow(2).sum()).item<double>();
}

PhysicalLearningResult train_flow_network(const FlowNetwork& net, const FlowTask& task,
                                          const PhysicalLearningOptions& o) {
  check_arg(o.rule == "coupled" || o.rule == "gradient", "rule", o.rule, "coupled or gradient");
  check_arg(o.steps >= 1, "steps", o.steps, "at least 1");
  check_arg(o.eta > 0 && o.eta <= 1, "eta", o.eta, "a nudge in (0, 1]");
  check_arg(o.alpha > 0, "alpha", o.alpha, "a learning rate > 0");
  check_arg(o.lr > 0, "lr", o.lr, "a step > 0");
  check_arg(o.k_min > 0, "k_min", o.k_min, "a conductance floor > 0");
  check_arg(o.log_every >= 1, "log_every", o.log_every, "at least 1");
  const int64_t E = static_cast<int64_t>(net.edges.size());
  torch::Tensor k = torch::ones({E}, torch::kFloat64);
  const torch::Tensor targets = torch::tensor(task.target_drops, torch::kFloat64);
  const torch::Tensor tidx = torch::tensor(task.target_edges);
  PhysicalLearningResult res;
  auto log = [&](int64_t step) {
    res.steps.push_back(step);
    res.errors.push_back(flow_task_error(net, task, k));
  };
  log(0);
  // clamped nodes: the sources, then both endpoints of every target edge
  std::vector<int64_t> clamped = task.source_nodes;
  for (int64_t e : task.target_edges) {
    clamped.push_back(net.edges[e].first);
    clamped.push_back(net.edges[e].second);
  }
  for (int64_t step = 1; step <= o.steps; ++step) {
    if (o.rule == "coupled") {
      torch::NoGradGuard ng;
      const torch::Tensor pF = solve_pressures(net, k, task.source_nodes, task.source_pressures);
      const torch::Tensor dF = edge_drops(net, pF);
      const torch::Tensor nudge = o.eta * (targets - dF.index_select(0, tidx));  // per target edge
      std::vector<double> values = task.source_pressures;
      for (size_t t = 0; t < task.target_edges.size(); ++t) {
        const auto [a, b] = net.edges[task.target_edges[t]];
        const double h = 0.5 * nudge[t].item<double>();
        values.push_back(pF[a].item<double>() + h);
        values.push_back(pF[b].item<double>() - h);
      }
      const torch::Tensor dC = edge_drops(net, solve_pressures(net, k, clamped, values));
      k = (k + (o.alpha / o.eta) * (dF.pow(2) - dC.pow(2))).clamp_min(o.k_min);
    } else {
      torch::Tensor kk = k.clone().requires_grad_(true);
      const torch::Tensor d = target_drops_of(net, task, solve_pressures(net, kk, task.source_nodes, task.source_pressures));
      const torch::Tensor loss = 0.5 * (d - targets).pow(2).sum();
      loss.backward();
      k = (k - o.lr * kk.grad()).clamp_min(o.k_min).detach();
    }
    if (step % o.log_every == 0 || step == o.steps) log(step);
  }
  res.k = k;
  return res;
}

}  // namespace physgen
