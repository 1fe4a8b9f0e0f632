#pragma once
// Variational autoregressive network (VAN) for Ising spins on an H x W lattice.
//
//   q(s) = prod_i sigmoid(s_i z_i(s_<i)),   s_i = +-1, sites in raster order i = r W + c,
//
// with the logits z = f(s) of a stack of masked ("PixelCNN") convolutions: layer 1 is
// exclusive (site i sees only sites before it), layers 2..depth are inclusive, the last a
// 1 x 1 convolution to one logit per site. Each masked layer has a (k+1) x (2k+1) kernel
// (k = half_kernel) covering the k rows above the site and, in the site's own row, the k
// columns to its left (and the site itself in inclusive layers); the lattice is zero-padded
// (the raster order is not translation invariant, so the conditionals are not periodic: the
// periodic Hamiltonian is what the training sees). Variants: residual layers
// (h <- h + act(conv(h)) for layers 2..depth) and dilated layers (layer l has dilation 2^(l-1)).
// Optional Z2 symmetry: q_s(s) = (q(s) + q(-s)) / 2 (models/autoregressive/heads.h).
//
// log q is exact: one network pass. Sampling is exact and costs V = H W network calls (one per
// site, batched over the n samples). Each call computes only the cone the next logit depends
// on: with q_l the reach of the layers after layer l (q_last = 0, q_l = q_{l+1} + k d_{l+1}),
// layer l is evaluated on the (q_l + 1) x (2 q_l + 1) sites within q_l of the site (rows above
// and columns either side), from an input block that already holds its halo (zeros outside
// the lattice, as the full pass pads). At L = 16 with the defaults (k = 2, depth 3,
// reach 6) a call evaluates 45 + 15 + 1 sites instead of 3 x 256: ~10x fewer multiply-adds
// than a full pass for the wide layers.
//
// Parameters: "weight<l>" (width, in, k+1, 2k+1) and "bias<l>" of masked layer l = 0..depth-1,
// "acts.<l>" (PReLU, one slope per channel), "head_weight" (1, width, 1, 1) and "head_bias" (1);
// buffers "mask_a" / "mask_b" (the exclusive / inclusive kernel masks).
//
// Reference: D. Wu, L. Wang, P. Zhang, PRL 122, 080602 (2019), arXiv:1809.10606.
#include <cstdint>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/autoregressive/heads.h"

namespace physgen {

/// Options of Van. Required: event_shape {H, W}. Defaults in brackets.
struct VanOptions {
  explicit VanOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Channels of the masked layers [32].
  TORCH_ARG(int64_t, width) = 32;
  /// Masked convolution layers (the first exclusive), >= 1 [3].
  TORCH_ARG(int64_t, depth) = 3;
  /// k: each masked kernel covers k rows above and k columns either side [2].
  TORCH_ARG(int64_t, half_kernel) = 2;
  /// k0 of the first (exclusive) layer; 0: half_kernel [0]. With k0 = L - 1 the first layer
  /// sees every earlier site, the periodic neighbours across the lattice edges included
  /// (site (r, L-1) neighbours (r, 0); site (L-1, c) neighbours (0, c)), at the cost of one
  /// input channel: the zoo's lattice default.
  TORCH_ARG(int64_t, first_half_kernel) = 0;
  /// Residual layers 2..depth [false].
  TORCH_ARG(bool, residual) = false;
  /// Layer l has dilation 2^(l-1) [false].
  TORCH_ARG(bool, dilated) = false;
  /// Z2 symmetrisation q_s(s) = (q(s) + q(-s)) / 2 [true].
  TORCH_ARG(bool, z2) = true;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static VanOptions from_json(const nlohmann::json& j);
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("width", width());
    v("depth", depth());
    v("half_kernel", half_kernel());
    v("first_half_kernel", first_half_kernel());
    v("residual", residual());
    v("dilated", dilated());
    v("z2", z2());
  }
};

class VanImpl : public torch::nn::Cloneable<VanImpl>, public AutoregressiveModel {
 public:
  explicit VanImpl(const VanOptions& options);
  void reset() override;

  /// Logits z (n, H, W) of q(s_i = +1 | s_<i) = sigmoid(z_i) for spins s (n, H, W) (no Z2).
  torch::Tensor logits(const torch::Tensor& s);
  /// log q(s) (n) for spins s (n, H, W) of +-1 (Z2-symmetrised when options.z2()).
  torch::Tensor log_prob(const torch::Tensor& s) override;
  /// n exact samples: V network calls, each on the cone of one site; no autograd.
  torch::Tensor sample(int64_t n) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  torch::Tensor site_outputs(const torch::Tensor& s) override;
  int64_t sampling_calls() const override { return options.event_shape()[0] * options.event_shape()[1]; }
  std::string head() const override { return "spin"; }

  /// Reach R = k sum_l dilation_l: the logit of (r, c) depends on rows r-R..r, columns c-R..c+R.
  int64_t reach() const;

  VanOptions options;
  torch::nn::ModuleList acts{nullptr};
  std::vector<torch::Tensor> weights, biases;
  torch::Tensor head_weight, head_bias;

 private:
  /// Logits (n, 1, H, W) of spins (n, 1, H, W) (the full pass).
  torch::Tensor net(const torch::Tensor& x);
  int64_t dilation(int64_t layer) const { return options.dilated() ? (int64_t{1} << layer) : 1; }
  /// The half kernel of layer l (k0 for the first, k for the others).
  int64_t half(int64_t layer) const {
    return layer == 0 && options.first_half_kernel() > 0 ? options.first_half_kernel() : options.half_kernel();
  }
  torch::Tensor mask_a_, mask_b_;
};
TORCH_MODULE(Van);

}  // namespace physgen
