#include "physgen/nn/conv.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "periodic_conv_kernels.h"

namespace physgen {

torch::Tensor periodic_conv_index(int64_t H, int64_t W, int64_t kernel_size,
                                  const torch::Device& device) {
  check_arg(H >= 1 && W >= 1, "H x W", std::to_string(H) + "x" + std::to_string(W),
            "a lattice of at least 1x1 sites");
  check_arg(kernel_size >= 1 && kernel_size % 2 == 1, "kernel_size", kernel_size,
            "an odd integer >= 1");
  const int64_t k = kernel_size, p = (k - 1) / 2;
  std::vector<int64_t> idx;
  idx.reserve(static_cast<size_t>(H * W * k * k));
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j)
      for (int64_t a = 0; a < k; ++a)
        for (int64_t e = 0; e < k; ++e) {
          const int64_t r = (((i + a - p) % H) + H) % H;
          const int64_t c = (((j + e - p) % W) + W) % W;
          idx.push_back(r * W + c);
        }
  return torch::tensor(idx, torch::kLong).to(device);
}

namespace {

bool kernel_applies(const torch::Tensor& x, const torch::Tensor& index) {
  return x.device().is_cpu() && index.device().is_cpu() &&
         (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64);
}

// Direct periodic convolution (src/nn/periodic_conv_kernels.cpp) with its own backward: one
// autograd node per layer, no im2col buffer.
struct PeriodicConvFn : public torch::autograd::Function<PeriodicConvFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& index) {
    auto xc = x.contiguous();
    const int64_t kk = weight.size(0) * weight.size(1);
    ctx->save_for_backward({xc, weight});
    ctx->saved_data["index"] = index;
    return detail::periodic_conv_forward_cpu(
        xc, weight.reshape({kk, weight.size(2), weight.size(3)}),
        bias.numel() > 0 ? bias : torch::Tensor(), index);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const int64_t kk = weight.size(0) * weight.size(1), cout = weight.size(3);
    auto r = detail::periodic_conv_backward_cpu(
        grads[0], x, weight.reshape({kk, weight.size(2), cout}),
        ctx->saved_data["index"].toTensor(), ctx->needs_input_grad(0),
        ctx->needs_input_grad(1));
    torch::Tensor gw = r.second.defined() ? r.second.view(weight.sizes()) : torch::Tensor();
    torch::Tensor gb =
        ctx->needs_input_grad(2) ? grads[0].reshape({-1, cout}).sum(0) : torch::Tensor();
    return {r.first, gw, gb, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor periodic_conv2d_sites(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias, const torch::Tensor& index) {
  if (kernel_applies(x, index)) {
    // Function::apply takes no undefined tensors: "no bias" travels as an empty tensor.
    return PeriodicConvFn::apply(x, weight, bias.defined() ? bias : torch::empty({0}, x.options()),
                                 index);
  }
  // Elsewhere (CUDA): gather (B*S, kk*Cin), row = site, columns ordered (a, e, c), then GEMM.
  const int64_t B = x.size(0), S = x.size(1);
  const int64_t kk = weight.size(0) * weight.size(1), cin = weight.size(2), cout = weight.size(3);
  auto cols = x.index_select(1, index).view({B * S, kk * cin});
  auto wt = weight.reshape({kk * cin, cout});
  auto y = bias.defined() ? torch::addmm(bias, cols, wt) : torch::mm(cols, wt);
  return y.view({B, S, cout});
}

namespace {
void init_uniform_fan_in(torch::Tensor& w, torch::Tensor& b) {
  torch::NoGradGuard no_grad;
  // weight (k, k, in, out): fan_in = k * k * in.
  const double bound = 1.0 / std::sqrt(static_cast<double>(w.size(0) * w.size(1) * w.size(2)));
  w.uniform_(-bound, bound);
  if (b.defined()) b.uniform_(-bound, bound);
}
}  // namespace

PeriodicConv2dImpl::PeriodicConv2dImpl(PeriodicConv2dOptions options_)
    : options(std::move(options_)) {
  check_arg(options.in_channels() >= 1, "in_channels", options.in_channels(), "an integer >= 1");
  check_arg(options.out_channels() >= 1, "out_channels", options.out_channels(),
            "an integer >= 1");
  check_arg(options.kernel_size() >= 1 && options.kernel_size() % 2 == 1, "kernel_size",
            options.kernel_size(), "an odd integer >= 1");
  reset();
}

void PeriodicConv2dImpl::reset() {
  const int64_t k = options.kernel_size();
  weight = register_parameter(
      "weight", torch::empty({k, k, options.in_channels(), options.out_channels()}));
  bias = options.bias() ? register_parameter("bias", torch::empty({options.out_channels()}))
                        : torch::Tensor();
  init_uniform_fan_in(weight, bias);
  index_ = torch::Tensor();
  index_h_ = index_w_ = -1;
}

const torch::Tensor& PeriodicConv2dImpl::index_for(int64_t H, int64_t W,
                                                   const torch::Device& device) {
  if (H != index_h_ || W != index_w_ || !index_.defined() || index_.device() != device) {
    index_ = periodic_conv_index(H, W, options.kernel_size(), device);
    index_h_ = H;
    index_w_ = W;
  }
  return index_;
}

torch::Tensor PeriodicConv2dImpl::forward_sites(const torch::Tensor& x, int64_t H, int64_t W) {
  return periodic_conv2d_sites(x, weight, bias, index_for(H, W, x.device()));
}

torch::Tensor PeriodicConv2dImpl::forward(const torch::Tensor& x) {
  check_arg(x.dim() == 4 && x.size(1) == options.in_channels(), "x.sizes()",
            detail::to_display(x.sizes()),
            "(B, " + std::to_string(options.in_channels()) + ", H, W)");
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  auto xs = x.permute({0, 2, 3, 1}).reshape({B, H * W, x.size(1)});
  auto y = forward_sites(xs, H, W);
  return y.permute({0, 2, 1}).reshape({B, options.out_channels(), H, W});
}

PeriodicConvNetImpl::PeriodicConvNetImpl(PeriodicConvNetOptions options_)
    : options(std::move(options_)) {
  check_arg(options.in_channels() >= 1, "in_channels", options.in_channels(), "an integer >= 1");
  check_arg(options.out_channels() >= 1, "out_channels", options.out_channels(),
            "an integer >= 1");
  for (auto c : options.hidden_channels())
    check_arg(c >= 1, "hidden_channels", c, "channel counts >= 1");
  check_arg(options.kernel_size() >= 1 && options.kernel_size() % 2 == 1, "kernel_size",
            options.kernel_size(), "an odd integer >= 1");
  reset();
}

void PeriodicConvNetImpl::reset() {
  layers_.clear();
  int64_t in = options.in_channels();
  std::vector<int64_t> outs = options.hidden_channels();
  outs.push_back(options.out_channels());
  for (size_t i = 0; i < outs.size(); ++i) {
    layers_.push_back(register_module(
        "conv" + std::to_string(i),
        PeriodicConv2d(
            PeriodicConv2dOptions(in, outs[i], options.kernel_size()).bias(options.bias()))));
    in = outs[i];
  }
  if (options.zero_init_last()) {
    torch::NoGradGuard no_grad;
    layers_.back()->weight.zero_();
    if (options.bias()) layers_.back()->bias.zero_();
  }
  index_ = torch::Tensor();
  index_h_ = index_w_ = -1;
}

torch::Tensor PeriodicConvNetImpl::forward_sites(const torch::Tensor& x, int64_t H, int64_t W) {
  if (H != index_h_ || W != index_w_ || !index_.defined() || index_.device() != x.device()) {
    index_ = periodic_conv_index(H, W, options.kernel_size(), x.device());
    index_h_ = H;
    index_w_ = W;
  }
  torch::Tensor h = x;
  const size_t n = layers_.size();
  for (size_t i = 0; i < n; ++i) {
    h = periodic_conv2d_sites(h, layers_[i]->weight, layers_[i]->bias, index_);
    if (i + 1 < n) h = activate(h, options.activation());
  }
  return h;
}

torch::Tensor PeriodicConvNetImpl::forward(const torch::Tensor& x) {
  check_arg(x.dim() == 4 && x.size(1) == options.in_channels(), "x.sizes()",
            detail::to_display(x.sizes()),
            "(B, " + std::to_string(options.in_channels()) + ", H, W)");
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  auto xs = x.permute({0, 2, 3, 1}).reshape({B, H * W, x.size(1)});
  auto y = forward_sites(xs, H, W);
  return y.permute({0, 2, 1}).reshape({B, options.out_channels(), H, W});
}

}  // namespace physgen
