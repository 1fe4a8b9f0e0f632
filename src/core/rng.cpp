#include "physgen/core/rng.h"

#include <torch/torch.h>

namespace physgen {

void seed_all(uint64_t seed) { torch::manual_seed(seed); }

}  // namespace physgen
