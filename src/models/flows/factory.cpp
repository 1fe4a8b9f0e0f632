#include "physgen/models/flows/factory.h"

#include <set>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/shape.h"
#include "physgen/core/options.h"
#include "physgen/models/flows/affine_coupling.h"
#include "physgen/models/flows/maf.h"
#include "physgen/models/flows/masks.h"
#include "physgen/models/flows/spline_coupling.h"

namespace physgen {

namespace {

void validate(const FlowOptions& o) {
  check_arg(!o.event_shape().empty(), "event_shape.size()", o.event_shape().size(),
            "at least one dimension");
  for (auto s : o.event_shape()) check_arg(s >= 1, "event_shape", s, "sizes >= 1");
  check_arg(shape_numel(o.event_shape()) >= 2, "event_shape", shape_numel(o.event_shape()),
            "at least 2 entries in total");
  check_arg(o.n_layers() >= 1, "n_layers", o.n_layers(), "an integer >= 1");
  check_arg(!o.hidden().empty(), "hidden.size()", o.hidden().size(), "at least one hidden layer");
  for (auto h : o.hidden()) check_arg(h >= 1, "hidden", h, "widths >= 1");
  check_arg(o.kernel_size() >= 1 && o.kernel_size() % 2 == 1, "kernel_size", o.kernel_size(),
            "an odd integer >= 1");
  check_arg(o.spline_bins() >= 2, "spline_bins", o.spline_bins(), "an integer >= 2");
  check_arg(o.tail_bound() > 0, "tail_bound", o.tail_bound(), "a number > 0");
  check_arg(o.context_features() >= 0, "context_features", o.context_features(),
            "an integer >= 0");
  check_choice("network", o.network(), {"auto", "mlp", "conv"});
  check_choice("mask", o.mask(), {"auto", "checkerboard", "halves", "alternating"});
  check_choice("base", o.base(), {"standard_normal", "diagonal_gaussian"});
  activation_from_name(o.activation());
  const Z2Method z2m = z2_method_from_name(o.z2_method());
  check_arg(!(o.z2_equivariant() && z2m == Z2Method::kOddNetwork && o.coupling() != "affine"),
            "z2_method", o.z2_method(), "'symmetrize' for coupling '" + o.coupling() + "'");
  check_arg(!(o.z2_equivariant() && o.base() != "standard_normal"), "base", o.base(),
            "'standard_normal' for a Z2-equivariant flow (the base must be symmetric)");
}

BaseDistributionPtr make_base(const FlowOptions& o) {
  if (o.base() == "diagonal_gaussian")
    return DiagonalGaussian(DiagonalGaussianOptions(o.event_shape())).ptr();
  return StandardNormal(o.event_shape()).ptr();
}

ConditionerOptions conditioner_options(const FlowOptions& o) {
  const bool lattice = o.event_shape().size() == 2;
  ConditionerNetwork net = o.network() == "auto"
                               ? (lattice ? ConditionerNetwork::kConv : ConditionerNetwork::kMLP)
                               : conditioner_network_from_name(o.network());
  if (net == ConditionerNetwork::kConv) {
    check_arg(lattice, "network", o.network(), "'mlp' or 'auto' for a non-2D event shape");
  }
  return ConditionerOptions()
      .network(net)
      .hidden(o.hidden())
      .kernel_size(o.kernel_size())
      .activation(activation_from_name(o.activation()))
      .zero_init_last(o.zero_init_last());
}

// Mask of coupling layer i.
torch::Tensor layer_mask(const FlowOptions& o, int64_t i) {
  const auto& shape = o.event_shape();
  const bool lattice = shape.size() == 2;
  std::string kind = o.mask();
  if (kind == "auto") kind = lattice ? "checkerboard" : "cycle";
  if (kind == "checkerboard") {
    check_arg(lattice, "mask", o.mask(), "'halves', 'alternating' or 'auto' for a non-2D event");
    return checkerboard_mask(shape[0], shape[1], static_cast<int>(i % 2));
  }
  const int64_t d = shape_numel(shape);
  torch::Tensor m;
  if (kind == "cycle") {
    const int64_t r = i % 4;
    m = vector_mask(d, r < 2 ? VectorMask::kHalves : VectorMask::kAlternating, r % 2 == 1);
  } else {
    m = vector_mask(d, vector_mask_from_name(kind), i % 2 == 1);
  }
  return m.view(shape);
}

Flow build_coupling_flow(const FlowOptions& o, bool spline) {
  validate(o);
  std::vector<BijectorPtr> layers;
  const auto cond = conditioner_options(o);
  for (int64_t i = 0; i < o.n_layers(); ++i) {
    auto mask = layer_mask(o, i);
    if (spline) {
      layers.push_back(SplineCoupling(SplineCouplingOptions(mask)
                                          .bins(o.spline_bins())
                                          .tail_bound(o.tail_bound())
                                          .conditioner(cond)
                                          .context_features(o.context_features())
                                          .z2_equivariant(o.z2_equivariant()))
                           .ptr());
    } else {
      layers.push_back(AffineCoupling(AffineCouplingOptions(mask)
                                          .conditioner(cond)
                                          .context_features(o.context_features())
                                          .scale_clamp(o.scale_clamp())
                                          .z2_equivariant(o.z2_equivariant())
                                          .z2_method(z2_method_from_name(o.z2_method())))
                           .ptr());
    }
  }
  return Flow(std::move(layers), make_base(o));
}

Flow build_autoregressive_flow(const FlowOptions& o, bool iaf) {
  validate(o);
  check_arg(o.event_shape().size() == 1, "event_shape.size()", o.event_shape().size(),
            "1 (vectors) for coupling '" + o.coupling() + "'");
  std::vector<BijectorPtr> layers;
  for (int64_t i = 0; i < o.n_layers(); ++i) {
    layers.push_back(MaskedAutoregressive(MaskedAutoregressiveOptions(o.event_shape()[0])
                                              .hidden(o.hidden())
                                              .activation(activation_from_name(o.activation()))
                                              .context_features(o.context_features())
                                              .reverse_order(i % 2 == 1)
                                              .scale_clamp(o.scale_clamp())
                                              .inverse_autoregressive(iaf)
                                              .zero_init_last(o.zero_init_last())
                                              .z2_equivariant(o.z2_equivariant()))
                         .ptr());
  }
  return Flow(std::move(layers), make_base(o));
}

}  // namespace

const Registry<FlowBuilder>& flow_registry() {
  static const Registry<FlowBuilder> reg = [] {
    Registry<FlowBuilder> r("coupling");
    r.add("affine", [](const FlowOptions& o) { return build_coupling_flow(o, false); })
        .add("spline", [](const FlowOptions& o) { return build_coupling_flow(o, true); })
        .add("maf", [](const FlowOptions& o) { return build_autoregressive_flow(o, false); })
        .add("iaf", [](const FlowOptions& o) { return build_autoregressive_flow(o, true); });
    return r;
  }();
  return reg;
}

Flow make_flow(const FlowOptions& options) { return flow_registry().get(options.coupling())(options); }

nlohmann::json flow_options_to_json(const FlowOptions& o) { return options_to_json(o); }

FlowOptions flow_options_from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("coupling") && j.contains("event_shape"), "flow options", j.dump(),
            "a table with the keys 'coupling' and 'event_shape'");
  FlowOptions o(j.at("coupling").is_string() ? j.at("coupling").get<std::string>() : std::string(),
                std::vector<int64_t>{});
  options_from_json(o, j, "flow");
  return o;
}

Flow make_realnvp_lattice(int64_t L, int64_t n_layers, std::vector<int64_t> hidden_channels,
                          int64_t kernel_size, bool z2_equivariant, int64_t context_features) {
  check_arg(L >= 2 && L % 2 == 0, "L", L, "an even integer >= 2 (checkerboard masks)");
  return make_flow(FlowOptions("affine", {L, L})
                       .n_layers(n_layers)
                       .network("conv")
                       .hidden(std::move(hidden_channels))
                       .kernel_size(kernel_size)
                       .mask("checkerboard")
                       .z2_equivariant(z2_equivariant)
                       .context_features(context_features));
}

Flow make_realnvp_vector(int64_t dim, int64_t n_layers, std::vector<int64_t> hidden,
                         bool z2_equivariant, int64_t context_features) {
  return make_flow(FlowOptions("affine", {dim})
                       .n_layers(n_layers)
                       .network("mlp")
                       .hidden(std::move(hidden))
                       .z2_equivariant(z2_equivariant)
                       .context_features(context_features));
}

Flow make_maf(int64_t dim, int64_t n_layers, std::vector<int64_t> hidden,
              int64_t context_features) {
  return make_flow(FlowOptions("maf", {dim})
                       .n_layers(n_layers)
                       .hidden(std::move(hidden))
                       .activation("relu")
                       .context_features(context_features));
}

Flow make_spline_flow(std::vector<int64_t> event_shape, int64_t n_layers, int64_t bins,
                      double tail_bound, std::vector<int64_t> hidden, int64_t context_features) {
  return make_flow(FlowOptions("spline", std::move(event_shape))
                       .n_layers(n_layers)
                       .spline_bins(bins)
                       .tail_bound(tail_bound)
                       .hidden(std::move(hidden))
                       .context_features(context_features));
}

}  // namespace physgen
