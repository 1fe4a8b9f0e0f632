#include "physgen/mcmc/phi4_metropolis.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/lattice/neighbours.h"

namespace physgen {

void Phi4MetropolisOptions::validate() const {
  check_arg(std::isfinite(delta_) && delta_ > 0.0, "delta", delta_, "a finite delta > 0");
  check_arg(n_hits_ >= 1, "n_hits", n_hits_, "an integer >= 1");
}

Phi4Metropolis::Phi4Metropolis(Phi4Params params, Phi4MetropolisOptions opts,
                               torch::Tensor initial_state)
    : params_(params), opts_(opts) {
  params_.validate();
  check_arg(params_.L % 2 == 0, "L", params_.L, "an even L (checkerboard update)");
  opts_.validate();
  const int64_t L = params_.L;
  const bool ok = initial_state.defined() && initial_state.is_floating_point() &&
                  initial_state.dim() == 3 && initial_state.size(0) >= 1 &&
                  initial_state.size(1) == L && initial_state.size(2) == L;
  std::ostringstream got;
  if (initial_state.defined()) got << initial_state.sizes(); else got << "undefined";
  check_arg(ok, "initial_state", got.str(),
            "a floating tensor of shape (C >= 1, " + std::to_string(L) + ", " +
                std::to_string(L) + ")");
  x_ = initial_state.detach().clone(at::MemoryFormat::Contiguous);
  auto idx = torch::arange(L, torch::TensorOptions().dtype(torch::kLong).device(x_.device()));
  auto even = ((idx.view({L, 1}) + idx.view({1, L})) % 2) == 0;
  parity_[0] = even;
  parity_[1] = even.logical_not();
  reset_statistics();
}

void Phi4Metropolis::reset_statistics() {
  accepted_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(x_.device()));
  proposed_ = 0;
}

double Phi4Metropolis::acceptance() const {
  if (proposed_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return accepted_.item<double>() / static_cast<double>(proposed_);
}

void Phi4Metropolis::sweep() {
  const double a = 4.0 + params_.m2, lambda = params_.lambda, delta = opts_.delta();
  for (int parity = 0; parity < 2; ++parity) {
    // Neighbours of this parity's sites all belong to the other parity: fixed during the hits.
    auto nsum = neighbour_sum(x_);
    for (int64_t h = 0; h < opts_.n_hits(); ++h) {
      auto proposal = x_ + delta * (2.0 * torch::rand_like(x_) - 1.0);
      auto x2 = x_ * x_;
      auto y2 = proposal * proposal;
      auto ds = a * (y2 - x2) + lambda * (y2 * y2 - x2 * x2) - 2.0 * (proposal - x_) * nsum;
      auto accept = (torch::rand_like(x_) < torch::exp(-ds)).logical_and_(parity_[parity]);
      x_ = torch::where(accept, proposal, x_);
      accepted_ += accept.sum();
    }
  }
  proposed_ += x_.numel() * opts_.n_hits();
  ++sweeps_;
}

void Phi4Metropolis::update(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < n; ++i) sweep();
}

double Phi4Metropolis::tune_delta(int64_t sweeps, double target) {
  check_arg(sweeps >= 1, "sweeps", sweeps, "an integer >= 1");
  check_arg(target > 0.0 && target < 1.0, "target", target, "an acceptance in (0, 1)");
  torch::NoGradGuard no_grad;
  for (int64_t done = 0; done < sweeps;) {
    const int64_t block = std::min<int64_t>(10, sweeps - done);
    reset_statistics();
    for (int64_t i = 0; i < block; ++i) sweep();
    done += block;
    const double factor = std::clamp(acceptance() / target, 0.5, 2.0);
    opts_.delta(opts_.delta() * factor);
  }
  reset_statistics();
  return opts_.delta();
}

nlohmann::json Phi4Metropolis::info() const {
  nlohmann::json j;
  j["algorithm"] = "phi4_metropolis";
  j["params"] = params_.to_json();
  j["delta"] = opts_.delta();
  j["n_hits"] = opts_.n_hits();
  j["chains"] = chains();
  j["sweeps"] = sweeps_;
  const double acc = acceptance();
  if (std::isnan(acc)) j["acceptance"] = nullptr; else j["acceptance"] = acc;
  return j;
}

ChainSnapshot Phi4Metropolis::snapshot() const {
  ChainSnapshot s;
  s.algorithm = "phi4_metropolis";
  s.tensors["x"] = x_.to(torch::kCPU).clone();
  s.tensors["delta"] = torch::tensor(opts_.delta(), torch::kFloat64);
  s.tensors["accepted"] = accepted_.to(torch::kCPU).clone();
  s.tensors["proposed"] = torch::tensor(proposed_, torch::kInt64);
  s.tensors["sweeps"] = torch::tensor(sweeps_, torch::kInt64);
  snapshot_default_generators(s, x_.device());
  return s;
}

void Phi4Metropolis::restore(const ChainSnapshot& s) {
  s.check_algorithm("phi4_metropolis");
  check_snapshot_like(s, "x", x_.to(torch::kCPU));
  x_ = s.at("x").to(x_.device()).contiguous();
  const double delta = s.at("delta").item<double>();
  check_arg(std::isfinite(delta) && delta > 0.0, "snapshot delta", delta, "a finite delta > 0");
  opts_.delta(delta);
  accepted_ = s.at("accepted").to(torch::TensorOptions().dtype(torch::kFloat64).device(x_.device()));
  proposed_ = s.integer("proposed");
  sweeps_ = s.integer("sweeps");
  restore_default_generators(s, x_.device());
}

std::unique_ptr<Phi4Metropolis> make_phi4_metropolis(const Phi4Params& params, int64_t chains,
                                                     Phi4MetropolisOptions opts,
                                                     torch::Device device, torch::Dtype dtype,
                                                     Phi4Start start) {
  auto x0 = phi4_initial_state(params, chains, start,
                               torch::TensorOptions().dtype(dtype).device(device));
  return std::make_unique<Phi4Metropolis>(params, opts, std::move(x0));
}

}  // namespace physgen
