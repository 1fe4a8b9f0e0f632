#include "physgen/models/flows/maf.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/flows/affine_coupling.h"

namespace physgen {

MaskedAutoregressiveImpl::MaskedAutoregressiveImpl(MaskedAutoregressiveOptions options_)
    : options(std::move(options_)) {
  check_arg(options.features() >= 1, "features", options.features(), "an integer >= 1");
  check_arg(options.context_features() >= 0, "context_features", options.context_features(),
            "an integer >= 0");
  reset();
}

void MaskedAutoregressiveImpl::reset() {
  made_ = register_module("made", MADE(MADEOptions(options.features(), options.hidden(), 2)
                                           .context_features(options.context_features())
                                           .activation(options.activation())
                                           .reverse_order(options.reverse_order())
                                           .zero_init_last(options.zero_init_last())));
}

std::pair<torch::Tensor, torch::Tensor> MaskedAutoregressiveImpl::scale_and_shift(
    const torch::Tensor& a, const torch::Tensor& context) {
  torch::Tensor out, neg;
  if (options.z2_equivariant()) {
    const int64_t B = a.size(0);
    auto ctx = context.defined() && context.numel() > 0 ? torch::cat({context, context}, 0)
                                                        : torch::Tensor();
    auto both = made_->forward(torch::cat({a, -a}, 0), ctx);
    out = both.narrow(0, 0, B);
    neg = both.narrow(0, B, B);
  } else {
    out = made_->forward(a, context);
  }
  torch::Tensor s_raw = out.select(1, 0), t = out.select(1, 1);
  if (neg.defined()) {
    s_raw = (s_raw + neg.select(1, 0)) * 0.5;
    t = (t - neg.select(1, 1)) * 0.5;
  }
  return {detail::soft_clamp(s_raw, options.scale_clamp()), t};
}

// Affine direction (u -> y = u e^s + t) or its inverse (y -> u = (y - t) e^-s), with s, t
// computed from `in` itself: valid when `in` is the side the conditioner reads
// (MAF inverse, IAF forward).
std::pair<torch::Tensor, torch::Tensor> MaskedAutoregressiveImpl::parallel(
    const torch::Tensor& in, const torch::Tensor& context, bool affine) {
  auto st = scale_and_shift(in, context);
  if (affine) return {torch::addcmul(st.second, in, torch::exp(st.first)), st.first.sum(1)};
  return {(in - st.second) * torch::exp(-st.first), -st.first.sum(1)};
}

// The other side: the conditioner reads the output being built, one degree per pass.
// After pass k every entry of degree <= k is final; D passes finish it.
std::pair<torch::Tensor, torch::Tensor> MaskedAutoregressiveImpl::sequential(
    const torch::Tensor& in, const torch::Tensor& context, bool affine) {
  const int64_t D = options.features();
  torch::Tensor out = torch::zeros_like(in), s;
  for (int64_t k = 0; k < D; ++k) {
    auto st = scale_and_shift(out, context);
    s = st.first;
    out = affine ? torch::addcmul(st.second, in, torch::exp(s)) : (in - st.second) * torch::exp(-s);
  }
  return {out, affine ? s.sum(1) : -s.sum(1)};
}

std::pair<torch::Tensor, torch::Tensor> MaskedAutoregressiveImpl::forward_and_log_det(
    const torch::Tensor& x, const torch::Tensor& context) {
  detail::check_event(x, {options.features()}, "x");
  detail::check_context(context, x.size(0), options.context_features());
  return options.inverse_autoregressive() ? parallel(x, context, true)
                                          : sequential(x, context, true);
}

std::pair<torch::Tensor, torch::Tensor> MaskedAutoregressiveImpl::inverse_and_log_det(
    const torch::Tensor& y, const torch::Tensor& context) {
  detail::check_event(y, {options.features()}, "y");
  detail::check_context(context, y.size(0), options.context_features());
  return options.inverse_autoregressive() ? sequential(y, context, false)
                                          : parallel(y, context, false);
}

}  // namespace physgen
