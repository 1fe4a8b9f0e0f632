#pragma once
// Helpers of the diffusion / Poisson-flow tests: a Gaussian data distribution with the exact
// score of its noised marginals, and z-scores of sample moments against exact ones.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "physgen/models/diffusion/ddpm_sampling.h"
#include "physgen/models/diffusion/schedule.h"

namespace physgen_test {

/// N(mu, cov) in d dimensions (float64).
struct Gaussian {
  torch::Tensor mu, cov, chol;
  Gaussian(torch::Tensor mu_, torch::Tensor cov_)
      : mu(mu_.to(torch::kFloat64)),
        cov(cov_.to(torch::kFloat64)),
        chol(torch::linalg_cholesky(cov)) {}
  int64_t dim() const { return mu.size(0); }

  torch::Tensor sample(int64_t n) const {
    return mu + torch::randn({n, dim()}, torch::kFloat64).matmul(chol.t());
  }
  /// Covariance of a x + s z: a^2 cov + s^2 I.
  torch::Tensor marginal_cov(double a, double s) const {
    return a * a * cov + s * s * torch::eye(dim(), torch::kFloat64);
  }
  /// Exact score of N(a mu, a^2 cov + s^2 I) at x (n, d), in x's dtype; differentiable in x.
  torch::Tensor score(const torch::Tensor& x, double a, double s) const {
    auto prec = torch::linalg_inv(marginal_cov(a, s)).to(x.scalar_type());
    return -(x - a * mu.to(x.scalar_type())).matmul(prec);
  }
  /// log N(x; a mu, a^2 cov + s^2 I), (n) float64.
  torch::Tensor log_prob(const torch::Tensor& x, double a = 1.0, double s = 0.0) const {
    auto C = marginal_cov(a, s);
    auto diff = x.to(torch::kFloat64) - a * mu;
    auto sol = torch::linalg_solve(C, diff.t()).t();
    const double logdet = torch::logdet(C).item<double>();
    const double d = static_cast<double>(dim());
    return -0.5 * (diff * sol).sum(1) - 0.5 * logdet - 0.5 * d * std::log(2.0 * M_PI);
  }
};

/// Largest |z| over the mean entries and the upper-triangle covariance entries of `x` (n, d)
/// against (mu, cov), with the Gaussian standard errors sqrt(cov_ii / n) and
/// sqrt((cov_ii cov_jj + cov_ij^2) / n). Prints the z-scores under `label`.
/// `n_eff` > 0 replaces the sample count in the standard errors.
inline double moment_max_z(const torch::Tensor& samples, const torch::Tensor& mu,
                           const torch::Tensor& cov, const std::string& label, double n_eff = 0.0) {
  auto x = samples.to(torch::kFloat64).reshape({samples.size(0), -1});
  const double n_samples = static_cast<double>(x.size(0));
  const double n = n_eff > 0 ? n_eff : n_samples;
  const int64_t d = x.size(1);
  auto m = x.mean(0);
  auto xc = x - m;
  auto c = xc.t().matmul(xc) / (n_samples - 1.0);
  double worst = 0.0;
  std::string line = label + ": z(mean)";
  for (int64_t i = 0; i < d; ++i) {
    const double z =
        (m[i].item<double>() - mu[i].item<double>()) / std::sqrt(cov[i][i].item<double>() / n);
    worst = std::max(worst, std::abs(z));
    line += " " + std::to_string(z).substr(0, 6);
  }
  line += " z(cov)";
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = i; j < d; ++j) {
      const double cij = cov[i][j].item<double>();
      const double se =
          std::sqrt((cov[i][i].item<double>() * cov[j][j].item<double>() + cij * cij) / n);
      const double z = (c[i][j].item<double>() - cij) / se;
      worst = std::max(worst, std::abs(z));
      line += " " + std::to_string(z).substr(0, 6);
    }
  }
  std::printf("%s\n", line.c_str());
  return worst;
}

/// Mean (d) and covariance (d, d) of the rows of x (n, d), float64.
inline std::pair<torch::Tensor, torch::Tensor> sample_moments(const torch::Tensor& x) {
  auto xf = x.to(torch::kFloat64).reshape({x.size(0), -1});
  auto m = xf.mean(0);
  auto xc = xf - m;
  return {m, xc.t().matmul(xc) / static_cast<double>(xf.size(0) - 1)};
}

/// Test data used throughout: mu = (0.5, -0.3), cov = [[1, 0.4], [0.4, 0.5]].
inline Gaussian test_gaussian() {
  return Gaussian(torch::tensor({0.5, -0.3}, torch::kFloat64),
                  torch::tensor({{1.0, 0.4}, {0.4, 0.5}}, torch::kFloat64));
}

/// Largest |z| of a moment test the diffusion tests accept (a 4-sigma bound).
constexpr double kMaxZ = 4.0;

/// The exact noise predictor of the Gaussian g under schedule s:
/// eps(x, i) = -sqrt(1 - abar_i) score_i(x), the score of g convolved to step i.
inline physgen::EpsilonFunction exact_epsilon(const Gaussian& g, const physgen::NoiseSchedule& s) {
  return [&g, &s](const torch::Tensor& x, int64_t i) {
    const double ab = s.alpha_bar(i);
    return -std::sqrt(1.0 - ab) * g.score(x, std::sqrt(ab), std::sqrt(1.0 - ab));
  };
}

}  // namespace physgen_test
