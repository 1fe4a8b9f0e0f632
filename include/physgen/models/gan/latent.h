#pragma once
// Latent-space tools for models with a latent code (GAN generators, VAE decoders):
// interpolation between latents and latent vector arithmetic.
//
//   linear:     z(t) = (1 - t) z0 + t z1
//   spherical:  z(t) = sin((1 - t) w)/sin(w) z0 + sin(t w)/sin(w) z1,
//               cos w = z0.z1 / (|z0| |z1|)   (falls back to linear when w ~ 0 or ~ pi)
// Spherical interpolation keeps |z| near the typical radius sqrt(k) of a Gaussian latent,
// where linear midpoints (|z| ~ sqrt(k/2)) fall into a region the generator rarely saw.
//
//   arithmetic: z = mean(A) - mean(B) + mean(C)   (e.g. "ordered - disordered + hot")
//   direction:  d = mean(A) - mean(B)            (an attribute vector)
//
//   inversion:  z* = argmin_z  |G(z) - x|^2 / 2 + prior_weight |z|^2 / 2   (per row, by Adam)
// A GAN has no encoder; inversion places a field in its latent space (the MAP latent under a
// unit-noise observation model and the N(0, I) prior), so latent arithmetic on ensembles
// works for GANs as for VAEs (models/capabilities.h, LatentModel::encode).
//
// Shapes: single latents are (k); sets of latents (m, k). Pass the generated points to
// GanImpl::generate or a VAE decoder to obtain samples.
//
// References: T. White, "Sampling generative networks", arXiv:1609.04468 (slerp);
// A. Radford et al., arXiv:1511.06434 (vector arithmetic in latent space); A. Creswell,
// A. A. Bharath, "Inverting the generator of a GAN", arXiv:1802.05701.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

namespace physgen {

/// Interpolation between two latents at fractions t: z0, z1 (k) or (n, k) (row-wise), t (m)
/// in [0, 1] -> (m, k) for single latents, (m, n, k) for rows. method "linear" | "spherical".
torch::Tensor interpolate_latents(const torch::Tensor& z0, const torch::Tensor& z1, const torch::Tensor& t,
                                  const std::string& method = "spherical");

/// The same at n_points >= 2 equally spaced t from 0 to 1 (both ends included).
torch::Tensor interpolate_latents(const torch::Tensor& z0, const torch::Tensor& z1, int64_t n_points,
                                  const std::string& method = "spherical");

/// {"linear", "spherical"}.
std::vector<std::string> latent_interpolation_methods();

/// mean(a) - mean(b) + mean(c) over the rows of (m_i, k) sets (or single (k) latents) -> (k).
torch::Tensor latent_arithmetic(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c);

/// mean(a) - mean(b) -> (k): the direction from set b to set a.
torch::Tensor latent_direction(const torch::Tensor& a, const torch::Tensor& b);

/// Options of invert_generator. Defaults in brackets.
struct InversionOptions {
  /// Adam steps [300].
  TORCH_ARG(int64_t, steps) = 300;
  /// Adam learning rate [0.05].
  TORCH_ARG(double, lr) = 0.05;
  /// Weight of the Gaussian prior term |z|^2 / 2 (0: least squares only) [1].
  TORCH_ARG(double, prior_weight) = 1.0;
};

/// z* = argmin_z sum_rows [|generate(z) - x|^2 / 2 + prior_weight |z|^2 / 2] by Adam from z0
/// (n, k); x (n, *event_shape). Differentiates only with respect to z (the generator's
/// parameters get no gradients), with autograd enabled whatever the caller's mode. Returns
/// z* (n, k), detached.
torch::Tensor invert_generator(const std::function<torch::Tensor(const torch::Tensor&)>& generate,
                               const torch::Tensor& x, const torch::Tensor& z0,
                               const InversionOptions& options = InversionOptions());

}  // namespace physgen
