// Exact Ising results: the model's energy/force, enumeration against an
// independent tensor brute force, Kaufman against enumeration, finite
// differences, the low-temperature series and Onsager's infinite-volume limit.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/ising_exact.h"

namespace physgen {
namespace {

// All 2^V configurations of an L x L lattice as a (2^V, L, L) int8 tensor.
torch::Tensor all_configs(int64_t L) {
  const int64_t V = L * L;
  auto idx = torch::arange(int64_t{1} << V, torch::kInt64).unsqueeze(1);
  auto bits = torch::bitwise_and(torch::bitwise_right_shift(idx, torch::arange(V)), 1);
  return (2 * bits - 1).to(torch::kInt8).reshape({-1, L, L});
}

TEST(IsingModel, EnergyOfKnownConfigurations) {
  const IsingParams p{4, 0.3, 0.2, 1.3};
  IsingModel model(p);
  auto up = torch::ones({1, 4, 4}, torch::kInt8);
  auto checker = (torch::arange(4).unsqueeze(1) + torch::arange(4)).remainder(2) * 2 - 1;
  auto one_flip = up.clone();
  one_flip.index_put_({0, 1, 2}, -1);
  auto e = model.energy(torch::cat({up, checker.to(torch::kInt8).unsqueeze(0), one_flip}));
  ASSERT_EQ(e.dtype(), torch::kFloat64);
  EXPECT_DOUBLE_EQ(e[0].item<double>(), -2 * 16 * 1.3 - 0.2 * 16);
  EXPECT_DOUBLE_EQ(e[1].item<double>(), 2 * 16 * 1.3);
  EXPECT_DOUBLE_EQ(e[2].item<double>(), -2 * 16 * 1.3 + 8 * 1.3 - 0.2 * 14);
  EXPECT_TRUE(torch::allclose(model.action(up), 0.3 * model.energy(up)));
  EXPECT_EQ(model.name(), "ising");
  EXPECT_EQ(model.params()["L"], 4);
  EXPECT_DOUBLE_EQ(model.params()["h"].get<double>(), 0.2);
}

TEST(IsingModel, ForceIsTheGradientOfTheAction) {
  for (int64_t L : {2, 3, 5}) {
    IsingModel model(IsingParams{L, 0.7, -0.3, 1.1});
    auto x = torch::randn({3, L, L}, torch::kFloat64);
    auto closed = model.force(x);
    auto autograd = model.Target::force(x);
    EXPECT_TRUE(torch::allclose(closed, autograd, 1e-12, 1e-12)) << "L = " << L;
  }
}

TEST(IsingModel, RejectsInvalidArguments) {
  EXPECT_THROW(IsingModel(IsingParams{1, 0.4}), InvalidArgument);
  EXPECT_THROW(IsingModel(IsingParams{4, -0.1}), InvalidArgument);
  EXPECT_THROW(IsingModel(IsingParams{4, NAN}), InvalidArgument);
  EXPECT_THROW(IsingModel(IsingParams{4, 0.4, INFINITY}), InvalidArgument);
  IsingModel model(IsingParams{4, 0.4});
  EXPECT_THROW(model.energy(torch::ones({2, 4, 5})), InvalidArgument);
  EXPECT_THROW(model.energy(torch::ones({4, 4})), InvalidArgument);
}

// Enumeration against a direct tensor computation over all configurations.
TEST(IsingExact, EnumerationMatchesTensorBruteForce) {
  for (const IsingParams p : {IsingParams{3, 0.35, 0.15, 0.9}, IsingParams{4, 0.44},
                              IsingParams{4, 0.6, -0.1, 1.0}, IsingParams{2, 0.5, 0.3, 1.0}}) {
    const double V = static_cast<double>(p.volume());
    auto s = all_configs(p.L);
    auto H = IsingModel(p).energy(s);
    auto logw = -p.beta * H;
    auto logz = torch::logsumexp(logw, 0);
    auto w = torch::exp(logw - logz);
    auto m = s.to(torch::kFloat64).mean({1, 2});
    auto e = H / V;
    const double me = (w * e).sum().item<double>();
    const double m2 = (w * m * m).sum().item<double>();
    const double m4 = (w * m.pow(4)).sum().item<double>();
    const IsingExact ex = ising_exact_enumeration(p);
    EXPECT_NEAR(ex.log_z, logz.item<double>(), 1e-11);
    EXPECT_NEAR(ex.energy, me, 1e-12);
    EXPECT_NEAR(ex.energy_sq, (w * e * e).sum().item<double>(), 1e-12);
    EXPECT_NEAR(ex.magnetization, (w * m).sum().item<double>(), 1e-12);
    EXPECT_NEAR(ex.abs_magnetization, (w * m.abs()).sum().item<double>(), 1e-12);
    EXPECT_NEAR(ex.m2, m2, 1e-12);
    EXPECT_NEAR(ex.m4, m4, 1e-12);
    EXPECT_NEAR(ex.susceptibility, V * m2, 1e-10);
    EXPECT_NEAR(ex.binder, 1 - m4 / (3 * m2 * m2), 1e-12);
    EXPECT_NEAR(ex.specific_heat, p.beta * p.beta * V * (w * (e - me).pow(2)).sum().item<double>(),
                1e-10);
  }
}

TEST(IsingExact, EnumerationRejectsLargeLattices) {
  EXPECT_THROW(ising_exact_enumeration(IsingParams{6, 0.4}), InvalidArgument);
}

TEST(IsingExact, KaufmanMatchesEnumeration) {
  const double bc = ising_beta_critical();
  for (int64_t L : {2, 3, 4, 5}) {
    for (double beta : {0.05, 0.3, bc, 0.6, 1.2}) {
      for (double J : {1.0, 0.8}) {
        // enumeration of L = 5 costs ~0.2 s: two points only
        if (L == 5 && !((beta == bc && J == 1.0) || (beta == 0.3 && J == 0.8))) continue;
        const IsingParams p{L, beta, 0.0, J};
        const IsingExact en = ising_exact_enumeration(p);
        const IsingExact ka = ising_exact_kaufman(p);
        EXPECT_NEAR(ka.log_z, en.log_z, 1e-10 * std::fabs(en.log_z))
            << "L=" << L << " beta=" << beta << " J=" << J;
        EXPECT_NEAR(ka.energy, en.energy, 1e-10) << "L=" << L << " beta=" << beta << " J=" << J;
        EXPECT_NEAR(ka.specific_heat, en.specific_heat, 1e-10)
            << "L=" << L << " beta=" << beta << " J=" << J;
      }
    }
  }
}

TEST(IsingExact, KaufmanDerivativesMatchFiniteDifferences) {
  for (int64_t L : {6, 64}) {
    for (double beta : {0.25, ising_beta_critical(), 0.55}) {
      const double d = 1e-5;
      auto at = [&](double b) { return ising_exact_kaufman(IsingParams{L, b}); };
      const IsingExact c = at(beta), lo = at(beta - d), hi = at(beta + d);
      const double V = static_cast<double>(L * L);
      const double fd_energy = -(hi.log_z - lo.log_z) / (2 * d) / V;
      const double fd_heat = -beta * beta * (hi.energy - lo.energy) / (2 * d);
      EXPECT_NEAR(c.energy, fd_energy, 1e-6) << "L=" << L << " beta=" << beta;
      EXPECT_NEAR(c.specific_heat, fd_heat, 1e-5 * std::max(1.0, c.specific_heat))
          << "L=" << L << " beta=" << beta;
    }
  }
}

// Z = e^{2VK} (2 + 2V x^4 + 4V x^6 + (V^2 + 9V) x^8 + O(x^10)), x = e^{-2K}, for L > 5.
TEST(IsingExact, KaufmanMatchesLowTemperatureSeries) {
  for (int64_t L : {8, 32}) {
    const double K = 3.0, V = static_cast<double>(L * L), x = std::exp(-2 * K);
    const double series =
        2 * V * K + std::log(2 + 2 * V * std::pow(x, 4) + 4 * V * std::pow(x, 6) +
                             (V * V + 9 * V) * std::pow(x, 8));
    EXPECT_NEAR(ising_exact_kaufman(IsingParams{L, K}).log_z, series, 1e-12 * series);
  }
}

TEST(IsingExact, KaufmanApproachesOnsagerAwayFromCriticality) {
  for (double beta : {0.3, 0.6}) {
    const IsingExact k = ising_exact_kaufman(IsingParams{128, beta});
    EXPECT_NEAR(k.energy, ising_energy_onsager(beta), 1e-10) << "beta=" << beta;
  }
}

TEST(IsingExact, KaufmanAtCriticalityScales) {
  const double bc = ising_beta_critical();
  EXPECT_NEAR(ising_energy_onsager(bc), -std::sqrt(2.0), 1e-14);
  // u(L) + sqrt 2 falls like 1/L; the specific heat grows like (8 K_c^2 / pi) ln L.
  double prev_du = 0, prev_c = 0;
  for (int64_t L : {128, 256, 512, 1024}) {
    const IsingExact k = ising_exact_kaufman(IsingParams{L, bc});
    const double du = k.energy + std::sqrt(2.0);
    if (prev_du != 0) {
      EXPECT_NEAR(prev_du / du, 2.0, 0.02) << "L=" << L;
      EXPECT_NEAR(k.specific_heat - prev_c, 8 * bc * bc / M_PI * std::log(2.0), 2e-3)
          << "L=" << L;
    }
    prev_du = du;
    prev_c = k.specific_heat;
  }
  EXPECT_LT(std::fabs(prev_du), 2e-3);
}

TEST(IsingExact, KaufmanRejectsFieldAndAntiferromagnet) {
  EXPECT_THROW(ising_exact_kaufman(IsingParams{8, 0.4, 0.1}), InvalidArgument);
  EXPECT_THROW(ising_exact_kaufman(IsingParams{8, 0.4, 0.0, -1.0}), InvalidArgument);
  const IsingExact z = ising_exact_kaufman(IsingParams{8, 0.0});
  EXPECT_NEAR(z.log_z, 64 * std::log(2.0), 1e-12);
  EXPECT_EQ(z.energy, 0.0);
}

}  // namespace
}  // namespace physgen
