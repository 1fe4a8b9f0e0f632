// GAN training steps per CPU second on one thread, against the same loop in Python PyTorch
// (bench/gan_reference.py, Debian's python3-torch) run by this program after the benchmarks:
// it prints physgen / Python ratios measured in the same run (process CPU time on both sides,
// so load from other processes does not skew the ratio).
//
// One step = a minibatch drawn with randint + GanTask::train_step (critic step with the loss
// and, for WGAN-GP, the gradient penalty on per-sample interpolates; a generator step every
// n_critic-th step). The Trainer adds only a finiteness check and logging on top.
//   gan      non-saturating, MLP 2 -> 128 -> 128 (leaky ReLU), latent 4, batch 256, 2D data
//   wgan-gp  the same networks, lambda 10, n_critic 5
//   dcgan    8 x 8 lattice, periodic DCGAN generator (64 channels, batch norm) and
//            discriminator (32 channels), latent 16, batch 64
//
//   ./build/bench/bench_gan [--benchmark_min_time=1]    (PHYSGEN_PYTHON overrides /usr/bin/python3)
#include <benchmark/benchmark.h>

#include <array>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/models/gan/gan.h"

namespace {

std::map<std::string, double> g_rate;  // steps per CPU second of the final run of each variant

/// CPU time of this process (one thread: insensitive to other load on the machine).
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

physgen::GanOptions options_for(const std::string& variant) {
  if (variant == "dcgan") return physgen::GanOptions({8, 8}).network("dcgan").latent_dim(16);
  return physgen::GanOptions::preset(variant, {2}).latent_dim(4).hidden({128, 128});
}

void bench_step(benchmark::State& state, const std::string& variant) {
  physgen::seed_all(1);
  const bool lattice = variant == "dcgan";
  const int64_t batch = lattice ? 64 : 256;
  auto data = lattice ? torch::randn({4096, 8, 8}) : torch::randn({20000, 2});
  physgen::Gan gan(options_for(variant));
  physgen::GanTask task(gan);
  torch::optim::Adam opt_g(gan->generator_parameters(), 1e-4), opt_d(gan->discriminator_parameters(), 1e-4);
  std::vector<torch::optim::Optimizer*> opts{&opt_g, &opt_d};
  physgen::Diagnostics diag;
  int64_t step = 0;
  auto one = [&] {
    auto x = data.index_select(0, torch::randint(data.size(0), {batch}, torch::kLong));
    return task.train_step(x, opts, 0.0, step++, diag);
  };
  for (int i = 0; i < 20; ++i) one();  // warm-up
  const double t0 = process_cpu_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(one());
  g_rate[variant] = static_cast<double>(state.iterations()) / (process_cpu_seconds() - t0);
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(bench_step, gan, std::string("gan"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_step, wgan_gp, std::string("wgan-gp"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_step, dcgan, std::string("dcgan"))->Unit(benchmark::kMillisecond);

/// Runs the Python reference for `variant`; its steps per second, or a negative value on failure.
double python_rate(const std::string& variant, int steps) {
  std::string file = __FILE__;
  const std::string dir = file.substr(0, file.find_last_of('/'));
  const char* py = std::getenv("PHYSGEN_PYTHON");
  const std::string cmd = std::string(py ? py : "/usr/bin/python3") + " " + dir + "/gan_reference.py --variant " +
                          variant + " --steps " + std::to_string(steps) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return -1;
  std::array<char, 512> line{};
  std::string out;
  while (fgets(line.data(), line.size(), pipe.get())) out += line.data();
  const auto pos = out.find("steps_per_second ");
  if (pos == std::string::npos) {
    std::fprintf(stderr, "python reference failed for %s:\n%s\n", variant.c_str(), out.c_str());
    return -1;
  }
  return std::atof(out.c_str() + pos + 17);
}

}  // namespace

int main(int argc, char** argv) {
  physgen::configure_runtime(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("\n%-9s %14s %14s %8s\n", "variant", "physgen st/s", "python st/s", "ratio");
  for (const auto& [variant, rate] : g_rate) {
    const double py = python_rate(variant, variant == "dcgan" ? 200 : 500);
    if (py > 0)
      std::printf("%-9s %14.1f %14.1f %8.2f\n", variant.c_str(), rate, py, rate / py);
    else
      std::printf("%-9s %14.1f %14s %8s\n", variant.c_str(), rate, "n/a", "n/a");
  }
  return 0;
}
