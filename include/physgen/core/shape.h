#pragma once
// Batch shapes: every sample tensor in physgen is (n, *event_shape).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// (n, *event_shape), the shape of a batch of n events.
std::vector<int64_t> batch_shape(int64_t n, const std::vector<int64_t>& event_shape);

/// Number of elements of a shape: the product of its sizes (1 for {}).
int64_t shape_numel(const std::vector<int64_t>& shape);

/// The event shape of a batch x (n, *event): x.sizes() without the first axis.
std::vector<int64_t> event_shape_of(const torch::Tensor& x);

/// Returns x after checking it is a floating-point batch (n >= 1, *event_shape); the
/// InvalidArgument names "NAME.shape" / "NAME.dtype".
torch::Tensor check_event_batch(const torch::Tensor& x, const std::vector<int64_t>& event_shape, const char* name);

}  // namespace physgen
