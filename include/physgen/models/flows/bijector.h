#pragma once
// The bijector contract: an invertible, differentiable map with a tractable Jacobian.
//
//   forward_and_log_det(x [, c]) -> (y = f(x; c),      log|det df/dx|)
//   inverse_and_log_det(y [, c]) -> (x = f^{-1}(y; c), log|det df^{-1}/dy|)
//
// Shapes: x, y (B, *event_shape); context c (B, context_features) or an undefined tensor
// (no conditioning); log-dets (B). The two log-dets at corresponding points sum to zero.
// A flow composes bijectors in the convention x = f(z), z ~ base (models/flows/flow.h):
// sampling runs the forward directions, log_prob the inverse ones.
//
// Bijectors are torch modules: a layer derives from torch::nn::Cloneable<LayerImpl> and
// from Bijector (which derives virtually from torch::nn::Module, like Cloneable, so the
// layer holds exactly one Module).
// References: Papamakarios et al., "Normalizing flows for probabilistic modeling and
// inference", JMLR 22 (2021), arXiv:1912.02762.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace physgen {

class Bijector : public virtual torch::nn::Module {
 public:
  ~Bijector() override = default;

  /// y = f(x; context) and log|det df/dx| per sample: (B, *event) -> ((B, *event), (B)).
  virtual std::pair<torch::Tensor, torch::Tensor> forward_and_log_det(
      const torch::Tensor& x, const torch::Tensor& context = torch::Tensor()) = 0;

  /// x = f^{-1}(y; context) and log|det df^{-1}/dy| per sample.
  virtual std::pair<torch::Tensor, torch::Tensor> inverse_and_log_det(
      const torch::Tensor& y, const torch::Tensor& context = torch::Tensor()) = 0;

  /// Shape of one event (without the batch dimension).
  virtual std::vector<int64_t> event_shape() const = 0;

  /// Width of the conditioning input; 0 when the layer takes no context.
  virtual int64_t context_features() const { return 0; }

  /// True when f(-x) = -f(x) for every x (and context), so log|det| is even:
  /// the Z2 symmetry phi -> -phi of phi^4 commutes with the layer.
  virtual bool z2_equivariant() const { return false; }
};

using BijectorPtr = std::shared_ptr<Bijector>;

namespace detail {
/// Boundary checks shared by the layers: x is (B, *event); context is (B, C) when C > 0
/// and undefined or (B, 0) when C = 0. Throw InvalidArgument naming `what`.
void check_event(const torch::Tensor& x, const std::vector<int64_t>& event_shape,
                 const std::string& what);
void check_context(const torch::Tensor& context, int64_t batch, int64_t context_features);
/// A coupling mask: defined, rank >= 1, entries 0/1, at least one 0 and one 1.
void check_coupling_mask(const torch::Tensor& mask);
}  // namespace detail

}  // namespace physgen
