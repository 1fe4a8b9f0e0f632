#include "physgen/nn/vector_nets.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

std::vector<std::string> vector_mlp_activations() {
  return {"leaky_relu", "relu", "tanh", "silu", "elu", "softplus"};
}

torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x) {
  if (name == "leaky_relu") return torch::leaky_relu(x, 0.2);
  if (name == "relu") return torch::relu(x);
  if (name == "tanh") return torch::tanh(x);
  if (name == "silu") return torch::silu(x);
  if (name == "elu") return torch::elu(x);
  if (name == "softplus") return torch::softplus(x);
  if (name == "sigmoid") return torch::sigmoid(x);
  return x;  // "none"
}

VectorMLPImpl::VectorMLPImpl(const VectorMLPOptions& options_) : options(options_) {
  check_arg(options.in_features() >= 1, "in_features", options.in_features(), "an integer >= 1");
  check_arg(options.out_features() >= 1, "out_features", options.out_features(), "an integer >= 1");
  check_arg(options.condition_dim() >= 0, "condition_dim", options.condition_dim(), "an integer >= 0");
  for (int64_t h : options.hidden()) check_arg(h >= 1, "hidden", h, "widths >= 1");
  check_choice("activation", options.activation(), vector_mlp_activations());
  check_choice("output_activation", options.output_activation(), {"none", "tanh", "sigmoid"});
  reset();
}

void VectorMLPImpl::reset() {
  layers = register_module("layers", torch::nn::ModuleList());
  int64_t in = options.in_features() + options.condition_dim();
  for (int64_t h : options.hidden()) {
    layers->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  torch::nn::Linear last(in, options.out_features());
  if (options.zero_init_output()) {
    torch::NoGradGuard no_grad;
    last->weight.zero_();
    last->bias.zero_();
  }
  layers->push_back(last);
}

torch::Tensor VectorMLPImpl::forward(const torch::Tensor& x, const torch::Tensor& c) {
  auto h = options.condition_dim() > 0 ? torch::cat({x, c.to(x.scalar_type())}, 1) : x;
  const size_t n = layers->size();
  for (size_t i = 0; i < n; ++i) {
    h = layers[i]->as<torch::nn::Linear>()->forward(h);
    h = apply_activation(i + 1 < n ? options.activation() : options.output_activation(), h);
  }
  return h;
}

}  // namespace physgen
