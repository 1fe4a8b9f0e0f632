// Ising machine throughput, one thread, ratios against references measured in the same run:
//
//   SA  : physgen's simulated annealing (incremental local fields, random site order, Xoshiro)
//         against (a) a plain scalar C++ loop that recomputes each site's local field from its
//         CSR row before every Metropolis decision (fixed order, std::exp), and (b) the same
//         algorithm written in Python PyTorch (bench/python/ising_machines_reference.py:
//         replicas vectorised, sites in a Python loop);
//   SA tensor kernel: the graph-coloured LibTorch kernel (coloured_sampler.h) with 64 replicas
//         in one batch, on the CPU here (or on --device cuda when a GPU is there), against
//         physgen's CPU kernel with 8 replicas (the rate per replica is what is compared);
//   PT  : physgen's parallel tempering (CPU kernel, 2 ladders x 8 rungs) against the scalar loop
//         and against the same ladders in Python PyTorch;
//   bSB : ballistic SB iterations per second (64 replicas) against Python PyTorch;
//   dSB : physgen's discrete simulated bifurcation (LibTorch, dense or sparse J) against the
//         same iteration written in Python PyTorch.
// Rates are spin updates per ns (replicas x sweeps x n / wall time; for SB one iteration
// updates every oscillator of every replica) and SB iterations per second. Instances: a
// G1-kind Max-Cut graph (800 nodes, 6% density, 19129 edges) and an SK instance (n = 1024,
// complete graph). Run: ./build/bench/bench_ising_machines [--quick] [--device cuda]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/ising_machines/problem.h"
#include "physgen/ising_machines/solvers.h"
#include "python_reference.h"

namespace {

using namespace physgen;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// The plain scalar reference: one replica, fixed site order, the local field of each site
/// summed from its CSR row at every visit, Metropolis with std::exp.
double scalar_sa_rate(const IsingProblem& p, int64_t replicas, int64_t sweeps) {
  Xoshiro256pp rng(7);
  std::vector<int8_t> s(p.n);
  int64_t flips = 0;
  const auto t0 = Clock::now();
  for (int64_t r = 0; r < replicas; ++r) {
    for (auto& v : s) v = (rng.next() >> 63) ? 1 : -1;
    for (int64_t k = 0; k < sweeps; ++k) {
      const double beta = 0.1 * std::pow(30.0, double(k) / double(std::max<int64_t>(1, sweeps - 1)));
      for (int64_t i = 0; i < p.n; ++i) {
        double f = p.h[i];
        for (int64_t q = p.row_ptr[i]; q < p.row_ptr[i + 1]; ++q) f += p.J[q] * s[p.col[q]];
        const double dE = 2.0 * s[i] * f;
        if (dE <= 0.0 || rng.uniform() < std::exp(-beta * dE)) {
          s[i] = static_cast<int8_t>(-s[i]);
          ++flips;
        }
      }
    }
  }
  const double t = seconds_since(t0);
  if (flips < 0) std::printf("%lld\n", static_cast<long long>(flips));  // keep the loop
  return replicas * sweeps * p.n / (t * 1e9);
}

struct Row {
  std::string name;
  double sa = 0, sa_tensor = 0, pt = 0, bsb_ips = 0, scalar = 0, py_sa = -1, py_pt = -1, py_bsb_ips = -1, sb_ips = 0, sb_rate = 0, py_sb_ips = -1;
};

Row measure(const std::string& name, const IsingProblem& p, bool quick, torch::Device device) {
  Row row;
  row.name = name;
  const int64_t R = 8, sweeps = quick ? 20 : 200;
  SolverOptions o;
  o.solver = "sa";
  o.replicas = R;
  o.sweeps = sweeps;
  o.beta_start = 0.1;
  o.beta_end = 3.0;
  SolverResult r = solve_ising(p, o);
  row.sa = R * r.sweeps_done * p.n / (r.seconds * 1e9);
  row.scalar = scalar_sa_rate(p, R, sweeps / 4);
  o.kernel = "tensor";
  o.device = device;
  o.replicas = 64;
  o.sweeps = sweeps / 4;
  r = solve_ising(p, o);
  row.sa_tensor = o.replicas * r.sweeps_done * p.n / (r.seconds * 1e9);
  SolverOptions t;  // PT, CPU kernel: 2 ladders x 8 rungs, every copy swept once per sweep
  t.solver = "pt";
  t.replicas = 2;
  t.temperatures = 8;
  t.sweeps = sweeps / 4;
  r = solve_ising(p, t);
  row.pt = t.replicas * t.temperatures * r.sweeps_done * p.n / (r.seconds * 1e9);
  SolverOptions b;
  b.solver = "sb-discrete";
  b.replicas = 64;
  b.sweeps = quick ? 50 : 500;
  b.device = device;
  r = solve_ising(p, b);
  row.sb_ips = r.sweeps_done / r.seconds;
  row.sb_rate = double(p.n) * b.replicas * r.sweeps_done / (r.seconds * 1e9);
  b.solver = "sb-ballistic";
  r = solve_ising(p, b);
  row.bsb_ips = r.sweeps_done / r.seconds;
  const std::string file = "/tmp/physgen_bench_im_" + name + ".txt";
  write_problem(file, p);
  const std::string cmd = "/usr/bin/python3 " PHYSGEN_SOURCE_DIR "/bench/python/ising_machines_reference.py --problem " +
                          file + " --replicas 8 --sa-sweeps " + (quick ? "1" : "2") + " --sb-iterations " +
                          (quick ? "50" : "500") + " --sb-replicas 64 --threads 1";
  const nlohmann::json j = run_python_reference(cmd);
  if (!j.is_null()) {
    row.py_sa = j["sa_spin_updates_per_ns"].get<double>();
    row.py_sb_ips = j["sb_iterations_per_second"].get<double>();
    row.py_pt = j["pt_spin_updates_per_ns"].get<double>();
    row.py_bsb_ips = j["bsb_iterations_per_second"].get<double>();
  }
  std::remove(file.c_str());
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  torch::Device device = torch::kCPU;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    if (a == "--device" && i + 1 < argc) device = torch::Device(argv[++i]);
  }
  physgen::configure_runtime(1);
  std::vector<Row> rows = {measure("gset800", generate_maxcut_random(800, 0.06, false, 1), quick, device),
                           measure("sk1024", generate_sk(1024, false, 1), quick, device)};
  std::printf("Ising machines, one thread, tensor kernels on %s (spin updates per ns; SB: iterations per second, "
              "64 replicas)\n", device.str().c_str());
  std::printf("%-9s %9s %9s %9s %9s %9s %9s %9s | %9s %9s %9s %9s\n", "instance", "SA", "scalar", "ratio", "Py SA",
              "ratio", "SA tensor", "/SA", "dSB it/s", "upd/ns", "Py it/s", "ratio");
  int rc = 0;
  for (const auto& r : rows) {
    std::printf("%-9s %9.4f %9.4f %9.2f %9.5f %9.1f %9.4f %9.2f | %9.1f %9.3f %9.1f %9.2f\n", r.name.c_str(), r.sa,
                r.scalar, r.sa / r.scalar, r.py_sa, r.py_sa > 0 ? r.sa / r.py_sa : -1.0, r.sa_tensor,
                r.sa_tensor / r.sa, r.sb_ips, r.sb_rate, r.py_sb_ips, r.py_sb_ips > 0 ? r.sb_ips / r.py_sb_ips : -1.0);
    if (r.py_sa <= 0) rc = 1;
  }
  std::printf("\n%-9s %9s %9s %9s %9s | %9s %9s %9s\n", "instance", "PT upd/ns", "/scalar", "Py PT", "ratio",
              "bSB it/s", "Py it/s", "ratio");
  for (const auto& r : rows)
    std::printf("%-9s %9.4f %9.2f %9.5f %9.1f | %9.1f %9.1f %9.2f\n", r.name.c_str(), r.pt, r.pt / r.scalar, r.py_pt,
                r.py_pt > 0 ? r.pt / r.py_pt : -1.0, r.bsb_ips, r.py_bsb_ips,
                r.py_bsb_ips > 0 ? r.bsb_ips / r.py_bsb_ips : -1.0);
  
  return rc;
}
