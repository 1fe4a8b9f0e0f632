// Cost of the error analysis: Gamma method on long series, measure_lattice on ensembles.
//   ./build/bench/bench_observables
#include <malloc.h>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/observables/estimators/gamma_method.h"
#include "physgen/observables/lattice.h"

namespace {

void BM_GammaMethodAr1(benchmark::State& state) {
  physgen::seed_all(1);
  const int64_t n = state.range(0);
  auto eta = torch::randn({n}, torch::kFloat64);
  auto x = eta.clone();
  auto px = x.data_ptr<double>();
  for (int64_t t = 1; t < n; ++t) px[t] = 0.9 * px[t - 1] + px[t];
  for (auto _ : state) benchmark::DoNotOptimize(physgen::gamma_method(x).error);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_GammaMethodAr1)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_MeasureLatticeIsing(benchmark::State& state) {
  physgen::seed_all(2);
  const int64_t n = state.range(0), L = state.range(1);
  auto s = (torch::randint(0, 2, {n, L, L}, torch::kInt8) * 2 - 1).to(torch::kInt8);
  nlohmann::json p{{"beta", 0.44}};
  for (auto _ : state) benchmark::DoNotOptimize(physgen::measure_lattice(s, "ising", p, 4));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MeasureLatticeIsing)->Args({4096, 16})->Args({4096, 64})->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  torch::set_num_threads(1);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
