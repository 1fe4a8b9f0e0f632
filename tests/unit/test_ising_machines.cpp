// General Ising problems and Ising machines (ising_machines/): the Max-Cut / QUBO / partition
// maps checked on every state, the edge-list and QUBO readers with their errors, the
// generators' graphs, every solver against exact enumeration (and a crippled solver shown to
// miss), and parallel tempering's coldest rung against the exact Boltzmann distribution by a
// chi-square test that a wrong temperature fails.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>
#include <numeric>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/ising_machines/boltzmann.h"
#include "physgen/ising_machines/coloured_sampler.h"
#include "physgen/ising_machines/problem.h"
#include "physgen/ising_machines/solvers.h"
#include "support/io_test_util.h"

namespace physgen {
namespace {

using test::TempDir;

std::vector<int8_t> state_of(uint64_t bits, int64_t n) {
  std::vector<int8_t> s(n);
  for (int64_t i = 0; i < n; ++i) s[i] = (bits >> i & 1) ? 1 : -1;
  return s;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(IsingProblem, EnergyMatchesTheDefinitionAndTheBatchedTensorForm) {
  // E = -sum_{i<j} J_ij s_i s_j - sum h_i s_i, with a repeated pair adding up
  IsingProblem p = IsingProblem::from_edges(4, {{0, 1, 1.5}, {1, 2, -0.5}, {3, 0, 2.0}, {1, 0, 0.5}},
                                            {0.1, 0.0, -0.3, 0.2});
  EXPECT_EQ(p.edges(), 3);
  p.validate();
  torch::Tensor all = torch::empty({16, 4}, torch::kInt8);
  for (uint64_t b = 0; b < 16; ++b) {
    auto s = state_of(b, 4);
    const double direct = -(2.0 * s[0] * s[1] - 0.5 * s[1] * s[2] + 2.0 * s[3] * s[0]) -
                          (0.1 * s[0] - 0.3 * s[2] + 0.2 * s[3]);
    EXPECT_NEAR(p.energy(s.data()), direct, 1e-12);
    for (int i = 0; i < 4; ++i) all[b][i] = s[i];
  }
  torch::Tensor e = p.energy(all);
  for (uint64_t b = 0; b < 16; ++b) EXPECT_NEAR(e[b].item<double>(), p.energy(state_of(b, 4).data()), 1e-12);
}

TEST(IsingProblem, MaxCutQuboAndPartitionMapsAreExactOnEveryState) {
  const int64_t n = 8;
  // Max-Cut of a random weighted graph: cut = (W - E) / 2
  IsingProblem mc = generate_maxcut_random(n, 0.5, true, 3);
  const auto edges = mc.edge_list();
  for (uint64_t b = 0; b < (1u << n); ++b) {
    auto s = state_of(b, n);
    double cut = 0;
    for (const auto& e : edges) cut += s[e.i] != s[e.j] ? -e.w : 0.0;  // w = -J
    EXPECT_NEAR(mc.cut_from_energy(mc.energy(s.data())), cut, 1e-12);
  }
  // QUBO -> Ising -> QUBO
  QuboProblem q;
  q.n = n;
  q.constant = 0.7;
  Xoshiro256pp r(5);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j)
      if (r.uniform() < 0.6) q.entries.push_back({i, j, r.uniform() * 4 - 2});
  const IsingProblem qi = problem_from_qubo(q);
  const QuboProblem back = qubo_from_problem(qi);
  for (uint64_t b = 0; b < (1u << n); ++b) {
    auto s = state_of(b, n);
    std::vector<int8_t> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = s[i] > 0;
    EXPECT_NEAR(qi.energy(s.data()) + qi.offset, q.value(x.data()), 1e-12);
    EXPECT_NEAR(back.value(x.data()), q.value(x.data()), 1e-12);
  }
  // number partitioning: E + offset = (sum a s)^2
  const std::vector<double> a = {3, 1, 4, 1, 5, 9, 2, 6};
  const IsingProblem pp = partition_problem(a);
  for (uint64_t b = 0; b < (1u << n); ++b) {
    auto s = state_of(b, n);
    double res = 0;
    for (int64_t i = 0; i < n; ++i) res += a[i] * s[i];
    EXPECT_NEAR(pp.energy(s.data()) + pp.offset, res * res, 1e-9);
  }
  EXPECT_NEAR(exact_ground_state(pp).ground_energy + pp.offset, 1.0, 1e-9);  // sum 31 is odd
}

TEST(IsingProblem, ReadsGsetFilesAndRoundTripsItsOwnFormat) {
  TempDir dir;
  const std::string g = dir.file("g.txt");
  test::spit(g, "4 4\n1 2 1\n2 3 1\n3 4 1\n4 1 1\n");
  IsingProblem p = read_problem(g);
  EXPECT_TRUE(p.is_maxcut());
  EXPECT_EQ(p.n, 4);
  EXPECT_EQ(p.edges(), 4);
  EXPECT_DOUBLE_EQ(p.maxcut_weight, 4.0);
  EXPECT_NEAR(p.cut_from_energy(exact_ground_state(p).ground_energy), 4.0, 1e-12);  // even cycle: all cut

  IsingProblem ea = generate_ea(3, 2, 7);
  ea.h[2] = 0.25;
  ea.offset = -1.5;
  write_problem(dir.file("ea.txt"), ea);
  IsingProblem back = read_problem(dir.file("ea.txt"));
  EXPECT_EQ(back.kind, "ea");
  EXPECT_DOUBLE_EQ(back.offset, -1.5);
  for (uint64_t b = 0; b < 512; b += 7) {
    auto s = state_of(b, 9);
    EXPECT_DOUBLE_EQ(back.energy(s.data()), ea.energy(s.data()));
  }
  write_problem(dir.file("mc.txt"), p);
  EXPECT_EQ(test::slurp(dir.file("mc.txt")), "4 4\n1 2 1\n1 4 1\n2 3 1\n3 4 1\n");  // a plain G-set file

  test::spit(dir.file("q.qubo"), "c a QUBO\np qubo 0 3 2 1\n0 0 -1\n2 2 2.5\n0 2 -3\n");
  IsingProblem qp = read_problem(dir.file("q.qubo"));
  EXPECT_EQ(qp.kind, "qubo");
  // min over x of -x0 + 2.5 x2 - 3 x0 x2: x = (1, *, 1) gives -1.5
  EXPECT_NEAR(exact_ground_state(qp).ground_energy + qp.offset, -1.5, 1e-12);
}

TEST(IsingProblem, MalformedFilesFailNamingFileAndLine) {
  TempDir dir;
  auto err = [&](const std::string& text) {
    test::spit(dir.file("bad.txt"), text);
    try {
      read_problem(dir.file("bad.txt"));
    } catch (const IoError& e) {
      return std::string(e.what());
    }
    return std::string("no IoError");
  };
  EXPECT_NE(err("3 2\n1 2 1\n").find("announces 2 edges, the file has 1"), std::string::npos);
  EXPECT_NE(err("3 1\n1 4 1\n").find("bad.txt:2: spin (1, 4) outside [1, 3]"), std::string::npos);
  EXPECT_NE(err("3 1\n1 1 1\n").find("self loop"), std::string::npos);
  EXPECT_NE(err("3 1\n1 x 1\n").find("'x' is not an integer"), std::string::npos);
  EXPECT_NE(err("3 1\n1 2 nan\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(err("3\n").find("bad.txt:1: expected the first line 'N E'"), std::string::npos);
  EXPECT_NE(err("").find("empty problem file"), std::string::npos);
  EXPECT_NE(err("p qubo 0 2 1 0\n0 0 1\n0 1 2\n").find("announces 1 diagonal and 0 off-diagonal"), std::string::npos);
  EXPECT_THROW(read_problem(dir.file("missing.txt")), IoError);
}

TEST(IsingProblem, GeneratorsBuildTheAdvertisedGraphs) {
  IsingProblem sk = generate_sk(30, false, 1);
  EXPECT_EQ(sk.edges(), 30 * 29 / 2);
  double m2 = 0;
  for (double v : sk.J) m2 += v * v;
  EXPECT_NEAR(m2 / sk.J.size() * 30, 1.0, 0.15);  // J ~ N(0, 1/n)
  IsingProblem reg = generate_maxcut_regular(50, 3, 2);
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(reg.row_ptr[i + 1] - reg.row_ptr[i], 3);
  EXPECT_EQ(generate_maxcut_toroidal(4, 5, true, 1).edges(), 40);
  EXPECT_EQ(generate_ea(4, 3, 1).edges(), 3 * 64);
  EXPECT_EQ(generate_ea(5, 2, 1).edges(), 2 * 25);
  EXPECT_EQ(generate_sk(12, true, 9).J, generate_sk(12, true, 9).J);  // reproducible
  EXPECT_NE(generate_sk(12, true, 9).J, generate_sk(12, true, 10).J);
  EXPECT_NE(message_of([] { generate_maxcut_regular(5, 3, 1); }).find("n * d even"), std::string::npos);
}

TEST(IsingMachines, EverySolverFindsTheExactGroundStateOfSmallInstances) {
  for (uint64_t seed : {1, 2, 3}) {
    const IsingProblem p = generate_sk(20, false, seed);
    const ExactIsing ex = exact_ground_state(p);
    ASSERT_GE(ex.degeneracy, 2);  // s and -s
    // "sa/tensor", "pt/tensor": the same solvers with the graph-coloured LibTorch kernel
    for (const std::string spec : {"sa", "pt", "sb-ballistic", "sb-discrete", "sa/tensor", "pt/tensor"}) {
      const std::string solver = spec.substr(0, spec.find('/'));
      SolverOptions o;
      o.solver = solver;
      if (spec != solver) o.kernel = "tensor";
      o.replicas = 32;
      o.sweeps = solver.rfind("sb", 0) == 0 ? 1000 : 200;
      o.temperatures = 8;
      o.beta_start = solver == "pt" ? 0.3 : 0.1;
      o.seed = seed;
      const SolverResult r = solve_ising(p, o);
      EXPECT_NEAR(r.best_energy, ex.ground_energy, 1e-9) << spec << " seed " << seed;
      EXPECT_NEAR(p.energy(r.best_state.data()), r.best_energy, 1e-9) << spec;
      EXPECT_GT(success_probability(r, ex.ground_energy), 0.0) << spec;
      EXPECT_EQ(r.kernel, spec == solver && solver.rfind("sb", 0) != 0 ? "cpu" : "tensor") << spec;
      EXPECT_EQ(static_cast<int64_t>(r.replica_best.size()), 32);
    }
  }
}

TEST(IsingMachines, SimulatedBifurcationStaysStableOnMaxCutGraphs) {
  // A dense random Max-Cut graph (J = -w has an eigenvalue near -mean degree): at Goto's
  // dt = 1.25 the oscillators are unstable and the cut stays near a random one (W / 2); the
  // automatic dt must reach within 2% of what SA finds.
  const IsingProblem p = generate_maxcut_random(300, 0.1, false, 5);
  SolverOptions sa;
  sa.replicas = 8;
  sa.sweeps = 500;
  const double sa_cut = p.cut_from_energy(solve_ising(p, sa).best_energy);
  for (const std::string solver : {"sb-ballistic", "sb-discrete"}) {
    SolverOptions o;
    o.solver = solver;
    o.replicas = 8;
    o.sweeps = 1000;
    const SolverResult good = solve_ising(p, o);
    EXPECT_GT(p.cut_from_energy(good.best_energy), 0.98 * sa_cut) << solver << " dt " << good.sb_dt;
    EXPECT_LT(good.sb_dt, 1.25);
    o.dt = 1.25;
    EXPECT_LT(p.cut_from_energy(solve_ising(p, o).best_energy), 0.9 * sa_cut) << solver << " at dt 1.25";
  }
}

TEST(IsingMachines, ACrippledSolverMissesTheGroundState) {
  // Random states (one sweep at beta ~ 0, two trials) on three instances: what the test above
  // would see from a solver that does not anneal. It must not reach E0 on any of them.
  int missed = 0;
  for (uint64_t seed : {1, 2, 3}) {
    const IsingProblem p = generate_sk(20, false, seed);
    SolverOptions o;
    o.solver = "sa";
    o.replicas = 2;
    o.sweeps = 1;
    o.beta_start = o.beta_end = 1e-6;
    o.seed = seed;
    missed += solve_ising(p, o).best_energy > exact_ground_state(p).ground_energy + 1e-6;
  }
  EXPECT_EQ(missed, 3);
}

/// Wilson-Hilferty z-score of a chi-square value with k degrees of freedom.
double chi2_z(double chi2, double k) {
  const double c = 2.0 / (9.0 * k);
  return (std::cbrt(chi2 / k) - (1.0 - c)) / std::sqrt(c);
}

/// Chi-square of counts against exp(-beta E) / Z, merging states expected fewer than 5 times
/// (in order of their energy) into bins of at least 5; returns {chi2, dof}.
std::pair<double, double> boltzmann_chi2(const std::vector<double>& E, const std::vector<int64_t>& counts,
                                         double beta) {
  const double N = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double e0 = *std::min_element(E.begin(), E.end());
  std::vector<double> w(E.size());
  for (size_t i = 0; i < E.size(); ++i) w[i] = std::exp(-beta * (E[i] - e0));
  const double Z = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<size_t> order(E.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return E[a] < E[b]; });
  double chi2 = 0, bins = 0, exp_acc = 0, obs_acc = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    exp_acc += N * w[order[k]] / Z;
    obs_acc += counts[order[k]];
    if (exp_acc >= 5 || k + 1 == order.size()) {
      chi2 += (obs_acc - exp_acc) * (obs_acc - exp_acc) / exp_acc;
      bins += 1;
      exp_acc = obs_acc = 0;
    }
  }
  return {chi2, bins - 1};
}

TEST(IsingMachines, ParallelTemperingSamplesTheBoltzmannDistribution) {
  // n = 10 SK spins (1024 states), a 6-rung ladder 0.2..1.2; the coldest rung is sampled
  // every 10 sweeps in 64 independent ladders after 200 sweeps of equilibration.
  const IsingProblem p = generate_sk(10, false, 4);
  const std::vector<double> E = enumerate_energies(p);
  std::vector<double> betas;
  for (int k = 0; k < 6; ++k) betas.push_back(0.2 * std::pow(6.0, k / 5.0));
  ParallelTempering pt(p, betas, 64, 11);
  pt.sweep(200);
  std::vector<int64_t> cold(E.size(), 0), hot(E.size(), 0);
  for (int t = 0; t < 400; ++t) {
    pt.sweep(10);
    for (int64_t r = 0; r < pt.runs(); ++r) {
      ++cold[state_index(pt.state(r, 5), p.n)];
      ++hot[state_index(pt.state(r, 0), p.n)];
      ASSERT_NEAR(pt.energy(r, 5), p.energy(pt.state(r, 5)), 1e-9);
    }
  }
  for (double a : pt.exchange_acceptance()) {
    EXPECT_GT(a, 0.05);
    EXPECT_LT(a, 1.0);
  }
  // p-value 1e-3 <=> z = 3.09: fixed before looking at the data
  auto [c2, dof] = boltzmann_chi2(E, cold, betas[5]);
  EXPECT_LT(chi2_z(c2, dof), 3.09) << "chi2 " << c2 << " dof " << dof;
  auto [h2, hdof] = boltzmann_chi2(E, hot, betas[0]);
  EXPECT_LT(chi2_z(h2, hdof), 3.09) << "chi2 " << h2 << " dof " << hdof;
  // the same samples against a 15% different temperature must fail
  auto [w2, wdof] = boltzmann_chi2(E, cold, 1.15 * betas[5]);
  EXPECT_GT(chi2_z(w2, wdof), 3.09) << "chi2 " << w2 << " dof " << wdof;
}

TEST(IsingMachines, BadSettingsNameTheSetting) {
  const IsingProblem p = generate_sk(6, true, 1);
  auto msg = [&](auto edit) {
    SolverOptions o;
    edit(o);
    return message_of([&] { solve_ising(p, o); });
  };
  EXPECT_NE(msg([](SolverOptions& o) { o.solver = "qa"; }).find("argument solver = 'qa'"), std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) { o.replicas = 0; }).find("argument replicas = 0"), std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) { o.sweeps = 0; }).find("argument sweeps = 0"), std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) { o.update = "glauber"; }).find("argument update"), std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) { o.kernel = "gpu"; }).find("argument kernel = 'gpu'"), std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) {
              o.solver = "pt";
              o.temperatures = 1;
            }).find("argument temperatures = 1"),
            std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) {
              o.solver = "sb-discrete";
              o.dt = -1;
            }).find("argument dt"),
            std::string::npos);
  EXPECT_NE(msg([](SolverOptions& o) {
              o.solver = "pt";
              o.temperatures = 1024;
              o.replicas = int64_t{1} << 20;
            }).find("fits in 8 GB"),
            std::string::npos);
}

TEST(ColouredSampler, TheColouringIsProper) {
  // no edge inside a colour class, at most max degree + 1 classes; a complete graph needs n
  const std::vector<IsingProblem> graphs = {generate_maxcut_random(500, 0.06, false, 1), generate_ea(6, 3, 2),
                                            generate_maxcut_toroidal(10, 12, true, 3), generate_sk(30, false, 4)};
  for (const IsingProblem& p : graphs) {
    const std::vector<int32_t> c = greedy_coloring(p);
    int64_t max_degree = 0, clashes = 0;
    for (int64_t i = 0; i < p.n; ++i) {
      max_degree = std::max<int64_t>(max_degree, p.row_ptr[i + 1] - p.row_ptr[i]);
      for (int64_t k = p.row_ptr[i]; k < p.row_ptr[i + 1]; ++k) clashes += c[i] == c[p.col[k]];
    }
    const int32_t colours = *std::max_element(c.begin(), c.end()) + 1;
    EXPECT_EQ(clashes, 0) << p.kind;
    EXPECT_LE(colours, max_degree + 1) << p.kind;
    if (p.kind == "sk") {
      EXPECT_EQ(colours, p.n);
    }
  }
  // an even periodic grid in row-major order: greedy finds the checkerboard
  EXPECT_EQ(ColouredSpinSampler(generate_ea(8, 2, 1), 4, 1).colours(), 2);
}

TEST(ColouredSampler, TrackedEnergiesFollowTheFlipsOnSparseAndDenseGraphs) {
  // 400 sites at 1% filling take the sparse column products, 40 SK sites the dense ones; after
  // 50 sweeps at beta 0.5 the tracked energies must equal a fresh evaluation of the spins.
  IsingProblem sparse = generate_maxcut_random(400, 0.01, true, 7);
  sparse.h.assign(sparse.n, 0.0);
  for (int64_t i = 0; i < sparse.n; i += 3) sparse.h[i] = 0.25;
  for (const IsingProblem& q : {sparse, generate_sk(40, false, 8)}) {
    ColouredSpinSampler smp(q, 16, 5);
    for (int k = 0; k < 50; ++k) smp.sweep(0.5, k % 2 == 1);
    const torch::Tensor fresh = q.energy(smp.spins().t().contiguous());
    EXPECT_LT((fresh - smp.energies()).abs().max().item<double>(), 1e-9) << q.kind;
  }
}

TEST(ColouredSampler, SamplesTheBoltzmannDistribution) {
  // n = 10 SK spins with fields (1024 states) at beta = 0.8: 256 chains, 100 sweeps of
  // equilibration, then a sample every 5 sweeps (100 per chain, 25 600 in all), Metropolis and
  // heat-bath. The chi-square against exp(-beta E) / Z must have a p-value above 1e-3
  // (z < 3.09, fixed before looking); the same samples judged at a 15% higher beta must fail.
  IsingProblem p = generate_sk(10, false, 4);
  p.h.assign(p.n, 0.0);
  for (int64_t i = 0; i < p.n; ++i) p.h[i] = 0.1 * double(i % 3) - 0.1;
  const std::vector<double> E = enumerate_energies(p);
  const double beta = 0.8;
  for (const bool heatbath : {false, true}) {
    ColouredSpinSampler smp(p, 256, heatbath ? 12 : 11);
    for (int k = 0; k < 100; ++k) smp.sweep(beta, heatbath);
    std::vector<int64_t> counts(E.size(), 0);
    for (int t = 0; t < 100; ++t) {
      for (int k = 0; k < 5; ++k) smp.sweep(beta, heatbath);
      const torch::Tensor s = smp.spins().t().to(torch::kInt8).contiguous();
      for (int64_t c = 0; c < smp.chains(); ++c) ++counts[state_index(s.data_ptr<int8_t>() + c * p.n, p.n)];
    }
    auto [c2, dof] = boltzmann_chi2(E, counts, beta);
    EXPECT_LT(chi2_z(c2, dof), 3.09) << (heatbath ? "heat-bath" : "Metropolis") << " chi2 " << c2 << " dof " << dof;
    auto [w2, wdof] = boltzmann_chi2(E, counts, 1.15 * beta);
    EXPECT_GT(chi2_z(w2, wdof), 3.09) << "chi2 " << w2 << " dof " << wdof;
  }
}

TEST(ColouredSampler, PerChainTemperaturesAreHonoured) {
  // two halves of the chains at beta 0.05 and 2.0 on a ferromagnetic 2-D EA-like grid: the cold
  // half must order (mean energy per spin well below the hot half's)
  IsingProblem p = generate_maxcut_toroidal(8, 8, false, 1);  // J = -1: antiferromagnet, bipartite
  ColouredSpinSampler smp(p, 32, 3);
  torch::Tensor beta = torch::cat({torch::full({16}, 0.05, torch::kFloat64), torch::full({16}, 2.0, torch::kFloat64)});
  for (int k = 0; k < 300; ++k) smp.sweep(beta);
  const torch::Tensor e = smp.energies() / double(p.n);
  EXPECT_LT(e.slice(0, 16).mean().item<double>(), -1.5);   // ground state -2 per spin
  EXPECT_GT(e.slice(0, 0, 16).mean().item<double>(), -0.4);  // beta 0.05: ~ -2 tanh(0.05) = -0.1
  EXPECT_NE(message_of([&] { smp.sweep(torch::ones({3}, torch::kFloat64)); }).find("argument beta"), std::string::npos);
}

TEST(IsingMachines, TimeToSolution) {
  SolverResult r;
  r.replicas = 10;
  r.seconds = 2.0;  // 0.2 s per trial
  EXPECT_NEAR(tts99(r, 0.5), 0.2 * std::log(0.01) / std::log(0.5), 1e-12);
  EXPECT_DOUBLE_EQ(tts99(r, 1.0), 0.2);
  EXPECT_TRUE(std::isinf(tts99(r, 0.0)));
  r.replica_best = {-3, -2, -3.0000000001, -1};
  EXPECT_DOUBLE_EQ(success_probability(r, -3), 0.5);
}

}  // namespace
}  // namespace physgen

// ---- Boltzmann machine learning -------------------------------------------------------------

namespace physgen {
namespace {

/// N exact samples of exp(-E) / Z by inverse transform over all 2^n states.
torch::Tensor exact_samples(const IsingProblem& p, int64_t N, uint64_t seed) {
  const std::vector<double> E = enumerate_energies(p);
  const double e0 = *std::min_element(E.begin(), E.end());
  std::vector<double> cdf(E.size());
  double acc = 0;
  for (size_t b = 0; b < E.size(); ++b) cdf[b] = acc += std::exp(-(E[b] - e0));
  Xoshiro256pp r(seed);
  torch::Tensor out = torch::empty({N, p.n}, torch::kInt8);
  auto a = out.accessor<int8_t, 2>();
  for (int64_t k = 0; k < N; ++k) {
    const size_t b = std::lower_bound(cdf.begin(), cdf.end(), r.uniform() * acc) - cdf.begin();
    for (int64_t i = 0; i < p.n; ++i) a[k][i] = (b >> i & 1) ? 1 : -1;
  }
  return out;
}

/// Parameters theta = (J on the edges, h) of a problem, and the model with them set.
std::vector<double> params_of(const IsingProblem& p) {
  std::vector<double> t;
  for (const auto& e : p.edge_list()) t.push_back(e.w);
  t.insert(t.end(), p.h.begin(), p.h.end());
  return t;
}
IsingProblem with_params(const IsingProblem& s, const std::vector<double>& t) {
  auto edges = s.edge_list();
  for (size_t e = 0; e < edges.size(); ++e) edges[e].w = t[e];
  return IsingProblem::from_edges(s.n, edges, std::vector<double>(t.begin() + edges.size(), t.end()));
}

/// Covariance of the sufficient statistics (s_i s_j on the edges, s_i) under p: the Fisher
/// information of one sample.
torch::Tensor fisher(const IsingProblem& p) {
  const std::vector<double> E = enumerate_energies(p);
  const auto edges = p.edge_list();
  const int64_t K = static_cast<int64_t>(edges.size()) + p.n, S = static_cast<int64_t>(E.size());
  torch::Tensor phi = torch::empty({S, K}, torch::kFloat64), w = torch::empty({S}, torch::kFloat64);
  const double e0 = *std::min_element(E.begin(), E.end());
  for (int64_t b = 0; b < S; ++b) {
    auto spin = [&](int64_t i) { return (b >> i & 1) ? 1.0 : -1.0; };
    for (size_t e = 0; e < edges.size(); ++e) phi[b][e] = spin(edges[e].i) * spin(edges[e].j);
    for (int64_t i = 0; i < p.n; ++i) phi[b][edges.size() + i] = spin(i);
    w[b] = std::exp(-(E[b] - e0));
  }
  w = w / w.sum();
  torch::Tensor mu = torch::mv(phi.t(), w);
  return torch::mm(phi.t() * w, phi) - torch::outer(mu, mu);
}

TEST(BoltzmannLearning, RecoversTheCouplingsOfAKnownModel) {
  // truth: 8 spins, a ring plus three chords, J in [-0.6, 0.6], h in [-0.2, 0.2]
  Xoshiro256pp r(21);
  std::vector<IsingEdge> edges;
  for (int64_t i = 0; i < 8; ++i) edges.push_back({i, (i + 1) % 8, 1.2 * r.uniform() - 0.6});
  for (auto [i, j] : {std::pair<int64_t, int64_t>{0, 4}, {1, 5}, {2, 6}}) edges.push_back({i, j, 1.2 * r.uniform() - 0.6});
  std::vector<double> h(8);
  for (auto& v : h) v = 0.4 * r.uniform() - 0.2;
  const IsingProblem truth = IsingProblem::from_edges(8, edges, h);
  const int64_t N = 5000;
  const torch::Tensor data = exact_samples(truth, N, 3);

  // the exact maximum-likelihood estimate on these data (Newton with the exact Fisher matrix)
  IsingProblem structure = truth;
  for (auto& v : structure.J) v = 0.0;
  for (auto& v : structure.h) v = 0.0;
  const IsingMoments dm = data_moments(data, structure);
  std::vector<double> target = dm.pairs;
  target.insert(target.end(), dm.means.begin(), dm.means.end());
  std::vector<double> mle = params_of(structure);
  for (int it = 0; it < 30; ++it) {
    const IsingProblem m = with_params(structure, mle);
    const IsingMoments em = exact_moments(m);
    std::vector<double> g(target.size());
    for (size_t k = 0; k < em.pairs.size(); ++k) g[k] = target[k] - em.pairs[k];
    for (size_t i = 0; i < em.means.size(); ++i) g[em.pairs.size() + i] = target[em.pairs.size() + i] - em.means[i];
    torch::Tensor step = torch::linalg_solve(fisher(m), torch::tensor(g, torch::kFloat64), true);
    for (size_t k = 0; k < mle.size(); ++k) mle[k] += step[k].item<double>();
  }
  // its statistical error: sqrt(diag(F^-1) / N)
  const torch::Tensor cov = torch::inverse(fisher(with_params(structure, mle))) / double(N);
  std::vector<double> sigma(mle.size());
  for (size_t k = 0; k < mle.size(); ++k) sigma[k] = std::sqrt(cov[k][k].item<double>());
  const std::vector<double> true_theta = params_of(truth);
  double truth_z = 0;
  for (size_t k = 0; k < mle.size(); ++k) truth_z = std::max(truth_z, std::abs(mle[k] - true_theta[k]) / sigma[k]);
  EXPECT_LT(truth_z, 4.0) << "the exact MLE of exact samples must cover the truth";

  // Criterion, fixed before measuring: the sampler-driven fit lies within one statistical
  // standard error of the exact MLE for every parameter (the sampler adds less noise than the
  // data have).
  auto worst = [&](const BoltzmannFit& fit) {
    const std::vector<double> t = params_of(fit.model);
    double z = 0;
    for (size_t k = 0; k < t.size(); ++k) z = std::max(z, std::abs(t[k] - mle[k]) / sigma[k]);
    return z;
  };
  BoltzmannFitOptions o;
  o.steps = 3000;
  o.chains = 256;
  const BoltzmannFit fit = fit_boltzmann_machine(data, structure, o);
  std::cout << "[ measured ] max |MLE - truth| / sigma = " << truth_z << ", max |fit - MLE| / sigma = " << worst(fit)
            << ", sigma in [" << *std::min_element(sigma.begin(), sigma.end()) << ", "
            << *std::max_element(sigma.begin(), sigma.end()) << "]\n";
  EXPECT_LT(worst(fit), 1.0);
  // an unconverged fit (30 steps) is a plausible wrong answer: it must fail the criterion
  o.steps = 30;
  const double short_z = worst(fit_boltzmann_machine(data, structure, o));
  std::cout << "[ measured ] 30-step fit: max |fit - MLE| / sigma = " << short_z << "\n";
  EXPECT_GT(short_z, 1.0);
}

TEST(BoltzmannLearning, RejectsDataThatAreNotSpinsOfTheStructure) {
  const IsingProblem s = complete_structure(4);
  EXPECT_EQ(s.edges(), 6);
  EXPECT_NE(message_of([&] { fit_boltzmann_machine(torch::ones({10, 5}), s); }).find("argument data"),
            std::string::npos);
  EXPECT_NE(message_of([&] { fit_boltzmann_machine(torch::zeros({10, 4}), s); }).find("Ising spins +-1"),
            std::string::npos);
  BoltzmannFitOptions o;
  o.lr = 0;
  EXPECT_NE(message_of([&] { fit_boltzmann_machine(torch::ones({10, 4}), s, o); }).find("argument lr"),
            std::string::npos);
}

}  // namespace
}  // namespace physgen
