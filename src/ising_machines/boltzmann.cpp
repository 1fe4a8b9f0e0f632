#include "physgen/ising_machines/boltzmann.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/ising_machines/solvers.h"

namespace physgen {

namespace {

/// CSR positions of each edge (i < j): the entry in row i and the one in row j.
std::vector<std::pair<int64_t, int64_t>> edge_slots(const IsingProblem& p) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t k = p.row_ptr[i]; k < p.row_ptr[i + 1]; ++k) {
      const int64_t j = p.col[k];
      if (j <= i) continue;
      int64_t back = -1;
      for (int64_t q = p.row_ptr[j]; q < p.row_ptr[j + 1]; ++q)
        if (p.col[q] == i) back = q;
      out.push_back({k, back});
    }
  return out;
}

}  // namespace

IsingMoments data_moments(const torch::Tensor& data, const IsingProblem& structure) {
  check_arg(data.defined() && data.dim() == 2 && data.size(0) >= 1 && data.size(1) == structure.n, "data",
            data.defined() ? data.sizes() : torch::IntArrayRef{},
            "(N, " + std::to_string(structure.n) + ") spins with N >= 1");
  torch::Tensor s = data.to(torch::kCPU).to(torch::kFloat64).contiguous();
  check_arg(((s == 1) | (s == -1)).all().item<bool>(), "data", "values other than +-1", "Ising spins +-1");
  IsingMoments m;
  torch::Tensor mean = s.mean(0);
  m.means.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + structure.n);
  const auto edges = structure.edge_list();
  if (!edges.empty()) {
    std::vector<int64_t> a, b;
    for (const auto& e : edges) {
      a.push_back(e.i);
      b.push_back(e.j);
    }
    torch::Tensor pairs = (s.index_select(1, torch::tensor(a)) * s.index_select(1, torch::tensor(b))).mean(0);
    m.pairs.assign(pairs.data_ptr<double>(), pairs.data_ptr<double>() + edges.size());
  }
  return m;
}

IsingMoments exact_moments(const IsingProblem& p, double beta) {
  const std::vector<double> E = enumerate_energies(p);
  const double e0 = *std::min_element(E.begin(), E.end());
  const auto edges = p.edge_list();
  IsingMoments m;
  m.pairs.assign(edges.size(), 0.0);
  m.means.assign(p.n, 0.0);
  double Z = 0.0;
  for (size_t b = 0; b < E.size(); ++b) {
    const double w = std::exp(-beta * (E[b] - e0));
    Z += w;
    auto spin = [&](int64_t i) { return (b >> i & 1) ? 1.0 : -1.0; };
    for (int64_t i = 0; i < p.n; ++i) m.means[i] += w * spin(i);
    for (size_t e = 0; e < edges.size(); ++e) m.pairs[e] += w * spin(edges[e].i) * spin(edges[e].j);
  }
  for (auto& v : m.means) v /= Z;
  for (auto& v : m.pairs) v /= Z;
  return m;
}

IsingProblem complete_structure(int64_t n) {
  check_arg(n >= 2 && n <= 4096, "n", n, "2 .. 4096 spins for a complete structure");
  std::vector<IsingEdge> e;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) e.push_back({i, j, 0.0});
  return IsingProblem::from_edges(n, e);
}

BoltzmannFit fit_boltzmann_machine(const torch::Tensor& data, const IsingProblem& structure,
                                   const BoltzmannFitOptions& o) {
  structure.validate();
  check_arg(o.steps >= 1, "steps", o.steps, "at least 1");
  check_arg(o.lr > 0 && std::isfinite(o.lr), "lr", o.lr, "a step size > 0");
  check_arg(o.chains >= 1, "chains", o.chains, "at least 1");
  check_arg(o.rungs >= 2 && o.rungs <= 256, "rungs", o.rungs, "2 .. 256");
  check_arg(o.beta_min > 0 && o.beta_min < 1, "beta_min", o.beta_min, "0 < beta_min < 1");
  check_arg(o.sweeps_per_step >= 1, "sweeps_per_step", o.sweeps_per_step, "at least 1");
  check_arg(o.average_fraction > 0 && o.average_fraction <= 1, "average_fraction", o.average_fraction, "(0, 1]");
  BoltzmannFit fit;
  fit.data = data_moments(data, structure);
  fit.model = structure;
  fit.model.kind = "ising";
  fit.model.offset = 0.0;
  IsingProblem& m = fit.model;
  const auto slots = edge_slots(m);
  const int64_t E = static_cast<int64_t>(slots.size()), n = m.n;

  std::vector<double> betas;
  for (int64_t k = 0; k < o.rungs; ++k) betas.push_back(o.beta_min * std::pow(1.0 / o.beta_min, double(k) / (o.rungs - 1)));
  betas.back() = 1.0;
  const int64_t cold = static_cast<int64_t>(betas.size()) - 1;
  ParallelTempering pt(m, betas, o.chains, o.seed);
  pt.sweep(10 * o.sweeps_per_step);

  const int64_t avg_from = o.steps - std::max<int64_t>(1, static_cast<int64_t>(std::llround(o.average_fraction * o.steps)));
  std::vector<double> sumJ(E, 0.0), sumh(n, 0.0);
  int64_t averaged = 0;
  const auto edges = m.edge_list();
  for (int64_t step = 0; step < o.steps; ++step) {
    pt.sweep(o.sweeps_per_step);
    // model statistics from the coldest rung of every ladder
    std::vector<double> pairs(E, 0.0), means(n, 0.0);
    for (int64_t r = 0; r < pt.runs(); ++r) {
      const int8_t* s = pt.state(r, cold);
      for (int64_t i = 0; i < n; ++i) means[i] += s[i];
      for (int64_t e = 0; e < E; ++e) pairs[e] += s[edges[e].i] * s[edges[e].j];
    }
    double gmax = 0.0;
    for (int64_t e = 0; e < E; ++e) {
      const double g = fit.data.pairs[e] - pairs[e] / pt.runs();
      m.J[slots[e].first] += o.lr * g;
      m.J[slots[e].second] = m.J[slots[e].first];
      gmax = std::max(gmax, std::abs(g));
    }
    for (int64_t i = 0; i < n; ++i) {
      const double g = fit.data.means[i] - means[i] / pt.runs();
      m.h[i] += o.lr * g;
      gmax = std::max(gmax, std::abs(g));
    }
    fit.gradient_max.push_back(gmax);
    pt.refresh();
    if (step >= avg_from) {
      for (int64_t e = 0; e < E; ++e) sumJ[e] += m.J[slots[e].first];
      for (int64_t i = 0; i < n; ++i) sumh[i] += m.h[i];
      ++averaged;
    }
  }
  for (int64_t e = 0; e < E; ++e) m.J[slots[e].first] = m.J[slots[e].second] = sumJ[e] / averaged;
  for (int64_t i = 0; i < n; ++i) m.h[i] = sumh[i] / averaged;
  return fit;
}

nlohmann::json BoltzmannFit::to_json() const {
  nlohmann::json couplings = nlohmann::json::array();
  for (const auto& e : model.edge_list()) couplings.push_back({e.i, e.j, e.w});
  return {{"steps", gradient_max.size()},
          {"n", model.n},
          {"edges", model.edges()},
          {"final_gradient_max", gradient_max.empty() ? 0.0 : gradient_max.back()},
          {"couplings", couplings},
          {"fields", model.h}};
}

}  // namespace physgen
