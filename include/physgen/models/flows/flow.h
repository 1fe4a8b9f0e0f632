#pragma once
// A normalizing flow: a base distribution pushed through a sequence of bijectors.
//
//   x = f(z) = f_K(... f_1(z)),  z ~ base
//   log q(x) = log base(f^{-1}(x)) + sum_k log|det d f_k^{-1} / d y_k|
//            = log base(z) - sum_k log|det d f_k / d x_{k-1}|   (x_0 = z, x_K = x)
// sample / sample_and_log_prob run the layers forward (the log-det accumulates in the same
// pass); log_prob runs them inverse. A Flow is itself a Bijector (the composite f), so it
// nests and passes the bijector contract tests. Every layer with context_features > 0
// receives the context; layers without ignore it.
//
// Shapes: x (B, *event_shape), context (B, C), log-densities (B).
// References: Rezende & Mohamed, ICML 2015, arXiv:1505.05770; Papamakarios et al., JMLR 22
// (2021), arXiv:1912.02762.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "physgen/models/flows/base.h"
#include "physgen/models/flows/bijector.h"
#include "physgen/models/generative.h"

namespace physgen {

/// Composed flow; children "base" and "layers" (layers.0, layers.1, ...). Parameters follow
/// the layers' dtype and device (module.to(...)); samples use the dtype and device of the
/// first parameter or buffer (float32 CPU if there is none).
class FlowImpl : public Bijector, public LikelihoodModel {
 public:
  FlowImpl(std::vector<BijectorPtr> layers, BaseDistributionPtr base);

  // -- Bijector: the composite map z -> x and its inverse.
  std::pair<torch::Tensor, torch::Tensor> forward_and_log_det(
      const torch::Tensor& z, const torch::Tensor& context = torch::Tensor()) override;
  std::pair<torch::Tensor, torch::Tensor> inverse_and_log_det(
      const torch::Tensor& x, const torch::Tensor& context = torch::Tensor()) override;
  std::vector<int64_t> event_shape() const override { return base_->event_shape(); }
  int64_t context_features() const override { return context_features_; }
  /// Every layer is Z2-equivariant and the base is symmetric, so log q(-x) = log q(x).
  bool z2_equivariant() const override;

  // -- LikelihoodModel.
  /// log q(x), (B, *event) -> (B).
  torch::Tensor log_prob(const torch::Tensor& x) override { return log_prob(x, torch::Tensor()); }
  /// log q(x | context); context (B, C).
  torch::Tensor log_prob(const torch::Tensor& x, const torch::Tensor& context);
  /// (x, log q(x)) for n draws in one forward pass.
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) override {
    return sample_and_log_prob(n, torch::Tensor());
  }
  /// Conditional draws: context (n, C).
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n,
                                                              const torch::Tensor& context);
  /// n draws (no log-density bookkeeping beyond what the layers compute anyway).
  torch::Tensor sample(int64_t n) override { return sample_and_log_prob(n).first; }

  /// Deep copy (layers and base cloned), optionally onto `device`.
  std::shared_ptr<torch::nn::Module> clone(
      const c10::optional<torch::Device>& device = c10::nullopt) const override;

  const std::vector<BijectorPtr>& layers() const { return layers_; }
  const BaseDistributionPtr& base() const { return base_; }
  /// dtype and device of the flow's tensors (see the class comment).
  torch::TensorOptions tensor_options() const;

 private:
  void clone_(torch::nn::Module& other, const c10::optional<torch::Device>& device) override;
  std::vector<BijectorPtr> layers_;
  BaseDistributionPtr base_;
  torch::nn::ModuleList layer_list_;
  int64_t context_features_ = 0;
};
TORCH_MODULE(Flow);

}  // namespace physgen
