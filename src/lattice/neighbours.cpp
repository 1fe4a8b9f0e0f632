#include "physgen/lattice/neighbours.h"

#include <torch/torch.h>

namespace physgen {

torch::Tensor neighbour_sum(const torch::Tensor& x) {
  return torch::roll(x, {1}, {1}) + torch::roll(x, {-1}, {1}) + torch::roll(x, {1}, {2}) + torch::roll(x, {-1}, {2});
}

}  // namespace physgen
