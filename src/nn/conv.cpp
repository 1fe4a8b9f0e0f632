#include "physgen/nn/conv.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"

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

// The channel loops have a compile-time length for the common widths (so they compile to a
// few vector moves) and a runtime length otherwise.
template <class T, int kC>
void im2col_kernel(const T* x, const int64_t* idx, T* out, int64_t B, int64_t S, int64_t Crt,
                   int64_t kk) {
  const int64_t C = kC > 0 ? kC : Crt;
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* xb = x + b * S * C;
      T* o = out + b * S * kk * C;
      for (int64_t sq = 0; sq < S * kk; ++sq, o += C) {
        const T* src = xb + idx[sq] * C;
        for (int64_t c = 0; c < C; ++c) o[c] = src[c];
      }
    }
  });
}

template <class T, int kC>
void col2im_kernel(const T* g, const int64_t* idx, T* gx, int64_t B, int64_t S, int64_t Crt,
                   int64_t kk) {
  const int64_t C = kC > 0 ? kC : Crt;
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const T* gs = g + b * S * kk * C;
      T* xb = gx + b * S * C;
      for (int64_t sq = 0; sq < S * kk; ++sq, gs += C) {
        T* dst = xb + idx[sq] * C;
        for (int64_t c = 0; c < C; ++c) dst[c] += gs[c];
      }
    }
  });
}

template <class T, template <class, int> class Kernel>
struct ByWidth {
  template <class... Args>
  static void run(int64_t C, Args... args) {
    switch (C) {
      case 1: return Kernel<T, 1>::run(args...);
      case 2: return Kernel<T, 2>::run(args...);
      case 4: return Kernel<T, 4>::run(args...);
      case 8: return Kernel<T, 8>::run(args...);
      case 16: return Kernel<T, 16>::run(args...);
      default: return Kernel<T, 0>::run(args...);
    }
  }
};
template <class T, int kC>
struct Im2Col {
  static void run(const T* x, const int64_t* idx, T* out, int64_t B, int64_t S, int64_t C,
                  int64_t kk) {
    im2col_kernel<T, kC>(x, idx, out, B, S, C, kk);
  }
};
template <class T, int kC>
struct Col2Im {
  static void run(const T* g, const int64_t* idx, T* gx, int64_t B, int64_t S, int64_t C,
                  int64_t kk) {
    col2im_kernel<T, kC>(g, idx, gx, B, S, C, kk);
  }
};

bool kernel_applies(const torch::Tensor& x, const torch::Tensor& index) {
  return x.device().is_cpu() && index.device().is_cpu() &&
         (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64);
}

torch::Tensor im2col_cpu(const torch::Tensor& xin, const torch::Tensor& index, int64_t kk) {
  auto x = xin.contiguous();
  const int64_t B = x.size(0), S = x.size(1), C = x.size(2);
  auto out = torch::empty({B * S, kk * C}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "periodic_im2col", [&] {
    ByWidth<scalar_t, Im2Col>::run(C, x.data_ptr<scalar_t>(), index.data_ptr<int64_t>(),
                                   out.data_ptr<scalar_t>(), B, S, C, kk);
  });
  return out;
}

torch::Tensor col2im_cpu(const torch::Tensor& gin, const torch::Tensor& index, int64_t B,
                         int64_t S, int64_t C, int64_t kk) {
  auto g = gin.contiguous();
  auto gx = torch::zeros({B, S, C}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "periodic_col2im", [&] {
    ByWidth<scalar_t, Col2Im>::run(C, g.data_ptr<scalar_t>(), index.data_ptr<int64_t>(),
                                   gx.data_ptr<scalar_t>(), B, S, C, kk);
  });
  return gx;
}

struct PeriodicIm2Col : public torch::autograd::Function<PeriodicIm2Col> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& index, int64_t kk) {
    ctx->saved_data["B"] = x.size(0);
    ctx->saved_data["S"] = x.size(1);
    ctx->saved_data["C"] = x.size(2);
    ctx->saved_data["kk"] = kk;
    ctx->saved_data["index"] = index;
    return im2col_cpu(x, index, kk);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto gx = col2im_cpu(grads[0], ctx->saved_data["index"].toTensor(),
                         ctx->saved_data["B"].toInt(), ctx->saved_data["S"].toInt(),
                         ctx->saved_data["C"].toInt(), ctx->saved_data["kk"].toInt());
    return {gx, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor periodic_im2col(const torch::Tensor& x, const torch::Tensor& index, int64_t kk) {
  const int64_t B = x.size(0), S = x.size(1), C = x.size(2);
  if (kernel_applies(x, index)) return PeriodicIm2Col::apply(x, index, kk);
  return x.index_select(1, index).view({B * S, kk * C});
}

torch::Tensor periodic_conv2d_sites(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias, const torch::Tensor& index) {
  const int64_t B = x.size(0), S = x.size(1);
  const int64_t kk = weight.size(0) * weight.size(1), cin = weight.size(2), cout = weight.size(3);
  // (B*S, kk*Cin): row = site, columns ordered (a, e, c), matching weight.view(kk*Cin, Cout).
  auto cols = periodic_im2col(x, index, kk);
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
