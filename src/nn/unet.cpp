#include "physgen/nn/unet.h"

#include <numeric>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

namespace {

/// A k x k convolution with circular padding of k / 2 (odd k): the lattice is a torus.
torch::nn::Conv2d circular_conv(int64_t in_channels, int64_t out_channels, int64_t kernel = 3) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                               .padding(kernel / 2)
                               .padding_mode(torch::kCircular));
}

int64_t group_count(int64_t groups, int64_t channels) {
  return std::gcd(std::max<int64_t>(groups, 1), channels);
}

}  // namespace

// ---------------------------------------------------------------- block

UNetBlockImpl::UNetBlockImpl(int64_t in, int64_t out, int64_t emb, int64_t g)
    : in_channels(in), out_channels(out), embedding_dim(emb), groups(g) {
  reset();
}

void UNetBlockImpl::reset() {
  norm1 =
      register_module("norm1", torch::nn::GroupNorm(group_count(groups, in_channels), in_channels));
  conv1 = register_module("conv1", circular_conv(in_channels, out_channels));
  emb_proj = register_module("emb_proj", torch::nn::Linear(embedding_dim, out_channels));
  norm2 = register_module("norm2",
                          torch::nn::GroupNorm(group_count(groups, out_channels), out_channels));
  conv2 = register_module("conv2", circular_conv(out_channels, out_channels));
  skip = register_module("skip",
                         torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 1)));
}

torch::Tensor UNetBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& emb) {
  auto h = conv1->forward(torch::silu(norm1->forward(x)));
  h = h + emb_proj->forward(torch::silu(emb)).unsqueeze(-1).unsqueeze(-1);
  h = conv2->forward(torch::silu(norm2->forward(h)));
  return h + skip->forward(x);
}

// ---------------------------------------------------------------- U-Net

UNetImpl::UNetImpl(const UNetOptions& options_) : options(options_) {
  check_arg(options.channels() >= 1, "unet.channels", options.channels(), "an integer >= 1");
  check_arg(options.base_channels() >= 1, "unet.base_channels", options.base_channels(),
            "an integer >= 1");
  check_arg(!options.channel_multipliers().empty(), "unet.channel_multipliers.size()",
            options.channel_multipliers().size(), "at least one level");
  for (int64_t m : options.channel_multipliers()) {
    check_arg(m >= 1, "unet.channel_multipliers", m, "entries >= 1");
  }
  check_arg(options.blocks_per_level() >= 1, "unet.blocks_per_level", options.blocks_per_level(),
            "an integer >= 1");
  check_arg(options.condition_dim() >= 0, "unet.condition_dim", options.condition_dim(),
            "an integer >= 0");
  check_arg(options.groups() >= 1, "unet.groups", options.groups(), "an integer >= 1");
  reset();
}

void UNetImpl::reset() {
  const int64_t base = options.base_channels();
  const int64_t emb = 4 * base;
  embedding =
      register_module("embedding", TimeEmbedding(TimeEmbeddingOptions(options.time_embedding_dim())
                                                     .min_frequency(options.min_frequency())
                                                     .max_frequency(options.max_frequency())));
  time1 = register_module("time1", torch::nn::Linear(options.time_embedding_dim(), emb));
  time2 = register_module("time2", torch::nn::Linear(emb, emb));
  if (options.condition_dim() > 0) {
    cond = register_module("cond", torch::nn::Linear(options.condition_dim(), emb));
  }
  in_conv = register_module("in_conv", circular_conv(options.channels(), base));

  down = register_module("down", torch::nn::ModuleList());
  std::vector<int64_t> skip_channels;
  int64_t ch = base;
  for (int64_t m : options.channel_multipliers()) {
    for (int64_t b = 0; b < options.blocks_per_level(); ++b) {
      down->push_back(UNetBlock(ch, base * m, emb, options.groups()));
      ch = base * m;
      skip_channels.push_back(ch);
    }
  }
  mid = register_module("mid", torch::nn::ModuleList());
  mid->push_back(UNetBlock(ch, ch, emb, options.groups()));
  up = register_module("up", torch::nn::ModuleList());
  const auto& mult = options.channel_multipliers();
  for (size_t l = mult.size(); l-- > 0;) {
    for (int64_t b = 0; b < options.blocks_per_level(); ++b) {
      const int64_t skip = skip_channels.back();
      skip_channels.pop_back();
      up->push_back(UNetBlock(ch + skip, base * mult[l], emb, options.groups()));
      ch = base * mult[l];
    }
  }
  out_norm =
      register_module("out_norm", torch::nn::GroupNorm(group_count(options.groups(), ch), ch));
  out_conv = register_module("out_conv", circular_conv(ch, options.channels()));
  if (options.zero_init_output()) {
    torch::NoGradGuard no_grad;
    out_conv->weight.zero_();
    out_conv->bias.zero_();
  }
}

torch::Tensor UNetImpl::forward(const torch::Tensor& t, const torch::Tensor& x,
                                const torch::Tensor& c) {
  const int64_t factor = int64_t{1} << (levels() - 1);
  check_arg(x.defined() && x.dim() == 4 && x.size(1) == options.channels() &&
                x.size(2) % factor == 0 && x.size(3) % factor == 0,
            "x.shape", x.defined() ? c10::str(x.sizes()) : std::string("undefined"),
            "(n, " + std::to_string(options.channels()) + ", H, W) with H, W divisible by " +
                std::to_string(factor));
  const int64_t n = x.size(0);
  auto tt = t.to(x.scalar_type()).reshape({-1});
  if (tt.size(0) == 1 && n != 1) tt = tt.expand({n});
  auto e = time2->forward(torch::silu(time1->forward(embedding->forward(tt))));
  if (options.condition_dim() > 0) {
    check_arg(c.defined() && c.dim() == 2 && c.size(1) == options.condition_dim() &&
                  (c.size(0) == n || c.size(0) == 1),
              "c.shape", c.defined() ? c10::str(c.sizes()) : std::string("undefined"),
              "(n, " + std::to_string(options.condition_dim()) + ")");
    e = e + cond->forward(c.to(x.scalar_type()));
  }
  auto h = in_conv->forward(x);
  std::vector<torch::Tensor> skips;
  const int64_t per_level = options.blocks_per_level();
  size_t k = 0;
  for (int64_t l = 0; l < levels(); ++l) {
    for (int64_t b = 0; b < per_level; ++b) {
      h = down[k++]->as<UNetBlock>()->forward(h, e);
      skips.push_back(h);
    }
    if (l + 1 < levels()) h = torch::avg_pool2d(h, 2);
  }
  h = mid[0]->as<UNetBlock>()->forward(h, e);
  k = 0;
  for (int64_t l = levels(); l-- > 0;) {
    for (int64_t b = 0; b < per_level; ++b) {
      h = up[k++]->as<UNetBlock>()->forward(torch::cat({h, skips.back()}, 1), e);
      skips.pop_back();
    }
    if (l > 0) h = torch::upsample_nearest2d(h, {h.size(2) * 2, h.size(3) * 2});
  }
  return out_conv->forward(torch::silu(out_norm->forward(h)));
}

}  // namespace physgen
