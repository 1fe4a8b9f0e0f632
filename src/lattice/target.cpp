#include "physgen/lattice/target.h"

#include <torch/torch.h>

namespace physgen {

torch::Tensor Target::force(const torch::Tensor& x) const {
  torch::AutoGradMode enable(true);
  auto xr = x.detach().requires_grad_(true);
  auto s = action(xr).sum();
  return torch::autograd::grad({s}, {xr})[0];
}

}  // namespace physgen
