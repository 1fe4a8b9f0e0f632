#include "physgen/core/shape.h"

#include <c10/util/StringUtil.h>

#include "physgen/core/check.h"

namespace physgen {

std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& event_shape) {
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), event_shape.begin(), event_shape.end());
  return shape;
}

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::vector<int64_t> event_shape_of(const torch::Tensor& x) {
  check_arg(x.defined() && x.dim() >= 1, "x", x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "a batch (n, *event_shape)");
  return std::vector<int64_t>(x.sizes().begin() + 1, x.sizes().end());
}

torch::Tensor check_event_batch(const torch::Tensor& x, const std::vector<int64_t>& event_shape, const char* name) {
  const int64_t n = x.defined() && x.dim() > 0 ? x.size(0) : -1;
  check_arg(x.defined() && n >= 1 && x.sizes().vec() == batch_shape(n, event_shape), std::string(name) + ".shape",
            x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "(n >= 1, " + c10::str(c10::IntArrayRef(event_shape)) + ")");
  check_arg(x.is_floating_point(), std::string(name) + ".dtype", c10::str(x.scalar_type()),
            "a floating-point dtype");
  return x;
}

}  // namespace physgen
