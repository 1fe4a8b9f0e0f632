// HMC throughput for 2D phi^4: fused CPU float64 kernel vs. the tensor (torch::roll) path,
// measured in the same run on one thread.
//
// Rate unit: site-steps per ns, one site-step = one leapfrog step (force included) of one site.
//   integrate/<path>/L=..: the molecular-dynamics trajectory alone (physgen::integrate)
//   update/<path>/L=..   : whole HMC trajectories (Hmc::update: momenta, action, accept/reject)
//   momenta/L=..         : torch::randn_like for one trajectory's momenta (sites per ns); LibTorch
//                          1.13 draws float64 normals with a scalar loop, so with 10 steps per
//                          trajectory this, not the integrator, bounds the update rate.
// After the runs the program prints fused/tensor ratios.
//
//   ./build/bench/bench_phi4 [--benchmark_min_time=0.5]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"

namespace {

constexpr int64_t kChains = 256;
constexpr int64_t kSteps = 10;
const physgen::Phi4Params kParams{8, -4.0, 8.0};

physgen::Phi4Params params_for(int64_t L) {
  auto p = kParams;
  p.L = L;
  return p;
}

void bench_integrate(benchmark::State& state, int64_t L, bool fused) {
  physgen::seed_all(1);
  const auto p = params_for(L);
  physgen::Phi4Action action(p, fused);
  auto x0 = 0.3 * torch::randn({kChains, L, L}, torch::kFloat64);
  auto p0 = torch::randn_like(x0);
  for (auto _ : state) {
    torch::Tensor x = x0, mom = p0;
    physgen::integrate(action, x, mom, 0.05, kSteps, "leapfrog");
    benchmark::DoNotOptimize(x.data_ptr());
  }
  const double site_steps = static_cast<double>(kChains * L * L * kSteps);
  state.counters["site_steps_per_ns"] = benchmark::Counter(
      site_steps * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void bench_update(benchmark::State& state, int64_t L, bool fused) {
  physgen::seed_all(2);
  const auto p = params_for(L);
  auto target = std::make_shared<const physgen::Phi4Action>(p, fused);
  physgen::Hmc hmc(target, physgen::HmcOptions().step_size(0.05).n_steps(kSteps),
                   physgen::phi4_initial_state(p, kChains, physgen::Phi4Start::Random));
  hmc.update(5);
  for (auto _ : state) hmc.update(1);
  const double site_steps = static_cast<double>(kChains * L * L * kSteps);
  state.counters["site_steps_per_ns"] = benchmark::Counter(
      site_steps * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["acceptance"] = hmc.info()["acceptance"].get<double>();
}

// Reference: drawing the momenta of one trajectory (torch::randn_like, float64), in sites per ns.
void bench_momenta(benchmark::State& state, int64_t L) {
  physgen::seed_all(3);
  auto x = torch::zeros({kChains, L, L}, torch::kFloat64);
  for (auto _ : state) {
    auto p = torch::randn_like(x);
    benchmark::DoNotOptimize(p.data_ptr());
  }
  state.counters["sites_per_ns"] = benchmark::Counter(
      static_cast<double>(kChains * L * L) * 1e-9 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

// Console output plus a copy of every rate, for the ratio table.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      auto it = r.counters.find("site_steps_per_ns");
      if (r.run_type == Run::RT_Iteration && it != r.counters.end()) {
        rates[r.benchmark_name()] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rates;
};

std::string name(const std::string& kind, bool fused, int64_t L) {
  return kind + (fused ? "/fused" : "/tensor") + "/L=" + std::to_string(L);
}

}  // namespace

int main(int argc, char** argv) {
  physgen::configure_runtime(1);
  const int64_t sizes[] = {8, 16, 32};
  for (int64_t L : sizes) {
    for (bool fused : {true, false}) {
      benchmark::RegisterBenchmark(name("integrate", fused, L).c_str(), bench_integrate, L, fused)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(name("update", fused, L).c_str(), bench_update, L, fused)
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("momenta/L=" + std::to_string(L)).c_str(), bench_momenta, L)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::printf("\nphi4 HMC, %lld chains, %lld leapfrog steps, float64, 1 thread (site-steps per ns)\n",
              static_cast<long long>(kChains), static_cast<long long>(kSteps));
  std::printf("%-10s %5s %10s %10s %8s\n", "kind", "L", "fused", "tensor", "ratio");
  for (const char* kind : {"integrate", "update"}) {
    for (int64_t L : sizes) {
      auto f = reporter.rates.find(name(kind, true, L));
      auto t = reporter.rates.find(name(kind, false, L));
      if (f == reporter.rates.end() || t == reporter.rates.end()) continue;
      std::printf("%-10s %5lld %10.3f %10.3f %8.1f\n", kind, static_cast<long long>(L), f->second,
                  t->second, f->second / t->second);
    }
  }
  return 0;
}
