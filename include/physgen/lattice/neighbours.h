#pragma once
// Nearest-neighbour stencil of a periodic square lattice, shared by the actions, forces,
// local samplers and coupling fits of the lattice models.
#include <torch/types.h>

namespace physgen {

/// h_x = sum of the four periodic nearest neighbours of every site:
/// x (B, L1, L2) -> (B, L1, L2), h = x(i+1, j) + x(i-1, j) + x(i, j+1) + x(i, j-1) (indices mod L).
torch::Tensor neighbour_sum(const torch::Tensor& x);

}  // namespace physgen
