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
// Shapes: single latents are (k); sets of latents (m, k). Pass the generated points to
// GanImpl::generate or a VAE decoder to obtain samples.
//
// References: T. White, "Sampling generative networks", arXiv:1609.04468 (slerp);
// A. Radford et al., arXiv:1511.06434 (vector arithmetic in latent space).
#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace physgen
