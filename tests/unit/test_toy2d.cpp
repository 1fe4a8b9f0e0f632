// Toy 2D densities: normalisation, samples against the density, registry errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/data/toy2d.h"

using namespace physgen;

namespace {

// Midpoint grid of step h on [-a, a]^2: (n, 2) float64 centres.
torch::Tensor midpoint_grid(double a, double h) {
  const auto n = static_cast<int64_t>(std::llround(2 * a / h));
  auto c = -a + h * (torch::arange(n, torch::kFloat64) + 0.5);
  auto gx = c.unsqueeze(1).expand({n, n}), gy = c.unsqueeze(0).expand({n, n});
  return torch::stack({gx.reshape(-1), gy.reshape(-1)}, 1);
}

double integral(const ToyDensity& d, double a, double h) {
  return torch::exp(d.log_prob(midpoint_grid(a, h))).sum().item<double>() * h * h;
}

// Pearson chi^2 of a 2D histogram of `x` (bins of width w on [-a, a]^2) against
// n * (bin probability of exp(log_prob), midpoint rule with `sub` points per side).
// Bins with expected count < 5 are pooled with the mass outside the box.
struct ChiSquare {
  double chi2 = 0;
  int64_t dof = 0;
};

ChiSquare chi_square(const ToyDensity& d, const torch::Tensor& x, double a, double w, int sub) {
  const int64_t nb = std::llround(2 * a / w);
  const int64_t n = x.size(0);
  // Observed counts; points outside the box go to the pooled bin.
  auto xd = x.to(torch::kFloat64);
  auto ij = torch::floor((xd + a) / w).to(torch::kLong);
  auto in = ((ij >= 0) & (ij < nb)).all(1);
  auto flat = (ij.select(1, 0) * nb + ij.select(1, 1)).masked_select(in);
  auto observed = torch::bincount(flat, {}, nb * nb).to(torch::kFloat64);
  // Expected bin probabilities: bin (i, j) is cell i * nb + j of the fine grid, summed.
  const double h = w / sub;
  auto p = torch::exp(d.log_prob(midpoint_grid(a, h))).view({nb, sub, nb, sub}) * h * h;
  auto expected = p.sum({1, 3}).reshape(-1) * static_cast<double>(n);
  auto big = expected >= 5.0;
  const auto obs_big = observed.masked_select(big), exp_big = expected.masked_select(big);
  ChiSquare out;
  out.chi2 = ((obs_big - exp_big).pow(2) / exp_big).sum().item<double>();
  out.dof = big.sum().item<int64_t>();  // pooled bin adds 1, the fixed total removes 1
  const double obs_rest = n - obs_big.sum().item<double>();
  const double exp_rest = n - exp_big.sum().item<double>();
  if (exp_rest > 1e-6) {
    out.chi2 += (obs_rest - exp_rest) * (obs_rest - exp_rest) / exp_rest;
  } else if (obs_rest > 0) {
    out.chi2 = INFINITY;  // samples where the density has (numerically) no mass
  } else {
    out.dof -= 1;
  }
  return out;
}

}  // namespace

TEST(Toy2d, RegistryListsValidNames) {
  EXPECT_EQ(toy_density_names(),
            (std::vector<std::string>{"8gaussians", "checkerboard", "rings", "two-moons"}));
  try {
    make_toy_density("spiral");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'spiral'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("8gaussians|checkerboard|rings|two-moons"), std::string::npos) << msg;
  }
  for (const auto& name : toy_density_names()) {
    auto d = make_toy_density(name);
    EXPECT_EQ(d->name(), name);
    EXPECT_EQ(d->has_exact_log_prob(), name != "two-moons");
  }
}

TEST(Toy2d, ExactLogProbIntegratesToOne) {
  // Midpoint rule with step h on [-3.5, 3.5]^2: for the gaussian profiles of width s
  // the error is below (h^2 / 24) * 2 / s^2 per unit mass (2 directions) -- a
  // conservative bound (the rule is in fact spectrally accurate for these profiles);
  // the checkerboard's edges fall on grid lines, so its rule is exact.
  const double h = 0.01;
  EXPECT_NEAR(integral(*make_toy_density("8gaussians"), 3.5, h), 1.0, h * h / 12 / (0.1 * 0.1));
  EXPECT_NEAR(integral(*make_toy_density("rings"), 3.5, h), 1.0, h * h / 12 / (0.08 * 0.08));
  EXPECT_NEAR(integral(*make_toy_density("checkerboard"), 3.5, h), 1.0, 1e-9);
  // two-moons: plus the documented 1e-8 relative quadrature error of its log_prob.
  EXPECT_NEAR(integral(*make_toy_density("two-moons"), 4.0, h), 1.0,
              h * h / 12 / (0.2 * 0.2) + 1e-8);
}

TEST(Toy2d, ExactValuesAtKnownPoints) {
  auto cb = make_toy_density("checkerboard");
  auto lp = cb->log_prob(torch::tensor({{-1.5, -1.5}, {-0.5, -1.5}, {2.5, 0.0}, {0.5, 0.5}},
                                       torch::kFloat64));
  EXPECT_NEAR(lp[0].item<double>(), -std::log(8.0), 1e-15);
  EXPECT_TRUE(std::isinf(lp[1].item<double>()) && lp[1].item<double>() < 0);
  EXPECT_TRUE(std::isinf(lp[2].item<double>()) && lp[2].item<double>() < 0);
  EXPECT_NEAR(lp[3].item<double>(), -std::log(8.0), 1e-15);
  // 8gaussians at a centre: (1/8) / (2 pi s^2) (other components negligible).
  auto g = make_toy_density("8gaussians");
  EXPECT_NEAR(g->log_prob(torch::tensor({{2.0, 0.0}}, torch::kFloat64)).item<double>(),
              std::log(1.0 / 8 / (2 * M_PI * 0.01)), 1e-12);
  // Exact score by autograd: at x = c_0 + (0.01, 0) it is -(0.01, 0)/s^2.
  auto x = torch::tensor({{2.01, 0.0}}, torch::kFloat64).requires_grad_(true);
  auto score = torch::autograd::grad({g->log_prob(x).sum()}, {x})[0];
  EXPECT_NEAR(score[0][0].item<double>(), -1.0, 1e-9);
}

TEST(Toy2d, TwoMoonsQuadratureMatchesBruteForce) {
  // Reference: midpoint rule with 100000 nodes per arc (relative error ~1e-8).
  const int64_t k = 100000;
  auto t = (torch::arange(k, torch::kFloat64) + 0.5) * (M_PI / k);
  auto upper = torch::stack({-1 + 2 * torch::cos(t), -0.5 + 2 * torch::sin(t)}, 1);
  auto lower = torch::stack({1 + 2 * torch::cos(t + M_PI), 0.5 + 2 * torch::sin(t + M_PI)}, 1);
  auto nodes = torch::cat({upper, lower});
  auto x = torch::tensor({{0.0, 0.0}, {1.0, 1.5}, {-3.0, -0.5}, {-3.3, -0.4}, {3.0, 0.5},
                          {1.0, -1.5}, {0.9, 2.5}, {-1.0, -0.5}},
                         torch::kFloat64);
  auto d2 = (x.unsqueeze(1) - nodes.unsqueeze(0)).pow(2).sum(-1);
  auto ref = torch::exp(-d2 / (2 * 0.04)).mean(1) / (2 * M_PI * 0.04);
  auto lp = make_toy_density("two-moons")->log_prob(x);
  for (int64_t i = 0; i < x.size(0); ++i) {
    EXPECT_NEAR(lp[i].item<double>(), std::log(ref[i].item<double>()), 1e-8) << i;
  }
}

TEST(Toy2d, SamplesMatchDensityHistogram) {
  const int64_t n = 100000;
  for (const auto& name : toy_density_names()) {
    auto d = make_toy_density(name);
    seed_all(12345);
    auto x = d->sample(n);
    ASSERT_EQ(x.scalar_type(), torch::kFloat32);
    ASSERT_EQ(x.size(0), n);
    auto c = chi_square(*d, x, 3.0, 0.25, 20);
    // chi^2 has mean dof and variance 2 dof.
    const double bound = c.dof + 5 * std::sqrt(2.0 * c.dof);
    EXPECT_LT(c.chi2, bound) << name << " dof " << c.dof;
    EXPECT_GT(c.dof, 50) << name;
    // Sanity: the test can fail -- samples shifted by 0.05 are rejected.
    auto shifted = x + torch::tensor({0.05f, 0.0f});
    EXPECT_GT(chi_square(*d, shifted, 3.0, 0.25, 20).chi2, bound) << name;
  }
}

TEST(Toy2d, SamplingIsReproducible) {
  auto d = make_toy_density("rings");
  seed_all(5);
  auto a = d->sample(100, torch::kFloat64);
  seed_all(5);
  auto b = d->sample(100, torch::kFloat64);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_EQ(a.scalar_type(), torch::kFloat64);
  auto g1 = at::detail::createCPUGenerator(77), g2 = at::detail::createCPUGenerator(77);
  EXPECT_TRUE(torch::equal(d->sample(50, torch::kFloat64, g1), d->sample(50, torch::kFloat64, g2)));
  EXPECT_EQ(d->sample(0).size(0), 0);
  EXPECT_THROW(d->sample(-1), InvalidArgument);
  EXPECT_THROW(d->sample(3, torch::kInt32), InvalidArgument);
  EXPECT_THROW(d->log_prob(torch::zeros({3, 3})), InvalidArgument);
}
