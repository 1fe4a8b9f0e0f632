#include "physgen/models/ebm/langevin.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

void LangevinOptions::validate() const {
  check_arg(step_size_ > 0 && std::isfinite(step_size_), "step_size", step_size_, "a finite number > 0");
  check_arg(n_steps_ >= 0, "n_steps", n_steps_, "an integer >= 0");
  check_choice("method", method_, {"ula", "mala", "heatbath"});
  check_arg(noise_scale_ > 0 && noise_scale_ <= 1, "noise_scale", noise_scale_, "a number in (0, 1]");
  check_arg(method_ == "ula" || noise_scale_ == 1.0, "noise_scale", noise_scale_, "1 for method 'mala'");
  check_arg(grad_clamp_ >= 0, "grad_clamp", grad_clamp_, "a number >= 0 (0 = off)");
  check_arg(method_ == "ula" || grad_clamp_ == 0.0, "grad_clamp", grad_clamp_, "0 for method 'mala'");
}

namespace {

/// (U(x), grad U(x)), both detached.
std::pair<torch::Tensor, torch::Tensor> energy_and_gradient(const EnergyFn& energy, const torch::Tensor& x) {
  torch::AutoGradMode enable(true);
  auto xi = x.detach().requires_grad_(true);
  auto u = energy(xi);
  auto g = torch::autograd::grad({u.sum()}, {xi})[0];
  return {u.detach(), g.detach()};
}

/// Sum over all but the first dimension.
torch::Tensor per_chain_sum(const torch::Tensor& t) { return t.flatten(1).sum(1); }

}  // namespace

torch::Tensor energy_gradient(const EnergyFn& energy, const torch::Tensor& x) {
  return energy_and_gradient(energy, x).second;
}

LangevinResult langevin(const EnergyFn& energy, const torch::Tensor& x0, const LangevinOptions& opts) {
  opts.validate();
  check_arg(opts.method() != "heatbath", "method", opts.method(),
            "'ula' or 'mala' (heat-bath sweeps are EnergyModel's sampler of +-1 spins, network 'ising')");
  check_arg(x0.dim() >= 1 && x0.is_floating_point(), "x0", detail::to_display(x0.sizes()),
            "a floating (n, ...) batch of states");
  const double eps = opts.step_size();
  const double noise = opts.noise_scale() * std::sqrt(2 * eps);
  auto x = x0.detach().clone();
  LangevinResult result;
  if (opts.method() == "ula") {
    for (int64_t s = 0; s < opts.n_steps(); ++s) {
      auto g = energy_gradient(energy, x);
      if (opts.grad_clamp() > 0) g = g.clamp(-opts.grad_clamp(), opts.grad_clamp());
      x = x - eps * g + noise * torch::randn_like(x);
    }
    result.x = x;
    return result;
  }
  auto [u, g] = energy_and_gradient(energy, x);
  auto accepted = torch::zeros({}, x.options().dtype(torch::kFloat64));
  std::vector<int64_t> bshape(x.dim(), 1);
  bshape[0] = x.size(0);
  for (int64_t s = 0; s < opts.n_steps(); ++s) {
    auto y = x - eps * g + noise * torch::randn_like(x);
    auto [uy, gy] = energy_and_gradient(energy, y);
    auto log_q_fwd = -per_chain_sum((y - x + eps * g).pow(2)) / (4 * eps);
    auto log_q_bwd = -per_chain_sum((x - y + eps * gy).pow(2)) / (4 * eps);
    auto log_a = u - uy + log_q_bwd - log_q_fwd;
    auto accept = torch::log(torch::rand_like(log_a)) < log_a;  // (n)
    auto mask = accept.view(bshape);
    x = torch::where(mask, y, x);
    g = torch::where(mask, gy, g);
    u = torch::where(accept, uy, u);
    accepted += accept.to(torch::kFloat64).sum();
  }
  result.x = x;
  if (opts.n_steps() > 0 && x.size(0) > 0)
    result.acceptance = accepted.item<double>() / static_cast<double>(opts.n_steps() * x.size(0));
  return result;
}

// ------------------------------------------------------------------- ReplayBuffer

ReplayBuffer::ReplayBuffer(int64_t capacity, std::vector<int64_t> event_shape, double reinit_prob,
                           std::string init, double init_scale, torch::TensorOptions options)
    : event_shape_(std::move(event_shape)), reinit_prob_(reinit_prob), init_(std::move(init)),
      init_scale_(init_scale) {
  check_arg(capacity >= 1, "capacity", capacity, "an integer >= 1");
  check_arg(reinit_prob >= 0 && reinit_prob <= 1, "reinit_prob", reinit_prob, "a probability in [0, 1]");
  check_choice("init", init_, {"normal", "uniform", "spins"});
  check_arg(init_scale > 0, "init_scale", init_scale, "a number > 0");
  std::vector<int64_t> shape{capacity};
  shape.insert(shape.end(), event_shape_.begin(), event_shape_.end());
  states_ = torch::empty(shape, options);
  states_.copy_(initial(capacity));
}

torch::Tensor ReplayBuffer::initial(int64_t n) const {
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), event_shape_.begin(), event_shape_.end());
  auto opts = states_.defined() ? states_.options() : torch::TensorOptions(torch::kFloat32);
  if (init_ == "uniform") return init_scale_ * (2 * torch::rand(shape, opts) - 1);
  if (init_ == "spins") return 2 * torch::randint(0, 2, shape, opts) - 1;
  return init_scale_ * torch::randn(shape, opts);
}

std::pair<torch::Tensor, torch::Tensor> ReplayBuffer::draw(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  auto idx = torch::randint(capacity(), {n}, torch::TensorOptions(torch::kLong).device(states_.device()));
  auto x = states_.index_select(0, idx);
  if (reinit_prob_ > 0) {
    std::vector<int64_t> bshape(x.dim(), 1);
    bshape[0] = n;
    auto fresh = torch::rand({n}, states_.options()) < reinit_prob_;
    x = torch::where(fresh.view(bshape), initial(n), x);
  }
  return {x, idx};
}

void ReplayBuffer::update(const torch::Tensor& indices, const torch::Tensor& states) {
  torch::NoGradGuard no_grad;
  states_.index_copy_(0, indices, states.detach().to(states_.options()));
}

}  // namespace physgen
