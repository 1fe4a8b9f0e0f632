#pragma once
// The orthogonal wavelet transform of multiscale/wavelet.h as a flow layer, in the flows'
// convention x = f(z): forward maps wavelet coefficients z (Mallat's packed layout, (B, H, W))
// to the field x = W^T z, inverse maps a field to its coefficients z = W x. W is orthogonal,
// so log|det| = 0 in both directions; it is linear, so it commutes with x -> -x (Z2). No
// parameters: a multiscale flow composes it with coupling layers acting on the coarse field
// and the details of each scale.
//
// References: S. Mallat, "A wavelet tour of signal processing" (3rd ed. 2009), ch. 7;
// T. Marchand, M. Ozawa, G. Biroli, S. Mallat, PRX 13, 041038 (2023).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "physgen/models/flows/bijector.h"

namespace physgen {

/// Options of WaveletBijector. Required: event_shape {H, W}, divisible by 2^levels.
struct WaveletBijectorOptions {
  explicit WaveletBijectorOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// "haar" | "db4" ["haar"].
  TORCH_ARG(std::string, wavelet) = "haar";
  /// Levels J >= 1 [1].
  TORCH_ARG(int64_t, levels) = 1;
};

class WaveletBijectorImpl : public torch::nn::Cloneable<WaveletBijectorImpl>, public Bijector {
 public:
  explicit WaveletBijectorImpl(WaveletBijectorOptions options);
  void reset() override {}

  /// z (packed coefficients) -> x = W^T z, log|det| = 0.
  std::pair<torch::Tensor, torch::Tensor> forward_and_log_det(const torch::Tensor& z,
                                                              const torch::Tensor& context = torch::Tensor()) override;
  /// x -> z = W x, log|det| = 0.
  std::pair<torch::Tensor, torch::Tensor> inverse_and_log_det(const torch::Tensor& x,
                                                              const torch::Tensor& context = torch::Tensor()) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }
  bool z2_equivariant() const override { return true; }

  WaveletBijectorOptions options;
};
TORCH_MODULE(WaveletBijector);

}  // namespace physgen
