#pragma once
// Sinusoidal embedding of a scalar time t.
//
//   emb(t) = [sin(w_0 t), ..., sin(w_{h-1} t), cos(w_0 t), ..., cos(w_{h-1} t)],  h = dim / 2,
//   w_k = w_min (w_max / w_min)^(k / (h - 1))   (geometric frequencies; w_0 = w_min if h = 1).
//
// Shapes: t is a scalar, (n) or (n, 1); the result is (n, dim) (or (1, dim) for a scalar).
// The frequencies are a buffer ("frequencies", (dim / 2)), there are no parameters.
// Defaults suit t in [0, 1] and ODE solvers: w_min = 1, w_max = 32 rad per unit time
// (faster features make the vector field stiff in t and cost solver steps).
//
// References: Vaswani et al., "Attention is all you need", arXiv:1706.03762 (positional
// encoding); Ho et al., "Denoising diffusion probabilistic models", arXiv:2006.11239.
#include <cstdint>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace physgen {

struct TimeEmbeddingOptions {
  /* implicit */ TimeEmbeddingOptions(int64_t dim) : dim_(dim) {}
  /// Output features (even, >= 2).
  TORCH_ARG(int64_t, dim);
  /// Lowest angular frequency w_min (> 0).
  TORCH_ARG(double, min_frequency) = 1.0;
  /// Highest angular frequency w_max (>= min_frequency).
  TORCH_ARG(double, max_frequency) = 32.0;
};

class TimeEmbeddingImpl : public torch::nn::Cloneable<TimeEmbeddingImpl> {
 public:
  explicit TimeEmbeddingImpl(const TimeEmbeddingOptions& options);
  void reset() override;
  /// t: scalar, (n) or (n, 1) -> (n, dim).
  torch::Tensor forward(const torch::Tensor& t);

  TimeEmbeddingOptions options;
  torch::Tensor frequencies;
};
TORCH_MODULE(TimeEmbedding);

}  // namespace physgen
