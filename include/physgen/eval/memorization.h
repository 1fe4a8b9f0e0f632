#pragma once
// Memorization vs generalization: is a generated field a copy of a training field?
//
// Distance of a generated field g to a training field t, minimised over the symmetries of the
// periodic H x W lattice (the ensemble's distribution is invariant under them, so a model that
// returns a shifted, rotated or flipped training field has memorised it just the same):
//   d(g, t) = min_{P, s, tau} || g - s T_tau P t ||_2,
// P in the point group (the 8 elements of D4 on square lattices; identity and the two
// reflections and the half turn (4 elements) when H != W), tau in the H W translations, s = +1
// or also -1 where the system has the Z2 symmetry (Ising, phi^4). Over translations this is one
// cross-correlation per (g, P t):
//   || g - s T_tau P t ||^2 = ||g||^2 + ||t||^2 - 2 s c(tau),  c = IFFT(FFT(g) conj(FFT(P t))),
// so the minimum is ||g||^2 + ||t||^2 - 2 max_tau c(tau) (max_tau |c(tau)| with the Z2 flip):
// exact, batched over generated fields and training chunks.
//
// With d1 <= d2 the distances to the nearest and second-nearest training fields (distinct
// training indices), a sample is "memorised" when d1 / d2 < 1/3 (Yoon et al.'s criterion as used
// by Gu et al. and Bonnaire et al. for diffusion models): its nearest training field is far
// closer than any other.
//
// References: Z. Kadkhodaie, F. Guth, E. P. Simoncelli, S. Mallat, "Generalization in diffusion
// models arises from geometry-adaptive harmonic representations", ICLR 2024, arXiv:2310.02557;
// X. Gu et al., "On memorization in diffusion models", arXiv:2310.02664; T. Bonnaire et al.,
// "Why diffusion models don't memorize", arXiv:2505.17638 (2025).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

/// Which lattice symmetries the distance is minimised over.
struct SymmetryOptions {
  bool translations = true;  ///< all H W cyclic shifts
  bool point_group = true;   ///< rotations and reflections of the lattice (8 on squares, 4 otherwise)
  bool z2 = false;           ///< the global sign flip x -> -x
};

/// Whether the distribution of `system` (a sidecar's system name) is invariant under the global
/// sign flip x -> -x at zero field: "ising" and "phi4". (An Ising ensemble at h != 0 is not;
/// the sidecar's system name does not say, so callers pass --z2 off for such data.)
bool has_z2_symmetry(const std::string& system);

/// The point-group images of fields x (N, H, W): (P, N, H, W), the identity first.
torch::Tensor point_group_images(const torch::Tensor& x);

/// Nearest and second-nearest training fields of each generated field.
struct NearestNeighbours {
  torch::Tensor d1, d2;          ///< (G) float64 distances, d1 <= d2 (d2 = inf with one training field)
  torch::Tensor index1, index2;  ///< (G) int64 training indices
  /// d1 / d2 (G); 0 where both are 0 (a duplicated training field returned verbatim).
  torch::Tensor ratio() const;
};

/// Exact search of `train` (N, H, W) for every field of `generated` (G, H, W) under `sym`.
/// Computed in float64 for float64 inputs, else float32 (distances returned in float64). The
/// expansion |g|^2 + |t|^2 - 2c cancels for near-copies: distances below ~sqrt(8 eps) |g|
/// (~1e-3 |g| in float32, ~1e-8 |g| in float64) are not resolved, far below the d1/d2 < 1/3
/// scale of the memorisation criterion.
/// `batch`: generated fields per pass (0: automatic, ~64 MB of correlations).
/// InvalidArgument for mismatched shapes or fewer than 1 training field.
NearestNeighbours nearest_training_fields(const torch::Tensor& generated, const torch::Tensor& train,
                                          SymmetryOptions sym = {}, int64_t batch = 0);

/// Memorised fraction: the share of samples with d1 / d2 < threshold, with its binomial error
/// sqrt(f (1 - f) / G), and quantiles of d1 / d2.
struct MemorizationReport {
  int64_t n = 0;
  double threshold = 1.0 / 3.0, memorized_fraction = 0, error = 0;
  double ratio_median = 0, ratio_p10 = 0, ratio_p90 = 0;
  nlohmann::json to_json() const;
};
MemorizationReport memorization_report(const NearestNeighbours& nn, double threshold = 1.0 / 3.0);

/// Mean-removed cosine similarity of paired fields a, b (G, ...): for each pair,
/// <a - abar, b - bbar> / (||a - abar|| ||b - bbar||), abar the field's own mean (G), float64.
/// 1 for identical fields, ~0 for independent ones.
torch::Tensor mean_removed_cosine_similarity(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace physgen
