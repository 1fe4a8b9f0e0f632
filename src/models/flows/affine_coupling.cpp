#include "physgen/models/flows/affine_coupling.h"

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

namespace detail {

std::pair<torch::Tensor, torch::Tensor> conditioner_outputs(ConditionerImpl& net,
                                                            const torch::Tensor& x_f,
                                                            const torch::Tensor& context,
                                                            bool symmetrise) {
  if (!symmetrise) return {net.forward(x_f, context), torch::Tensor()};
  const int64_t B = x_f.size(0);
  auto both = torch::cat({x_f, -x_f}, 0);
  auto ctx = context.defined() && context.numel() > 0 ? torch::cat({context, context}, 0)
                                                      : torch::Tensor();
  auto out = net.forward(both, ctx);
  return {out.narrow(0, 0, B), out.narrow(0, B, B)};
}

torch::Tensor soft_clamp(const torch::Tensor& s, double c) {
  if (c <= 0) return s;
  if (c == 1.0) return torch::tanh(s);
  return torch::tanh(s * (1.0 / c)) * c;
}

}  // namespace detail

AffineCouplingImpl::AffineCouplingImpl(AffineCouplingOptions options_)
    : options(std::move(options_)) {
  const auto& m = options.mask();
  detail::check_coupling_mask(m);
  check_arg(options.context_features() >= 0, "context_features", options.context_features(),
            "an integer >= 0");
  event_shape_ = m.sizes().vec();
  reset();
}

void AffineCouplingImpl::reset() {
  mask_ = register_buffer("mask", options.mask().to(torch::kFloat32).clone());
  active_ = torch::Tensor();
  const bool odd = options.z2_equivariant() && options.z2_method() == Z2Method::kOddNetwork;
  // Parity heads: output 0 (s) even, output 1 (t) odd.
  conditioner_ = register_module(
      "conditioner", Conditioner(event_shape_, 2, options.context_features(),
                                 options.conditioner(), odd ? 1 : -1));
}

const torch::Tensor& AffineCouplingImpl::active_mask() {
  // The key covers to(dtype/device), set_data and in-place writes (torch::load).
  const auto key = std::make_tuple(mask_.data_ptr(), mask_._version(), mask_.scalar_type());
  if (!active_.defined() || key != active_key_ || active_.device() != mask_.device()) {
    torch::NoGradGuard no_grad;
    active_ = 1 - mask_;
    active_key_ = key;
  }
  return active_;
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::scale_and_shift(
    const torch::Tensor& x, const torch::Tensor& context) {
  const int64_t B = x.size(0);
  const auto& active = active_mask();
  auto outs = detail::conditioner_outputs(
      *conditioner_, x * mask_, context,
      options.z2_equivariant() && options.z2_method() == Z2Method::kSymmetrize);
  torch::Tensor s_raw = outs.first.select(2, 0), t_raw = outs.first.select(2, 1);
  if (outs.second.defined()) {
    s_raw = (s_raw + outs.second.select(2, 0)) * 0.5;
    t_raw = (t_raw - outs.second.select(2, 1)) * 0.5;
  }
  std::vector<int64_t> shape{B};
  shape.insert(shape.end(), event_shape_.begin(), event_shape_.end());
  auto s = detail::soft_clamp(s_raw, options.scale_clamp()).view(shape) * active;
  auto t = t_raw.view(shape) * active;
  return {s, t};
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::forward_and_log_det(
    const torch::Tensor& x, const torch::Tensor& context) {
  detail::check_event(x, event_shape_, "x");
  detail::check_context(context, x.size(0), options.context_features());
  auto st = scale_and_shift(x, context);
  auto y = torch::addcmul(st.second, x, torch::exp(st.first));
  return {y, st.first.reshape({x.size(0), -1}).sum(1)};
}

std::pair<torch::Tensor, torch::Tensor> AffineCouplingImpl::inverse_and_log_det(
    const torch::Tensor& y, const torch::Tensor& context) {
  detail::check_event(y, event_shape_, "y");
  detail::check_context(context, y.size(0), options.context_features());
  auto st = scale_and_shift(y, context);
  auto x = (y - st.second) * torch::exp(-st.first);
  return {x, -st.first.reshape({y.size(0), -1}).sum(1)};
}

}  // namespace physgen
