#pragma once
// The network behind diffusion-type models: net(t, x, c) -> a tensor of x's shape (a noise,
// a score or a denoised field, depending on the model), for vectors or lattice fields.
//
//   "mlp"   TimeMLP on the flattened event (d = prod(event_shape)), time and condition
//           concatenated at every layer;
//   "unet"  UNet on (n, C, H, W) events: an event (H, W) gets one channel, (C, H, W) is used
//           as is;
//   "conv"  TimeConvField (nn/time_conv.h) on (H, W) events: periodic k x k convolutions with
//           the time as an extra input channel of every layer; no condition. Small, smooth and
//           translation equivariant: the exact divergence (H W backward passes) is cheap enough
//           for the probability-flow likelihood and flow MCMC on a lattice;
//   "auto"  "unet" for events of rank 2 or 3 with even sides, else "mlp".
// Times t: (n) (one per sample) or a scalar; conditions c: (n, k) features from
// condition_features() or undefined.
//
// Submodule: "net" (TimeMLP or UNet).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/nn/time_conv.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/nn/unet.h"

namespace physgen {

struct DenoiserNetOptions {
  DenoiserNetOptions();
  /// "auto" | "mlp" | "unet" | "conv" [auto].
  TORCH_ARG(std::string, type) = "auto";
  /// MLP (dim and condition_dim are set by the model) [hidden {128, 128, 128}, silu,
  /// sinusoidal time features of 32 dims, frequencies 1..200].
  TORCH_ARG(TimeMLPOptions, mlp);
  /// U-Net (channels and condition_dim are set by the model) [UNetOptions defaults].
  TORCH_ARG(UNetOptions, unet) = UNetOptions(1);
  /// Conv field (height and width are set by the model) [hidden {32, 32, 32}, kernel 3, tanh].
  TORCH_ARG(TimeConvFieldOptions, conv) = TimeConvFieldOptions(1, 1).hidden({32, 32, 32});

 public:
  nlohmann::json to_json() const;
  static DenoiserNetOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("type", type());
    v.table("mlp", [&](auto&& t) {
      t("hidden", mlp().hidden());
      t("activation", mlp().activation());
      t("time_conditioning", mlp().time_conditioning());
      t("time_embedding_dim", mlp().time_embedding_dim());
      t("min_frequency", mlp().min_frequency());
      t("max_frequency", mlp().max_frequency());
    });
    v.table("unet", [&](auto&& t) {
      t("base_channels", unet().base_channels());
      t("channel_multipliers", unet().channel_multipliers());
      t("blocks_per_level", unet().blocks_per_level());
      t("time_embedding_dim", unet().time_embedding_dim());
      t("min_frequency", unet().min_frequency());
      t("max_frequency", unet().max_frequency());
      t("groups", unet().groups());
    });
    v.table("conv", [&](auto&& t) {
      t("hidden", conv().hidden());
      t("kernel_size", conv().kernel_size());
      t("activation", conv().activation());
    });
  }
};

/// Names accepted by DenoiserNetOptions::type: "auto", "mlp", "unet", "conv".
std::vector<std::string> denoiser_net_types();

class DenoiserNetImpl : public torch::nn::Cloneable<DenoiserNetImpl> {
 public:
  /// `condition_dim`: features of the condition (0 = unconditional).
  DenoiserNetImpl(std::vector<int64_t> event_shape, int64_t condition_dim,
                  const DenoiserNetOptions& options);
  void reset() override;
  /// net(t, x, c): t (n) or scalar, x (n, *event_shape), c (n, condition_dim) or undefined.
  torch::Tensor forward(const torch::Tensor& t, const torch::Tensor& x,
                        const torch::Tensor& c = torch::Tensor());
  /// The resolved type: "mlp", "unet" or "conv".
  const std::string& type() const { return type_; }

  std::vector<int64_t> event_shape;
  int64_t condition_dim;
  DenoiserNetOptions options;
  TimeMLP mlp{nullptr};
  UNet unet{nullptr};
  TimeConvField conv{nullptr};

 private:
  std::string type_;
  int64_t dim_ = 1;
};
TORCH_MODULE(DenoiserNet);

}  // namespace physgen
