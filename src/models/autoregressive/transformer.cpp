#include "physgen/models/autoregressive/transformer.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/io/tensor_checks.h"

namespace physgen {

namespace F = torch::nn::functional;

void ArTransformerOptions::validate() const {
  check_arg(event_shape_.size() == 2 && event_shape_[0] >= 1 && event_shape_[1] >= 1, "event_shape",
            nlohmann::json(event_shape_).dump(), "a lattice [H, W] with H, W >= 1");
  check_arg(d_model_ >= 1, "d_model", d_model_, "an integer >= 1");
  check_arg(heads_ >= 1 && d_model_ % heads_ == 0, "heads", heads_,
            "an integer >= 1 dividing d_model = " + std::to_string(d_model_));
  check_arg(layers_ >= 1, "layers", layers_, "an integer >= 1");
  check_arg(ff_ >= 1, "ff", ff_, "an integer >= 1");
  autoregressive_head_width(head_, components_);  // validates head and components
}

nlohmann::json ArTransformerOptions::to_json() const { return options_to_json(*this); }

ArTransformerOptions ArTransformerOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a lattice such as [16, 16]");
  ArTransformerOptions o(j["event_shape"].get<std::vector<int64_t>>());
  options_from_json(o, j, "model");
  o.validate();
  return o;
}

// ---- one block ----

ArBlockImpl::ArBlockImpl(int64_t d_model_, int64_t heads_, int64_t ff_) : d_model(d_model_), heads(heads_), ff(ff_) {
  reset();
}

void ArBlockImpl::reset() {
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  qkv = register_module("qkv", torch::nn::Linear(d_model, 3 * d_model));
  proj = register_module("proj", torch::nn::Linear(d_model, d_model));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
  fc1 = register_module("fc1", torch::nn::Linear(d_model, ff));
  fc2 = register_module("fc2", torch::nn::Linear(ff, d_model));
}

torch::Tensor ArBlockImpl::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads, d_model / heads}).transpose(1, 2);
}

torch::Tensor ArBlockImpl::mlp(const torch::Tensor& a) { return fc2(F::gelu(fc1(ln2(a)))); }

torch::Tensor ArBlockImpl::forward(const torch::Tensor& h) {
  const int64_t n = h.size(0), T = h.size(1);
  auto parts = qkv(ln1(h)).chunk(3, -1);
  // 1/sqrt(d_h) folded into q (n x T x d) rather than applied to the scores (n x heads x T x T).
  auto q = split_heads(parts[0] * (1.0 / std::sqrt(static_cast<double>(d_model / heads))));
  auto k = split_heads(parts[1]), v = split_heads(parts[2]);
  auto scores = torch::matmul(q, k.transpose(-2, -1));
  auto causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(h.device())).triu(1);
  scores = scores.masked_fill(causal, -std::numeric_limits<double>::infinity());
  auto att = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({n, T, d_model});
  auto a = h + proj(att);
  return a + mlp(a);
}

torch::Tensor ArBlockImpl::step(const torch::Tensor& h, torch::Tensor& k_cache, torch::Tensor& v_cache, int64_t t) {
  const int64_t n = h.size(0);
  auto parts = qkv(ln1(h)).chunk(3, -1);
  auto q = split_heads(parts[0] * (1.0 / std::sqrt(static_cast<double>(d_model / heads))));
  k_cache.narrow(2, t, 1).copy_(split_heads(parts[1]));
  v_cache.narrow(2, t, 1).copy_(split_heads(parts[2]));
  auto k = k_cache.narrow(2, 0, t + 1), v = v_cache.narrow(2, 0, t + 1);
  auto scores = torch::matmul(q, k.transpose(-2, -1));
  auto att = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({n, 1, d_model});
  auto a = h + proj(att);
  return a + mlp(a);
}

// ---- the model ----

ArTransformerImpl::ArTransformerImpl(const ArTransformerOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void ArTransformerImpl::reset() {
  const int64_t d = options.d_model(), H = options.event_shape()[0], W = options.event_shape()[1];
  value_embed = register_module("value_embed", torch::nn::Linear(1, d));
  start = register_parameter("start", 0.02 * torch::randn({d}));
  row_embed = register_parameter("row_embed", 0.02 * torch::randn({H, d}));
  col_embed = register_parameter("col_embed", 0.02 * torch::randn({W, d}));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < options.layers(); ++l) blocks->push_back(ArBlock(d, options.heads(), options.ff()));
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  out = register_module("out", torch::nn::Linear(d, autoregressive_head_width(options.head(), options.components())));
  // Start near the maximum-entropy model: small output weights (a uniform spin, a broad mixture).
  torch::NoGradGuard ng;
  out->weight.mul_(0.1);
  out->bias.zero_();
}

torch::Tensor ArTransformerImpl::positions() const {
  const int64_t H = options.event_shape()[0], W = options.event_shape()[1], d = options.d_model();
  return (row_embed.unsqueeze(1) + col_embed.unsqueeze(0)).reshape({H * W, d});
}

torch::Tensor ArTransformerImpl::site_outputs(const torch::Tensor& x_in) {
  const auto& shape = options.event_shape();
  check_shape(x_in, {kAnyDim, shape[0], shape[1]}, "x.sizes()", "(n, H, W)");
  const auto x = x_in.to(start.device(), start.scalar_type()).flatten(1);  // (n, V)
  const int64_t n = x.size(0), V = x.size(1);
  // Token i holds x_{i-1}; token 0 the learned start vector.
  auto prev = value_embed(x.narrow(1, 0, V - 1).unsqueeze(-1));  // (n, V-1, d)
  auto tokens = torch::cat({start.view({1, 1, -1}).expand({n, 1, options.d_model()}), prev}, 1);
  auto h = tokens + positions().unsqueeze(0);
  for (const auto& b : *blocks) h = b->as<ArBlock>()->forward(h);
  return out(ln_f(h));
}

torch::Tensor ArTransformerImpl::log_prob(const torch::Tensor& x) {
  return site_log_prob(x.to(start.device(), start.scalar_type()), options.z2());
}

torch::Tensor ArTransformerImpl::sample(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard ng;
  const int64_t H = options.event_shape()[0], W = options.event_shape()[1], V = H * W;
  const int64_t d = options.d_model(), nh = options.heads();
  const auto pos = positions();
  std::vector<torch::Tensor> kc, vc;
  for (int64_t l = 0; l < options.layers(); ++l) {
    kc.push_back(torch::empty({n, nh, V, d / nh}, start.options()));
    vc.push_back(torch::empty({n, nh, V, d / nh}, start.options()));
  }
  auto x = torch::empty({n, V}, start.options());
  auto token = start.view({1, 1, d}).expand({n, 1, d});
  for (int64_t i = 0; i < V; ++i) {
    auto h = token + pos[i].view({1, 1, d});
    for (int64_t l = 0; l < options.layers(); ++l) h = blocks[l]->as<ArBlock>()->step(h, kc[l], vc[l], i);
    const auto xi = autoregressive_site_sample(options.head(), out(ln_f(h)).squeeze(1));
    x.select(1, i).copy_(xi);
    token = value_embed(xi.view({n, 1, 1}));
  }
  x = x.view({n, H, W});
  return options.z2() ? z2_random_flip(x) : x;
}

}  // namespace physgen
