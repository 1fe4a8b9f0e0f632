#pragma once
// Conditional probability paths of flow matching between a base draw x0 ~ N(0, I)
// (t = 0) and a data point x1 (t = 1):
//
//   x_t = alpha(t) x1 + sigma(t) x0,      target velocity u_t = alpha'(t) x1 + sigma'(t) x0
//
// (u_t = d x_t / dt for fixed (x0, x1); equivalently u_t(x | x1) = sigma'/sigma (x - alpha x1)
// + alpha' x1, the conditional field of Lipman et al.).
//
// "linear" (rectified flow / conditional OT path), sigma_min >= 0:
//   alpha = t,  sigma = 1 - (1 - sigma_min) t,  u_t = x1 - (1 - sigma_min) x0
//   (sigma_min = 0: x_t = (1 - t) x0 + t x1, u_t = x1 - x0).
// "vp" (variance preserving, the diffusion path of Lipman et al. Sec. 4.1), with
//   s = 1 - t,  beta(s) = beta_min + s (beta_max - beta_min),
//   T(s) = int_0^s beta = beta_min s + (beta_max - beta_min) s^2 / 2:
//   alpha = exp(-T(s) / 2),  sigma = sqrt(1 - alpha^2),
//   alpha' = beta(s) alpha / 2,  sigma' = -alpha alpha' / sigma.
//   At t = 0, alpha = exp(-T(1)/2) (0.0066 for the defaults 0.1, 20): nearly the base;
//   at t = 1, x_t = x1 and sigma' diverges, so training draws t from [0, 1 - eps].
//
// Shapes: x0, x1 (n, ...); t (n) (one time per sample) or a scalar.
//
// References: Lipman, Chen, Ben-Hamu, Nickel & Le, "Flow matching for generative
// modeling", arXiv:2210.02747; Liu, Gong & Liu, "Flow straight and fast", arXiv:2209.03003;
// Song et al., arXiv:2011.13456 (VP SDE).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// alpha, sigma and their time derivatives at times t (tensors of t's shape).
struct PathCoefficients {
  torch::Tensor alpha, sigma, d_alpha, d_sigma;
};

class ProbabilityPath {
 public:
  virtual ~ProbabilityPath() = default;
  virtual std::string name() const = 0;
  /// Coefficients at times t (any shape, floating point).
  virtual PathCoefficients coefficients(const torch::Tensor& t) const = 0;
  /// Largest training time: 1 for paths regular at t = 1.
  virtual double t_max() const { return 1.0; }
  /// (x_t, u_t) for pairs (x0, x1) (n, ...) at times t ((n) or scalar).
  std::pair<torch::Tensor, torch::Tensor> point_and_velocity(const torch::Tensor& x0,
                                                             const torch::Tensor& x1,
                                                             const torch::Tensor& t) const;
};

/// Linear path; sigma_min in [0, 1).
class LinearPath : public ProbabilityPath {
 public:
  explicit LinearPath(double sigma_min = 0.0);
  std::string name() const override { return "linear"; }
  PathCoefficients coefficients(const torch::Tensor& t) const override;

 private:
  double sigma_min_;
};

/// Variance-preserving path; 0 <= beta_min <= beta_max, beta_max > 0; eps in (0, 1).
class VPPath : public ProbabilityPath {
 public:
  VPPath(double beta_min = 0.1, double beta_max = 20.0, double eps = 1e-3);
  std::string name() const override { return "vp"; }
  PathCoefficients coefficients(const torch::Tensor& t) const override;
  double t_max() const override { return 1.0 - eps_; }

 private:
  double beta_min_, beta_max_, eps_;
};

/// Names of the paths: "linear", "vp".
std::vector<std::string> path_names();

/// The path called `name` (InvalidArgument listing path_names() otherwise).
std::shared_ptr<ProbabilityPath> make_path(const std::string& name, double sigma_min = 0.0,
                                           double beta_min = 0.1, double beta_max = 20.0,
                                           double eps = 1e-3);

}  // namespace physgen
