#include "physgen/nn/dcgan.h"

#include <algorithm>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/nn/vector_nets.h"

namespace physgen {

namespace {

using torch::indexing::Slice;

/// Folds the 2n + 2 outputs of a stride-2, kernel-4 transposed convolution along `dim`
/// onto the 2n-periodic lattice: output j -> site (j - 1) mod 2n.
torch::Tensor fold_periodic(const torch::Tensor& full, int64_t dim) {
  const int64_t m = full.size(dim) - 2;  // = 2n
  auto out = full.narrow(dim, 1, m).clone();
  out.narrow(dim, m - 1, 1).add_(full.narrow(dim, 0, 1));
  out.narrow(dim, 0, 1).add_(full.narrow(dim, m + 1, 1));
  return out;
}

torch::nn::Conv2dOptions conv_options(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                                      bool periodic) {
  auto o = torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad);
  if (periodic) o.padding_mode(torch::kCircular);
  return o;
}

bool divisible_by_power_of_two(int64_t L, int64_t k) { return k >= 0 && k < 30 && L % (int64_t(1) << k) == 0; }

}  // namespace

// ------------------------------------------------------------------ LatticeUpsample

LatticeUpsampleImpl::LatticeUpsampleImpl(int64_t in_channels_, int64_t out_channels_, bool periodic_)
    : in_channels(in_channels_), out_channels(out_channels_), periodic(periodic_) {
  check_arg(in_channels >= 1, "in_channels", in_channels, "an integer >= 1");
  check_arg(out_channels >= 1, "out_channels", out_channels, "an integer >= 1");
  reset();
}

void LatticeUpsampleImpl::reset() {
  // No bias inside the convolution: the overhang that folds back would add it twice at the edges.
  conv = register_module("conv", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in_channels, out_channels, 4)
                                                               .stride(2)
                                                               .padding(periodic ? 0 : 1)
                                                               .bias(false)));
  bias = register_parameter("bias", torch::zeros({out_channels}));
}

torch::Tensor LatticeUpsampleImpl::forward(const torch::Tensor& x) {
  auto y = conv->forward(x);
  if (periodic) y = fold_periodic(fold_periodic(y, 2), 3);
  return y + bias.view({1, -1, 1, 1});
}

// ----------------------------------------------------------------- LatticeGenerator

LatticeGeneratorImpl::LatticeGeneratorImpl(const LatticeGeneratorOptions& options_) : options(options_) {
  check_arg(options.latent_dim() >= 1, "latent_dim", options.latent_dim(), "an integer >= 1");
  check_arg(options.condition_dim() >= 0, "condition_dim", options.condition_dim(), "an integer >= 0");
  check_arg(options.channels() >= 1, "channels", options.channels(), "an integer >= 1");
  check_arg(options.L() >= 2 && divisible_by_power_of_two(options.L(), options.upsamplings()), "L", options.L(),
            "an integer >= 2 divisible by 2^upsamplings = 2^" + std::to_string(options.upsamplings()));
  check_choice("activation", options.activation(), vector_mlp_activations());
  check_choice("output_activation", options.output_activation(), {"none", "tanh"});
  reset();
}

void LatticeGeneratorImpl::reset() {
  base_size_ = options.L() >> options.upsamplings();
  base_channels_ = options.channels();
  project = register_module(
      "project", torch::nn::Linear(options.latent_dim() + options.condition_dim(),
                                   base_channels_ * base_size_ * base_size_));
  upsample = register_module("upsample", torch::nn::ModuleList());
  norms = register_module("norms", torch::nn::ModuleList());
  int64_t c = base_channels_;
  for (int64_t s = 0; s < options.upsamplings(); ++s) {
    const int64_t next = std::max<int64_t>(std::min<int64_t>(8, c), c / 2);
    upsample->push_back(LatticeUpsample(c, next, options.periodic()));
    if (options.batch_norm()) norms->push_back(torch::nn::BatchNorm2d(next));
    c = next;
  }
  head = register_module("head", torch::nn::Conv2d(conv_options(c, 1, 3, 1, 1, options.periodic())));
}

torch::Tensor LatticeGeneratorImpl::forward(const torch::Tensor& z, const torch::Tensor& c) {
  auto in = options.condition_dim() > 0 ? torch::cat({z, c.to(z.scalar_type())}, 1) : z;
  auto h = project->forward(in).view({z.size(0), base_channels_, base_size_, base_size_});
  h = apply_activation(options.activation(), h);
  for (size_t s = 0; s < upsample->size(); ++s) {
    h = upsample[s]->as<LatticeUpsample>()->forward(h);
    if (options.batch_norm()) h = norms[s]->as<torch::nn::BatchNorm2d>()->forward(h);
    h = apply_activation(options.activation(), h);
  }
  h = head->forward(h).squeeze(1);
  return apply_activation(options.output_activation(), h);
}

// ------------------------------------------------------------- LatticeDiscriminator

LatticeDiscriminatorImpl::LatticeDiscriminatorImpl(const LatticeDiscriminatorOptions& options_)
    : options(options_) {
  check_arg(options.condition_dim() >= 0, "condition_dim", options.condition_dim(), "an integer >= 0");
  check_arg(options.channels() >= 1, "channels", options.channels(), "an integer >= 1");
  check_arg(options.L() >= 2 && divisible_by_power_of_two(options.L(), options.downsamplings()), "L",
            options.L(),
            "an integer >= 2 divisible by 2^downsamplings = 2^" + std::to_string(options.downsamplings()));
  check_choice("pooling", options.pooling(), {"mean", "flatten"});
  reset();
}

void LatticeDiscriminatorImpl::reset() {
  convs = register_module("convs", torch::nn::ModuleList());
  int64_t c = options.channels();
  convs->push_back(torch::nn::Conv2d(conv_options(1 + options.condition_dim(), c, 3, 1, 1, options.periodic())));
  for (int64_t s = 0; s < options.downsamplings(); ++s) {
    convs->push_back(torch::nn::Conv2d(conv_options(c, 2 * c, 4, 2, 1, options.periodic())));
    c *= 2;
  }
  const int64_t side = options.L() >> options.downsamplings();
  const int64_t features = options.pooling() == "mean" ? c : c * side * side;
  head = register_module("head", torch::nn::Linear(features, 1));
}

torch::Tensor LatticeDiscriminatorImpl::forward(const torch::Tensor& x, const torch::Tensor& c) {
  auto h = x.unsqueeze(1);
  if (options.condition_dim() > 0) {
    auto planes = c.to(x.scalar_type()).view({x.size(0), -1, 1, 1}).expand({-1, -1, x.size(1), x.size(2)});
    h = torch::cat({h, planes}, 1);
  }
  for (const auto& m : *convs) h = torch::leaky_relu(m->as<torch::nn::Conv2d>()->forward(h), 0.2);
  h = options.pooling() == "mean" ? h.mean({2, 3}) : h.flatten(1);
  return head->forward(h).squeeze(1);
}

// -------------------------------------------------------------------- LatticeResNet

LatticeResNetImpl::LatticeResNetImpl(const LatticeResNetOptions& options_) : options(options_) {
  check_arg(options.channels() >= 1, "channels", options.channels(), "an integer >= 1");
  check_arg(options.depth() >= 2, "depth", options.depth(), "an integer >= 2");
  check_choice("activation", options.activation(), vector_mlp_activations());
  reset();
}

void LatticeResNetImpl::reset() {
  convs = register_module("convs", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.depth(); ++i) {
    const int64_t in = i == 0 ? 1 : options.channels();
    const int64_t out = i + 1 == options.depth() ? 1 : options.channels();
    torch::nn::Conv2d conv(conv_options(in, out, 3, 1, 1, options.periodic()));
    if (i + 1 == options.depth()) {
      torch::NoGradGuard no_grad;
      conv->weight.zero_();
      conv->bias.zero_();
    }
    convs->push_back(conv);
  }
}

torch::Tensor LatticeResNetImpl::forward(const torch::Tensor& x) {
  auto h = x.unsqueeze(1);
  const size_t n = convs->size();
  for (size_t i = 0; i < n; ++i) {
    h = convs[i]->as<torch::nn::Conv2d>()->forward(h);
    if (i + 1 < n) h = apply_activation(options.activation(), h);
  }
  return x + h.squeeze(1);
}

}  // namespace physgen
