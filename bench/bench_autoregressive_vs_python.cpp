// The autoregressive families on an L x L lattice (default L = 16; 2D Ising at beta_c): physgen
// (C++) against the same models and loop in Python PyTorch
// (bench/python/autoregressive_reverse_kl.py, Debian's python3-torch), measured in one run.
//
//   ./build/bench/bench_autoregressive_vs_python [--families LIST] [--L L] [--steps N] [--threads T]
//                                                [--batch B] [--sample-n N] [--script PATH]
//
// --families: comma-separated, from van, transformer, han (default "van,transformer,han"),
// measured in the order given; han needs L a power of 2.
//
// For each family with the zoo defaults (VAN: width 32, depth 3, half_kernel 2, first layer
// half kernel L - 1; transformer: d 32, 4 heads, 2 layers, ff 128, spin head; HAN: one MADE per
// level, 2 hidden ReLU layers of max(64, 2 (cross + frame)) units; all Z2-symmetrised) it
// prints reverse-KL training steps per second (batch B: sample B spins, log q with gradients,
// the score-function loss, Adam) and samples per second of sample(n), for both, and the ratios
// C++ / Python; and the C++ split of a training step into sampling and log q + backward.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/targets.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/zoo.h"
#include "python_reference.h"

namespace {

using namespace physgen;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Numbers {
  double steps_per_second = -1, samples_per_second = -1, sample_seconds = 0, backward_seconds = 0;
};

Model build(const std::string& family, int64_t L, const nlohmann::json& params) {
  ModelSpec spec;
  spec.family = family;
  spec.model = default_model_options(family, {L, L});
  spec.model["event_shape"] = {L, L};
  spec.system = "ising";
  spec.system_params = params;
  return build_model(spec);
}

Numbers cpp_numbers(const std::string& family, int64_t L, double beta, int64_t batch, int64_t steps, int64_t warmup,
                    int64_t sample_n) {
  seed_all(1);
  const nlohmann::json params{{"L", L}, {"beta", beta}, {"h", 0.0}, {"J", 1.0}};
  const TargetPtr target = make_target("ising", params);
  Model model = build(family, L, params);
  ModelTask task(model, "reverse-kl", target, batch);
  auto opts = TrainerOptions().steps(warmup + steps).batch_size(batch).lr(1e-3).schedule("constant").progress(false)
                  .log_every(1000000);
  Trainer trainer(task, opts);
  trainer.fit(torch::Tensor(), warmup);
  Numbers n;
  n.steps_per_second = trainer.fit(torch::Tensor()).steps_per_second;
  // The two halves of a step.
  auto t0 = Clock::now();
  auto x = model.likelihood->sample(batch);
  n.sample_seconds = since(t0);
  t0 = Clock::now();
  model.likelihood->log_prob(x).sum().backward();
  n.backward_seconds = since(t0);
  torch::NoGradGuard ng;
  model.generative->sample(8);
  t0 = Clock::now();
  model.generative->sample(sample_n);
  n.samples_per_second = static_cast<double>(sample_n) / since(t0);
  return n;
}

Numbers python_numbers(const std::string& family, int64_t L, double beta, int64_t batch, int64_t steps, int64_t warmup,
                       int64_t sample_n, int threads, const std::string& script) {
  const std::string cmd = "/usr/bin/python3 " + script + " --model " + family + " --L " + std::to_string(L) +
                          " --beta " + std::to_string(beta) + " --batch " + std::to_string(batch) + " --steps " +
                          std::to_string(steps) + " --warmup " + std::to_string(warmup) + " --threads " +
                          std::to_string(threads) + " --sample-n " + std::to_string(sample_n);
  Numbers n;
  const nlohmann::json j = run_python_reference(cmd);
  if (j.is_null()) return n;
  n.steps_per_second = j["steps_per_second"].get<double>();
  n.samples_per_second = j["samples_per_second"].get<double>();
  return n;
}

/// "a,b,c" -> {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) items.push_back(item);
  return items;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 20, warmup = 3, batch = 256, sample_n = 1024, L = 16;
  int threads = 2;
  const double beta = 0.4406868;
  std::string script = PHYSGEN_SOURCE_DIR "/bench/python/autoregressive_reverse_kl.py";
  std::string families_arg = "van,transformer,han";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::stoll(argv[i + 1]);
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--batch") batch = std::stoll(argv[i + 1]);
    else if (a == "--sample-n") sample_n = std::stoll(argv[i + 1]);
    else if (a == "--L") L = std::stoll(argv[i + 1]);
    else if (a == "--script") script = argv[i + 1];
    else if (a == "--families") families_arg = argv[i + 1];
  }
  const std::vector<std::string> families = split_list(families_arg);
  if (families.empty()) {
    std::fprintf(stderr, "--families: expected a comma-separated list of van, transformer, han\n");
    return 2;
  }
  for (const auto& f : families)
    if (f != "van" && f != "transformer" && f != "han") {
      std::fprintf(stderr, "--families: unknown family '%s' (the Python reference has van, transformer, han)\n",
                   f.c_str());
      return 2;
    }
  physgen::configure_runtime(threads);
  std::printf("2D Ising L=%lld beta=%.7f, reverse KL batch %lld, %d thread(s), %lld steps (+%lld warm-up)\n",
              static_cast<long long>(L), beta, static_cast<long long>(batch), threads, static_cast<long long>(steps),
              static_cast<long long>(warmup));
  bool ok = true;
  for (const std::string& family : families) {
    const Numbers py = python_numbers(family, L, beta, batch, steps, warmup, sample_n, threads, script);
    const Numbers cpp = cpp_numbers(family, L, beta, batch, steps, warmup, sample_n);
    std::printf("%s\n", family.c_str());
    std::printf("  training steps/s   C++ %8.3f   Python %8.3f   ratio %6.2f\n", cpp.steps_per_second,
                py.steps_per_second, py.steps_per_second > 0 ? cpp.steps_per_second / py.steps_per_second : 0.0);
    std::printf("  samples/s          C++ %8.1f   Python %8.1f   ratio %6.2f\n", cpp.samples_per_second,
                py.samples_per_second, py.samples_per_second > 0 ? cpp.samples_per_second / py.samples_per_second : 0.0);
    std::printf("  C++ step split: sample(%lld) %.3f s, log q + backward %.3f s\n", static_cast<long long>(batch),
                cpp.sample_seconds, cpp.backward_seconds);
    ok = ok && py.steps_per_second > 0;
  }
  return ok ? 0 : 1;
}
