#pragma once
// Base (latent) distributions of normalizing flows. LibTorch has no distributions
// module; these are the two a flow needs, with exact normalisation.
//
//   StandardNormal:   log N(z; 0, 1)          = -0.5 sum_i z_i^2 - 0.5 d log(2 pi)
//   DiagonalGaussian: log N(z; mu, sigma^2)   = -0.5 sum_i ((z_i - mu_i) / sigma_i)^2
//                                               - sum_i log sigma_i - 0.5 d log(2 pi)
// with d = prod(event_shape). Shapes: z (B, *event_shape) -> log_prob (B);
// sample(n) -> (n, *event_shape).
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace physgen {

/// Contract of a flow's base distribution (a torch module: it may hold parameters).
class BaseDistribution : public virtual torch::nn::Module {
 public:
  ~BaseDistribution() override = default;
  /// log density, (B, *event) -> (B).
  virtual torch::Tensor log_prob(const torch::Tensor& z) = 0;
  /// n draws, (n, *event). Distributions with parameters use their own dtype and device;
  /// parameter-free ones use `options`.
  virtual torch::Tensor sample(int64_t n, const torch::TensorOptions& options) = 0;
  virtual std::vector<int64_t> event_shape() const = 0;
  /// True when log_prob(-z) == log_prob(z) for every z (needed for Z2-equivariant flows).
  virtual bool symmetric() const = 0;
};

using BaseDistributionPtr = std::shared_ptr<BaseDistribution>;

/// 0.5 * log(2 pi).
constexpr double kHalfLog2Pi = 0.91893853320467274178;

/// N(0, 1) in every component; no parameters.
class StandardNormalImpl : public torch::nn::Cloneable<StandardNormalImpl>,
                           public BaseDistribution {
 public:
  explicit StandardNormalImpl(std::vector<int64_t> event_shape);
  void reset() override {}
  torch::Tensor log_prob(const torch::Tensor& z) override;
  torch::Tensor sample(int64_t n, const torch::TensorOptions& options) override;
  std::vector<int64_t> event_shape() const override { return event_shape_; }
  bool symmetric() const override { return true; }

 private:
  std::vector<int64_t> event_shape_;
  std::vector<int64_t> event_dims_;  // 1..event rank, the dims log_prob sums over
  double log_norm_ = 0;              // -0.5 d log(2 pi)
};
TORCH_MODULE(StandardNormal);

/// Options of DiagonalGaussian.
struct DiagonalGaussianOptions {
  explicit DiagonalGaussianOptions(std::vector<int64_t> event_shape)
      : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Learn mu and log sigma (parameters) or keep them fixed (buffers). Default true.
  TORCH_ARG(bool, learnable) = true;
  /// Initial mean of every component. Default 0.
  TORCH_ARG(double, loc) = 0.0;
  /// Initial log sigma of every component. Default 0.
  TORCH_ARG(double, log_scale) = 0.0;
};

/// N(mu_i, sigma_i^2) per component; "loc" and "log_scale" (shape event_shape) are
/// parameters when learnable, buffers otherwise (same checkpoint keys either way).
/// symmetric() holds only while loc == 0.
class DiagonalGaussianImpl : public torch::nn::Cloneable<DiagonalGaussianImpl>,
                             public BaseDistribution {
 public:
  explicit DiagonalGaussianImpl(DiagonalGaussianOptions options);
  void reset() override;
  torch::Tensor log_prob(const torch::Tensor& z) override;
  /// z = mu + sigma * eps, reparameterised (differentiable in mu, sigma).
  torch::Tensor sample(int64_t n, const torch::TensorOptions& options) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  bool symmetric() const override;

  DiagonalGaussianOptions options;
  torch::Tensor loc, log_scale;

 private:
  std::vector<int64_t> event_dims_;
};
TORCH_MODULE(DiagonalGaussian);

}  // namespace physgen
