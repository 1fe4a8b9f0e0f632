#include "physgen/models/autoregressive/van.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/io/tensor_checks.h"

namespace physgen {

namespace F = torch::nn::functional;
using torch::indexing::None;

void VanOptions::validate() const {
  check_arg(event_shape_.size() == 2 && event_shape_[0] >= 1 && event_shape_[1] >= 1, "event_shape",
            nlohmann::json(event_shape_).dump(), "a lattice [H, W] with H, W >= 1");
  check_arg(width_ >= 1, "width", width_, "an integer >= 1");
  check_arg(depth_ >= 1 && depth_ <= 16, "depth", depth_, "an integer in [1, 16]");
  check_arg(half_kernel_ >= 1, "half_kernel", half_kernel_, "an integer >= 1");
  check_arg(first_half_kernel_ >= 0, "first_half_kernel", first_half_kernel_, "an integer >= 0 (0: half_kernel)");
}

nlohmann::json VanOptions::to_json() const { return options_to_json(*this); }

VanOptions VanOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a lattice such as [16, 16]");
  VanOptions o(j["event_shape"].get<std::vector<int64_t>>());
  options_from_json(o, j, "model");
  o.validate();
  return o;
}

VanImpl::VanImpl(const VanOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void VanImpl::reset() {
  const int64_t k = options.half_kernel(), k0 = half(0), w = options.width();
  // Masks of a (k+1) x (2k+1) kernel whose last row is the site's own row: every column of the
  // k rows above, and in the own row the columns left of the site (exclusive) or up to it
  // (inclusive). The exclusive mask is the first layer's, of half size k0.
  auto mask_b = torch::ones({k + 1, 2 * k + 1});
  mask_b.index_put_({k, torch::indexing::Slice(k + 1, torch::indexing::None)}, 0.0);
  auto mask_a = torch::ones({k0 + 1, 2 * k0 + 1});
  mask_a.index_put_({k0, torch::indexing::Slice(k0, torch::indexing::None)}, 0.0);
  mask_a_ = register_buffer("mask_a", mask_a);
  mask_b_ = register_buffer("mask_b", mask_b);
  acts = register_module("acts", torch::nn::ModuleList());
  weights.clear();
  biases.clear();
  for (int64_t l = 0; l < options.depth(); ++l) {
    const int64_t in = l == 0 ? 1 : w, kl = half(l);
    // Conv2d's default initialisation: uniform in +-1/sqrt(fan_in), fan_in over the unmasked taps.
    const double fan_in = static_cast<double>(in) * ((l == 0 ? mask_a : mask_b).sum().item<double>());
    const double bound = 1.0 / std::sqrt(fan_in);
    weights.push_back(register_parameter("weight" + std::to_string(l),
                                         torch::empty({w, in, kl + 1, 2 * kl + 1}).uniform_(-bound, bound)));
    biases.push_back(register_parameter("bias" + std::to_string(l), torch::empty({w}).uniform_(-bound, bound)));
    acts->push_back(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(w)));
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(w));
  head_weight = register_parameter("head_weight", torch::empty({1, w, 1, 1}).uniform_(-bound, bound));
  head_bias = register_parameter("head_bias", torch::zeros({1}));
}

int64_t VanImpl::reach() const {
  int64_t r = 0;
  for (int64_t l = 0; l < options.depth(); ++l) r += half(l) * dilation(l);
  return r;
}

torch::Tensor VanImpl::net(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (int64_t l = 0; l < options.depth(); ++l) {
    const int64_t d = dilation(l), k = half(l);
    const auto& mask = l == 0 ? mask_a_ : mask_b_;
    // Pad k d columns either side and k d rows above (none below: no layer looks down).
    auto padded = F::pad(h, F::PadFuncOptions({k * d, k * d, k * d, 0}));
    auto y = F::conv2d(padded, weights[l] * mask, F::Conv2dFuncOptions().bias(biases[l]).dilation(d));
    y = acts[l]->as<torch::nn::PReLU>()->forward(y);
    h = (options.residual() && l > 0) ? h + y : y;
  }
  return F::conv2d(h, head_weight, F::Conv2dFuncOptions().bias(head_bias));
}

torch::Tensor VanImpl::logits(const torch::Tensor& s) {
  const auto& shape = options.event_shape();
  check_shape(s, {kAnyDim, shape[0], shape[1]}, "s.sizes()", "(n, H, W) spins");
  return net(s.to(head_weight.scalar_type()).unsqueeze(1)).squeeze(1);
}

torch::Tensor VanImpl::site_outputs(const torch::Tensor& s) {
  return logits(s).flatten(1).unsqueeze(-1);
}

torch::Tensor VanImpl::log_prob(const torch::Tensor& s) {
  return site_log_prob(s.to(head_weight.device(), head_weight.scalar_type()), options.z2());
}

torch::Tensor VanImpl::sample(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard ng;
  using torch::indexing::Slice;
  const int64_t H = options.event_shape()[0], W = options.event_shape()[1], R = reach(), depth = options.depth();
  // The lattice, zero-padded by R above, left and right: site (r, c) is at (r + R, c + R), and
  // the rows r-R..r, columns c-R..c+R the logit of (r, c) depends on are the block
  // [r, r+R] x [c, c+2R] of the padded arrays (the cone of the site).
  auto xp = torch::zeros({n, 1, H + R, W + 2 * R}, head_weight.options());
  auto inside = torch::zeros({1, 1, H + R, W + 2 * R}, head_weight.options());
  inside.index_put_({Slice(), Slice(), Slice(R, None), Slice(R, R + W)}, 1.0);
  // q[l]: the reach of the layers after layer l; layer l is computed on the sites within q[l]
  // of (r, c) only (rows r-q..r, columns c-q..c+q): those the later layers read.
  std::vector<int64_t> q(static_cast<size_t>(depth), 0);
  for (int64_t l = depth - 2; l >= 0; --l) q[l] = q[l + 1] + half(l + 1) * dilation(l + 1);
  std::vector<torch::Tensor> masked;  // the masked kernels, once per call
  for (int64_t l = 0; l < depth; ++l) masked.push_back(weights[l] * (l == 0 ? mask_a_ : mask_b_));
  for (int64_t r = 0; r < H; ++r) {
    for (int64_t c = 0; c < W; ++c) {
      torch::Tensor h = xp.index({Slice(), Slice(), Slice(r, r + R + 1), Slice(c, c + 2 * R + 1)});
      for (int64_t l = 0; l < depth; ++l) {
        const int64_t d = dilation(l), shrink = half(l) * d;
        // No padding: the input block already holds the halo (zeros outside the lattice).
        auto y = F::conv2d(h, masked[l], F::Conv2dFuncOptions().bias(biases[l]).dilation(d));
        y = acts[l]->as<torch::nn::PReLU>()->forward(y);
        if (options.residual() && l > 0) y = y + h.index({Slice(), Slice(), Slice(shrink, None), Slice(shrink, -shrink)});
        // Sites outside the lattice are zero padding for the next layer, as in the full pass.
        const int64_t off = R - q[l];
        h = y * inside.index({Slice(), Slice(), Slice(r + off, r + R + 1), Slice(c + off, c + off + 2 * q[l] + 1)});
      }
      const auto z = F::conv2d(h, head_weight, F::Conv2dFuncOptions().bias(head_bias)).flatten();  // (n)
      xp.index_put_({Slice(), 0, r + R, c + R}, autoregressive_site_sample("spin", z.unsqueeze(-1)));
    }
  }
  auto x = xp.index({Slice(), 0, Slice(R, None), Slice(R, R + W)}).contiguous();
  return options.z2() ? z2_random_flip(x) : x;
}

}  // namespace physgen
