#include "physgen/nn/time_embedding.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

TimeEmbeddingImpl::TimeEmbeddingImpl(const TimeEmbeddingOptions& options_) : options(options_) {
  check_arg(options.dim() >= 2 && options.dim() % 2 == 0, "time_embedding.dim", options.dim(),
            "an even integer >= 2");
  check_arg(options.min_frequency() > 0, "time_embedding.min_frequency", options.min_frequency(),
            "a value > 0");
  check_arg(options.max_frequency() >= options.min_frequency(), "time_embedding.max_frequency",
            options.max_frequency(), "a value >= min_frequency");
  reset();
}

void TimeEmbeddingImpl::reset() {
  const int64_t half = options.dim() / 2;
  auto k = torch::arange(half, torch::kFloat64);
  const double span = half > 1 ? std::log(options.max_frequency() / options.min_frequency()) /
                                     static_cast<double>(half - 1)
                               : 0.0;
  auto w = torch::exp(k * span) * options.min_frequency();
  frequencies = register_buffer("frequencies", w.to(torch::kFloat32));
}

torch::Tensor TimeEmbeddingImpl::forward(const torch::Tensor& t) {
  auto tt = t.reshape({-1, 1});
  auto phase = tt * frequencies.to(tt.scalar_type()).unsqueeze(0);
  return torch::cat({torch::sin(phase), torch::cos(phase)}, 1);
}

}  // namespace physgen
