#include "physgen/models/common/condition.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"

namespace physgen {

std::vector<std::string> condition_kinds() { return {"class", "continuous", "none"}; }

void ConditionOptions::validate() const {
  check_choice("condition.kind", kind(), condition_kinds());
  if (kind() == "class")
    check_arg(classes() >= 1, "condition.classes", classes(), "an integer >= 1");
  if (kind() == "continuous") check_arg(dim() >= 1, "condition.dim", dim(), "an integer >= 1");
  check_arg(dropout() >= 0 && dropout() < 1, "condition.dropout", dropout(), "a value in [0, 1)");
}

int64_t ConditionOptions::feature_dim() const {
  if (kind() == "class") return classes() + 1;
  if (kind() == "continuous") return dim() + 1;
  return 0;
}

nlohmann::json ConditionOptions::to_json() const { return options_to_json(*this); }

ConditionOptions ConditionOptions::from_json(const nlohmann::json& j) {
  ConditionOptions o;
  options_from_json(o, j, "condition");
  return o;
}

torch::Tensor condition_features(const ConditionOptions& o, const torch::Tensor& cond, int64_t n,
                                 const torch::Tensor& like, const torch::Tensor& keep_in) {
  if (o.kind() == "none") return torch::Tensor();
  auto fopts = like.options().requires_grad(false);
  if (!cond.defined()) return torch::zeros({n, o.feature_dim()}, fopts);
  auto keep = keep_in.defined() ? keep_in.to(fopts).reshape({n, 1}) : torch::ones({n, 1}, fopts);
  torch::Tensor values;
  if (o.kind() == "class") {
    check_arg(cond.dim() == 1 && cond.size(0) == n && !cond.is_floating_point(), "condition.shape",
              c10::str(cond.sizes()), "integer class labels (" + std::to_string(n) + ")");
    if (n > 0) {
      const int64_t lo = cond.min().item<int64_t>(), hi = cond.max().item<int64_t>();
      check_arg(lo >= 0 && hi < o.classes(), "condition label", lo < 0 ? lo : hi,
                "labels in [0, " + std::to_string(o.classes()) + ")");
    }
    values = torch::one_hot(cond.to(like.device(), torch::kLong), o.classes()).to(fopts);
  } else {
    auto c = cond.dim() == 1 && o.dim() == 1 ? cond.unsqueeze(1) : cond;
    check_arg(c.dim() == 2 && c.size(0) == n && c.size(1) == o.dim(), "condition.shape",
              c10::str(cond.sizes()),
              "(" + std::to_string(n) + ", " + std::to_string(o.dim()) + ")");
    values = c.to(fopts);
  }
  return torch::cat({values * keep, keep}, 1);
}

torch::Tensor condition_features_with_dropout(const ConditionOptions& o, const torch::Tensor& cond,
                                              int64_t n, const torch::Tensor& like) {
  if (o.kind() == "none") return torch::Tensor();
  if (!cond.defined()) return condition_features(o, cond, n, like);
  auto keep =
      (torch::rand({n}, like.options().requires_grad(false)) >= o.dropout()).to(like.scalar_type());
  return condition_features(o, cond, n, like, keep);
}

torch::Tensor guided(const torch::Tensor& conditional, const torch::Tensor& unconditional,
                     double w) {
  if (w == 0.0) return conditional;
  return (1.0 + w) * conditional - w * unconditional;
}

torch::Tensor pack_condition(const torch::Tensor& x, const torch::Tensor& cond) {
  check_arg(x.defined() && x.dim() >= 1, "x.dim()", x.defined() ? x.dim() : -1, "(N, ...)");
  const int64_t n = x.size(0);
  check_arg(cond.defined() && cond.dim() >= 1 && cond.dim() <= 2 && cond.size(0) == n,
            "condition.shape", cond.defined() ? c10::str(cond.sizes()) : std::string("undefined"),
            "(N) or (N, k) with N = " + std::to_string(n));
  auto flat = x.reshape({n, -1});
  if (!flat.is_floating_point()) flat = flat.to(torch::kFloat32);  // e.g. int8 Ising spins
  auto c = cond.dim() == 1 ? cond.unsqueeze(1) : cond;
  return torch::cat({flat, c.to(flat.device(), flat.scalar_type())}, 1);
}

std::pair<torch::Tensor, torch::Tensor> unpack_condition(const torch::Tensor& packed,
                                                         const std::vector<int64_t>& event_shape,
                                                         const ConditionOptions& o) {
  int64_t d = 1;
  for (int64_t s : event_shape) d *= s;
  const int64_t k = o.kind() == "class" ? 1 : (o.kind() == "continuous" ? o.dim() : 0);
  check_arg(packed.defined() && packed.dim() == 2 && packed.size(1) == d + k, "packed.shape",
            packed.defined() ? c10::str(packed.sizes()) : std::string("undefined"),
            "(n, " + std::to_string(d + k) + ")");
  std::vector<int64_t> shape = {packed.size(0)};
  shape.insert(shape.end(), event_shape.begin(), event_shape.end());
  auto x = packed.slice(1, 0, d).reshape(shape);
  if (k == 0) return {x, torch::Tensor()};
  auto c = packed.slice(1, d, d + k);
  if (o.kind() == "class") return {x, torch::round(c.squeeze(1)).to(torch::kLong)};
  return {x, c};
}

torch::Tensor one_hot_condition(const torch::Tensor& labels, int64_t num_classes, torch::Dtype dtype) {
  check_arg(num_classes >= 1, "num_classes", num_classes, "an integer >= 1");
  auto l = labels.to(torch::kLong).view({-1});
  if (l.numel() > 0)
    check_arg(l.min().item<int64_t>() >= 0 && l.max().item<int64_t>() < num_classes, "labels",
              "[" + std::to_string(l.min().item<int64_t>()) + ", " + std::to_string(l.max().item<int64_t>()) + "]",
              "integers in [0, " + std::to_string(num_classes) + ")");
  return torch::one_hot(l, num_classes).to(dtype);
}

}  // namespace physgen
