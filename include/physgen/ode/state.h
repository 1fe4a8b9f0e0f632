#pragma once
// Helpers on augmented ODE states (std::vector<torch::Tensor>).
//
// odeint accepts a vector of tensors directly; these helpers convert between an
// augmented state and one flat tensor for code that wants a single tensor
// (e.g. to hand an augmented system to a single-tensor solver or to a norm).
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "physgen/ode/odeint.h"

namespace physgen {

/// Shapes of the components of an augmented state (what unflatten_state needs).
struct StateLayout {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<int64_t> numels;
  int64_t total = 0;
};

/// Layout of `state`: every component's shape and element count.
StateLayout state_layout(const OdeState& state);

/// Concatenates every component, flattened, into one 1-D tensor of layout.total
/// elements (differentiable; components must share dtype and device).
torch::Tensor flatten_state(const OdeState& state);

/// Inverse of flatten_state: splits a 1-D tensor of layout.total elements back into
/// components of the recorded shapes (views of `flat`).
OdeState unflatten_state(const torch::Tensor& flat, const StateLayout& layout);

/// y + sum_j c_j k_j, componentwise, skipping zero coefficients (differentiable).
OdeState state_combine(const OdeState& y, const std::vector<double>& c,
                       const std::vector<const OdeState*>& k);

/// Componentwise detach.
OdeState detach_state(const OdeState& state);

/// Wraps a single-tensor right-hand side as a one-component system.
OdeSystem as_system(const OdeFunction& f);

}  // namespace physgen
