#include "physgen/models/flows/conditioner.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

ConditionerNetwork conditioner_network_from_name(const std::string& name) {
  static const Registry<ConditionerNetwork> reg = [] {
    Registry<ConditionerNetwork> r("network");
    r.add("mlp", ConditionerNetwork::kMLP).add("conv", ConditionerNetwork::kConv);
    return r;
  }();
  return reg.get(name);
}

Z2Method z2_method_from_name(const std::string& name) {
  static const Registry<Z2Method> reg = [] {
    Registry<Z2Method> r("z2_method");
    r.add("symmetrize", Z2Method::kSymmetrize).add("odd", Z2Method::kOddNetwork);
    return r;
  }();
  return reg.get(name);
}

ConditionerImpl::ConditionerImpl(std::vector<int64_t> event_shape_, int64_t outputs_per_site_,
                                 int64_t context_features_, ConditionerOptions options_,
                                 int64_t even_outputs_)
    : event_shape(std::move(event_shape_)),
      outputs_per_site(outputs_per_site_),
      context_features(context_features_),
      options(std::move(options_)),
      even_outputs(even_outputs_) {
  numel_ = 1;
  for (auto s : event_shape) numel_ *= s;
  check_arg(outputs_per_site >= 1, "outputs_per_site", outputs_per_site, "an integer >= 1");
  check_arg(context_features >= 0, "context_features", context_features, "an integer >= 0");
  if (options.network() == ConditionerNetwork::kConv) {
    check_arg(event_shape.size() == 2, "event_shape.size()", event_shape.size(),
              "2 (a lattice) for a conv conditioner");
  }
  if (even_outputs >= 0) {
    check_arg(even_outputs <= outputs_per_site, "even_outputs", even_outputs,
              "at most outputs_per_site (" + std::to_string(outputs_per_site) + ")");
    check_arg(context_features == 0, "context_features", context_features,
              "0 with the odd-network Z2 method (use z2_method 'symmetrize' with a context)");
    check_arg(options.activation() == Activation::kTanh, "activation",
              activation_name(options.activation()),
              "'tanh' with the odd-network Z2 method (the trunk must be odd)");
    check_arg(!options.hidden().empty(), "hidden.size()", options.hidden().size(),
              "at least one hidden layer with the odd-network Z2 method");
  }
  reset();
}

void ConditionerImpl::reset() {
  even_conv_ = odd_conv_ = nullptr;
  even_linear_ = odd_linear_ = nullptr;
  if (even_outputs >= 0) {
    // Odd trunk: hidden[0..n-2] -> hidden[n-1], no biases, tanh; heads below.
    std::vector<int64_t> inner(options.hidden().begin(), options.hidden().end() - 1);
    const int64_t width = options.hidden().back();
    const int64_t n_even = even_outputs, n_odd = outputs_per_site - even_outputs;
    torch::NoGradGuard no_grad;
    if (options.network() == ConditionerNetwork::kConv) {
      conv_ = register_module("net", PeriodicConvNet(PeriodicConvNetOptions(1, inner, width)
                                                         .kernel_size(options.kernel_size())
                                                         .activation(Activation::kTanh)
                                                         .bias(false)));
      mlp_ = nullptr;
      const int64_t k = options.kernel_size();
      if (n_even > 0)
        even_conv_ = register_module("even_head",
                                     PeriodicConv2d(PeriodicConv2dOptions(width, n_even, k)));
      if (n_odd > 0)
        odd_conv_ = register_module(
            "odd_head", PeriodicConv2d(PeriodicConv2dOptions(width, n_odd, k).bias(false)));
      if (options.zero_init_last()) {
        if (n_even > 0) even_conv_->weight.zero_(), even_conv_->bias.zero_();
        if (n_odd > 0) odd_conv_->weight.zero_();
      }
    } else {
      mlp_ = register_module("net", MLP(MLPOptions(numel_, inner, width)
                                            .activation(Activation::kTanh)
                                            .bias(false)));
      conv_ = nullptr;
      if (n_even > 0)
        even_linear_ = register_module(
            "even_head", torch::nn::Linear(torch::nn::LinearOptions(width, numel_ * n_even)));
      if (n_odd > 0)
        odd_linear_ = register_module(
            "odd_head",
            torch::nn::Linear(torch::nn::LinearOptions(width, numel_ * n_odd).bias(false)));
      if (options.zero_init_last()) {
        if (n_even > 0) even_linear_->weight.zero_(), even_linear_->bias.zero_();
        if (n_odd > 0) odd_linear_->weight.zero_();
      }
    }
    return;
  }
  if (options.network() == ConditionerNetwork::kConv) {
    conv_ = register_module(
        "net", PeriodicConvNet(PeriodicConvNetOptions(1 + context_features, options.hidden(),
                                                      outputs_per_site)
                                   .kernel_size(options.kernel_size())
                                   .activation(options.activation())
                                   .zero_init_last(options.zero_init_last())));
    mlp_ = nullptr;
  } else {
    mlp_ = register_module("net", MLP(MLPOptions(numel_ + context_features, options.hidden(),
                                                 numel_ * outputs_per_site)
                                          .activation(options.activation())
                                          .zero_init_last(options.zero_init_last())));
    conv_ = nullptr;
  }
}

torch::Tensor ConditionerImpl::heads_conv(const torch::Tensor& h, int64_t H, int64_t W) {
  std::vector<torch::Tensor> parts;
  if (!even_conv_.is_empty()) parts.push_back(even_conv_->forward_sites(h * h, H, W));
  if (!odd_conv_.is_empty()) parts.push_back(odd_conv_->forward_sites(h, H, W));
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
}

torch::Tensor ConditionerImpl::heads_mlp(const torch::Tensor& h, int64_t B) {
  std::vector<torch::Tensor> parts;
  if (!even_linear_.is_empty())
    parts.push_back(even_linear_->forward(h * h).view({B, numel_, even_outputs}));
  if (!odd_linear_.is_empty())
    parts.push_back(odd_linear_->forward(h).view({B, numel_, outputs_per_site - even_outputs}));
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
}

torch::Tensor ConditionerImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  const int64_t B = x.size(0);
  const bool ctx = context_features > 0;
  if (even_outputs >= 0) {
    if (!conv_.is_empty()) {
      const int64_t H = event_shape[0], W = event_shape[1];
      auto h = torch::tanh(conv_->forward_sites(x.reshape({B, H * W, 1}), H, W));
      return heads_conv(h, H, W);
    }
    auto h = torch::tanh(mlp_->forward(x.reshape({B, numel_})));
    return heads_mlp(h, B);
  }
  if (!conv_.is_empty()) {
    const int64_t H = event_shape[0], W = event_shape[1];
    auto h = x.reshape({B, H * W, 1});
    if (ctx) h = torch::cat({h, context.unsqueeze(1).expand({B, H * W, context_features})}, 2);
    return conv_->forward_sites(h, H, W);
  }
  auto h = x.reshape({B, numel_});
  if (ctx) h = torch::cat({h, context}, 1);
  return mlp_->forward(h).view({B, numel_, outputs_per_site});
}

}  // namespace physgen
