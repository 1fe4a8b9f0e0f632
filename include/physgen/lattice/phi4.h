#pragma once
// Two-dimensional lattice phi^4 theory: parameters, action, force, free-field propagator.
//
// Lattice L x L, periodic boundaries, real field phi_x (DESIGN.md, "Physics conventions"):
//
//   S(phi) = sum_x [ sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi_x^2 + lambda phi_x^4 ]     (no 1/2 factors)
//
// The hopping form  S = sum_x [ -2 kappa sum_mu phi_x phi_{x+mu} + (1 - 2 lt) phi_x^2 + lt phi_x^4 ]
// is the same theory with phi = sqrt(kappa) phi_hop,  m2 = (1 - 2 lt)/kappa - 4,  lambda = lt/kappa^2.
//
// Shapes: a batch of configurations is (B, L, L), axis 1 = first lattice direction, axis 2 = second.
//
// References: I. Montvay and G. Muenster, "Quantum Fields on a Lattice" (CUP 1994), ch. 2;
// M. S. Albergo, G. Kanwar, P. E. Shanahan, Phys. Rev. D 100, 034515 (2019), arXiv:1904.12072;
// M. S. Albergo et al., "Introduction to normalizing flows for lattice field theory", arXiv:2101.08176.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/lattice/target.h"

namespace physgen {

/// Parameters of the 2D phi^4 action S = sum_x [ sum_mu (phi_{x+mu}-phi_x)^2 + m2 phi^2 + lambda phi^4 ].
/// An aggregate: Phi4Params{L, m2, lambda}; the defaults (8, -4, 8) are the example of the
/// normalizing-flow tutorial of Albergo et al., arXiv:2101.08176 (kappa = 0.25, lambda_hop = 0.5).
/// validate() checks L >= 2, m2 finite, lambda >= 0 finite
/// (lambda = 0 with m2 <= 0 is allowed here; the free-field helpers require m2 > 0 themselves).
struct Phi4Params {
  int64_t L = 8;
  double m2 = -4.0;
  double lambda = 8.0;

  /// From the hopping form: m2 = (1 - 2 lambda_hop)/kappa - 4, lambda = lambda_hop/kappa^2.
  /// Throws InvalidArgument unless kappa > 0 (finite) and lambda_hop >= 0 (finite), L >= 2.
  static Phi4Params from_hopping(int64_t L, double kappa, double lambda_hop);

  /// The hopping parameter of the same theory: the positive root of
  /// 2 lambda kappa^2 + (m2 + 4) kappa - 1 = 0, i.e. kappa = 2 / ((m2+4) + sqrt((m2+4)^2 + 8 lambda)).
  /// NaN when no positive kappa exists (lambda = 0 and m2 <= -4).
  double kappa() const;

  /// lambda_hop = lambda kappa^2 (NaN where kappa() is NaN).
  double lambda_hop() const;

  /// Throws InvalidArgument naming the offending field (L >= 2; m2 finite; lambda >= 0 and finite).
  void validate() const;

  /// {"L", "m2", "lambda", "kappa", "lambda_hop"} (kappa / lambda_hop null where they do not exist).
  nlohmann::json to_json() const;
};

/// The phi^4 action as a Target: action(x) (B,L,L) -> (B), force(x) = dS/dphi (B,L,L),
///
///   dS/dphi_x = (8 + 2 m2) phi_x - 2 sum_{y nn x} phi_y + 4 lambda phi_x^3.
///
/// Any device and floating dtype through tensor ops (torch::roll). On CPU with float64 (and
/// x.requires_grad() false) action() and force() use fused plain-C++ loops over chains x sites
/// (at::parallel_for over chains) unless constructed with fused_cpu = false; both paths agree to
/// rounding (~1e-15 relative). With requires_grad the tensor path runs, so autograd (reverse-KL
/// training) differentiates through action() and force().
class Phi4Action : public Target {
 public:
  /// Validates params. fused_cpu = false forces the tensor path everywhere (the reference).
  explicit Phi4Action(Phi4Params params, bool fused_cpu = true);

  torch::Tensor action(const torch::Tensor& x) const override;
  torch::Tensor force(const torch::Tensor& x) const override;
  std::vector<int64_t> event_shape() const override { return {params_.L, params_.L}; }
  std::string name() const override { return "phi4"; }
  /// Phi4Params::to_json(): {"L", "m2", "lambda", "kappa", "lambda_hop"}.
  nlohmann::json params() const override { return params_.to_json(); }

  const Phi4Params& phi4_params() const { return params_; }
  bool fused_cpu() const { return fused_cpu_; }

  /// True when x takes the fused CPU path: fused_cpu() and x is a CPU float64 tensor without grad.
  bool uses_fused_path(const torch::Tensor& x) const;

  /// Runs a kick-drift splitting trajectory in place with the fused CPU kernel, chain by chain in
  /// cache (the HMC hot loop):
  ///   p -= kicks[0] F(x); x += drifts[0] p; p -= kicks[1] F(x); ...; x += drifts[n-1] p; p -= kicks[n] F(x)
  /// with F = force, kicks.size() == drifts.size() + 1 (leapfrog and Omelyan 2MN are such sequences,
  /// see mcmc/hmc.h). x, p: (C,L,L); on success both are replaced by new contiguous tensors (the
  /// inputs are not modified). Returns false and does nothing when !uses_fused_path(x) or p is not
  /// CPU float64. Unchecked beyond that: callers (physgen::integrate) validate.
  bool integrate_fused(torch::Tensor& x, torch::Tensor& p, const std::vector<double>& kicks,
                       const std::vector<double>& drifts) const;

 private:
  void check_input(const torch::Tensor& x) const;
  Phi4Params params_;
  bool fused_cpu_;
};

/// Reference tensor implementations (any device/dtype; what Phi4Action uses off the fused path).
torch::Tensor phi4_action_tensor(const Phi4Params& params, const torch::Tensor& x);
torch::Tensor phi4_force_tensor(const Phi4Params& params, const torch::Tensor& x);

/// How a phi^4 chain starts: Cold = phi = 0 everywhere; Random = independent N(0, 1) per site.
/// Cold is the default everywhere: at large lambda a random start puts sites at |phi| ~ 3,
/// where the quartic force makes an HMC step of 0.1 unstable (eps sqrt(12 lambda phi^2) > 2),
/// so such chains reject every trajectory and never thermalise (seen at m2 = -4, lambda = 8).
enum class Phi4Start { Cold, Random };

/// Initial configurations (chains, L, L) with the given options (Random draws from LibTorch's
/// default generator, so physgen::seed_all makes it reproducible).
torch::Tensor phi4_initial_state(const Phi4Params& params, int64_t chains, Phi4Start start,
                                 torch::TensorOptions options = torch::kFloat64);

/// Exact free-field two-point function G(x) = <phi_0 phi_x> (lambda = 0, m2 > 0), (L, L) float64:
///
///   G(x) = 1/(2V) sum_k e^{i k.x} / (m2 + sum_mu 4 sin^2(k_mu/2)),   k_mu = 2 pi n_mu / L,  V = L^2.
///
/// Throws InvalidArgument unless L >= 2 and m2 > 0 (finite).
torch::Tensor free_field_propagator(int64_t L, double m2);

/// Exact free-field zero-momentum correlator C(t) = sum_{x2} G(t, x2)
///   = 1/(2L) sum_k cos(k t) / (m2 + 4 sin^2(k/2)),  t = 0..L-1, (L) float64.
/// It decays as cosh(E (t - L/2)) with E = free_field_mass(m2).
torch::Tensor free_field_zero_momentum_correlator(int64_t L, double m2);

/// Free-field lattice mass (inverse correlation length) E = arccosh(1 + m2/2) = 2 asinh(sqrt(m2)/2).
double free_field_mass(double m2);

}  // namespace physgen
