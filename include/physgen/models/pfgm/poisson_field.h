#pragma once
// Electrostatics of Poisson flow generative models: data points y_i in R^N as charges in an
// augmented space R^(N+D), their empirical field, its perturbation kernel and prior, and the
// ODE samplers that follow the field lines back to the data.
//
// PFGM++ (D extra dimensions; only their norm r matters). The field of the charges at (x, r)
// moves x along
//   dx/dr = (x - E_w[y]) / r,   w_i ∝ (|x - y_i|^2 + r^2)^(-(N + D) / 2),
// and with r = sigma sqrt(D) this is dx/dsigma = (x - E_w[y]) / sigma, the probability-flow
// ODE of diffusion with the posterior mean ("denoiser") E_w[y] under the perturbation kernel
//   p_r(x | y) ∝ (|x - y|^2 + r^2)^(-(N + D) / 2),   |x - y| = r sqrt(B / (1 - B)),
//   B ~ Beta(N / 2, D / 2), direction uniform.
// As D -> infinity (sigma fixed) the kernel tends to N(y, sigma^2 I) and the weights to
// exp(-|x - y|^2 / (2 sigma^2)): the diffusion (VE / EDM) limit. Here D = 0 stands for that
// limit.
//
// PFGM (Xu et al. 2022) is the case D = 1 with the extra coordinate z = r >= 0 kept explicit:
// the (N+1)-dimensional field of the charges at (y_i, 0), normalised by the total weight, is
//   E(x, z) = sum_i w_i ((x, z) - (y_i, 0)),   w_i ∝ |(x, z) - (y_i, 0)|^(-(N + 1)), sum w = 1,
// (it points away from the data); field lines are followed by dx/dz = E_x / E_z from a large z.
// The prior on the plane z = z_max is the flux of a point charge, the D = 1 kernel at r = z_max.
//
// Shapes: charges (M, N); points x (n, N) (any event shape flattened); results as documented.
//
// References: Xu, Liu, Tegmark & Jaakkola, "Poisson flow generative models", arXiv:2209.11178;
// Xu et al., "PFGM++: unlocking the potential of physics-inspired generative models",
// arXiv:2302.04265 (Eq. 4 kernel, Sec. 4 alignment r = sigma sqrt(D), Prop. 4.1 D -> inf).
#include <cstdint>
#include <functional>

#include <torch/types.h>

#include "physgen/ode/odeint.h"

namespace physgen {

/// Denoiser D(x, sigma) ~ E[y | x, sigma]: x (n, *event_shape), sigma shared -> x's shape.
using DenoiserFunction = std::function<torch::Tensor(const torch::Tensor& x, double sigma)>;
/// PFGM field f(x, z): x (n, *event_shape), z shared -> (n, N + 1); any nonzero scale and either
/// sign (away from or towards the data): only the ratio f_x / f_z enters the sampler.
using PoissonFieldFunction = std::function<torch::Tensor(const torch::Tensor& x, double z)>;

/// Posterior mean E_w[y] of the charges (M, N) at points x (n, N) for noise level sigma > 0
/// and D extra dimensions (D = 0: the Gaussian limit). Computed in float64 with log-sum-exp
/// weights; returns (n, N) in x's dtype.
torch::Tensor pfgmpp_posterior_mean(const torch::Tensor& charges, const torch::Tensor& x,
                                    double sigma, int64_t D);

/// Normalised empirical PFGM field E(x, z) (n, N + 1) of the charges (M, N) at points x (n, N),
/// heights z (n) > 0 (see the header comment; float64 inside, x's dtype out).
torch::Tensor empirical_poisson_field(const torch::Tensor& charges, const torch::Tensor& x,
                                      const torch::Tensor& z);

/// Draws x = y + perturbation from the PFGM++ kernel of noise level sigma (n) (one per row of
/// y (n, ...)), D extra dimensions (0: Gaussian). Uses the default generator.
torch::Tensor pfgmpp_perturb(const torch::Tensor& y, const torch::Tensor& sigma, int64_t D);

/// Radii |x - y| / sigma of the kernel: (n) draws for event size N (D = 0: chi with N dof).
torch::Tensor pfgmpp_kernel_radius(int64_t n, int64_t N, int64_t D,
                                   torch::TensorOptions options = torch::kFloat64);

/// The PFGM++ probability-flow ODE dx/d ln sigma = x - D(x, sigma) from x_max at sigma_max down
/// to sigma_min, by odeint in ln sigma; `denoise_final` returns D(x, sigma_min) at the end.
/// A failed solve returns NaN (stats->status says why).
torch::Tensor pfgmpp_sample(const DenoiserFunction& denoiser, const torch::Tensor& x_max,
                            double sigma_max, double sigma_min, const OdeOptions& solver,
                            bool denoise_final = true, OdeStats* stats = nullptr);

/// The PFGM ODE dx/d ln z = z E_x / E_z from x_max at z_max down to z_min (|E_z| is kept at
/// least 1e-6 |E|, with its sign, so a learned field with E_z ~ 0 cannot blow up the step).
/// `extrapolate_to_zero` ends with the straight step to the plane, x <- x - z_min E_x / E_z
/// (for the exact field this is the posterior mean E_w[y]: PFGM's analogue of the final
/// denoising step; it matters for the prior's heavy tail, whose field lines leave the data at
/// grazing angles and reach z_min still far from it). A failed solve returns NaN.
torch::Tensor pfgm_sample(const PoissonFieldFunction& field, const torch::Tensor& x_max,
                          double z_max, double z_min, const OdeOptions& solver,
                          bool extrapolate_to_zero = true, OdeStats* stats = nullptr);

}  // namespace physgen
