#include "physgen/mcmc/hmc.h"

#include <cmath>
#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

namespace {

// The kick / drift coefficients of a whole trajectory, kicks of adjacent steps merged:
// p -= kicks[0] F; x += drifts[0] p; p -= kicks[1] F; ... ; p -= kicks.back() F.
struct KickDrift {
  std::vector<double> kicks;
  std::vector<double> drifts;
};

KickDrift kick_drift_sequence(double eps, int64_t n_steps, const std::string& integrator) {
  KickDrift s;
  if (integrator == "leapfrog") {
    s.kicks.push_back(0.5 * eps);
    for (int64_t i = 0; i < n_steps; ++i) {
      s.drifts.push_back(eps);
      s.kicks.push_back(i + 1 == n_steps ? 0.5 * eps : eps);
    }
  } else {  // "omelyan" (2nd-order minimum norm)
    const double l = kOmelyanLambda;
    s.kicks.push_back(l * eps);
    for (int64_t i = 0; i < n_steps; ++i) {
      s.drifts.push_back(0.5 * eps);
      s.kicks.push_back((1.0 - 2.0 * l) * eps);
      s.drifts.push_back(0.5 * eps);
      s.kicks.push_back(i + 1 == n_steps ? l * eps : 2.0 * l * eps);
    }
  }
  return s;
}

std::string sizes_string(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

void check_step(double eps, int64_t n_steps, const std::string& integrator) {
  check_arg(std::isfinite(eps) && eps > 0.0, "step_size", eps, "a finite step size > 0");
  check_arg(n_steps >= 1, "n_steps", n_steps, "an integer >= 1");
  check_choice("integrator", integrator, hmc_integrators());
}

torch::Tensor kinetic(const torch::Tensor& p) {
  return 0.5 * p.square().reshape({p.size(0), -1}).sum(1);
}

}  // namespace

std::vector<std::string> hmc_integrators() { return {"leapfrog", "omelyan"}; }

void HmcOptions::validate() const {
  check_step(step_size_, n_steps_, integrator_);
  check_arg(jitter_ >= 0.0 && jitter_ < 1.0, "jitter", jitter_, "a jitter in [0, 1)");
}

void integrate(const Target& target, torch::Tensor& x, torch::Tensor& p, double eps,
               int64_t n_steps, const std::string& integrator) {
  check_step(eps, n_steps, integrator);
  check_arg(x.defined() && x.dim() >= 1 && x.is_floating_point(), "x", sizes_string(x),
            "a floating tensor (C, *event_shape)");
  check_arg(p.defined() && p.sizes() == x.sizes(), "p", sizes_string(p),
            "a tensor of x's shape " + sizes_string(x));
  const KickDrift seq = kick_drift_sequence(eps, n_steps, integrator);
  if (auto* phi4 = dynamic_cast<const Phi4Action*>(&target)) {
    if (phi4->integrate_fused(x, p, seq.kicks, seq.drifts)) return;
  }
  torch::Tensor xt = x, pt = p;
  for (size_t k = 0; k < seq.drifts.size(); ++k) {
    pt = pt - seq.kicks[k] * target.force(xt);
    xt = xt + seq.drifts[k] * pt;
  }
  pt = pt - seq.kicks.back() * target.force(xt);
  x = xt;
  p = pt;
}

torch::Tensor hamiltonian(const Target& target, const torch::Tensor& x, const torch::Tensor& p) {
  check_arg(p.defined() && x.defined() && p.sizes() == x.sizes(), "p", sizes_string(p),
            "a tensor of x's shape " + sizes_string(x));
  return target.action(x) + kinetic(p);
}

// ---------------------------------------------------------------- Hmc

Hmc::Hmc(std::shared_ptr<const Target> target, HmcOptions opts, torch::Tensor initial_state)
    : target_(std::move(target)), opts_(std::move(opts)) {
  check_arg(target_ != nullptr, "target", "null", "a Target");
  opts_.validate();
  std::vector<int64_t> expected{-1};
  const auto ev = target_->event_shape();
  expected.insert(expected.end(), ev.begin(), ev.end());
  bool ok = initial_state.defined() && initial_state.is_floating_point() &&
            initial_state.dim() == static_cast<int64_t>(expected.size()) &&
            initial_state.size(0) >= 1;
  for (size_t d = 1; ok && d < expected.size(); ++d) ok = initial_state.size(d) == expected[d];
  std::ostringstream want;
  want << "a floating tensor of shape (C >= 1, " << c10::IntArrayRef(ev) << ")";
  check_arg(ok, "initial_state", sizes_string(initial_state), want.str());
  x_ = initial_state.detach().clone(at::MemoryFormat::Contiguous);
  reset_statistics();
}

void Hmc::set_step_size(double eps) {
  check_arg(std::isfinite(eps) && eps > 0.0, "step_size", eps, "a finite step size > 0");
  opts_.step_size(eps);
}

void Hmc::reset_statistics() {
  auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(x_.device());
  accepted_ = torch::zeros({}, opts);
  exp_sum_ = torch::zeros({}, opts);
  dh_sum_ = torch::zeros({}, opts);
  trajectories_ = 0;
}

void Hmc::update(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard no_grad;
  const int64_t C = x_.size(0);
  std::vector<int64_t> bshape(static_cast<size_t>(x_.dim()), 1);
  bshape[0] = C;
  torch::Tensor s0 = n > 0 ? target_->action(x_) : torch::Tensor();
  for (int64_t t = 0; t < n; ++t) {
    // Momenta are drawn in float32 and widened: LibTorch 1.13's float64 normal
    // sampler costs ~17 ns per draw on the CPU (more than a whole 10-step
    // trajectory of the fused kernel), float32 ~3 ns. Exactness is untouched:
    // the Metropolis test uses the momenta actually drawn, and their law differs
    // from N(0,1) only by float32 rounding (~1e-7 relative).
    auto p0 = x_.scalar_type() == torch::kFloat64
                  ? torch::randn(x_.sizes(), x_.options().dtype(torch::kFloat32)).to(torch::kFloat64)
                  : torch::randn_like(x_);
    auto h0 = s0 + kinetic(p0);
    double eps = opts_.step_size();
    if (opts_.jitter() > 0.0) {
      eps *= 1.0 + opts_.jitter() * (2.0 * torch::rand({1}, torch::kFloat64).item<double>() - 1.0);
    }
    torch::Tensor x1 = x_, p1 = p0;
    integrate(*target_, x1, p1, eps, opts_.n_steps(), opts_.integrator());
    auto s1 = target_->action(x1);
    auto dh = (s1 + kinetic(p1) - h0).to(torch::kFloat64);
    auto boltzmann = torch::exp(-dh);
    // NaN dH (a diverging trajectory) compares false: rejected.
    auto accept = torch::rand_like(dh) < boltzmann;
    x_ = torch::where(accept.view(bshape), x1, x_);
    s0 = torch::where(accept, s1, s0);
    accepted_ += accept.sum();
    exp_sum_ += boltzmann.sum();
    dh_sum_ += dh.sum();
    ++trajectories_;
  }
}

nlohmann::json Hmc::info() const {
  nlohmann::json j;
  j["algorithm"] = "hmc";
  j["target"] = target_->name();
  j["params"] = target_->params();
  j["step_size"] = opts_.step_size();
  j["n_steps"] = opts_.n_steps();
  j["integrator"] = opts_.integrator();
  j["jitter"] = opts_.jitter();
  j["chains"] = chains();
  j["trajectories"] = trajectories_;
  const double count = static_cast<double>(trajectories_ * chains());
  if (trajectories_ > 0) {
    j["acceptance"] = accepted_.item<double>() / count;
    j["mean_exp_minus_dH"] = exp_sum_.item<double>() / count;
    j["mean_dH"] = dh_sum_.item<double>() / count;
  } else {
    j["acceptance"] = nullptr;
    j["mean_exp_minus_dH"] = nullptr;
    j["mean_dH"] = nullptr;
  }
  auto* phi4 = dynamic_cast<const Phi4Action*>(target_.get());
  j["fused_cpu"] = phi4 != nullptr && phi4->uses_fused_path(x_);
  return j;
}

ChainSnapshot Hmc::snapshot() const {
  ChainSnapshot s;
  s.algorithm = "hmc";
  s.tensors["x"] = x_.to(torch::kCPU).clone();
  s.tensors["step_size"] = torch::tensor(opts_.step_size(), torch::kFloat64);
  s.tensors["accepted"] = accepted_.to(torch::kCPU).clone();
  s.tensors["exp_sum"] = exp_sum_.to(torch::kCPU).clone();
  s.tensors["dh_sum"] = dh_sum_.to(torch::kCPU).clone();
  s.tensors["trajectories"] = torch::tensor(trajectories_, torch::kInt64);
  snapshot_default_generators(s, x_.device());
  return s;
}

void Hmc::restore(const ChainSnapshot& s) {
  s.check_algorithm("hmc");
  check_snapshot_like(s, "x", x_.to(torch::kCPU));
  x_ = s.at("x").to(x_.device()).contiguous();
  set_step_size(s.at("step_size").item<double>());
  auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(x_.device());
  accepted_ = s.at("accepted").to(opts);
  exp_sum_ = s.at("exp_sum").to(opts);
  dh_sum_ = s.at("dh_sum").to(opts);
  trajectories_ = s.integer("trajectories");
  restore_default_generators(s, x_.device());
}

std::unique_ptr<Hmc> make_phi4_hmc(const Phi4Params& params, int64_t chains, HmcOptions opts,
                                   torch::Device device, torch::Dtype dtype, Phi4Start start) {
  auto target = std::make_shared<const Phi4Action>(params);
  auto x0 = phi4_initial_state(params, chains, start,
                               torch::TensorOptions().dtype(dtype).device(device));
  return std::make_unique<Hmc>(std::move(target), std::move(opts), std::move(x0));
}

}  // namespace physgen
