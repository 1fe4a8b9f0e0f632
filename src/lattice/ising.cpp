#include "physgen/lattice/ising.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/lattice/neighbours.h"

namespace physgen {

void IsingParams::validate() const {
  check_arg(L >= 2, "L", L, "an integer >= 2");
  check_arg(std::isfinite(beta) && beta >= 0.0, "beta", beta, "a finite number >= 0");
  check_arg(std::isfinite(h), "h", h, "a finite number");
  check_arg(std::isfinite(J), "J", J, "a finite number");
}

nlohmann::json IsingParams::to_json() const {
  return {{"L", L}, {"beta", beta}, {"h", h}, {"J", J}};
}

double ising_beta_critical() { return 0.5 * std::log1p(std::sqrt(2.0)); }

torch::Tensor to_spins(const torch::Tensor& x) {
  check_arg(x.defined(), "x", "undefined", "a tensor of field values");
  return torch::where(x >= 0, torch::ones_like(x, torch::kInt8), -torch::ones_like(x, torch::kInt8));
}

IsingModel::IsingModel(IsingParams params) : params_(params) { params_.validate(); }

void IsingModel::check_configs(const torch::Tensor& s) const {
  const std::string expected =
      "a (B, " + std::to_string(params_.L) + ", " + std::to_string(params_.L) + ") tensor";
  check_arg(s.defined() && s.dim() == 3 && s.size(1) == params_.L && s.size(2) == params_.L,
            "s.shape", s.defined() ? s.sizes() : c10::IntArrayRef{}, expected);
}

torch::Tensor IsingModel::energy(const torch::Tensor& s) const {
  check_configs(s);
  auto x = s.to(torch::kFloat64);
  auto bonds = x * (torch::roll(x, {1}, {1}) + torch::roll(x, {1}, {2}));
  auto e = -params_.J * bonds.sum({1, 2});
  if (params_.h != 0.0) e = e - params_.h * x.sum({1, 2});
  return e;
}

torch::Tensor IsingModel::action(const torch::Tensor& s) const {
  return params_.beta * energy(s);
}

torch::Tensor IsingModel::force(const torch::Tensor& s) const {
  check_configs(s);
  auto x = s.is_floating_point() ? s : s.to(torch::kFloat64);
  return -params_.beta * (params_.J * neighbour_sum(x) + params_.h);
}

std::vector<int64_t> IsingModel::event_shape() const { return {params_.L, params_.L}; }

std::string IsingModel::name() const { return "ising"; }

nlohmann::json IsingModel::params() const { return params_.to_json(); }

}  // namespace physgen
