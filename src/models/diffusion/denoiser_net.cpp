#include "physgen/models/diffusion/denoiser_net.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
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

nlohmann::json DenoiserNetOptions::to_json() const {
  return {{"type", type()},
          {"mlp",
           {{"hidden", mlp().hidden()},
            {"activation", mlp().activation()},
            {"time_conditioning", mlp().time_conditioning()},
            {"time_embedding_dim", mlp().time_embedding_dim()},
            {"min_frequency", mlp().min_frequency()},
            {"max_frequency", mlp().max_frequency()}}},
          {"unet",
           {{"base_channels", unet().base_channels()},
            {"channel_multipliers", unet().channel_multipliers()},
            {"blocks_per_level", unet().blocks_per_level()},
            {"time_embedding_dim", unet().time_embedding_dim()},
            {"min_frequency", unet().min_frequency()},
            {"max_frequency", unet().max_frequency()},
            {"groups", unet().groups()}}},
          {"conv",
           {{"hidden", conv().hidden()}, {"kernel_size", conv().kernel_size()}, {"activation", conv().activation()}}}};
}

DenoiserNetOptions DenoiserNetOptions::from_json(const nlohmann::json& j) {
  DenoiserNetOptions o;
  check_known_keys(j, {"type", "mlp", "unet", "conv"}, "network options");
  if (j.is_null()) return o;
  if (j.contains("type")) o.type(j.at("type").get<std::string>());
  if (j.contains("mlp")) {
    const auto& m = j.at("mlp");
    check_known_keys(m,
                     {"hidden", "activation", "time_conditioning", "time_embedding_dim",
                      "min_frequency", "max_frequency"},
                     "[network.mlp]");
    if (m.contains("hidden")) o.mlp().hidden(m.at("hidden").get<std::vector<int64_t>>());
    if (m.contains("activation")) o.mlp().activation(m.at("activation").get<std::string>());
    if (m.contains("time_conditioning"))
      o.mlp().time_conditioning(m.at("time_conditioning").get<std::string>());
    if (m.contains("time_embedding_dim"))
      o.mlp().time_embedding_dim(m.at("time_embedding_dim").get<int64_t>());
    if (m.contains("min_frequency")) o.mlp().min_frequency(m.at("min_frequency").get<double>());
    if (m.contains("max_frequency")) o.mlp().max_frequency(m.at("max_frequency").get<double>());
  }
  if (j.contains("unet")) {
    const auto& u = j.at("unet");
    check_known_keys(u,
                     {"base_channels", "channel_multipliers", "blocks_per_level",
                      "time_embedding_dim", "min_frequency", "max_frequency", "groups"},
                     "[network.unet]");
    if (u.contains("base_channels")) o.unet().base_channels(u.at("base_channels").get<int64_t>());
    if (u.contains("channel_multipliers"))
      o.unet().channel_multipliers(u.at("channel_multipliers").get<std::vector<int64_t>>());
    if (u.contains("blocks_per_level"))
      o.unet().blocks_per_level(u.at("blocks_per_level").get<int64_t>());
    if (u.contains("time_embedding_dim"))
      o.unet().time_embedding_dim(u.at("time_embedding_dim").get<int64_t>());
    if (u.contains("min_frequency")) o.unet().min_frequency(u.at("min_frequency").get<double>());
    if (u.contains("max_frequency")) o.unet().max_frequency(u.at("max_frequency").get<double>());
    if (u.contains("groups")) o.unet().groups(u.at("groups").get<int64_t>());
  }
  if (j.contains("conv")) {
    const auto& c = j.at("conv");
    check_known_keys(c, {"hidden", "kernel_size", "activation"}, "[network.conv]");
    if (c.contains("hidden")) o.conv().hidden(c.at("hidden").get<std::vector<int64_t>>());
    if (c.contains("kernel_size")) o.conv().kernel_size(c.at("kernel_size").get<int64_t>());
    if (c.contains("activation")) o.conv().activation(c.at("activation").get<std::string>());
  }
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
