#include "physgen/nn/time_conv.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/nn/activation.h"
#include "physgen/core/registry.h"
#include "physgen/nn/time_mlp.h"

namespace physgen {

namespace {

/// Circular padding by p on both spatial dimensions of (n, c, H, W), from cat/narrow only
/// (differentiable to any order). Requires p <= H, W.
torch::Tensor pad_periodic(const torch::Tensor& x, int64_t p) {
  if (p == 0) return x;
  const int64_t H = x.size(2), W = x.size(3);
  auto rows = torch::cat({x.narrow(2, H - p, p), x, x.narrow(2, 0, p)}, 2);
  return torch::cat({rows.narrow(3, W - p, p), rows, rows.narrow(3, 0, p)}, 3);
}

}  // namespace

TimeConvFieldImpl::TimeConvFieldImpl(const TimeConvFieldOptions& options_) : options(options_) {
  check_arg(options.height() >= 1, "height", options.height(), "an integer >= 1");
  check_arg(options.width() >= 1, "width", options.width(), "an integer >= 1");
  for (int64_t h : options.hidden()) check_arg(h >= 1, "hidden", h, "channel counts >= 1");
  const int64_t k = options.kernel_size();
  check_arg(k >= 1 && k % 2 == 1 && (k - 1) / 2 <= std::min(options.height(), options.width()),
            "kernel_size", k, "an odd integer >= 1 with (k - 1) / 2 <= min(H, W)");
  check_choice("activation", options.activation(), time_mlp_activations());
  reset();
}

void TimeConvFieldImpl::reset() {
  layers = register_module("layers", torch::nn::ModuleList());
  const int64_t k = options.kernel_size();
  int64_t in = 1;
  for (int64_t h : options.hidden()) {
    layers->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in + 1, h, k)));
    in = h;
  }
  torch::nn::Conv2d last(torch::nn::Conv2dOptions(in + 1, 1, k));
  if (options.zero_init_output()) {
    torch::NoGradGuard no_grad;
    last->weight.zero_();
    last->bias.zero_();
  }
  layers->push_back(last);
}

torch::Tensor TimeConvFieldImpl::forward(const torch::Tensor& t, const torch::Tensor& x) {
  const int64_t n = x.size(0), H = options.height(), W = options.width();
  const int64_t p = (options.kernel_size() - 1) / 2;
  auto tt = t.to(x.scalar_type()).reshape({-1, 1, 1, 1});
  auto tc = tt.expand({n, 1, H, W});
  auto h = x.reshape({n, 1, H, W});
  const size_t n_layers = layers->size();
  for (size_t i = 0; i < n_layers; ++i) {
    h = layers[i]->as<torch::nn::Conv2d>()->forward(pad_periodic(torch::cat({h, tc}, 1), p));
    if (i + 1 < n_layers) h = activate_smooth(options.activation(), h);
  }
  return h.reshape({n, H * W});
}

torch::Tensor TimeConvFieldImpl::forward(double t, const torch::Tensor& x) {
  return forward(torch::full({1}, t, x.options().requires_grad(false)), x);
}

}  // namespace physgen
