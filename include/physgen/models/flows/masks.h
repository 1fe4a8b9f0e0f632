#pragma once
// Binary masks of coupling layers. Convention: mask = 1 marks the conditioning
// ("frozen") entries that pass through unchanged and feed the conditioner; mask = 0
// marks the entries the layer transforms. Masks are float32; layers register them as
// buffers, so module.to(dtype) converts them.
#include <cstdint>
#include <string>

#include <torch/types.h>

namespace physgen {

/// How a vector's entries split into conditioning and transformed halves.
enum class VectorMask {
  kHalves,       ///< the first ceil(d/2) entries condition: 1...1 0...0
  kAlternating,  ///< even entries condition: 1 0 1 0 ...
};

/// "halves" | "alternating" -> VectorMask (InvalidArgument listing both otherwise).
VectorMask vector_mask_from_name(const std::string& name);

/// Mask of a d-vector, (d) float32; `complement` swaps the roles (1 - mask).
/// Requires d >= 2 (so that both halves are non-empty).
torch::Tensor vector_mask(int64_t d, VectorMask kind, bool complement = false);

/// Checkerboard mask of an H x W lattice, (H, W) float32: 1 where (i + j) % 2 == parity.
/// With even H and W both colours hold H*W/2 sites and every nearest neighbour of a site
/// has the other colour (also across the periodic boundary).
/// References: Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072.
torch::Tensor checkerboard_mask(int64_t H, int64_t W, int parity);

}  // namespace physgen
