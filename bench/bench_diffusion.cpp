// Diffusion-type samplers and training steps: samples per second for every sampler, and DDPM
// training steps per second against the same loop in Python PyTorch (Debian's python3-torch,
// bench/diffusion_train_reference.py), measured in the same run and printed as ratios.
//
// Networks are freshly initialised (sampling cost does not depend on training; fixed-step
// solvers are used where an adaptive one's cost would); rates are per wall-clock second, as
// the Python reference measures them:
//   vector: event (2), MLP 3 x 128 SiLU with 32 sinusoidal time features, batch 1000;
//   lattice: event (8, 8), U-Net base 16 channels, multipliers {1, 2}, batch 64.
// Samplers: ddpm (ancestral, 1000 steps), ddim (50 steps), em / pc (score SDE, 1000 steps;
// pc adds one Langevin step per step), ode (probability flow, rk4 with 100 steps),
// pfgm (rk4, 100 steps in ln z), pfgm++ (rk4, 100 steps in ln sigma). One intra-op thread.
//
//   ./build/bench/bench_diffusion [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/models/diffusion/ddpm.h"
#include "physgen/models/diffusion/score_sde.h"
#include "physgen/models/pfgm/pfgm.h"
#include "physgen/models/pfgm/pfgmpp.h"
#include "physgen/train/trainer.h"

using namespace physgen;

namespace {

std::vector<int64_t> event_of(bool lattice) {
  return lattice ? std::vector<int64_t>{8, 8} : std::vector<int64_t>{2};
}
int64_t batch_of(bool lattice) { return lattice ? 64 : 1000; }
/// Default networks; the U-Net (used for the lattice) with 16 base channels.
DenoiserNetOptions default_net() {
  DenoiserNetOptions o;
  o.unet().base_channels(16);
  return o;
}

void report(benchmark::State& state, int64_t n) {
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void BM_DDPM(benchmark::State& state, const std::string& sampler, bool lattice) {
  seed_all(1);
  DDPM model(DDPMOptions(event_of(lattice))
                 .network(default_net())
                 .sampler(sampler)
                 .ddim(DdimOptions().steps(50)));
  for (auto _ : state) benchmark::DoNotOptimize(model->sample(batch_of(lattice)));
  report(state, batch_of(lattice));
}

void BM_ScoreSDE(benchmark::State& state, const std::string& sampler, bool lattice) {
  seed_all(2);
  ScoreSDE model(ScoreSDEOptions(event_of(lattice))
                     .network(default_net())
                     .sampler(sampler)
                     .solver(OdeOptions("rk4").n_steps(100)));
  for (auto _ : state) benchmark::DoNotOptimize(model->sample(batch_of(lattice)));
  report(state, batch_of(lattice));
}

void BM_PFGM(benchmark::State& state, bool lattice) {
  seed_all(3);
  PFGM model(PFGMOptions(event_of(lattice)));  // MLP on the flattened field
  for (auto _ : state) benchmark::DoNotOptimize(model->sample(batch_of(lattice)));
  report(state, batch_of(lattice));
}

void BM_PFGMPP(benchmark::State& state, bool lattice) {
  seed_all(4);
  PFGMPP model(PFGMPPOptions(event_of(lattice))
                   .network(default_net())
                   .solver(OdeOptions("rk4").n_steps(100)));
  for (auto _ : state) benchmark::DoNotOptimize(model->sample(batch_of(lattice)));
  report(state, batch_of(lattice));
}

/// DDPM training steps in C++: the bare loop (loss, backward, Adam step on a minibatch drawn
/// like the Python reference) and the shared Trainer (schedule, NaN checks, history).
void BM_TrainStep(benchmark::State& state, bool use_trainer) {
  seed_all(5);
  auto data = torch::randn({20000, 2});
  DDPM model(DDPMOptions({2}));
  if (use_trainer) {
    DDPMTask task(model, "ddpm");
    for (auto _ : state) {
      state.PauseTiming();
      Trainer trainer(task, TrainerOptions()
                                .steps(100)
                                .batch_size(256)
                                .lr(1e-3)
                                .schedule("constant")
                                .progress(false)
                                .log_every(1000));
      state.ResumeTiming();
      trainer.fit(data);
    }
    state.counters["steps_per_s"] = benchmark::Counter(
        100.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    return;
  }
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  for (auto _ : state) {
    auto idx = torch::randint(0, data.size(0), {256}, torch::kLong);
    auto loss = model->loss(data.index_select(0, idx));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  state.counters["steps_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Console output plus a copy of every rate, for the summary.
class Collector : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> rates;
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      for (const char* key : {"samples_per_s", "steps_per_s"}) {
        auto it = r.counters.find(key);
        if (it != r.counters.end()) rates[r.benchmark_name()] = it->second.value;
      }
    }
  }
};

/// Runs the Python reference and returns its steps per second (0 if it could not run).
double python_reference(const std::string& script, int steps) {
  const std::string cmd =
      "/usr/bin/python3 " + script + " " + std::to_string(steps) + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return 0.0;
  char line[256];
  double rate = 0.0;
  while (fgets(line, sizeof line, pipe)) std::sscanf(line, "steps_per_second %lf", &rate);
  pclose(pipe);
  return rate;
}

}  // namespace

// Every case in milliseconds of wall-clock time.
#define SAMPLER_BENCH(...) \
  BENCHMARK_CAPTURE(__VA_ARGS__)->Unit(benchmark::kMillisecond)->UseRealTime()

SAMPLER_BENCH(BM_DDPM, ddpm_vector, std::string("ddpm"), false);
SAMPLER_BENCH(BM_DDPM, ddim50_vector, std::string("ddim"), false);
SAMPLER_BENCH(BM_ScoreSDE, em_vector, std::string("em"), false);
SAMPLER_BENCH(BM_ScoreSDE, pc_vector, std::string("pc"), false);
SAMPLER_BENCH(BM_ScoreSDE, ode_rk4_vector, std::string("ode"), false);
SAMPLER_BENCH(BM_PFGM, pfgm_vector, false);
SAMPLER_BENCH(BM_PFGMPP, pfgmpp_vector, false);
SAMPLER_BENCH(BM_DDPM, ddpm_lattice8, std::string("ddpm"), true);
SAMPLER_BENCH(BM_DDPM, ddim50_lattice8, std::string("ddim"), true);
SAMPLER_BENCH(BM_ScoreSDE, em_lattice8, std::string("em"), true);
SAMPLER_BENCH(BM_ScoreSDE, ode_rk4_lattice8, std::string("ode"), true);
SAMPLER_BENCH(BM_PFGMPP, pfgmpp_lattice8, true);
SAMPLER_BENCH(BM_TrainStep, train_loop, false);
SAMPLER_BENCH(BM_TrainStep, train_trainer, true);

int main(int argc, char** argv) {
  configure_runtime(1);
  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  // The reference script sits next to this source file (__FILE__ is absolute in CMake builds).
  std::string here = __FILE__;
  const std::string script =
      here.substr(0, here.find_last_of('/') + 1) + "diffusion_train_reference.py";
  const double py = python_reference(script, 300);
  std::printf("\nDDPM training steps per second (batch 256, 2-D, MLP 3 x 128, one thread)\n");
  std::printf("%-28s %12s %10s\n", "loop", "steps/s", "vs python");
  auto row = [&](const char* name, const std::string& prefix) {
    for (const auto& kv : collector.rates) {
      if (kv.first.rfind(prefix, 0) != 0) continue;  // names carry a "/real_time" suffix
      std::printf("%-28s %12.1f %10s\n", name, kv.second,
                  py > 0 ? c10::str(kv.second / py).substr(0, 5).c_str() : "n/a");
    }
  };
  row("C++ bare loop", "BM_TrainStep/train_loop");
  row("C++ shared Trainer", "BM_TrainStep/train_trainer");
  if (py > 0) {
    std::printf("%-28s %12.1f %10s\n", "Python PyTorch (same run)", py, "1");
  } else {
    std::printf("Python reference unavailable (/usr/bin/python3 with torch)\n");
  }
  return 0;
}
