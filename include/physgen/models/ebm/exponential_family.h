#pragma once
// Exponential-family energies U(x) = <theta, Phi(x)> and the fit of their couplings to an
// ensemble: which physical parameters generated these configurations?
//
// phi^4 (lattice/phi4.h conventions), kinetic coefficient fixed to 1, theta = (m2, lambda):
//   Phi(phi) = ( K = sum_x sum_mu (phi_{x+mu} - phi_x)^2,  sum_x phi_x^2,  sum_x phi_x^4 ),
//   S = K + m2 sum phi^2 + lambda sum phi^4.
// Ising (lattice/ising.h), J = 1, theta = (beta) [and beta h with fit_field]:
//   Phi(s) = ( sum_<ij> s_i s_j,  sum_i s_i ),   S = -beta Phi_1 - beta h Phi_2.
//
// Fit: maximum pseudo-likelihood (Besag). The log pseudo-likelihood is the sum over all
// sites of every configuration of the log conditional density of the site given its four
// neighbours (h_x = sum_{y nn x} phi_y):
//   phi^4:  log p(phi_x | h_x) = -(a phi_x^2 - 2 h_x phi_x + lambda phi_x^4) - log Z(a, lambda, h_x),
//           a = 4 + m2,  Z = integral exp(-(a t^2 - 2 h t + lambda t^4)) dt  by the trapezoidal rule
//           on `quadrature_points` nodes over [-R, R], R = 2 max|phi| + 1 (spectrally accurate for
//           this smooth, rapidly decaying integrand);
//   Ising:  log p(s_x | h_x) = beta s_x h_x + B s_x - log 2 cosh(beta h_x + B),  B = beta h.
// Both are concave in theta (the Hessian is minus a conditional covariance of Phi), so Newton's
// method with backtracking converges to the unique maximum. The estimator is consistent: for
// an ensemble drawn from the model at theta_0 it converges to theta_0 as the ensemble grows.
//
// Errors: delete-one-block jackknife over n_blocks consecutive blocks of configurations
// (blocks longer than the autocorrelation time make it valid for Markov chains; chain-major
// ensembles from record_chain split cleanly when n_blocks is a multiple of the chain count).
// Each leave-one-block-out estimate takes one Newton step from the full-data optimum,
//   theta_(j) = theta_hat - H_(-j)^{-1} g_(-j)(theta_hat),   g_(-j) = -g_j,
// which agrees with a full refit to O(1/N^2) (jackknife_refit = true does the full refit).
//
// References: J. Besag, "Statistical analysis of non-lattice data", The Statistician 24, 179
// (1975) (pseudo-likelihood); H. C. Nguyen, R. Zecchina, J. Berg, "Inverse statistical
// problems: from the inverse Ising problem to data science", arXiv:1702.01522.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

namespace physgen {

/// phi^4 statistics (B, L, L) -> (B, 3) float64: (K, sum phi^2, sum phi^4) per configuration.
torch::Tensor phi4_statistics(const torch::Tensor& phi);

/// Ising statistics (B, L, L) +-1 (any dtype) -> (B, 2) float64: (sum_<ij> s_i s_j, sum_i s_i).
torch::Tensor ising_statistics(const torch::Tensor& s);

/// Options of fit_couplings. Defaults in brackets.
struct CouplingFitOptions {
  /// Jackknife blocks (>= 2; at most the number of configurations) [20].
  TORCH_ARG(int64_t, n_blocks) = 20;
  /// Newton iterations (>= 1) and convergence tolerance on |step| [50, 1e-10].
  TORCH_ARG(int64_t, max_iterations) = 50;
  TORCH_ARG(double, tolerance) = 1e-10;
  /// phi^4: trapezoidal nodes of the conditional normaliser (>= 16) [256].
  TORCH_ARG(int64_t, quadrature_points) = 256;
  /// phi^4: starting point (m2, lambda) [(-1, 1)].
  TORCH_ARG(double, init_m2) = -1.0;
  TORCH_ARG(double, init_lambda) = 1.0;
  /// Ising: also fit B = beta h (otherwise h = 0 is known) [false].
  TORCH_ARG(bool, fit_field) = false;
  /// Full Newton refit per jackknife block instead of one step [false].
  TORCH_ARG(bool, jackknife_refit) = false;

 public:
  void validate() const;
};

/// One fitted coupling with its jackknife error.
struct FittedCoupling {
  std::string name;   ///< "m2", "lambda", "beta", "beta_h"
  double value = 0;   ///< full-data pseudo-likelihood estimate
  double error = 0;   ///< delete-one-block jackknife error
};

/// What fit_couplings returns. Non-convergence is a status (converged = false), not a throw.
struct CouplingFit {
  std::string system;                    ///< "phi4" | "ising"
  std::string method = "pseudo-likelihood";
  std::vector<FittedCoupling> couplings;
  bool converged = false;
  int64_t iterations = 0;
  double log_pseudo_likelihood = 0;      ///< per site, at the estimate
  int64_t n_configurations = 0;
  int64_t n_blocks = 0;
  std::string message;                   ///< why it did not converge (empty otherwise)

  /// The coupling named `name`; throws InvalidArgument listing the names.
  const FittedCoupling& get(const std::string& name) const;
  /// {"system", "method", "couplings": {name: {"value", "error"}}, "converged", "iterations",
  ///  "log_pseudo_likelihood", "n_configurations", "n_blocks", "message"}.
  nlohmann::json to_json() const;
};

/// Fits the couplings of `system` ("phi4" | "ising") to an ensemble (N, L, L) (N >= n_blocks;
/// phi^4: floating; Ising: +-1 values in any dtype). Known parameters: the phi^4 kinetic
/// coefficient is 1; Ising J = 1 and, unless fit_field, h = 0.
CouplingFit fit_couplings(const torch::Tensor& ensemble, const std::string& system,
                          const CouplingFitOptions& options = {});

/// Mean log pseudo-likelihood per site of a phi^4 ensemble at (m2, lambda) with the quadrature
/// of fit_couplings (a check and a diagnostic).
double phi4_log_pseudo_likelihood(const torch::Tensor& phi, double m2, double lambda,
                                  int64_t quadrature_points = 256);

/// Same for Ising at (beta, beta_h).
double ising_log_pseudo_likelihood(const torch::Tensor& s, double beta, double beta_h = 0.0);

}  // namespace physgen
