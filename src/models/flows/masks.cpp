#include "physgen/models/flows/masks.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

VectorMask vector_mask_from_name(const std::string& name) {
  static const Registry<VectorMask> reg = [] {
    Registry<VectorMask> r("mask");
    r.add("halves", VectorMask::kHalves).add("alternating", VectorMask::kAlternating);
    return r;
  }();
  return reg.get(name);
}

torch::Tensor vector_mask(int64_t d, VectorMask kind, bool complement) {
  check_arg(d >= 2, "d", d, "an integer >= 2 (a coupling needs two non-empty parts)");
  auto i = torch::arange(d);
  auto m = kind == VectorMask::kHalves ? (i < (d + 1) / 2) : (i.remainder(2) == 0);
  if (complement) m = m.logical_not();
  return m.to(torch::kFloat32);
}

torch::Tensor checkerboard_mask(int64_t H, int64_t W, int parity) {
  check_arg(H >= 1 && W >= 1 && H * W >= 2, "H x W",
            std::to_string(H) + "x" + std::to_string(W), "a lattice of at least 2 sites");
  check_arg(parity == 0 || parity == 1, "parity", parity, "0 or 1");
  auto s = torch::arange(H).view({H, 1}) + torch::arange(W).view({1, W});
  return (s.remainder(2) == parity).to(torch::kFloat32);
}

}  // namespace physgen
