#pragma once
// Internal: the batch shape and the boundary check shared by the DDPM and score-SDE models.
#include <cstdint>
#include <string>
#include <vector>

#include <c10/util/StringUtil.h>
#include <torch/types.h>

#include "physgen/core/check.h"

namespace physgen::detail {

/// (n, *event_shape).
inline std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& event_shape) {
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), event_shape.begin(), event_shape.end());
  return shape;
}

/// Returns x after checking it is a floating-point batch (n >= 1, *event_shape); the
/// error names "NAME.shape" / "NAME.dtype".
inline torch::Tensor check_event_batch(const torch::Tensor& x, const std::vector<int64_t>& event_shape,
                                       const char* name) {
  const int64_t n = x.defined() && x.dim() > 0 ? x.size(0) : -1;
  check_arg(x.defined() && n >= 1 && x.sizes().vec() == batch_shape(n, event_shape), std::string(name) + ".shape",
            x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(event_shape)) + ")");
  check_arg(x.is_floating_point(), std::string(name) + ".dtype", c10::str(x.scalar_type()),
            "a floating-point dtype");
  return x;
}

}  // namespace physgen::detail
