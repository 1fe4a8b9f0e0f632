// One particle-mesh (PM) N-body kick-drift-kick step: physgen (C++, PmMesh / NbodyDynamics of
// particles/pm.h and particles/nbody.h) against the same step written independently in Python
// PyTorch (bench/pm_step.py, Debian's python3-torch over the same LibTorch 1.13), measured in
// one run.
//
//   ./build/bench/bench_pm [--particles 64] [--mesh 64] [--dim 3] [--steps 5] [--threads 1]
//                          [--seed 1] [--json] [--script bench/pm_step.py]
//
// Both sides: float32, the PmOptions defaults (CIC paint and readout, exact Green's function
// -1/k^2, 4-point finite-difference gradient, no CIC compensation), Omega_m = 0.3; an N^d
// lattice (lattice_positions, spacing mesh / N cells) displaced by 0.3 cells rms per component
// (torch::manual_seed(seed), torch::randn: the same numbers as torch.manual_seed / torch.randn
// in Python), zero momenta; steps uniform in a over [0.5, 0.6], one warm-up step, then `steps`
// timed steps. One KDK step from a to a + da, the force at the end of a step starting the next
// (as integrate_nbody's leapfrog):
//   p += K(a, a + da/2) F,   x += D(a, a + da) p,   F = F(x),   p += K(a + da/2, a + da) F,
// with kick_factor / drift_factor computed for all steps before timing (Python: numpy's
// leggauss, the same 16 nodes).
//
// Prints a markdown table: particles, mesh, threads, steps per second of C++ and Python and the
// ratio C++ / Python; and the rms momentum after the last step of both (same setup and seed, so
// equal to float32 rounding). --json prints one JSON object instead.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/runtime.h"
#include "physgen/particles/cosmology.h"
#include "physgen/particles/nbody.h"
#include "physgen/particles/pm.h"
#include "python_reference.h"

namespace {

using namespace physgen;
using Clock = std::chrono::steady_clock;

constexpr double kAStart = 0.5, kAEnd = 0.6;  // the scale factors the steps cover
constexpr double kDisplacementRms = 0.3;      // cells, per component

struct Numbers {
  double steps_per_second = -1, seconds = 0, momentum_rms = 0;
};

// The factors of one KDK step: first half kick, drift, second half kick.
struct StepFactors {
  double kick1, drift, kick2;
};

Numbers cpp_numbers(int64_t particles, int64_t mesh, int64_t dim, int64_t steps, uint64_t seed) {
  torch::NoGradGuard no_grad;
  Cosmology cosmology;  // Omega_m = 0.3
  const PmMesh pm(PmOptions().mesh(mesh).dim(dim), torch::kFloat32);
  const int64_t count =
      std::llround(std::pow(static_cast<double>(particles), static_cast<double>(dim)));  // N^d particles
  const NbodyDynamics dyn(cosmology, pm, count);
  torch::manual_seed(seed);
  torch::Tensor x = lattice_positions(particles, dim, mesh, torch::kFloat32) +
                    kDisplacementRms * torch::randn({count, dim});
  torch::Tensor p = torch::zeros_like(x);

  // Kick and drift factors of the steps + 1 steps (the first is the warm-up).
  const int64_t total = steps + 1;
  const double da = (kAEnd - kAStart) / total;
  std::vector<StepFactors> factors;
  std::vector<double> a_end;
  for (int64_t i = 0; i < total; ++i) {
    const double a0 = kAStart + i * da, a1 = a0 + da, am = a0 + 0.5 * da;
    factors.push_back(
        {kick_factor(cosmology, a0, am), drift_factor(cosmology, a0, a1), kick_factor(cosmology, am, a1)});
    a_end.push_back(a1);
  }

  torch::Tensor f = dyn.forces(kAStart, x);
  auto step = [&](int64_t i) {
    p = p + factors[i].kick1 * f;
    x = x + factors[i].drift * p;
    f = dyn.forces(a_end[i], x);
    p = p + factors[i].kick2 * f;
  };
  step(0);  // warm-up
  const auto t0 = Clock::now();
  for (int64_t i = 1; i < total; ++i) step(i);
  Numbers n;
  n.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  n.steps_per_second = static_cast<double>(steps) / n.seconds;
  n.momentum_rms = p.to(torch::kFloat64).pow(2).mean().sqrt().item<double>();
  return n;
}

Numbers python_numbers(int64_t particles, int64_t mesh, int64_t dim, int64_t steps, int threads, uint64_t seed,
                       const std::string& script) {
  const std::string cmd = "/usr/bin/python3 " + script + " --particles " + std::to_string(particles) + " --mesh " +
                          std::to_string(mesh) + " --dim " + std::to_string(dim) + " --steps " +
                          std::to_string(steps) + " --threads " + std::to_string(threads) + " --seed " +
                          std::to_string(seed) + " --json";
  Numbers n;
  const nlohmann::json j = run_python_reference(cmd);
  if (j.is_null()) return n;
  n.steps_per_second = j["steps_per_second"].get<double>();
  n.seconds = j["seconds"].get<double>();
  n.momentum_rms = j["momentum_rms"].get<double>();
  return n;
}

// The integer value `v` of flag `flag`, all of it (InvalidArgument otherwise).
long long parse_integer(const std::string& flag, const std::string& v) {
  size_t used = 0;
  long long out = 0;
  try {
    out = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check_arg(used > 0 && used == v.size(), flag, v, "an integer");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace physgen;
  int64_t particles = 64, mesh = 64, dim = 3, steps = 5;
  int threads = 1;
  uint64_t seed = 1;
  bool json = false;
  std::string script = PHYSGEN_SOURCE_DIR "/bench/pm_step.py";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--json") {
        json = true;
        continue;
      }
      const bool known = a == "--particles" || a == "--mesh" || a == "--dim" || a == "--steps" ||
                         a == "--threads" || a == "--seed" || a == "--script";
      check_arg(known, "flag", a,
                "one of --particles, --mesh, --dim, --steps, --threads, --seed, --script, --json");
      check_arg(i + 1 < argc, a, std::string(), "a value after the flag");
      const std::string v = argv[++i];
      if (a == "--script") {
        script = v;
        continue;
      }
      const long long value = parse_integer(a, v);
      if (a == "--threads") check_arg(value >= 1 && value <= 1024, "threads", value, "1 to 1024 threads");
      if (a == "--seed") check_arg(value >= 0, "seed", value, "an integer >= 0");
      if (a == "--particles") particles = value;
      else if (a == "--mesh") mesh = value;
      else if (a == "--dim") dim = value;
      else if (a == "--steps") steps = value;
      else if (a == "--threads") threads = static_cast<int>(value);
      else seed = static_cast<uint64_t>(value);
    }
    check_arg(particles >= 2 && particles <= 1024, "particles", particles, "2 to 1024 particles per side");
    check_arg(mesh >= 4 && mesh % 2 == 0 && mesh <= 2048, "mesh", mesh,
              "an even number of cells per side in [4, 2048]");
    check_arg(dim == 2 || dim == 3, "dim", dim, "2 or 3");
    check_arg(steps >= 1, "steps", steps, "at least 1 timed step");
  } catch (const std::exception& e) {
    std::cerr << "bench_pm: " << error_message(e) << "\n";
    return 2;
  }
  configure_runtime(threads);

  const Numbers py = python_numbers(particles, mesh, dim, steps, threads, seed, script);
  const Numbers cpp = cpp_numbers(particles, mesh, dim, steps, seed);
  const bool ok = py.steps_per_second > 0;
  const double ratio = ok ? cpp.steps_per_second / py.steps_per_second : 0.0;

  if (json) {
    const nlohmann::json j{{"particles", particles},
                           {"mesh", mesh},
                           {"dim", dim},
                           {"steps", steps},
                           {"threads", threads},
                           {"cpp_steps_per_second", cpp.steps_per_second},
                           {"python_steps_per_second", ok ? nlohmann::json(py.steps_per_second) : nlohmann::json()},
                           {"ratio", ok ? nlohmann::json(ratio) : nlohmann::json()},
                           {"cpp_momentum_rms", cpp.momentum_rms},
                           {"python_momentum_rms", ok ? nlohmann::json(py.momentum_rms) : nlohmann::json()}};
    std::printf("%s\n", j.dump().c_str());
    return ok ? 0 : 1;
  }
  const long long np = particles, nm = mesh, nd = dim;
  std::printf("PM kick-drift-kick step (CIC, exact Green's function, fd4 gradient, float32), %lld steps after 1 "
              "warm-up, a in [%.1f, %.1f]\n\n",
              static_cast<long long>(steps), kAStart, kAEnd);
  std::printf("| particles | mesh | threads | C++ steps/s | Python steps/s | ratio C++/Python |\n");
  std::printf("|---|---|---|---|---|---|\n");
  if (ok) {
    std::printf("| %lld^%lld | %lld^%lld | %d | %.3f | %.3f | %.2f |\n", np, nd, nm, nd, threads, cpp.steps_per_second,
                py.steps_per_second, ratio);
  } else {
    std::printf("| %lld^%lld | %lld^%lld | %d | %.3f | failed | - |\n", np, nd, nm, nd, threads, cpp.steps_per_second);
  }
  std::printf("\nrms momentum after the last step: C++ %.7g, Python %.7g (same setup and seed: equal to float32 "
              "rounding)\n",
              cpp.momentum_rms, ok ? py.momentum_rms : 0.0);
  return ok ? 0 : 1;
}
