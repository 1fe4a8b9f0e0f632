#pragma once
// Toy 2D densities: quick, visual test beds for every generative family.
//
//  name          density (x in R^2)                                          log_prob
//  "8gaussians"  (1/8) sum_j N(x; c_j, s^2 I), c_j = 2 (cos 2 pi j/8,         exact
//                sin 2 pi j/8), s = 0.1
//  "checkerboard" uniform on the 8 "black" unit squares [i-2, i-1) x [j-2, j-1),
//                i, j = 0..3, i + j even, of a 4x4 board on [-2, 2)^2          exact: -log 8 inside,
//                                                                            -inf outside
//  "rings"       4 concentric rings, radii r_j = 0.5, 1, 1.5, 2, weights      exact (see below)
//                w_j = r_j / 5 (equal density per arc length); angle uniform,
//                radius rho = |r_j + s z|, z ~ N(0, 1), s = 0.08 (folded normal), so
//                p(x) = sum_j w_j [phi((rho - r_j)/s) + phi((rho + r_j)/s)] / (s 2 pi rho),
//                rho = |x| (an integrable 1/rho singularity of weight ~1e-9 at 0)
//  "two-moons"   noisy moons: with prob. 1/2 each, a point uniform in angle   approximate (quadrature)
//                on the arc of radius 2 around (-1, -0.5), angle in [0, pi],
//                or on the arc of radius 2 around (1, 0.5), angle in [pi, 2 pi];
//                plus N(0, 0.2^2 I) noise (scikit-learn's make_moons with noise
//                0.1, centred and scaled by 2). log_prob integrates the noise
//                kernel over each arc with a composite Gauss-Legendre rule (16 panels
//                of 8 nodes; relative error of p below 1e-8, checked in the tests).
//
// Sampling runs on the CPU and draws from LibTorch's default CPU generator (seeded
// by physgen::seed_all) unless a generator is passed.
// References: W. Grathwohl et al., "FFJORD", arXiv:1810.01367 (8gaussians,
// checkerboard, rings, moons test densities).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace physgen {

/// A 2D probability density with a sampler and a log-density.
class ToyDensity {
 public:
  virtual ~ToyDensity() = default;

  /// Registry name, e.g. "8gaussians".
  virtual std::string name() const = 0;

  /// True if log_prob is the exact normalised log-density (false: a numerical approximation).
  virtual bool has_exact_log_prob() const = 0;

  /// n >= 0 independent draws, (n, 2), dtype float32 (default) or float64, on the CPU.
  torch::Tensor sample(int64_t n, torch::Dtype dtype = torch::kFloat32,
                       c10::optional<at::Generator> generator = c10::nullopt) const;

  /// log p(x): x (n, 2), floating, any device -> (n) in x's dtype and device
  /// (computed in float64; -inf where p = 0). Differentiable with autograd, so
  /// the exact score grad_x log p is available for the exact densities.
  torch::Tensor log_prob(const torch::Tensor& x) const;

 protected:
  /// Kernel: n draws as float64 CPU (n, 2).
  virtual torch::Tensor sample_impl(int64_t n, c10::optional<at::Generator> generator) const = 0;
  /// Kernel: log p of float64 (n, 2) on any device -> (n), differentiable.
  virtual torch::Tensor log_prob_impl(const torch::Tensor& x) const = 0;
};

using ToyDensityPtr = std::shared_ptr<const ToyDensity>;

/// The toy density `name`; throws InvalidArgument listing the valid names.
ToyDensityPtr make_toy_density(const std::string& name);

/// Valid names for make_toy_density, sorted.
std::vector<std::string> toy_density_names();

}  // namespace physgen
