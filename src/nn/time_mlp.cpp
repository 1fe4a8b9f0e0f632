#include "physgen/nn/time_mlp.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/nn/activation.h"
#include "physgen/core/registry.h"

namespace physgen {

std::vector<std::string> time_mlp_activations() { return {"tanh", "softplus", "silu", "elu"}; }

namespace {

}  // namespace

TimeMLPImpl::TimeMLPImpl(const TimeMLPOptions& options_) : options(options_) {
  check_arg(options.dim() >= 1, "dim", options.dim(), "an integer >= 1");
  for (int64_t h : options.hidden()) check_arg(h >= 1, "hidden", h, "widths >= 1");
  check_choice("activation", options.activation(), time_mlp_activations());
  check_choice("time_conditioning", options.time_conditioning(), {"concat", "sinusoidal"});
  check_arg(options.condition_dim() >= 0, "condition_dim", options.condition_dim(),
            "an integer >= 0");
  reset();
}

void TimeMLPImpl::reset() {
  embedding = register_module(
      "embedding", TimeEmbedding(TimeEmbeddingOptions(options.time_embedding_dim())
                                     .min_frequency(options.min_frequency())
                                     .max_frequency(options.max_frequency())));
  const int64_t tdim =
      (options.time_conditioning() == "concat" ? 1 : options.time_embedding_dim()) +
      options.condition_dim();
  layers = register_module("layers", torch::nn::ModuleList());
  int64_t in = options.dim();
  for (int64_t h : options.hidden()) {
    layers->push_back(torch::nn::Linear(in + tdim, h));
    in = h;
  }
  torch::nn::Linear last(in + tdim, options.dim());
  if (options.zero_init_output()) {
    torch::NoGradGuard no_grad;
    last->weight.zero_();
    last->bias.zero_();
  }
  layers->push_back(last);
}

torch::Tensor TimeMLPImpl::time_features(const torch::Tensor& t, const torch::Tensor& x) {
  const int64_t n = x.size(0);
  auto tt = t.to(x.scalar_type()).reshape({-1, 1});
  if (tt.size(0) == 1 && n != 1) tt = tt.expand({n, 1});
  if (options.time_conditioning() == "concat") return tt;
  return embedding->forward(tt);
}

torch::Tensor TimeMLPImpl::forward(const torch::Tensor& t, const torch::Tensor& x) {
  return forward(t, x, torch::Tensor());
}

torch::Tensor TimeMLPImpl::forward(const torch::Tensor& t, const torch::Tensor& x,
                                   const torch::Tensor& c) {
  auto tau = time_features(t, x);
  const int64_t k = options.condition_dim();
  if (k > 0) {
    check_arg(c.defined() && c.dim() == 2 && c.size(1) == k &&
                  (c.size(0) == x.size(0) || c.size(0) == 1),
              "c.shape", c.defined() ? c10::str(c.sizes()) : std::string("undefined"),
              "(n, " + std::to_string(k) + ") or (1, " + std::to_string(k) + ")");
    tau = torch::cat({tau, c.to(tau.scalar_type()).expand({x.size(0), k})}, 1);
  } else {
    check_arg(!c.defined() || c.numel() == 0, "c.shape", c10::str(c.sizes()),
              "no condition (condition_dim = 0)");
  }
  auto h = x;
  const size_t n_layers = layers->size();
  for (size_t i = 0; i < n_layers; ++i) {
    h = layers[i]->as<torch::nn::Linear>()->forward(torch::cat({h, tau}, 1));
    if (i + 1 < n_layers) h = activate_smooth(options.activation(), h);
  }
  return h;
}

torch::Tensor TimeMLPImpl::forward(double t, const torch::Tensor& x) {
  return forward(torch::full({1}, t, x.options()), x);
}

}  // namespace physgen
