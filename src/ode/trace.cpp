#include "physgen/ode/trace.h"

#include <torch/torch.h>

#include "physgen/core/registry.h"

namespace physgen {

std::vector<std::string> trace_estimators() { return {"exact", "hutchinson"}; }
std::vector<std::string> probe_distributions() { return {"gaussian", "rademacher"}; }

namespace {

torch::Tensor per_sample_zeros(const torch::Tensor& x) {
  return torch::zeros({x.size(0)}, x.options().requires_grad(false));
}

}  // namespace

Divergence divergence_exact(const torch::Tensor& v, const torch::Tensor& x, bool create_graph,
                            bool frobenius) {
  Divergence out;
  if (!v.requires_grad()) {
    out.trace = per_sample_zeros(x);
    if (frobenius) out.frobenius_sq = per_sample_zeros(x);
    return out;
  }
  const int64_t d = x.size(1);
  std::vector<torch::Tensor> diag;
  diag.reserve(d);
  torch::Tensor frob;
  for (int64_t i = 0; i < d; ++i) {
    // Row i of the per-sample Jacobians: d v_i / d x, (n, d).
    auto row = torch::autograd::grad({v.select(1, i).sum()}, {x}, {}, /*retain_graph=*/true,
                                     create_graph, /*allow_unused=*/true)[0];
    if (!row.defined()) row = torch::zeros_like(x);
    diag.push_back(row.select(1, i));
    if (frobenius) {
      auto sq = row.square().sum(1);
      frob = frob.defined() ? frob + sq : sq;
    }
  }
  out.trace = torch::stack(diag, 1).sum(1);
  if (frobenius) out.frobenius_sq = frob;
  return out;
}

Divergence divergence_hutchinson(const torch::Tensor& v, const torch::Tensor& x,
                                 const torch::Tensor& eps, bool create_graph, bool frobenius) {
  Divergence out;
  if (!v.requires_grad()) {
    out.trace = per_sample_zeros(x);
    if (frobenius) out.frobenius_sq = per_sample_zeros(x);
    return out;
  }
  // eps^T J per sample, (n, d).
  auto ej = torch::autograd::grad({v}, {x}, {eps}, /*retain_graph=*/true, create_graph,
                                  /*allow_unused=*/true)[0];
  if (!ej.defined()) ej = torch::zeros_like(x);
  out.trace = (ej * eps).sum(1);
  if (frobenius) out.frobenius_sq = ej.square().sum(1);
  return out;
}

torch::Tensor sample_probe(const torch::Tensor& like, const std::string& distribution) {
  check_choice("probe", distribution, probe_distributions());
  auto opts = like.options().requires_grad(false);
  if (distribution == "gaussian") return torch::randn(like.sizes(), opts);
  return torch::randint(0, 2, like.sizes(), opts).mul_(2).sub_(1);
}

}  // namespace physgen
