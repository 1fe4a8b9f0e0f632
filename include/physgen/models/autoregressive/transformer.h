#pragma once
// Autoregressive transformer over the sites of an H x W lattice, for spins (head "spin") and
// continuous fields such as phi^4 (head "mixture": K Gaussians per site).
//
//   q(x) = prod_i q(x_i | x_<i),  sites in raster order i = r W + c,
//   token_0 = start,  token_i = E x_{i-1} + b  (i >= 1),   h_i^0 = token_i + P_row[r_i] + P_col[c_i],
//   h^{l+1} = a + MLP(LN(a)),  a = h^l + CausalAttention(LN(h^l))       (pre-LN blocks),
//   outputs_i = Head(LN(h_i^L))  -> the parameters of q(x_i | x_<i) (models/autoregressive/heads.h).
//
// The positional information knows the lattice: a learned embedding of the row and one of the
// column of the site being predicted (so the model can learn that x_{i-W}, the site above, is
// a neighbour). Causal attention: position i attends to positions 0..i, and position i holds
// x_{i-1}, so output i depends on x_<i only. Optional Z2 symmetrisation as VAN.
//
// log q is one teacher-forced pass. Sampling costs V calls of one token each: the keys and
// values of earlier positions are cached per layer (a "KV cache"), so call i costs
// O(layers (d^2 + i d)) per sample instead of a pass over i tokens.
//
// Parameters: "value_embed", "start" (d), "row_embed" (H, d), "col_embed" (W, d),
// "blocks.<l>.{ln1,qkv,proj,ln2,fc1,fc2}", "ln_f", "out".
//
// References: A. Vaswani et al., "Attention is all you need", NeurIPS 2017, arXiv:1706.03762;
// D. Wu, L. Wang, P. Zhang, PRL 122, 080602 (2019) (the variational use on spins).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/autoregressive/heads.h"

namespace physgen {

/// Options of ArTransformer. Required: event_shape {H, W}. Defaults in brackets.
struct ArTransformerOptions {
  explicit ArTransformerOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Embedding width d [32].
  TORCH_ARG(int64_t, d_model) = 32;
  /// Attention heads (d_model divisible by heads) [4].
  TORCH_ARG(int64_t, heads) = 4;
  /// Transformer blocks [2].
  TORCH_ARG(int64_t, layers) = 2;
  /// Hidden width of each block's MLP [128].
  TORCH_ARG(int64_t, ff) = 128;
  /// "spin" | "mixture" ["mixture"].
  TORCH_ARG(std::string, head) = "mixture";
  /// Gaussians per site of the mixture head [4].
  TORCH_ARG(int64_t, components) = 4;
  /// Z2 symmetrisation q_s(x) = (q(x) + q(-x)) / 2 [true].
  TORCH_ARG(bool, z2) = true;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static ArTransformerOptions from_json(const nlohmann::json& j);
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("d_model", d_model());
    v("heads", heads());
    v("layers", layers());
    v("ff", ff());
    v("head", head());
    v("components", components());
    v("z2", z2());
  }
};

/// One pre-LN transformer block (causal multi-head attention, then a GELU MLP).
class ArBlockImpl : public torch::nn::Cloneable<ArBlockImpl> {
 public:
  ArBlockImpl(int64_t d_model, int64_t heads, int64_t ff);
  void reset() override;
  /// Full causal pass: (n, T, d) -> (n, T, d).
  torch::Tensor forward(const torch::Tensor& h);
  /// One position t: h (n, 1, d) -> (n, 1, d); writes its key and value into the caches
  /// (n, heads, V, d/heads) at t and attends to positions 0..t.
  torch::Tensor step(const torch::Tensor& h, torch::Tensor& k_cache, torch::Tensor& v_cache, int64_t t);

  int64_t d_model, heads, ff;
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // (n, T, d) -> (n, heads, T, dh)
  torch::Tensor mlp(const torch::Tensor& a);
};
TORCH_MODULE(ArBlock);

class ArTransformerImpl : public torch::nn::Cloneable<ArTransformerImpl>, public AutoregressiveModel {
 public:
  explicit ArTransformerImpl(const ArTransformerOptions& options);
  void reset() override;

  torch::Tensor log_prob(const torch::Tensor& x) override;
  /// n exact samples with the KV cache, no autograd.
  torch::Tensor sample(int64_t n) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  torch::Tensor site_outputs(const torch::Tensor& x) override;
  int64_t sampling_calls() const override { return options.event_shape()[0] * options.event_shape()[1]; }
  std::string head() const override { return options.head(); }

  ArTransformerOptions options;
  torch::nn::Linear value_embed{nullptr}, out{nullptr};
  torch::Tensor start, row_embed, col_embed;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};

 private:
  torch::Tensor positions() const;  // (V, d): row + column embedding of each site
};
TORCH_MODULE(ArTransformer);

}  // namespace physgen
