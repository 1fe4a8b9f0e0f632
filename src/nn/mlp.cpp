#include "physgen/nn/mlp.h"

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

MLPImpl::MLPImpl(MLPOptions options_) : options(std::move(options_)) {
  check_arg(options.in_features() >= 1, "in_features", options.in_features(), "an integer >= 1");
  check_arg(options.out_features() >= 1, "out_features", options.out_features(), "an integer >= 1");
  for (auto h : options.hidden()) check_arg(h >= 1, "hidden", h, "layer widths >= 1");
  reset();
}

void MLPImpl::reset() {
  layers_.clear();
  int64_t in = options.in_features();
  std::vector<int64_t> outs = options.hidden();
  outs.push_back(options.out_features());
  for (size_t i = 0; i < outs.size(); ++i) {
    layers_.push_back(register_module("linear" + std::to_string(i),
                                      torch::nn::Linear(torch::nn::LinearOptions(in, outs[i]).bias(options.bias()))));
    in = outs[i];
  }
  if (options.zero_init_last()) {
    torch::NoGradGuard no_grad;
    layers_.back()->weight.zero_();
    if (options.bias()) layers_.back()->bias.zero_();
  }
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  const size_t n = layers_.size();
  for (size_t i = 0; i < n; ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < n) h = activate(h, options.activation());
  }
  return h;
}

}  // namespace physgen
