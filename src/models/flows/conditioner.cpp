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

ConditionerImpl::ConditionerImpl(std::vector<int64_t> event_shape_, int64_t outputs_per_site_,
                                 int64_t context_features_, ConditionerOptions options_)
    : event_shape(std::move(event_shape_)),
      outputs_per_site(outputs_per_site_),
      context_features(context_features_),
      options(std::move(options_)) {
  numel_ = 1;
  for (auto s : event_shape) numel_ *= s;
  check_arg(outputs_per_site >= 1, "outputs_per_site", outputs_per_site, "an integer >= 1");
  check_arg(context_features >= 0, "context_features", context_features, "an integer >= 0");
  if (options.network() == ConditionerNetwork::kConv) {
    check_arg(event_shape.size() == 2, "event_shape.size()", event_shape.size(),
              "2 (a lattice) for a conv conditioner");
  }
  reset();
}

void ConditionerImpl::reset() {
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

torch::Tensor ConditionerImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  const int64_t B = x.size(0);
  const bool ctx = context_features > 0;
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
