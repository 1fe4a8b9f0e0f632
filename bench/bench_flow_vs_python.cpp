// Reverse-KL training of the phi^4 RealNVP: physgen (C++) against the same model
// and loop in Python PyTorch (bench/python/flow_reverse_kl.py, Debian's
// python3-torch over the same LibTorch 1.13), measured in one run.
//
//   ./build/bench/bench_flow_vs_python [--steps N] [--threads T]
//
// Prints steps per second for both and the ratio C++ / Python. The model is
// the published tutorial's scale (arXiv:2101.08176): L = 8, m2 = -4,
// lambda = 8, 16 affine couplings with checkerboard masks, periodic conv
// conditioners 1 -> 8 -> 8 -> 2, batch 64, Adam.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/lattice/targets.h"
#include "physgen/models/flows/factory.h"
#include "physgen/zoo/zoo.h"
#include "physgen/zoo/model_task.h"
#include "python_reference.h"

namespace {

double cpp_steps_per_second(int64_t steps, int64_t warmup) {
  using namespace physgen;
  seed_all(1);
  const nlohmann::json params{{"L", 8}, {"m2", -4.0}, {"lambda", 8.0}};
  // Exactly the Python reference's model (not the zoo default, which adds Z2 odd networks):
  // leaky ReLU conv conditioners 1 -> 8 -> 8 -> 2, scale clamp 3, zero-initialised last layer.
  const nlohmann::json model_options = flow_options_to_json(
      FlowOptions("affine", {8, 8}).n_layers(16).hidden({8, 8}).kernel_size(3).activation("leaky_relu"));
  ModelSpec spec{"flow", model_options, "phi4", params, "reverse-kl", Condition()};
  Model model = build_model(spec);
  ModelTask task(model, "reverse-kl", make_target("phi4", params), 64);
  auto opts = TrainerOptions().steps(warmup + steps).batch_size(64).lr(1e-3).schedule("constant")
                  .progress(false).log_every(1000000);
  Trainer trainer(task, opts);
  trainer.fit(torch::Tensor(), warmup);
  auto r = trainer.fit(torch::Tensor());
  return r.steps_per_second;
}

double python_steps_per_second(int64_t steps, int64_t warmup, int threads, const std::string& script) {
  const std::string cmd = "/usr/bin/python3 " + script + " --steps " + std::to_string(steps) + " --warmup " +
                          std::to_string(warmup) + " --threads " + std::to_string(threads);
  const nlohmann::json j = run_python_reference(cmd);
  return j.is_null() ? -1.0 : j["steps_per_second"].get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 300, warmup = 30;
  int threads = 1;
  std::string script = PHYSGEN_SOURCE_DIR "/bench/python/flow_reverse_kl.py";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::stoll(argv[i + 1]);
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--script") script = argv[i + 1];
  }
  physgen::configure_runtime(threads);
  const double py = python_steps_per_second(steps, warmup, threads, script);
  const double cpp = cpp_steps_per_second(steps, warmup);
  std::printf("phi4 RealNVP reverse-KL training, L=8, 16 layers, batch 64, %d thread(s), %lld steps\n", threads,
              static_cast<long long>(steps));
  std::printf("  physgen C++      : %8.2f steps/s\n", cpp);
  std::printf("  Python PyTorch   : %8.2f steps/s\n", py);
  if (py > 0) std::printf("  ratio C++/Python : %8.2f\n", cpp / py);
  return py > 0 ? 0 : 1;
}
