#include "physgen/nn/activation.h"

#include <torch/torch.h>

#include "physgen/core/registry.h"

namespace physgen {

torch::Tensor activate(const torch::Tensor& x, Activation a) {
  switch (a) {
    case Activation::kReLU: return torch::relu(x);
    case Activation::kLeakyReLU: return torch::leaky_relu(x, 0.01);
    case Activation::kTanh: return torch::tanh(x);
    case Activation::kSiLU: return torch::silu(x);
    case Activation::kGELU: return torch::gelu(x);
    case Activation::kSoftplus: return torch::softplus(x);
  }
  return x;
}

namespace {
const Registry<Activation>& activations() {
  static const Registry<Activation> r = [] {
    Registry<Activation> reg("activation");
    reg.add("relu", Activation::kReLU)
        .add("leaky_relu", Activation::kLeakyReLU)
        .add("tanh", Activation::kTanh)
        .add("silu", Activation::kSiLU)
        .add("gelu", Activation::kGELU)
        .add("softplus", Activation::kSoftplus);
    return reg;
  }();
  return r;
}
}  // namespace

Activation activation_from_name(const std::string& name) { return activations().get(name); }

std::string activation_name(Activation a) {
  for (const auto& n : activations().names()) {
    if (activations().get(n) == a) return n;
  }
  return "unknown";
}

std::vector<std::string> activation_names() { return activations().names(); }

torch::Tensor activate_smooth(const std::string& name, const torch::Tensor& x) {
  if (name == "tanh") return torch::tanh(x);
  if (name == "softplus") return torch::softplus(x);
  if (name == "silu") return torch::silu(x);
  return torch::elu(x);
}

}  // namespace physgen
