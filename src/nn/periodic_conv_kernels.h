#pragma once
// Private to src/nn: direct periodic-convolution kernels for contiguous float/double CPU
// tensors (no im2col buffer). Layouts: x (B, S, Cin), weight (kk, Cin, Cout), index (S*kk)
// neighbour table of periodic_conv_index(), y (B, S, Cout).
#include <torch/types.h>

namespace physgen {
namespace detail {

/// y[b, s, :] = bias + sum_q sum_c x[b, index[s*kk + q], c] * weight[q, c, :].
torch::Tensor periodic_conv_forward_cpu(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias, const torch::Tensor& index);

/// Gradients of the above for output gradient g (B, S, Cout): (dx, dweight); each is
/// computed only when requested (else undefined). The bias gradient is g summed over (B, S).
std::pair<torch::Tensor, torch::Tensor> periodic_conv_backward_cpu(
    const torch::Tensor& g, const torch::Tensor& x, const torch::Tensor& weight,
    const torch::Tensor& index, bool need_x, bool need_weight);

}  // namespace detail
}  // namespace physgen
