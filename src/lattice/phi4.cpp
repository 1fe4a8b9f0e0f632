// 2D phi^4: parameters, the tensor (reference) action and force, free-field exact results.
// The fused CPU float64 kernels live in phi4_cpu.cpp.
#include "physgen/lattice/phi4.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/lattice/neighbours.h"
#include "phi4_cpu.h"

namespace physgen {

namespace {

std::string shape_string(const torch::Tensor& x) {
  std::ostringstream os;
  os << x.sizes() << " " << x.dtype();
  return os.str();
}

void check_free_field(int64_t L, double m2) {
  check_arg(L >= 2, "L", L, "an integer >= 2");
  check_arg(std::isfinite(m2) && m2 > 0.0, "m2", m2,
            "a finite m2 > 0 (the free field is normalizable only for m2 > 0)");
}

}  // namespace

// ---------------------------------------------------------------- Phi4Params

Phi4Params Phi4Params::from_hopping(int64_t L, double kappa, double lambda_hop) {
  check_arg(L >= 2, "L", L, "an integer >= 2");
  check_arg(std::isfinite(kappa) && kappa > 0.0, "kappa", kappa, "a finite kappa > 0");
  check_arg(std::isfinite(lambda_hop) && lambda_hop >= 0.0, "lambda_hop", lambda_hop,
            "a finite lambda_hop >= 0");
  Phi4Params p;
  p.L = L;
  p.m2 = (1.0 - 2.0 * lambda_hop) / kappa - 4.0;
  p.lambda = lambda_hop / (kappa * kappa);
  return p;
}

double Phi4Params::kappa() const {
  const double a = m2 + 4.0;
  const double denom = a + std::sqrt(a * a + 8.0 * lambda);
  if (!(denom > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return 2.0 / denom;
}

double Phi4Params::lambda_hop() const {
  const double k = kappa();
  return lambda * k * k;
}

void Phi4Params::validate() const {
  check_arg(L >= 2, "L", L, "an integer >= 2");
  check_arg(std::isfinite(m2), "m2", m2, "a finite number");
  check_arg(std::isfinite(lambda) && lambda >= 0.0, "lambda", lambda, "a finite lambda >= 0");
}

nlohmann::json Phi4Params::to_json() const {
  nlohmann::json j;
  j["L"] = L;
  j["m2"] = m2;
  j["lambda"] = lambda;
  const double k = kappa();
  if (std::isfinite(k)) {
    j["kappa"] = k;
    j["lambda_hop"] = lambda_hop();
  } else {
    j["kappa"] = nullptr;
    j["lambda_hop"] = nullptr;
  }
  return j;
}

// ---------------------------------------------------------------- tensor path

torch::Tensor phi4_action_tensor(const Phi4Params& params, const torch::Tensor& x) {
  auto d1 = torch::roll(x, {-1}, {1}) - x;
  auto d2 = torch::roll(x, {-1}, {2}) - x;
  auto x2 = x * x;
  auto density = d1 * d1 + d2 * d2 + params.m2 * x2 + params.lambda * (x2 * x2);
  return density.sum({1, 2});
}

torch::Tensor phi4_force_tensor(const Phi4Params& params, const torch::Tensor& x) {
  return (8.0 + 2.0 * params.m2) * x - 2.0 * neighbour_sum(x) + (4.0 * params.lambda) * (x * x * x);
}

// ---------------------------------------------------------------- Phi4Action

Phi4Action::Phi4Action(Phi4Params params, bool fused_cpu)
    : params_(params), fused_cpu_(fused_cpu) {
  params_.validate();
}

void Phi4Action::check_input(const torch::Tensor& x) const {
  const bool ok = x.defined() && x.dim() == 3 && x.size(1) == params_.L &&
                  x.size(2) == params_.L && x.is_floating_point();
  check_arg(ok, "x", x.defined() ? shape_string(x) : std::string("undefined"),
            "a floating tensor of shape (B, " + std::to_string(params_.L) + ", " +
                std::to_string(params_.L) + ")");
}

bool Phi4Action::uses_fused_path(const torch::Tensor& x) const {
  return fused_cpu_ && x.device().is_cpu() && x.scalar_type() == torch::kFloat64 &&
         !x.requires_grad();
}

torch::Tensor Phi4Action::action(const torch::Tensor& x) const {
  check_input(x);
  return uses_fused_path(x) ? phi4_action_cpu(params_, x) : phi4_action_tensor(params_, x);
}

torch::Tensor Phi4Action::force(const torch::Tensor& x) const {
  check_input(x);
  return uses_fused_path(x) ? phi4_force_cpu(params_, x) : phi4_force_tensor(params_, x);
}

// ---------------------------------------------------------------- starts

torch::Tensor phi4_initial_state(const Phi4Params& params, int64_t chains, Phi4Start start,
                                 torch::TensorOptions options) {
  params.validate();
  check_arg(chains >= 1, "chains", chains, "an integer >= 1");
  check_arg(c10::isFloatingType(c10::typeMetaToScalarType(options.dtype())), "dtype",
            std::string(options.dtype().name()), "a floating dtype");
  if (start == Phi4Start::Cold) return torch::zeros({chains, params.L, params.L}, options);
  return torch::randn({chains, params.L, params.L}, options);
}

// ---------------------------------------------------------------- free field

torch::Tensor free_field_propagator(int64_t L, double m2) {
  check_free_field(L, m2);
  // G = inverse DFT of 1/(2 D(k)); D is even in k, so the transform is real.
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto k = torch::arange(L, opts) * (2.0 * M_PI / static_cast<double>(L));
  auto s = 4.0 * torch::sin(0.5 * k).square();  // 4 sin^2(k/2), (L)
  auto denom = m2 + s.view({L, 1}) + s.view({1, L});
  auto g = torch::fft::ifft2(0.5 / denom);
  return torch::real(g).contiguous();
}

torch::Tensor free_field_zero_momentum_correlator(int64_t L, double m2) {
  check_free_field(L, m2);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto k = torch::arange(L, opts) * (2.0 * M_PI / static_cast<double>(L));
  auto inv = 1.0 / (m2 + 4.0 * torch::sin(0.5 * k).square());  // (L) over k
  auto t = torch::arange(L, opts);
  auto phase = torch::cos(t.view({L, 1}) * k.view({1, L}));   // (t, k)
  return (phase * inv.view({1, L})).sum(1) / (2.0 * static_cast<double>(L));
}

double free_field_mass(double m2) {
  check_arg(std::isfinite(m2) && m2 > 0.0, "m2", m2, "a finite m2 > 0");
  return 2.0 * std::asinh(0.5 * std::sqrt(m2));
}

}  // namespace physgen
