#include "physgen/nn/made.h"

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

MADEImpl::MADEImpl(MADEOptions options_) : options(std::move(options_)) {
  check_arg(options.features() >= 1, "features", options.features(), "an integer >= 1");
  check_arg(!options.hidden().empty(), "hidden.size()", options.hidden().size(),
            "at least one hidden layer");
  for (auto h : options.hidden()) check_arg(h >= 1, "hidden", h, "layer widths >= 1");
  check_arg(options.outputs_per_feature() >= 1, "outputs_per_feature",
            options.outputs_per_feature(), "an integer >= 1");
  check_arg(options.context_features() >= 0, "context_features", options.context_features(),
            "an integer >= 0");
  reset();
}

int64_t MADEImpl::input_degree(int64_t i) const {
  return options.reverse_order() ? options.features() - i : i + 1;
}

void MADEImpl::reset() {
  const int64_t D = options.features(), K = options.outputs_per_feature();
  const bool ctx = options.context_features() > 0;
  // Hidden degrees: [1, D-1] cyclically, or [0, D-1] with context.
  const int64_t lo = ctx ? 0 : 1;
  const int64_t range = ctx ? D : std::max<int64_t>(1, D - 1);
  auto hidden_degrees = [&](int64_t n) {
    std::vector<int64_t> d(static_cast<size_t>(n));
    for (int64_t h = 0; h < n; ++h) d[h] = lo + h % range;
    return d;
  };
  std::vector<int64_t> prev(static_cast<size_t>(D));
  for (int64_t i = 0; i < D; ++i) prev[i] = input_degree(i);

  hidden_.clear();
  masks_.clear();
  int64_t in = D;
  for (size_t l = 0; l < options.hidden().size(); ++l) {
    const int64_t n = options.hidden()[l];
    auto deg = hidden_degrees(n);
    auto m = torch::zeros({n, in});
    auto acc = m.accessor<float, 2>();
    for (int64_t h = 0; h < n; ++h)
      for (int64_t i = 0; i < in; ++i) acc[h][i] = deg[h] >= prev[i] ? 1.f : 0.f;
    hidden_.push_back(register_module("hidden" + std::to_string(l),
                                      torch::nn::Linear(torch::nn::LinearOptions(in, n))));
    masks_.push_back(register_buffer("mask" + std::to_string(l), m));
    prev = deg;
    in = n;
  }
  if (ctx) {
    context_ = register_module(
        "context", torch::nn::Linear(torch::nn::LinearOptions(options.context_features(),
                                                              options.hidden()[0])
                                         .bias(false)));
  } else {
    context_ = nullptr;
  }
  auto m = torch::zeros({K * D, in});
  auto acc = m.accessor<float, 2>();
  for (int64_t j = 0; j < K; ++j)
    for (int64_t i = 0; i < D; ++i)
      for (int64_t h = 0; h < in; ++h) acc[j * D + i][h] = input_degree(i) > prev[h] ? 1.f : 0.f;
  output_ = register_module("output", torch::nn::Linear(torch::nn::LinearOptions(in, K * D)));
  output_mask_ = register_buffer("output_mask", m);
  if (options.zero_init_last()) {
    torch::NoGradGuard no_grad;
    output_->weight.zero_();
    output_->bias.zero_();
  }
}

torch::Tensor MADEImpl::context_term(const torch::Tensor& context) {
  if (!context.defined() || context_.is_empty()) return torch::Tensor();
  return context_->forward(context);
}

torch::Tensor MADEImpl::hidden_output(const torch::Tensor& x, const torch::Tensor& ctx_term) {
  torch::Tensor h = x;
  for (size_t l = 0; l < hidden_.size(); ++l) {
    h = torch::addmm(hidden_[l]->bias, h, (hidden_[l]->weight * masks_[l]).t());
    if (l == 0 && ctx_term.defined()) h = h + ctx_term;
    h = activate(h, options.activation());
  }
  return h;
}

torch::Tensor MADEImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  const auto h = hidden_output(x, context_term(context));
  auto y = torch::addmm(output_->bias, h, (output_->weight * output_mask_).t());
  return y.view({x.size(0), options.outputs_per_feature(), options.features()});
}

torch::Tensor MADEImpl::forward_feature(const torch::Tensor& x, const torch::Tensor& ctx_term, int64_t i) {
  check_arg(i >= 0 && i < options.features(), "i", i, "a feature index in [0, features)");
  const auto h = hidden_output(x, ctx_term);
  // Output rows j D + i, j = 0..K-1 (the layout of forward's (B, K, D) view).
  const auto rows = torch::arange(options.outputs_per_feature(), torch::TensorOptions().dtype(torch::kInt64).device(h.device())) *
                        options.features() + i;
  const auto w = (output_->weight.index_select(0, rows) * output_mask_.index_select(0, rows));
  return torch::addmm(output_->bias.index_select(0, rows), h, w.t());
}

}  // namespace physgen
