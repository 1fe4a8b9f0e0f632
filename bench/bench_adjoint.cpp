// Adjoint sensitivities versus direct backpropagation through the solver, on the same
// neural ODE: time per gradient and peak heap memory for growing numbers of RK4 steps
// (and one adaptive dopri5 case), printed as adjoint / direct ratios in the same run.
//
// Model: dx/dt = TimeMLP(t, x), d = 16, hidden {128, 128}, tanh, batch 256, float32,
// t in [0, 1]; loss = mean(x(1)^2); one intra-op thread.
// Memory: the peak of glibc's in-use heap (mallinfo2: uordblks + hblkhd) above the level
// before the gradient, sampled at every evaluation of the field (forward and backward)
// and after the forward pass, in a separate untimed pass. configure_runtime() keeps
// tensors on the heap (no mmap), so this counts every tensor byte the gradient allocates.
//
//   ./build/bench/bench_adjoint [--benchmark_min_time=0.5]
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include <torch/torch.h>

#include "physgen/core/runtime.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/ode/adjoint.h"
#include "physgen/ode/odeint.h"

using namespace physgen;

namespace {

constexpr int64_t kDim = 16, kBatch = 256;

struct HeapPeak {
  size_t base = 0, peak = 0;
  static size_t in_use() {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
  }
  void start() { base = peak = in_use(); }
  void sample() { peak = std::max(peak, in_use()); }
  double mib() const { return static_cast<double>(peak - base) / (1024.0 * 1024.0); }
};
HeapPeak* g_peak = nullptr;  // sampled inside the field while a memory pass runs

struct Setup {
  TimeMLP field{nullptr};
  torch::Tensor x0;
  Setup() {
    torch::manual_seed(0);
    field = TimeMLP(TimeMLPOptions(kDim).hidden({128, 128}));
    x0 = torch::randn({kBatch, kDim});
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

OdeOptions solver_for(int64_t steps) {
  // steps > 0: RK4 with that many steps; steps < 0: dopri5 with tolerance 10^steps.
  if (steps > 0) return OdeOptions("rk4").n_steps(steps);
  const double tol = std::pow(10.0, static_cast<double>(steps));
  return OdeOptions("dopri5").rtol(tol).atol(tol);
}

struct GradientRun {
  int64_t nfe_forward = 0, nfe_backward = 0;
};

GradientRun gradient(bool adjoint, const OdeOptions& solver) {
  Setup& s = setup();
  auto impl = s.field.ptr();
  for (auto& p : impl->parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  OdeFunction f = [impl](double t, const torch::Tensor& y) {
    auto v = impl->forward(t, y);
    if (g_peak) g_peak->sample();
    return v;
  };
  GradientRun run;
  OdeResult r = adjoint ? odeint_adjoint(f, impl->parameters(), s.x0, 0.0, 1.0, solver)
                        : odeint(f, s.x0, 0.0, 1.0, solver);
  if (g_peak) g_peak->sample();
  r.y().square().mean().backward();
  run.nfe_forward = r.nfe;
  run.nfe_backward = adjoint ? r.backward->nfe : 0;
  return run;
}

double peak_mib(bool adjoint, const OdeOptions& solver) {
  gradient(adjoint, solver);  // allocate the .grad tensors first
  HeapPeak peak;
  peak.start();
  g_peak = &peak;
  gradient(adjoint, solver);
  g_peak = nullptr;
  return peak.mib();
}

void BM_Gradient(benchmark::State& state) {
  const bool adjoint = state.range(0) != 0;
  const OdeOptions solver = solver_for(state.range(1));
  GradientRun run;
  for (auto _ : state) run = gradient(adjoint, solver);
  state.counters["nfe_fwd"] = static_cast<double>(run.nfe_forward);
  state.counters["nfe_bwd"] = static_cast<double>(run.nfe_backward);
  state.counters["peak_MiB"] = peak_mib(adjoint, solver);
  state.SetLabel(std::string(adjoint ? "adjoint" : "direct") + " " + solver.method());
}

// Mode (0 direct, 1 adjoint) x solver (RK4 steps, or -k: dopri5 at 1e-k).
BENCHMARK(BM_Gradient)
    ->ArgsProduct({{0, 1}, {8, 32, 128, -5}})
    ->Unit(benchmark::kMillisecond);

// Collects time and memory per run to print the ratio table after the normal output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  struct Row {
    double ms = 0, mib = 0, nfe_fwd = 0, nfe_bwd = 0;
  };
  std::map<std::pair<int64_t, int>, Row> rows;  // (solver arg, mode)

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      // Name: BM_Gradient/<mode>/<solver>.
      const std::string name = run.benchmark_name();
      const auto a = name.find('/'), b = name.find('/', a + 1);
      const int mode = std::stoi(name.substr(a + 1, b - a - 1));
      const int64_t solver = std::stoll(name.substr(b + 1));
      Row& row = rows[{solver, mode}];
      row.ms = run.GetAdjustedRealTime();
      row.mib = run.counters.at("peak_MiB");
      row.nfe_fwd = run.counters.at("nfe_fwd");
      row.nfe_bwd = run.counters.at("nfe_bwd");
    }
  }

  void print_ratios() const {
    std::printf("\nadjoint / direct (same run; d=%lld, batch %lld, MLP 128x128):\n",
                static_cast<long long>(kDim), static_cast<long long>(kBatch));
    std::printf("%-14s %8s %8s %10s %10s %10s %10s %8s %8s\n", "solver", "nfe_fwd", "nfe_bwd",
                "direct_ms", "adjoint_ms", "time_x", "direct_MiB", "adj_MiB", "mem_x");
    for (const auto& kv : rows) {
      if (kv.first.second != 0) continue;
      auto it = rows.find({kv.first.first, 1});
      if (it == rows.end()) continue;
      const Row& d = kv.second;
      const Row& a = it->second;
      const std::string solver = kv.first.first > 0
                                     ? "rk4 x" + std::to_string(kv.first.first)
                                     : "dopri5 1e" + std::to_string(kv.first.first);
      std::printf("%-14s %8.0f %8.0f %10.2f %10.2f %10.2f %10.1f %8.1f %8.3f\n", solver.c_str(),
                  a.nfe_fwd, a.nfe_bwd, d.ms, a.ms, a.ms / d.ms, d.mib, a.mib, a.mib / d.mib);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  configure_runtime(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
