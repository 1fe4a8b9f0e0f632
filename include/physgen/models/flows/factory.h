#pragma once
// Building flows from options: one registry keyed on the coupling name.
//
//   coupling "affine" (RealNVP), "spline" (RQS coupling), "maf", "iaf"
//   network  "auto" = periodic conv for 2D events (lattices), MLP otherwise
//   mask     "auto" = checkerboard (parity alternating per layer) for lattices; for vectors the
//            cycle halves, complement of halves, alternating, complement of alternating, so
//            every pair of entries conditions on each other within four layers
//
// FlowOptions round-trips through JSON (flow_options_to_json / flow_options_from_json): a
// checkpoint stores it and rebuilds the same architecture (same parameter keys) with make_flow.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "physgen/core/registry.h"
#include "physgen/models/flows/flow.h"

namespace physgen {

/// Architecture of a flow. Required: coupling name and event shape.
struct FlowOptions {
  FlowOptions(std::string coupling, std::vector<int64_t> event_shape)
      : coupling_(std::move(coupling)), event_shape_(std::move(event_shape)) {}
  /// "affine" | "spline" | "maf" | "iaf".
  TORCH_ARG(std::string, coupling);
  /// Shape of one sample, e.g. {8, 8} for a lattice or {2} for points in the plane.
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Number of layers. Default 8.
  TORCH_ARG(int64_t, n_layers) = 8;
  /// Conditioner network: "auto" | "mlp" | "conv" (couplings only). Default "auto".
  TORCH_ARG(std::string, network) = "auto";
  /// Hidden widths (MLP, MADE) or channels (conv). Default {64, 64}.
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{64, 64};
  /// Odd kernel size of conv conditioners. Default 3.
  TORCH_ARG(int64_t, kernel_size) = 3;
  /// "relu" | "leaky_relu" | "tanh" | "silu" | "gelu" | "softplus". Default "leaky_relu".
  TORCH_ARG(std::string, activation) = "leaky_relu";
  /// "auto" | "checkerboard" | "halves" | "alternating" (couplings only). Default "auto".
  TORCH_ARG(std::string, mask) = "auto";
  /// Soft clamp of affine log-scales, s = c tanh(s_raw / c); <= 0 disables. Default 3.
  TORCH_ARG(double, scale_clamp) = 3.0;
  /// Spline bins K. Default 8.
  TORCH_ARG(int64_t, spline_bins) = 8;
  /// Spline interval [-B, B]. Default 3.
  TORCH_ARG(double, tail_bound) = 3.0;
  /// Context width (0: unconditional). Default 0.
  TORCH_ARG(int64_t, context_features) = 0;
  /// Z2-equivariant layers (f(-z) = -f(z)); needs the standard-normal base. Default false.
  TORCH_ARG(bool, z2_equivariant) = false;
  /// "symmetrize" (any coupling, 2x conditioner cost) | "odd" (affine only, one pass, needs
  /// activation "tanh" and no context). Default "symmetrize".
  TORCH_ARG(std::string, z2_method) = "symmetrize";
  /// Zero-initialise the conditioners' last layers (flow starts at the identity). Default true.
  TORCH_ARG(bool, zero_init_last) = true;
  /// "standard_normal" | "diagonal_gaussian" (learnable mean and log-scale). Default "standard_normal".
  TORCH_ARG(std::string, base) = "standard_normal";

 public:
  /// The JSON fields (core/options.h): flow_options_to_json / flow_options_from_json.
  template <class V>
  void fields(V&& v) {
    v("coupling", coupling());
    v("event_shape", event_shape());
    v("n_layers", n_layers());
    v("network", network());
    v("hidden", hidden());
    v("kernel_size", kernel_size());
    v("activation", activation());
    v("mask", mask());
    v("scale_clamp", scale_clamp());
    v("spline_bins", spline_bins());
    v("tail_bound", tail_bound());
    v("context_features", context_features());
    v("z2_equivariant", z2_equivariant());
    v("z2_method", z2_method());
    v("zero_init_last", zero_init_last());
    v("base", base());
  }
};

/// Signature of the registered builders.
using FlowBuilder = std::function<Flow(const FlowOptions&)>;

/// The coupling-name registry ("affine", "spline", "maf", "iaf").
const Registry<FlowBuilder>& flow_registry();

/// Validates `options` and builds the flow (float32, CPU; use ->to(...) to move it).
/// Throws InvalidArgument naming the offending option.
Flow make_flow(const FlowOptions& options);

/// Every option as a JSON object (keys = option names).
nlohmann::json flow_options_to_json(const FlowOptions& options);
/// Inverse of flow_options_to_json; missing keys take their defaults ("coupling" and
/// "event_shape" are required), unknown keys throw InvalidArgument listing the valid ones.
FlowOptions flow_options_from_json(const nlohmann::json& j);

/// RealNVP for an L x L lattice: n_layers affine couplings with checkerboard masks and
/// periodic conv conditioners (hidden_channels, kernel_size); the published phi^4 tutorial
/// scale is make_realnvp_lattice(8, 16, {8, 8}, 3).
/// References: Albergo et al., "Introduction to normalizing flows for lattice field theory",
/// arXiv:2101.08176.
Flow make_realnvp_lattice(int64_t L, int64_t n_layers = 16,
                          std::vector<int64_t> hidden_channels = {8, 8},
                          int64_t kernel_size = 3, bool z2_equivariant = false,
                          int64_t context_features = 0);

/// RealNVP for d-vectors: affine couplings with MLP conditioners and the "auto" mask cycle.
Flow make_realnvp_vector(int64_t dim, int64_t n_layers = 8,
                         std::vector<int64_t> hidden = {64, 64}, bool z2_equivariant = false,
                         int64_t context_features = 0);

/// Masked autoregressive flow for d-vectors (orderings alternate between layers).
Flow make_maf(int64_t dim, int64_t n_layers = 5, std::vector<int64_t> hidden = {64, 64},
              int64_t context_features = 0);

/// Neural spline flow (RQS couplings) on any event shape (conv conditioners for 2D events).
Flow make_spline_flow(std::vector<int64_t> event_shape, int64_t n_layers = 4, int64_t bins = 8,
                      double tail_bound = 3.0, std::vector<int64_t> hidden = {64, 64},
                      int64_t context_features = 0);

}  // namespace physgen
