#include "physgen/models/flows/flow.h"

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

FlowImpl::FlowImpl(std::vector<BijectorPtr> layers, BaseDistributionPtr base)
    : layers_(std::move(layers)), base_(std::move(base)) {
  check_arg(base_ != nullptr, "base", "null", "a base distribution");
  const auto shape = base_->event_shape();
  for (size_t i = 0; i < layers_.size(); ++i) {
    check_arg(layers_[i] != nullptr, "layers[" + std::to_string(i) + "]", "null", "a bijector");
    check_arg(layers_[i]->event_shape() == shape,
              "layers[" + std::to_string(i) + "].event_shape()",
              detail::to_display(c10::IntArrayRef(layers_[i]->event_shape())),
              "the base's event shape " + detail::to_display(c10::IntArrayRef(shape)));
    const int64_t c = layers_[i]->context_features();
    if (c > 0) {
      check_arg(context_features_ == 0 || context_features_ == c,
                "layers[" + std::to_string(i) + "].context_features()", c,
                "the same context width as the other layers (" +
                    std::to_string(context_features_) + ")");
      context_features_ = c;
    }
  }
  register_module("base", std::dynamic_pointer_cast<torch::nn::Module>(base_));
  layer_list_ = register_module("layers", torch::nn::ModuleList());
  for (const auto& l : layers_) layer_list_->push_back(std::dynamic_pointer_cast<torch::nn::Module>(l));
}

bool FlowImpl::z2_equivariant() const {
  if (!base_->symmetric()) return false;
  for (const auto& l : layers_)
    if (!l->z2_equivariant()) return false;
  return true;
}

std::pair<torch::Tensor, torch::Tensor> FlowImpl::forward_and_log_det(
    const torch::Tensor& z, const torch::Tensor& context) {
  detail::check_event(z, event_shape(), "z");
  detail::check_context(context, z.size(0), context_features_);
  torch::Tensor x = z, log_det;
  const torch::Tensor none;
  for (const auto& l : layers_) {
    auto r = l->forward_and_log_det(x, l->context_features() > 0 ? context : none);
    x = std::move(r.first);
    log_det = log_det.defined() ? log_det + r.second : r.second;
  }
  if (!log_det.defined()) log_det = torch::zeros({z.size(0)}, z.options());
  return {x, log_det};
}

std::pair<torch::Tensor, torch::Tensor> FlowImpl::inverse_and_log_det(
    const torch::Tensor& x, const torch::Tensor& context) {
  detail::check_event(x, event_shape(), "x");
  detail::check_context(context, x.size(0), context_features_);
  torch::Tensor z = x, log_det;
  const torch::Tensor none;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    auto r = (*it)->inverse_and_log_det(z, (*it)->context_features() > 0 ? context : none);
    z = std::move(r.first);
    log_det = log_det.defined() ? log_det + r.second : r.second;
  }
  if (!log_det.defined()) log_det = torch::zeros({x.size(0)}, x.options());
  return {z, log_det};
}

torch::Tensor FlowImpl::log_prob(const torch::Tensor& x, const torch::Tensor& context) {
  auto r = inverse_and_log_det(x, context);
  return base_->log_prob(r.first) + r.second;
}

std::pair<torch::Tensor, torch::Tensor> FlowImpl::sample_and_log_prob(
    int64_t n, const torch::Tensor& context) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto z = base_->sample(n, tensor_options());
  auto log_base = base_->log_prob(z);
  auto r = forward_and_log_det(z, context);
  return {r.first, log_base - r.second};
}

torch::TensorOptions FlowImpl::tensor_options() const {
  for (const auto& p : parameters()) return p.options().requires_grad(false);
  for (const auto& b : buffers()) return b.options().requires_grad(false);
  return torch::TensorOptions().dtype(torch::kFloat32);
}

std::shared_ptr<torch::nn::Module> FlowImpl::clone(
    const c10::optional<torch::Device>& device) const {
  std::vector<BijectorPtr> layers;
  for (const auto& l : layers_) {
    auto c = std::dynamic_pointer_cast<Bijector>(l->clone(device));
    TORCH_CHECK(c != nullptr, "Flow::clone: a layer's clone() is not a Bijector");
    layers.push_back(c);
  }
  auto b = std::dynamic_pointer_cast<BaseDistribution>(base_->clone(device));
  TORCH_CHECK(b != nullptr, "Flow::clone: the base's clone() is not a BaseDistribution");
  auto copy = std::make_shared<FlowImpl>(std::move(layers), std::move(b));
  copy->train(is_training());
  return copy;
}

void FlowImpl::clone_(torch::nn::Module& other, const c10::optional<torch::Device>& device) {
  auto c = std::dynamic_pointer_cast<FlowImpl>(other.clone(device));
  TORCH_CHECK(c != nullptr, "Flow::clone_: the submodule is not a Flow");
  *this = std::move(*c);
}

}  // namespace physgen
