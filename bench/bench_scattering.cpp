// Scattering statistics of many fields (observables/scattering.h): the target is 10^4
// fields of 64 x 64 in under a minute on this machine's two cores.
//
//   ./build/bench/bench_scattering [--n 10000] [--L 64] [--threads 2] [--dtype float32|float64]
//
// Fields: a Gaussian free field (m2 = 0.1) drawn by FFT. Prints the wall-clock of
// scattering_statistics with the defaults (J = log2(L) - 2, 4 orientations, second order on),
// and, measured in the same run as the reference, the same without second-order scattering
// (the costliest group) and the float64 path: the ratios say what each costs.
// Then the exact nearest-neighbour search of eval/memorization.h: --gen generated fields against
// --train training fields of 32 x 32 (defaults 100 and 10^4) under translations, the point group
// and Z2, and, as the reference in the same run, the same search without the symmetries
// (a plain distance matmul): the ratio is the price of the symmetries.
#include <chrono>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/eval/memorization.h"
#include "physgen/observables/scattering.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds(const torch::Tensor& x, bool second_order) {
  physgen::ScatteringOptions o;
  o.second_order = second_order;
  const auto t0 = Clock::now();
  const auto s = physgen::scattering_statistics(x, o);
  const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("    %ld statistics (J %ld, %ld orientations, %ld blocks)\n", static_cast<long>(s.names.size()),
              static_cast<long>(s.J), static_cast<long>(s.orientations), static_cast<long>(s.blocks));
  return dt;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 10000, L = 64, n_gen = 100, n_train = 10000;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--n") n = std::stoll(argv[i + 1]);
    else if (a == "--L") L = std::stoll(argv[i + 1]);
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--gen") n_gen = std::stoll(argv[i + 1]);
    else if (a == "--train") n_train = std::stoll(argv[i + 1]);
  }
  physgen::configure_runtime(threads);
  physgen::seed_all(1);
  const double pi = 3.14159265358979323846;
  const auto k = torch::fft::fftfreq(L, torch::kFloat64) * (2.0 * pi);
  const auto s = 4.0 * torch::sin(k / 2.0).square();
  const auto G = 1.0 / (s.unsqueeze(1) + s.unsqueeze(0) + 0.1);
  const auto x64 = torch::real(torch::fft::ifft2(torch::fft::fft2(torch::randn({n, L, L}, torch::kFloat64)) * G.sqrt()));
  const auto x32 = x64.to(torch::kFloat32);
  std::printf("scattering statistics of %ld Gaussian fields of %ld x %ld, %d thread(s)\n", static_cast<long>(n),
              static_cast<long>(L), static_cast<long>(L), threads);
  const double t_full = seconds(x32, true);
  std::printf("  float32, second order on:  %.2f s  (%.0f fields/s)\n", t_full, n / t_full);
  const double t_first = seconds(x32, false);
  std::printf("  float32, second order off: %.2f s  (ratio %.2f)\n", t_first, t_full / t_first);
  const double t64 = seconds(x64, true);
  std::printf("  float64, second order on:  %.2f s  (ratio to float32 %.2f)\n", t64, t64 / t_full);
  std::printf("target: 10^4 fields of 64 x 64 in < 60 s: %s\n",
              n >= 10000 && L >= 64 ? (t_full < 60.0 ? "met" : "missed") : "(run with --n 10000 --L 64)");
  // Nearest-neighbour search on 32 x 32 fields (float32).
  const auto train = x32.narrow(1, 0, 32).narrow(2, 0, 32).repeat({(n_train + n - 1) / n, 1, 1}).narrow(0, 0, n_train)
                         .contiguous();
  const auto gen = torch::randn({n_gen, 32, 32});
  auto time_search = [&](physgen::SymmetryOptions sym) {
    const auto t0 = Clock::now();
    const auto nn = physgen::nearest_training_fields(gen, train, sym);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const double t_sym = time_search({true, true, true}), t_plain = time_search({false, false, false});
  std::printf("nearest training field, %ld generated vs %ld training fields of 32 x 32:\n", static_cast<long>(n_gen),
              static_cast<long>(n_train));
  std::printf("  translations x point group x Z2: %.2f s (%.1f ms per generated field); plain L2: %.3f s; ratio %.0f\n",
              t_sym, 1e3 * t_sym / n_gen, t_plain, t_sym / t_plain);
  return 0;
}
