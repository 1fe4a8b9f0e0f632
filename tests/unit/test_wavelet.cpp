// Orthogonal periodic wavelet transforms (multiscale/wavelet.h), exactly (float64):
//   * the J-level transform is an orthogonal matrix (M M^T = I on 8 x 8 and 4 x 8 fields, every
//     wavelet, J = 1..3) and its inverse undoes it;
//   * Haar's coarse field is twice the 2 x 2 block mean; constants have no details;
//     Daubechies-4 annihilates a linear ramp away from the periodic wrap while Haar does not
//     (two vanishing moments against one: the control);
//   * a shift by 2 sites shifts the level-1 fields by 1; the transform is differentiable (its
//     gradient is the inverse, the transpose);
//   * bad arguments are named.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/multiscale/wavelet.h"
#include "support/test_util.h"

namespace {

using namespace physgen;
using physgen_test::kF64;

/// The matrix of the J-level transform on H x W fields: column i = transform of basis field i.
torch::Tensor transform_matrix(const std::string& w, int64_t H, int64_t W, int64_t J) {
  const auto basis = torch::eye(H * W, kF64).reshape({H * W, H, W});
  return wavelet_transform(basis, w, J).reshape({H * W, H * W}).t();
}

TEST(Wavelet, TransformsAreOrthogonalAndInvertible) {
  seed_all(1);
  for (const auto& w : wavelet_names())
    for (auto [H, W] : {std::pair<int64_t, int64_t>{8, 8}, {4, 8}})
      for (int64_t J = 1; J <= 3 && (int64_t{1} << J) <= std::min(H, W); ++J) {
        const auto M = transform_matrix(w, H, W, J);
        EXPECT_LT((M.matmul(M.t()) - torch::eye(H * W, kF64)).abs().max().item<double>(), 1e-12)
            << w << " " << H << "x" << W << " J " << J;
        const auto x = torch::randn({3, H, W}, kF64);
        const auto y = wavelet_transform(x, w, J);
        EXPECT_LT((inverse_wavelet_transform(y, w, J) - x).abs().max().item<double>(), 1e-12) << w << " J " << J;
        EXPECT_NEAR(y.square().sum().item<double>(), x.square().sum().item<double>(), 1e-10);
      }
  // One level on a larger lattice.
  const auto x = torch::randn({2, 32, 16}, kF64);
  for (const auto& w : wavelet_names()) {
    const auto lv = wavelet_decompose(x, w);
    EXPECT_EQ(lv.coarse.sizes(), (std::vector<int64_t>{2, 16, 8}));
    EXPECT_EQ(lv.details.sizes(), (std::vector<int64_t>{2, 3, 16, 8}));
    EXPECT_LT((wavelet_reconstruct(lv.coarse, lv.details, w) - x).abs().max().item<double>(), 1e-12);
  }
}

TEST(Wavelet, HaarBlockMeansAndVanishingMoments) {
  seed_all(2);
  const auto x = torch::randn({2, 8, 8}, kF64);
  const auto haar = wavelet_decompose(x, "haar");
  const auto block_mean = x.reshape({2, 4, 2, 4, 2}).mean({2, 4});
  EXPECT_LT((haar.coarse - 2.0 * block_mean).abs().max().item<double>(), 1e-14);
  const auto constant = torch::full({1, 8, 8}, 1.7, kF64);
  for (const auto& w : wavelet_names())
    EXPECT_LT(wavelet_decompose(constant, w).details.abs().max().item<double>(), 1e-14) << w;
  // A ramp along the columns, x[i][j] = j: its column details (low rows, high columns: detail 0)
  // vanish for db4 except where the filter wraps around the lattice (the last coarse column);
  // Haar's are -1 everywhere ((x_2i - x_2i+1)/sqrt2 along the columns, times sqrt2 from the
  // low pass along the constant rows).
  const auto ramp = torch::arange(16, kF64).expand({1, 16, 16}).contiguous();
  const auto d_db4 = wavelet_decompose(ramp, "db4").details.select(1, 0);
  EXPECT_LT(d_db4.narrow(2, 0, 7).abs().max().item<double>(), 1e-12);
  EXPECT_GT(d_db4.select(2, 7).abs().min().item<double>(), 1.0);  // the wrap's jump
  const auto d_haar = wavelet_decompose(ramp, "haar").details.select(1, 0);
  EXPECT_LT((d_haar + 1.0).abs().max().item<double>(), 1e-12);
}

TEST(Wavelet, ShiftCovarianceAndGradients) {
  seed_all(3);
  const auto x = torch::randn({2, 16, 16}, kF64);
  for (const auto& w : wavelet_names()) {
    const auto a = wavelet_decompose(x, w), b = wavelet_decompose(torch::roll(x, {2, -4}, {1, 2}), w);
    EXPECT_LT((torch::roll(a.coarse, {1, -2}, {1, 2}) - b.coarse).abs().max().item<double>(), 1e-12) << w;
    EXPECT_LT((torch::roll(a.details, {1, -2}, {2, 3}) - b.details).abs().max().item<double>(), 1e-12) << w;
    // d/dx <c, W x> = W^T c = W^{-1} c.
    const auto xg = x.clone().requires_grad_(true);
    const auto c = torch::randn({2, 16, 16}, kF64);
    const auto g = torch::autograd::grad({(wavelet_transform(xg, w, 2) * c).sum()}, {xg})[0];
    EXPECT_LT((g - inverse_wavelet_transform(c, w, 2)).abs().max().item<double>(), 1e-12) << w;
  }
}

TEST(Wavelet, BadArgumentsAreNamed) {
  physgen_test::expect_invalid_argument([] { wavelet_decompose(torch::zeros({2, 7, 8}, kF64), "haar"); }, "x.sizes()");
  physgen_test::expect_invalid_argument([] { wavelet_transform(torch::zeros({2, 8, 8}, kF64), "haar", 4); }, "J");
  physgen_test::expect_invalid_argument([] { wavelet_transform(torch::zeros({2, 8, 8}, kF64), "db8", 1); }, "wavelet");
  physgen_test::expect_invalid_argument(
      [] { wavelet_reconstruct(torch::zeros({2, 4, 4}, kF64), torch::zeros({2, 2, 4, 4}, kF64), "haar"); },
      "details.sizes()");
}

}  // namespace
