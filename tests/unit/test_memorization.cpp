// Memorization metrics (eval/memorization.h), exactly:
//   * the FFT search equals a brute-force minimum over every symmetry image (8 point-group
//     elements x 64 shifts x 2 signs on 8 x 8) to 1e-10;
//   * a "model" that returns training fields verbatim is 100% memorised; shifted, rotated,
//     reflected and sign-flipped copies are caught with the symmetries on and missed without
//     them (control); fresh fields of the same Gaussian ensemble are not memorised;
//   * two copies of one deterministic sampler have mean-removed cosine similarity 1,
//     independent fields ~0.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/eval/memorization.h"
#include "support/test_util.h"

namespace {

using namespace physgen;
using physgen_test::kF64;

/// Smooth non-trivial Gaussian fields (a lattice propagator 1 / (khat^2 + 0.5)).
torch::Tensor fields(int64_t n, int64_t L) {
  const double pi = 3.14159265358979323846;
  const auto k = torch::fft::fftfreq(L, kF64) * (2.0 * pi);
  const auto s = 4.0 * torch::sin(k / 2.0).square();
  const auto G = 1.0 / (s.unsqueeze(1) + s.unsqueeze(0) + 0.5);
  return torch::real(torch::fft::ifft2(torch::fft::fft2(torch::randn({n, L, L}, kF64)) * G.sqrt()));
}

TEST(Memorization, FftSearchEqualsBruteForceOverAllSymmetryImages) {
  seed_all(1);
  const int64_t L = 8;
  const auto train = fields(12, L), gen = fields(5, L);
  const auto nn = nearest_training_fields(gen, train, SymmetryOptions{true, true, true});
  // Brute force: every point-group image, every shift, both signs.
  const auto images = point_group_images(train);  // (8, N, L, L)
  ASSERT_EQ(images.size(0), 8);
  for (int64_t g = 0; g < gen.size(0); ++g) {
    std::vector<double> best(static_cast<size_t>(train.size(0)), std::numeric_limits<double>::infinity());
    for (int64_t p = 0; p < 8; ++p)
      for (int64_t a = 0; a < L; ++a)
        for (int64_t b = 0; b < L; ++b) {
          const auto shifted = torch::roll(images[p], {a, b}, {1, 2});  // (N, L, L)
          for (double sgn : {1.0, -1.0}) {
            const auto d = (gen[g].unsqueeze(0) - sgn * shifted).square().sum({1, 2}).sqrt();
            for (int64_t i = 0; i < train.size(0); ++i) best[i] = std::min(best[i], d[i].item<double>());
          }
        }
    std::vector<double> sorted = best;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_NEAR(nn.d1[g].item<double>(), sorted[0], 1e-10);
    EXPECT_NEAR(nn.d2[g].item<double>(), sorted[1], 1e-10);
    EXPECT_NEAR(best[nn.index1[g].item<int64_t>()], sorted[0], 1e-10);
  }
}

TEST(Memorization, CopiesAndTheirSymmetryImagesAreCaughtFreshFieldsAreNot) {
  seed_all(2);
  const int64_t L = 16, N = 200;
  const auto train = fields(N, L);
  const SymmetryOptions all{true, true, true};
  // Verbatim copies: 100% memorised, each matched to its own index at distance 0.
  const auto idx = torch::randint(0, N, {40}, torch::kInt64);
  const auto copies = train.index_select(0, idx);
  const auto nn = nearest_training_fields(copies, train, all);
  EXPECT_TRUE(torch::equal(nn.index1, idx));
  EXPECT_LT(nn.d1.max().item<double>(), 1e-6);
  EXPECT_DOUBLE_EQ(memorization_report(nn).memorized_fraction, 1.0);
  // Symmetry images of training fields, plus a little noise (1% of the field's scale).
  auto images = point_group_images(copies);  // (8, 40, L, L)
  auto disguised = torch::stack({torch::roll(copies, {3, 7}, {1, 2}), -torch::roll(images[5], {1, 11}, {1, 2}),
                                 torch::roll(images[2], {9, 2}, {1, 2})},
                                0)
                       .reshape({-1, L, L});
  disguised = disguised + 0.01 * disguised.std().item<double>() * torch::randn_like(disguised);
  const auto caught = memorization_report(nearest_training_fields(disguised, train, all));
  EXPECT_DOUBLE_EQ(caught.memorized_fraction, 1.0);
  // Control: without the symmetries the same disguised copies go unnoticed.
  const auto missed = memorization_report(nearest_training_fields(disguised, train, SymmetryOptions{false, false, false}));
  std::printf("disguised copies: memorised %.3f with symmetries, %.3f without\n", caught.memorized_fraction,
              missed.memorized_fraction);
  EXPECT_LT(missed.memorized_fraction, 0.05);
  // Fresh fields of the same ensemble: none memorised.
  const auto fresh = memorization_report(nearest_training_fields(fields(100, L), train, all));
  std::printf("fresh fields: memorised %.3f, median d1/d2 %.3f\n", fresh.memorized_fraction, fresh.ratio_median);
  EXPECT_EQ(fresh.memorized_fraction, 0.0);
  EXPECT_GT(fresh.ratio_median, 0.8);
}

TEST(Memorization, CosineSimilarityOfPairedSamples) {
  seed_all(3);
  const auto a = fields(50, 16), b = fields(50, 16);
  const auto same = mean_removed_cosine_similarity(a, a.clone() + 3.0);  // the mean is removed
  EXPECT_LT((same - 1.0).abs().max().item<double>(), 1e-12);
  const auto indep = mean_removed_cosine_similarity(a, b);
  // Independent fields: mean ~0 within 4 standard errors.
  const double m = indep.mean().item<double>(), se = indep.std().item<double>() / std::sqrt(50.0);
  EXPECT_LT(std::abs(m), 4 * se + 1e-12);
  physgen_test::expect_invalid_argument([&] { mean_removed_cosine_similarity(a, b.narrow(0, 0, 3)); }, "b.sizes()");
  physgen_test::expect_invalid_argument([&] { nearest_training_fields(a, torch::zeros({4, 8, 8}, kF64)); },
                                        "generated.sizes()");
}

}  // namespace
