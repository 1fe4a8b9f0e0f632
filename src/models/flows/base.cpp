#include "physgen/models/flows/base.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/shape.h"
#include "physgen/models/flows/bijector.h"

namespace physgen {

namespace {
std::vector<int64_t> event_dims(const std::vector<int64_t>& shape) {
  std::vector<int64_t> d;
  for (size_t i = 0; i < shape.size(); ++i) d.push_back(static_cast<int64_t>(i) + 1);
  return d;
}
void check_shape(const std::vector<int64_t>& shape) {
  check_arg(!shape.empty(), "event_shape.size()", shape.size(), "at least one dimension");
  for (auto s : shape) check_arg(s >= 1, "event_shape", s, "sizes >= 1");
}
}  // namespace

StandardNormalImpl::StandardNormalImpl(std::vector<int64_t> event_shape)
    : event_shape_(std::move(event_shape)) {
  check_shape(event_shape_);
  event_dims_ = event_dims(event_shape_);
  log_norm_ = -kHalfLog2Pi * static_cast<double>(shape_numel(event_shape_));
}

torch::Tensor StandardNormalImpl::log_prob(const torch::Tensor& z) {
  return z.square().sum(event_dims_).mul_(-0.5).add_(log_norm_);
}

torch::Tensor StandardNormalImpl::sample(int64_t n, const torch::TensorOptions& options) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  return torch::randn(batch_shape(n, event_shape_), options);
}

DiagonalGaussianImpl::DiagonalGaussianImpl(DiagonalGaussianOptions options_)
    : options(std::move(options_)) {
  check_shape(options.event_shape());
  event_dims_ = event_dims(options.event_shape());
  reset();
}

void DiagonalGaussianImpl::reset() {
  auto l = torch::full(options.event_shape(), options.loc());
  auto s = torch::full(options.event_shape(), options.log_scale());
  if (options.learnable()) {
    loc = register_parameter("loc", l);
    log_scale = register_parameter("log_scale", s);
  } else {
    loc = register_buffer("loc", l);
    log_scale = register_buffer("log_scale", s);
  }
}

torch::Tensor DiagonalGaussianImpl::log_prob(const torch::Tensor& z) {
  const double d = static_cast<double>(shape_numel(options.event_shape()));
  auto u = (z - loc) * torch::exp(-log_scale);
  return u.square().sum(event_dims_).mul(-0.5) - log_scale.sum() - kHalfLog2Pi * d;
}

torch::Tensor DiagonalGaussianImpl::sample(int64_t n, const torch::TensorOptions&) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  auto eps = torch::randn(batch_shape(n, options.event_shape()), loc.options());
  return loc + torch::exp(log_scale) * eps;
}

bool DiagonalGaussianImpl::symmetric() const {
  torch::NoGradGuard no_grad;
  return loc.abs().max().item<double>() == 0.0;
}

}  // namespace physgen
