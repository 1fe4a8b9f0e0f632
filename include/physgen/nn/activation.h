#pragma once
// Elementwise activations shared by the networks in nn/ (MLP, periodic conv net, MADE).
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// The activations physgen's networks offer. kLeakyReLU uses slope 0.01 (LibTorch's default).
enum class Activation { kReLU, kLeakyReLU, kTanh, kSiLU, kGELU, kSoftplus };

/// Applies `a` elementwise: relu(x), leaky_relu(x, 0.01), tanh(x), x*sigmoid(x), gelu(x), softplus(x).
torch::Tensor activate(const torch::Tensor& x, Activation a);

/// "relu" | "leaky_relu" | "tanh" | "silu" | "gelu" | "softplus" -> Activation;
/// throws InvalidArgument listing the valid names for anything else.
Activation activation_from_name(const std::string& name);

/// The name activation_from_name() accepts for `a`.
std::string activation_name(Activation a);

/// Every accepted activation name.
std::vector<std::string> activation_names();

/// The smooth activations of the time-conditioned fields (TimeMLP, TimeConvField: their CNF
/// traces differentiate them twice): tanh(x), softplus(x), x*sigmoid(x) ("silu"), elu(x) for
/// any other name (the options validate the name first, against time_mlp_activations()).
torch::Tensor activate_smooth(const std::string& name, const torch::Tensor& x);

}  // namespace physgen
