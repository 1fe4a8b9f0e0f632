#include "physgen/models/diffusion/denoiser_net.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"
#include "physgen/models/cnf/log_density.h"

namespace physgen {

std::vector<std::string> denoiser_net_types() { return {"auto", "mlp", "unet", "conv"}; }

DenoiserNetOptions::DenoiserNetOptions()
    : mlp_(TimeMLPOptions(1)
               .hidden({128, 128, 128})
               .activation("silu")
               .time_conditioning("sinusoidal")
               .time_embedding_dim(32)
               .min_frequency(1.0)
               .max_frequency(200.0)) {}

nlohmann::json DenoiserNetOptions::to_json() const { return options_to_json(*this); }

DenoiserNetOptions DenoiserNetOptions::from_json(const nlohmann::json& j) {
  DenoiserNetOptions o;
  options_from_json(o, j, "network");
  return o;
}

DenoiserNetImpl::DenoiserNetImpl(std::vector<int64_t> shape, int64_t cdim,
                                 const DenoiserNetOptions& options_)
    : event_shape(std::move(shape)), condition_dim(cdim), options(options_) {
  dim_ = event_shape_numel(event_shape);
  check_choice("network.type", options.type(), denoiser_net_types());
  check_arg(condition_dim >= 0, "condition_dim", condition_dim, "an integer >= 0");
  const bool lattice = (event_shape.size() == 2 || event_shape.size() == 3) &&
                       event_shape[event_shape.size() - 1] % 2 == 0 &&
                       event_shape[event_shape.size() - 2] % 2 == 0;
  type_ = options.type() == "auto" ? (lattice ? "unet" : "mlp") : options.type();
  if (type_ == "unet") {
    check_arg(event_shape.size() == 2 || event_shape.size() == 3, "event_shape.size()",
              event_shape.size(), "2 (H, W) or 3 (C, H, W) for a U-Net");
    options.unet().channels(event_shape.size() == 3 ? event_shape[0] : 1);
    options.unet().condition_dim(condition_dim);
  } else if (type_ == "conv") {
    check_arg(event_shape.size() == 2, "event_shape", detail::to_display(torch::IntArrayRef(event_shape)),
              "(H, W) for network.type 'conv'");
    check_arg(condition_dim == 0, "condition", condition_dim,
              "no condition for network.type 'conv' (use 'unet' or 'mlp' for conditional models)");
    options.conv().height(event_shape[0]).width(event_shape[1]);
  } else {
    options.mlp().dim(dim_);
    options.mlp().condition_dim(condition_dim);
  }
  reset();
}

void DenoiserNetImpl::reset() {
  if (type_ == "unet") {
    unet = register_module("net", UNet(options.unet()));
  } else if (type_ == "conv") {
    conv = register_module("net", TimeConvField(options.conv()));
  } else {
    mlp = register_module("net", TimeMLP(options.mlp()));
  }
}

torch::Tensor DenoiserNetImpl::forward(const torch::Tensor& t, const torch::Tensor& x,
                                       const torch::Tensor& c) {
  const int64_t n = x.size(0);
  if (type_ == "unet") {
    auto h = event_shape.size() == 2 ? x.unsqueeze(1) : x;
    return unet->forward(t, h, c).reshape(x.sizes());
  }
  if (type_ == "conv") return conv->forward(t, x.reshape({n, dim_})).reshape(x.sizes());
  return mlp->forward(t, x.reshape({n, dim_}), c).reshape(x.sizes());
}

}  // namespace physgen
