#pragma once
// Private helpers of the estimators: tensor -> float64 CPU conversion with checks.
#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {
namespace detail {

/// x as a contiguous float64 CPU tensor; throws InvalidArgument naming `name` if
/// it holds a NaN or an infinity.
inline torch::Tensor finite_double_cpu(const torch::Tensor& x, const std::string& name) {
  check_arg(x.defined(), name, "undefined tensor", "a defined tensor");
  auto y = x.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  if (y.numel() > 0) {
    check_arg(torch::isfinite(y).all().item<bool>(), name, "a tensor with NaN/inf entries",
              "finite values");
  }
  return y;
}

inline std::string shape_string(const torch::Tensor& x) {
  std::string s = "shape (";
  for (int64_t d = 0; d < x.dim(); ++d) s += (d ? ", " : "") + std::to_string(x.size(d));
  return s + ")";
}

inline bool all_finite(const std::vector<double>& v) {
  for (double a : v)
    if (!std::isfinite(a)) return false;
  return true;
}

}  // namespace detail
}  // namespace physgen
