#pragma once
// Distances between empirical distributions (samples against samples).
//
// 1-D p-Wasserstein distance between empirical measures with n and m atoms, through the
// quantile functions Q_x, Q_y (step functions, exact for any n, m):
//   W_p^p = int_0^1 |Q_x(u) - Q_y(u)|^p du.
// Sliced p-Wasserstein distance in d dimensions (Monte Carlo over directions):
//   SW_p^p = E_{theta ~ U(S^{d-1})} W_p^p(theta . x, theta . y),
// estimated with K directions drawn from a generator seeded by `seed` (the global RNG is
// untouched, so the same seed gives the same directions and the same value).
//
// Shapes: x (n, d), y (m, d) (or (n, *event) flattened to d); 1-D inputs (n).
//
// References: Rabin, Peyre, Delon & Bernot, "Wasserstein barycenter and its application to
// texture mixing" (2011) (sliced Wasserstein); Bonneel et al., J. Math. Imaging Vis. 51 (2015) 22;
// Peyre & Cuturi, "Computational optimal transport", arXiv:1803.00567 (Remark 2.30, 1-D case).
#include <cstdint>

#include <torch/types.h>

namespace physgen {

/// W_p between two 1-D samples x (n), y (m), n, m >= 1, p >= 1 (computed in float64).
double wasserstein_1d(const torch::Tensor& x, const torch::Tensor& y, double p = 2.0);

/// Sliced W_p between samples x (n, ...) and y (m, ...) of equal event size d, with
/// `projections` (>= 1) random directions [256], p >= 1 [2], directions seeded by `seed` [0].
double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, int64_t projections = 256,
                          double p = 2.0, uint64_t seed = 0);

}  // namespace physgen
