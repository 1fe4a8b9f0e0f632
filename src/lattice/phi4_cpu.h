#pragma once
// Fused plain-C++ phi^4 kernels for contiguous CPU float64 tensors (private to src/lattice).
// Chains are processed in blocks of 8 (at::parallel_for over blocks), site-major inside a block,
// so each site update is one 8-lane vector operation; neighbours by index arithmetic.
#include <torch/types.h>

#include "physgen/lattice/phi4.h"

namespace physgen {

/// S per chain, (C,L,L) CPU float64 -> (C). Same value as phi4_action_tensor to rounding.
torch::Tensor phi4_action_cpu(const Phi4Params& params, const torch::Tensor& x);

/// dS/dphi, (C,L,L) CPU float64. Same value as phi4_force_tensor to rounding.
torch::Tensor phi4_force_cpu(const Phi4Params& params, const torch::Tensor& x);

}  // namespace physgen
