#include "physgen/ode/state.h"

#include <torch/torch.h>

namespace physgen {

StateLayout state_layout(const OdeState& state) {
  StateLayout layout;
  for (const auto& t : state) {
    layout.shapes.push_back(t.sizes().vec());
    layout.numels.push_back(t.numel());
    layout.total += t.numel();
  }
  return layout;
}

torch::Tensor flatten_state(const OdeState& state) {
  std::vector<torch::Tensor> flat;
  flat.reserve(state.size());
  for (const auto& t : state) flat.push_back(t.reshape({-1}));
  return torch::cat(flat);
}

OdeState unflatten_state(const torch::Tensor& flat, const StateLayout& layout) {
  OdeState out;
  out.reserve(layout.shapes.size());
  int64_t offset = 0;
  for (size_t i = 0; i < layout.shapes.size(); ++i) {
    out.push_back(flat.narrow(0, offset, layout.numels[i]).view(layout.shapes[i]));
    offset += layout.numels[i];
  }
  return out;
}

OdeState state_combine(const OdeState& y, const std::vector<double>& c,
                       const std::vector<const OdeState*>& k) {
  OdeState out(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    torch::Tensor acc = y[i];
    for (size_t j = 0; j < c.size(); ++j) {
      if (c[j] == 0.0) continue;
      acc = torch::add(acc, (*k[j])[i], c[j]);
    }
    out[i] = acc;
  }
  return out;
}

OdeState detach_state(const OdeState& state) {
  OdeState out;
  out.reserve(state.size());
  for (const auto& t : state) out.push_back(t.detach());
  return out;
}

OdeSystem as_system(const OdeFunction& f) {
  return [f](double t, const OdeState& y) { return OdeState{f(t, y[0])}; };
}

}  // namespace physgen
