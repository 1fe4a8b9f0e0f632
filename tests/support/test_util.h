#pragma once
// Helpers shared by the test suites (include as "support/test_util.h").
#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/runtime.h"

namespace physgen_test {

/// float64 tensor options, for exact checks.
inline const torch::TensorOptions kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// Tiny tensors: one intra-op thread for the scope (restored on exit), and heap-recycled
/// allocations (configure_runtime's mallopt settings; without them small-tensor loops
/// page-fault).
struct SingleThread {
  int previous = torch::get_num_threads();
  SingleThread() { physgen::configure_runtime(1); }
  ~SingleThread() { physgen::configure_runtime(previous); }
};

/// Wall seconds since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The environment variable `name` as a number, or `fallback` when it is unset (the knobs
/// of the long tests).
inline double env_or(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : fallback;
}

/// All 2^V spin configurations of an H x W lattice, (2^V, H, W) float64 of +-1: row b has
/// s_i = +1 where bit i of b is set (sites in raster order). V <= 24.
inline torch::Tensor all_spin_states(int64_t H, int64_t W) {
  const int64_t V = H * W, n = int64_t{1} << V;
  auto bits = torch::arange(n, torch::kInt64).unsqueeze(1).bitwise_right_shift(torch::arange(V, torch::kInt64));
  return (2.0 * bits.bitwise_and(1).to(torch::kFloat64) - 1.0).view({n, H, W});
}

/// Runs f and expects an InvalidArgument whose message contains `part`.
template <typename F>
void expect_invalid_argument(F&& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected an InvalidArgument mentioning '" << part << "'";
  } catch (const physgen::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

}  // namespace physgen_test
