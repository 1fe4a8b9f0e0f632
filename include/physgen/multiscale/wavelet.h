#pragma once
// Orthogonal wavelet transforms of periodic 2-D fields: the change of variables of the
// multiscale (renormalisation-group) factorisation p(x) = p(x_J) prod_j p(xbar_{j+1} | x_{j+1}).
//
// One level maps a field x_j (N, H, W), H and W even, to its coarse field x_{j+1}
// (N, H/2, W/2) and three detail fields xbar_{j+1} (N, 3, H/2, W/2), separably: along each
// axis (periodic wrap)
//   a_i = sum_k h_k x_{(2i + k) mod n},   d_i = sum_k g_k x_{(2i + k) mod n},   g_k = (-1)^k h_{K-1-k},
// with the orthonormal low pass h of
//   "haar"  h = (1, 1) / sqrt(2)
//   "db4"   h = (1 + sqrt3, 3 + sqrt3, 3 - sqrt3, 1 - sqrt3) / (4 sqrt2)   (Daubechies, 2 vanishing moments)
// then coarse = (low rows, low columns), details = (low-high, high-low, high-high) in that
// order. The map is orthogonal (the inverse is its transpose, |det| = 1), so as a flow layer its
// log-determinant is 0; with these normalisations the Haar coarse field is twice the 2 x 2 block
// mean (x_{j+1} = 2 <x_j>_block), the convention of the wavelet renormalisation group.
//
// J levels repeat the step on the coarse field; `wavelet_transform` packs the result in Mallat's
// layout, one (N, H, W) tensor: the coarse field x_J in the top-left (H/2^J) x (W/2^J) corner and,
// for each level j = 1..J, its three detail fields in the three other quadrants of the
// (H/2^(j-1)) x (W/2^(j-1)) corner ([coarse, LH; HL, HH]). Pure tensor operations (roll, strided
// slices): any device, any floating dtype, differentiable.
//
// References: I. Daubechies, "Ten lectures on wavelets" (SIAM 1992), ch. 6 (the filters);
// S. Mallat, "A wavelet tour of signal processing" (3rd ed. 2009), ch. 7 (periodic orthogonal
// bases, the 2-D separable transform); T. Marchand, M. Ozawa, G. Biroli, S. Mallat, PRX 13,
// 041038 (2023) (the wavelet renormalisation group).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// "haar", "db4".
std::vector<std::string> wavelet_names();

/// The orthonormal low-pass filter h of a wavelet (float64). InvalidArgument naming "wavelet"
/// for an unknown name.
std::vector<double> wavelet_low_pass(const std::string& wavelet);

/// One level: x (N, H, W), H and W even -> coarse (N, H/2, W/2), details (N, 3, H/2, W/2).
struct WaveletLevel {
  torch::Tensor coarse, details;
};
WaveletLevel wavelet_decompose(const torch::Tensor& x, const std::string& wavelet);

/// The inverse of wavelet_decompose: (coarse, details) -> x (N, H, W).
torch::Tensor wavelet_reconstruct(const torch::Tensor& coarse, const torch::Tensor& details,
                                  const std::string& wavelet);

/// J levels in Mallat's packed layout (see above): x (N, H, W) -> (N, H, W). H and W must be
/// divisible by 2^J. InvalidArgument naming "J" or "x.sizes()" otherwise.
torch::Tensor wavelet_transform(const torch::Tensor& x, const std::string& wavelet, int64_t J);

/// The inverse of wavelet_transform.
torch::Tensor inverse_wavelet_transform(const torch::Tensor& w, const std::string& wavelet, int64_t J);

}  // namespace physgen
