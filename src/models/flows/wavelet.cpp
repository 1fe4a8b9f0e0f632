#include "physgen/models/flows/wavelet.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/multiscale/wavelet.h"

namespace physgen {

WaveletBijectorImpl::WaveletBijectorImpl(WaveletBijectorOptions options_) : options(std::move(options_)) {
  const auto& s = options.event_shape();
  wavelet_low_pass(options.wavelet());  // names the wavelet if unknown
  const int64_t J = options.levels();
  check_arg(J >= 1 && J < 30, "levels", J, "an integer >= 1");
  check_arg(s.size() == 2 && s[0] % (int64_t{1} << J) == 0 && s[1] % (int64_t{1} << J) == 0 && s[0] > 0 && s[1] > 0,
            "event_shape", s.size() == 2 ? std::to_string(s[0]) + " x " + std::to_string(s[1]) : "not 2-D",
            "a lattice [H, W] divisible by 2^levels = " + std::to_string(int64_t{1} << J));
}

std::pair<torch::Tensor, torch::Tensor> WaveletBijectorImpl::forward_and_log_det(const torch::Tensor& z,
                                                                                 const torch::Tensor& context) {
  detail::check_event(z, options.event_shape(), "z");
  detail::check_context(context, z.size(0), 0);
  return {inverse_wavelet_transform(z, options.wavelet(), options.levels()), torch::zeros({z.size(0)}, z.options())};
}

std::pair<torch::Tensor, torch::Tensor> WaveletBijectorImpl::inverse_and_log_det(const torch::Tensor& x,
                                                                                 const torch::Tensor& context) {
  detail::check_event(x, options.event_shape(), "x");
  detail::check_context(context, x.size(0), 0);
  return {wavelet_transform(x, options.wavelet(), options.levels()), torch::zeros({x.size(0)}, x.options())};
}

}  // namespace physgen
