#include "physgen/models/flows/bijector.h"

#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {
namespace detail {

namespace {
std::string shape_string(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "(B";
  for (auto v : s) os << ", " << v;
  os << ")";
  return os.str();
}
}  // namespace

void check_event(const torch::Tensor& x, const std::vector<int64_t>& event_shape,
                 const std::string& what) {
  check_arg(x.defined(), what, "undefined", "a tensor " + shape_string(event_shape));
  bool ok = x.dim() == static_cast<int64_t>(event_shape.size()) + 1;
  for (size_t i = 0; ok && i < event_shape.size(); ++i) ok = x.size(i + 1) == event_shape[i];
  check_arg(ok, what + ".sizes()", to_display(x.sizes()), shape_string(event_shape));
}

void check_context(const torch::Tensor& context, int64_t batch, int64_t context_features) {
  if (context_features == 0) {
    check_arg(!context.defined() || context.numel() == 0, "context.sizes()",
              context.defined() ? to_display(context.sizes()) : std::string("undefined"),
              "no context (the model was built with context_features = 0)");
    return;
  }
  check_arg(context.defined(), "context", "undefined",
            "a (B, " + std::to_string(context_features) + ") tensor");
  check_arg(context.dim() == 2 && context.size(0) == batch && context.size(1) == context_features,
            "context.sizes()", to_display(context.sizes()),
            "(" + std::to_string(batch) + ", " + std::to_string(context_features) + ")");
}

void check_coupling_mask(const torch::Tensor& m) {
  check_arg(m.defined() && m.dim() >= 1, "mask.dim()", m.defined() ? m.dim() : -1,
            "a tensor of rank >= 1 (the event shape)");
  torch::NoGradGuard no_grad;
  auto mf = m.to(torch::kFloat64);
  const double ones = mf.sum().item<double>();
  check_arg(((mf == 0) | (mf == 1)).all().item<bool>(), "mask", "non-binary values",
            "entries 0 or 1");
  check_arg(ones >= 1 && ones <= static_cast<double>(mf.numel()) - 1, "mask.sum()", ones,
            "at least one conditioning (1) and one transformed (0) entry");
}

}  // namespace detail
}  // namespace physgen
