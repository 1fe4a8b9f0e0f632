#include "physgen/models/ebm/ebm.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"
#include "physgen/lattice/neighbours.h"
#include "physgen/models/ebm/exponential_family.h"
#include "physgen/models/flows/masks.h"

namespace physgen {

// ------------------------------------------------------------------ energy networks

LatticeEnergyImpl::LatticeEnergyImpl(int64_t channels_, int64_t depth_, std::string activation_)
    : channels(channels_), depth(depth_), activation(std::move(activation_)) {
  check_arg(channels >= 1, "channels", channels, "an integer >= 1");
  check_arg(depth >= 1, "depth", depth, "an integer >= 1");
  check_choice("activation", activation, vector_mlp_activations());
  reset();
}

void LatticeEnergyImpl::reset() {
  convs = register_module("convs", torch::nn::ModuleList());
  for (int64_t i = 0; i < depth; ++i)
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(i == 0 ? 1 : channels, channels, 3)
                                           .padding(1)
                                           .padding_mode(torch::kCircular)));
  convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 1, 1)));
}

torch::Tensor LatticeEnergyImpl::forward(const torch::Tensor& x) {
  auto h = x.unsqueeze(1);
  const size_t n = convs->size();
  for (size_t i = 0; i < n; ++i) {
    h = convs[i]->as<torch::nn::Conv2d>()->forward(h);
    if (i + 1 < n) h = apply_activation(activation, h);
  }
  return h.sum({1, 2, 3});
}

Phi4FamilyEnergyImpl::Phi4FamilyEnergyImpl(double m2_, double lambda_) : m2_init(m2_), lambda_init(lambda_) {
  reset();
}

void Phi4FamilyEnergyImpl::reset() {
  m2 = register_parameter("m2", torch::full({}, m2_init));
  lambda = register_parameter("lambda", torch::full({}, lambda_init));
}

torch::Tensor Phi4FamilyEnergyImpl::forward(const torch::Tensor& x) {
  auto kinetic = (torch::roll(x, {1}, {1}) - x).pow(2).sum({1, 2}) + (torch::roll(x, {1}, {2}) - x).pow(2).sum({1, 2});
  auto x2 = x.pow(2);
  return kinetic + m2.to(x.scalar_type()) * x2.sum({1, 2}) + lambda.to(x.scalar_type()) * x2.pow(2).sum({1, 2});
}

IsingFamilyEnergyImpl::IsingFamilyEnergyImpl(double beta_) : beta_init(beta_) { reset(); }

void IsingFamilyEnergyImpl::reset() { beta = register_parameter("beta", torch::full({}, beta_init)); }

torch::Tensor IsingFamilyEnergyImpl::forward(const torch::Tensor& s) {
  auto bonds = ising_statistics(s).select(1, 0).to(s.scalar_type());  // sum_<ij> s_i s_j
  return -beta.to(s.scalar_type()) * bonds;
}

torch::Tensor IsingFamilyEnergyImpl::heatbath(const torch::Tensor& s0, int64_t sweeps) {
  torch::NoGradGuard no_grad;
  const int64_t L = s0.size(1);
  check_arg(s0.dim() == 3 && s0.size(2) == L && L % 2 == 0, "spins", detail::to_display(s0.sizes()),
            "(n, L, L) with L even (the checkerboard sublattices of a periodic lattice)");
  const torch::Tensor sublattice[2] = {checkerboard_mask(L, L, 0).to(s0.device(), torch::kBool),
                                       checkerboard_mask(L, L, 1).to(s0.device(), torch::kBool)};
  const double b = beta.item<double>();
  auto s = s0.detach().clone();
  for (int64_t t = 0; t < sweeps; ++t) {
    for (int64_t p = 0; p < 2; ++p) {
      auto up = torch::rand_like(s) < torch::sigmoid(2 * b * neighbour_sum(s));
      auto fresh = torch::where(up, torch::ones_like(s), -torch::ones_like(s));
      s = torch::where(sublattice[p], fresh, s);
    }
  }
  return s;
}

// ------------------------------------------------------------------------ options

void EnergyModelOptions::validate() const {
  check_arg(!event_shape_.empty(), "event_shape", "[]", "a non-empty shape");
  for (int64_t s : event_shape_) check_arg(s >= 1, "event_shape", s, "entries >= 1");
  check_choice("network", network_, {"mlp", "conv", "phi4", "ising"});
  if (network_ != "mlp")
    check_arg(event_shape_.size() == 2, "event_shape", detail::to_display(torch::IntArrayRef(event_shape_)),
              "{L, L} for network '" + network_ + "'");
  check_arg(confinement_ >= 0, "confinement", confinement_, "a number >= 0");
  check_choice("objective", objective_, {"ml", "dsm"});
  check_arg(alpha_ >= 0, "alpha", alpha_, "a number >= 0");
  sampler_.validate();
  check_arg(buffer_size_ >= 1, "buffer_size", buffer_size_, "an integer >= 1");
  check_arg(reinit_prob_ >= 0 && reinit_prob_ <= 1, "reinit_prob", reinit_prob_, "a probability in [0, 1]");
  check_choice("init", init_, {"normal", "uniform", "spins"});
  const bool spins = network_ == "ising";
  check_arg(spins == (sampler_.method() == "heatbath"), "sampler.method", sampler_.method(),
            spins ? "'heatbath' for network 'ising' (+-1 spins)" : "'ula' or 'mala' for network '" + network_ + "'");
  check_arg(spins == (init_ == "spins"), "init", init_,
            spins ? "'spins' for network 'ising'" : "'normal' or 'uniform' for network '" + network_ + "'");
  check_arg(!spins || objective_ == "ml", "objective", objective_, "'ml' for network 'ising' (dsm needs a continuous x)");
  check_arg(!spins || event_shape_.back() % 2 == 0, "event_shape",
            detail::to_display(torch::IntArrayRef(event_shape_)), "{L, L} with L even for network 'ising'");
  check_arg(init_scale_ > 0, "init_scale", init_scale_, "a number > 0");
  check_arg(sample_steps_ >= 0, "sample_steps", sample_steps_, "an integer >= 0");
  check_arg(dsm_sigma_ > 0, "dsm_sigma", dsm_sigma_, "a number > 0");
}

nlohmann::json EnergyModelOptions::to_json() const { return options_to_json(*this); }

EnergyModelOptions EnergyModelOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a shape such as [8, 8]");
  EnergyModelOptions o(j["event_shape"].get<std::vector<int64_t>>());
  options_from_json(o, j, "model");
  o.validate();
  return o;
}

// -------------------------------------------------------------------------- model

EnergyModelImpl::EnergyModelImpl(const EnergyModelOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void EnergyModelImpl::reset() {
  dim_ = 1;
  for (int64_t s : options.event_shape()) dim_ *= s;
  if (options.network() == "mlp") {
    mlp_ = VectorMLP(VectorMLPOptions(dim_, 1).hidden(options.hidden()).activation(options.activation()));
    network = register_module("energy", mlp_.ptr());
  } else if (options.network() == "conv") {
    conv_ = LatticeEnergy(options.channels(), options.depth(), options.activation());
    network = register_module("energy", conv_.ptr());
  } else if (options.network() == "phi4") {
    phi4_ = Phi4FamilyEnergy(options.init_m2(), options.init_lambda());
    network = register_module("energy", phi4_.ptr());
  } else {
    ising_ = IsingFamilyEnergy(options.init_beta());
    network = register_module("energy", ising_.ptr());
  }
  replay_ = std::make_shared<ReplayBuffer>(options.buffer_size(), options.event_shape(), options.reinit_prob(),
                                           options.init(), options.init_scale());
  register_buffer("replay", replay_->states());
}

torch::Tensor EnergyModelImpl::energy(const torch::Tensor& x) {
  torch::Tensor u;
  if (options.network() == "mlp")
    u = mlp_->forward(x.reshape({x.size(0), dim_})).squeeze(1);
  else if (options.network() == "conv")
    u = conv_->forward(x);
  else if (options.network() == "phi4")
    u = phi4_->forward(x);
  else
    u = ising_->forward(x);
  if (options.confinement() > 0) u = u + options.confinement() * x.pow(2).flatten(1).sum(1);
  return u;
}

EnergyFn EnergyModelImpl::energy_fn() {
  return [this](const torch::Tensor& x) { return energy(x); };
}

torch::Tensor EnergyModelImpl::score(const torch::Tensor& x) { return -energy_gradient(energy_fn(), x); }

torch::Tensor EnergyModelImpl::negatives(int64_t n, double* acceptance) {
  auto [x0, idx] = replay_->draw(n);
  if (options.network() == "ising") {
    auto s = ising_->heatbath(x0, options.sampler().n_steps());
    replay_->update(idx, s);
    if (acceptance) *acceptance = 1.0;  // heat-bath draws are always accepted
    return s;
  }
  auto r = langevin(energy_fn(), x0, options.sampler());
  replay_->update(idx, r.x);
  if (acceptance) *acceptance = r.acceptance;
  return r.x;
}

torch::Tensor EnergyModelImpl::loss(const torch::Tensor& batch, Diagnostics& diag) {
  const torch::Tensor p = parameters().front();
  auto x = batch.to(p.device(), p.scalar_type());
  if (options.objective() == "dsm") {
    auto eps = torch::randn_like(x);
    const double sigma = options.dsm_sigma();
    auto xt = (x + sigma * eps).detach().requires_grad_(true);
    auto g = torch::autograd::grad({energy(xt).sum()}, {xt}, {}, true, true)[0];
    auto l = 0.5 * (eps - sigma * g).pow(2).flatten(1).sum(1).mean();
    diag["dsm"] = l.item<double>();
    return l;
  }
  double acceptance = 1.0;
  auto neg = negatives(x.size(0), &acceptance);
  auto e_pos = energy(x), e_neg = energy(neg);
  auto l = e_pos.mean() - e_neg.mean();
  if (options.alpha() > 0) l = l + options.alpha() * (e_pos.pow(2).mean() + e_neg.pow(2).mean());
  diag["e_data"] = e_pos.mean().item<double>();
  diag["e_model"] = e_neg.mean().item<double>();
  diag["acceptance"] = acceptance;
  return l;
}

torch::Tensor EnergyModelImpl::sample(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  if (options.network() == "ising") return ising_->heatbath(replay_->initial(n), options.sample_steps());
  auto opts = options.sampler();
  opts.n_steps(options.sample_steps());
  return langevin(energy_fn(), replay_->initial(n), opts).x;
}

nlohmann::json EnergyModelTask::options() const { return {{"family", "ebm"}, {"ebm", model_->options.to_json()}}; }

}  // namespace physgen
