#pragma once
// Conditioner of coupling layers: the network that maps the conditioning entries
// (and an optional context) to the per-entry parameters of the transformed entries.
//
//   MLP network:  (B, *event) -> flatten (B, D) [++ context (B, C)] -> MLP -> (B, D, P)
//   Conv network: (B, H, W) -> sites (B, H*W, 1) [++ context broadcast to every site]
//                 -> periodic conv net -> (B, H*W, P)
//
// Output: (B, D, P), D = prod(event_shape), P = outputs per entry (2 for affine: s, t;
// 3K - 1 for a K-bin spline). The conv network is translation-equivariant on the torus.
//
// Parity heads (even_outputs = E >= 0; for Z2-equivariant couplings in one pass): the hidden
// layers form an odd trunk h(x) (no biases, tanh), and
//   out[..., :E] = even_head(h * h) (with bias)   -> even in x
//   out[..., E:] = odd_head(h)      (no bias)     -> odd in x
// The last entry of `hidden` is the trunk's output width; heads are linear layers (MLP) or
// periodic convolutions of the same kernel size (conv). No context in this mode (a context
// input would act as a bias and break the parity).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "physgen/nn/activation.h"
#include "physgen/nn/conv.h"
#include "physgen/nn/mlp.h"

namespace physgen {

/// How a coupling is made Z2-equivariant (f(-x) = -f(x)).
enum class Z2Method {
  kSymmetrize,   ///< evaluate the conditioner on x_f and -x_f and (anti)symmetrise: any network, 2x cost
  kOddNetwork,   ///< parity heads on an odd tanh trunk: one pass, affine couplings only, no context
};

/// "symmetrize" | "odd" -> Z2Method.
Z2Method z2_method_from_name(const std::string& name);

/// Which network a conditioner uses.
enum class ConditionerNetwork {
  kMLP,   ///< fully connected on the flattened event (any event shape)
  kConv,  ///< periodic conv net (2D events: lattices)
};

/// "mlp" | "conv" -> ConditionerNetwork.
ConditionerNetwork conditioner_network_from_name(const std::string& name);

/// Architecture of a conditioner network (the coupling layer fixes its input and output sizes).
struct ConditionerOptions {
  /// Network kind. Default kMLP.
  TORCH_ARG(ConditionerNetwork, network) = ConditionerNetwork::kMLP;
  /// Hidden widths (MLP) or hidden channels (conv). Default {64, 64}.
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  /// Odd kernel size of the conv network. Default 3.
  TORCH_ARG(int64_t, kernel_size) = 3;
  /// Activation between layers. Default LeakyReLU(0.01).
  TORCH_ARG(Activation, activation) = Activation::kLeakyReLU;
  /// Zero the last layer at reset(), so the coupling starts at the identity. Default true.
  TORCH_ARG(bool, zero_init_last) = true;
};

/// The conditioner network; its only child is "net" (an MLP or a PeriodicConvNet).
class ConditionerImpl : public torch::nn::Cloneable<ConditionerImpl> {
 public:
  /// even_outputs >= 0 selects the parity heads (see above); -1 a plain network.
  ConditionerImpl(std::vector<int64_t> event_shape, int64_t outputs_per_site,
                  int64_t context_features, ConditionerOptions options,
                  int64_t even_outputs = -1);
  void reset() override;
  /// (B, *event) [, (B, C)] -> (B, D, P).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context);

  std::vector<int64_t> event_shape;
  int64_t outputs_per_site;
  int64_t context_features;
  ConditionerOptions options;
  int64_t even_outputs;

 private:
  torch::Tensor heads_conv(const torch::Tensor& h, int64_t H, int64_t W);
  torch::Tensor heads_mlp(const torch::Tensor& h, int64_t B);
  int64_t numel_ = 0;
  MLP mlp_{nullptr};
  PeriodicConvNet conv_{nullptr};
  PeriodicConv2d even_conv_{nullptr}, odd_conv_{nullptr};
  torch::nn::Linear even_linear_{nullptr}, odd_linear_{nullptr};
};
TORCH_MODULE(Conditioner);

}  // namespace physgen
