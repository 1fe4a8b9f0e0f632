// Ising MCMC throughput on one thread.
//
//   BM_MultispinMetropolis/L : checkerboard Metropolis, 64 chains per word
//                              (IsingSampler "metropolis", 256 chains), beta = beta_c;
//                              counters flips_per_ns (site updates per ns), the scalar
//                              reference measured in the same run, and their ratio.
//   BM_MultispinHeatbath/L   : the same for "heatbath".
//   BM_ScalarMetropolis/L    : the reference: one chain, int8 spins, exp lookup
//                              table, a Xoshiro256++ uniform per undecided site.
//   BM_Wolff/L               : Wolff at beta_c (16 chains), ns per flipped spin.
//
// Rates use this thread's CPU time (the benchmark's CPU column), not wall time.
// Run: ./build/bench/bench_ising   (configure with -DCMAKE_BUILD_TYPE=Release)
#include <benchmark/benchmark.h>
#include <time.h>

#include <cmath>
#include <map>
#include <vector>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/ising.h"
#include "physgen/mcmc/ising.h"

namespace {

using physgen::IsingParams;
using physgen::IsingSampler;

// Plain scalar checkerboard Metropolis (h = 0, J = 1), the baseline multispin beats.
class ScalarMetropolis {
 public:
  ScalarMetropolis(int64_t L, double beta, uint64_t seed) : L_(L), s_(L * L), rng_(seed, 0) {
    for (auto& x : s_) x = (rng_.next() >> 63) ? 1 : -1;
    for (int k = 0; k <= 8; ++k) w_[k] = std::exp(-2.0 * beta * (k - 4));
  }
  void sweep() {
    const int64_t L = L_;
    int8_t* s = s_.data();
    for (int color = 0; color < 2; ++color) {
      for (int64_t y = 0; y < L; ++y) {
        const int8_t* up = s + (y == 0 ? L - 1 : y - 1) * L;
        const int8_t* down = s + (y == L - 1 ? 0 : y + 1) * L;
        int8_t* row = s + y * L;
        for (int64_t x = (y + color) & 1; x < L; x += 2) {
          const int sum =
              row[x == 0 ? L - 1 : x - 1] + row[x == L - 1 ? 0 : x + 1] + up[x] + down[x];
          const int k = row[x] * sum;  // dE = 2 k
          if (k <= 0 || rng_.uniform() < w_[k + 4]) row[x] = static_cast<int8_t>(-row[x]);
        }
      }
    }
  }
  int64_t checksum() const {
    int64_t m = 0;
    for (auto x : s_) m += x;
    return m;
  }

 private:
  int64_t L_;
  std::vector<int8_t> s_;
  physgen::Xoshiro256pp rng_;
  double w_[9];
};

// CPU time of this thread in ns: the build machine is shared, so wall time
// would charge other processes' time slices to the kernel.
double thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return 1e9 * static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec);
}

// Scalar flips per ns at size L, measured once per process (~0.3 s).
double scalar_flips_per_ns(int64_t L) {
  static std::map<int64_t, double> cache;
  auto it = cache.find(L);
  if (it != cache.end()) return it->second;
  ScalarMetropolis ref(L, physgen::ising_beta_critical(), 1);
  for (int i = 0; i < 20; ++i) ref.sweep();
  int64_t sweeps = 0;
  const double t0 = thread_cpu_ns();
  while (thread_cpu_ns() - t0 < 3e8) {
    for (int i = 0; i < 10; ++i) ref.sweep();
    sweeps += 10;
  }
  const double rate = static_cast<double>(sweeps * L * L) / (thread_cpu_ns() - t0);
  benchmark::DoNotOptimize(ref.checksum());
  return cache[L] = rate;
}

void BM_ScalarMetropolis(benchmark::State& state) {
  const int64_t L = state.range(0);
  ScalarMetropolis ref(L, physgen::ising_beta_critical(), 1);
  const double t0 = thread_cpu_ns();
  for (auto _ : state) ref.sweep();
  const double ns = thread_cpu_ns() - t0;
  benchmark::DoNotOptimize(ref.checksum());
  state.counters["flips_per_ns"] = static_cast<double>(state.iterations() * L * L) / ns;
}

void multispin(benchmark::State& state, const char* algorithm) {
  const int64_t L = state.range(0), chains = state.range(1);
  IsingSampler sampler(IsingParams{L, physgen::ising_beta_critical()}, algorithm, chains, 1);
  sampler.update(20);
  const double t0 = thread_cpu_ns();
  for (auto _ : state) sampler.update(1);
  const double rate =
      static_cast<double>(state.iterations() * chains * L * L) / (thread_cpu_ns() - t0);
  const double scalar = scalar_flips_per_ns(L);
  state.counters["flips_per_ns"] = rate;
  state.counters["scalar_flips_per_ns"] = scalar;
  state.counters["ratio"] = rate / scalar;
  state.counters["acceptance"] = sampler.info()["acceptance"].get<double>();
}

void BM_MultispinMetropolis(benchmark::State& state) { multispin(state, "metropolis"); }
void BM_MultispinHeatbath(benchmark::State& state) { multispin(state, "heatbath"); }

void BM_Wolff(benchmark::State& state) {
  const int64_t L = state.range(0), chains = 16;
  IsingSampler sampler(IsingParams{L, physgen::ising_beta_critical()}, "wolff", chains, 1);
  sampler.update(50);
  const double flipped0 = sampler.info()["flipped_per_sweep"].get<double>() * 50 * chains;
  const double t0 = thread_cpu_ns();
  for (auto _ : state) sampler.update(1);
  const double ns = thread_cpu_ns() - t0;
  const auto info = sampler.info();
  const double flipped =
      info["flipped_per_sweep"].get<double>() * static_cast<double>(sampler.sweeps()) * chains -
      flipped0;
  state.counters["ns_per_flipped_spin"] = ns / flipped;
  state.counters["mean_cluster_size"] = info["mean_cluster_size"].get<double>();
  state.counters["clusters_per_sweep"] = static_cast<double>(sampler.clusters_per_sweep());
}

BENCHMARK(BM_ScalarMetropolis)->Arg(16)->Arg(32)->Arg(64)->MinTime(0.5);
BENCHMARK(BM_MultispinMetropolis)->Args({16, 256})->Args({32, 256})->Args({64, 256})->MinTime(0.5);
BENCHMARK(BM_MultispinHeatbath)->Args({16, 256})->Args({32, 256})->Args({64, 256})->MinTime(0.5);
BENCHMARK(BM_Wolff)->Arg(32)->Arg(64)->MinTime(0.5);
BENCHMARK(BM_Wolff)->Arg(256)->Iterations(20);

}  // namespace

int main(int argc, char** argv) {
  physgen::configure_runtime(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
