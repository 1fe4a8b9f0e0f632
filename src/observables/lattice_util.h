#pragma once
// Private helpers of the lattice observables: ensemble validation.
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {
namespace detail {

inline std::string lattice_shape_string(const torch::Tensor& x) {
  if (!x.defined()) return "undefined";
  std::string s = "shape (";
  for (int64_t d = 0; d < x.dim(); ++d) s += (d ? ", " : "") + std::to_string(x.size(d));
  return s + ")";
}

/// Validates an ensemble (N, L, L), L >= 2, real dtype; returns it as float64.
inline torch::Tensor lattice_double(const torch::Tensor& x, const std::string& name) {
  check_arg(x.defined() && x.dim() == 3 && x.size(1) == x.size(2) && x.size(1) >= 2, name,
            lattice_shape_string(x), "an ensemble of shape (N, L, L) with L >= 2");
  check_arg(!x.is_complex() && x.scalar_type() != torch::kBool, name,
            std::string(c10::toString(x.scalar_type())), "a real dtype (int8, float, double)");
  return x.detach().to(torch::kFloat64);
}

}  // namespace detail
}  // namespace physgen
