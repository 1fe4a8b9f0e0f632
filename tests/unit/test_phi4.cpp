// Exact checks of the 2D phi^4 action, force, fused CPU kernels, free-field results and the HMC
// integrators (reversibility, 2nd-order energy violation).
#include <gtest/gtest.h>

#include <cmath>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/phi4_metropolis.h"
#include "support/test_util.h"

using namespace physgen;

namespace {

using physgen_test::kF64;

double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  auto scale = b.abs().max().item<double>();
  return (a - b).abs().max().item<double>() / std::max(scale, 1e-300);
}

// The hopping-form action written out independently of the library.
torch::Tensor hopping_action(const torch::Tensor& phi, double kappa, double lt) {
  auto hop = phi * (torch::roll(phi, {-1}, {1}) + torch::roll(phi, {-1}, {2}));
  auto phi2 = phi * phi;
  return (-2.0 * kappa * hop + (1.0 - 2.0 * lt) * phi2 + lt * phi2 * phi2).sum({1, 2});
}

}  // namespace

TEST(Phi4Params, HoppingMapAndInverse) {
  const auto p = Phi4Params::from_hopping(8, 0.25, 0.5);
  EXPECT_DOUBLE_EQ(p.m2, -4.0);
  EXPECT_DOUBLE_EQ(p.lambda, 8.0);
  EXPECT_NEAR(p.kappa(), 0.25, 1e-15);
  EXPECT_NEAR(p.lambda_hop(), 0.5, 1e-15);
  const auto q = Phi4Params::from_hopping(6, 0.13, 0.02);
  EXPECT_NEAR(q.kappa(), 0.13, 1e-15);
  EXPECT_NEAR(q.lambda_hop(), 0.02, 1e-15);
  const Phi4Params free{8, 0.5, 0.0};
  EXPECT_NEAR(free.kappa(), 1.0 / 4.5, 1e-15);
  const Phi4Params none{8, -5.0, 0.0};
  EXPECT_TRUE(std::isnan(none.kappa()));
  EXPECT_TRUE(none.to_json()["kappa"].is_null());
  EXPECT_EQ(p.to_json()["L"], 8);
}

TEST(Phi4Params, ValidationNamesTheArgument) {
  EXPECT_THROW((Phi4Params{1, 0.5, 0.1}.validate()), InvalidArgument);
  EXPECT_THROW((Phi4Params{4, 0.5, -0.1}.validate()), InvalidArgument);
  EXPECT_THROW((Phi4Params{4, NAN, 0.1}.validate()), InvalidArgument);
  EXPECT_THROW(Phi4Params::from_hopping(4, 0.0, 0.1), InvalidArgument);
  EXPECT_THROW(Phi4Params::from_hopping(4, 0.2, -1.0), InvalidArgument);
  EXPECT_THROW(free_field_propagator(4, 0.0), InvalidArgument);
  EXPECT_NO_THROW((Phi4Params{4, -1.0, 0.0}.validate()));
  try {
    Phi4Params{4, 0.5, -0.1}.validate();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("lambda"), std::string::npos);
  }
  Phi4Action a({4, 0.5, 0.1});
  EXPECT_THROW(a.action(torch::zeros({2, 4, 5}, kF64)), InvalidArgument);
  EXPECT_THROW(a.force(torch::zeros({4, 4}, kF64)), InvalidArgument);
}

TEST(Phi4Action, KnownConfigurations) {
  const Phi4Params p{6, -1.3, 0.7};
  const double V = 36.0, c = 0.8;
  for (bool fused : {true, false}) {
    Phi4Action a(p, fused);
    // Constant field: no kinetic term.
    auto s = a.action(torch::full({2, 6, 6}, c, kF64));
    EXPECT_NEAR(s[0].item<double>(), V * (p.m2 * c * c + p.lambda * std::pow(c, 4)), 1e-12);
    // Staggered field +-c: every link difference is 2c, two links per site.
    auto idx = torch::arange(6, kF64);
    auto stag = c * (1.0 - 2.0 * torch::remainder(idx.view({6, 1}) + idx.view({1, 6}), 2.0));
    s = a.action(stag.unsqueeze(0));
    EXPECT_NEAR(s[0].item<double>(), V * (8 * c * c + p.m2 * c * c + p.lambda * std::pow(c, 4)),
                1e-12);
    // A single excited site: four links.
    auto one = torch::zeros({1, 6, 6}, kF64);
    one[0][2][3] = c;
    s = a.action(one);
    EXPECT_NEAR(s[0].item<double>(), 4 * c * c + p.m2 * c * c + p.lambda * std::pow(c, 4), 1e-13);
  }
  // float32 on the tensor path.
  Phi4Action a(p);
  auto s32 = a.action(torch::full({1, 6, 6}, c, torch::kFloat32));
  EXPECT_EQ(s32.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(s32[0].item<double>(), V * (p.m2 * c * c + p.lambda * std::pow(c, 4)), 1e-4);
}

TEST(Phi4Action, HoppingAndStandardFormsAgree) {
  seed_all(11);
  for (auto [kappa, lt] : {std::pair{0.25, 0.5}, std::pair{0.2, 0.02}, std::pair{0.3, 1.2}}) {
    const auto p = Phi4Params::from_hopping(5, kappa, lt);
    auto phi_h = torch::randn({3, 5, 5}, kF64);
    auto s_hop = hopping_action(phi_h, kappa, lt);
    for (bool fused : {true, false}) {
      auto s_std = Phi4Action(p, fused).action(std::sqrt(kappa) * phi_h);
      EXPECT_LT(max_rel_diff(s_std, s_hop), 1e-13) << "kappa=" << kappa << " lt=" << lt;
    }
  }
}

TEST(Phi4Action, ForceMatchesFiniteDifferencesAndAutograd) {
  seed_all(12);
  for (int64_t L : {2, 3, 5}) {
    const Phi4Params p{L, -0.7, 1.3};
    Phi4Action a(p);
    auto x = torch::randn({2, L, L}, kF64);
    auto f = a.force(x);
    auto fd = torch::zeros_like(x);
    const double h = 1e-5;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < L; ++j) {
          auto xp = x.clone(), xm = x.clone();
          xp[b][i][j] += h;
          xm[b][i][j] -= h;
          fd[b][i][j] = (a.action(xp)[b] - a.action(xm)[b]) / (2 * h);
        }
    EXPECT_LT(max_rel_diff(f, fd), 1e-6) << "L=" << L;
    auto f_auto = a.Target::force(x);  // autograd through the tensor path
    EXPECT_LT(max_rel_diff(f, f_auto), 1e-13) << "L=" << L;
  }
}

TEST(Phi4Action, FusedKernelEqualsTensorPath) {
  seed_all(13);
  for (int64_t L : {2, 3, 4, 7, 16}) {
    const Phi4Params p{L, -2.1, 0.9};
    Phi4Action fused(p, true), tensor(p, false);
    auto x = torch::randn({5, L, L}, kF64);
    ASSERT_TRUE(fused.uses_fused_path(x));
    ASSERT_FALSE(tensor.uses_fused_path(x));
    EXPECT_LT(max_rel_diff(fused.action(x), tensor.action(x)), 1e-13) << "L=" << L;
    EXPECT_LT(max_rel_diff(fused.force(x), tensor.force(x)), 1e-13) << "L=" << L;
    // A non-contiguous input goes through the same kernel.
    auto xt = x.transpose(1, 2);
    EXPECT_LT(max_rel_diff(fused.force(xt), tensor.force(xt)), 1e-13);
    for (const std::string integrator : {"leapfrog", "omelyan"}) {
      auto p0 = torch::randn_like(x);
      torch::Tensor x1 = x, p1 = p0, x2 = x, p2 = p0;
      integrate(fused, x1, p1, 0.05, 20, integrator);
      integrate(tensor, x2, p2, 0.05, 20, integrator);
      EXPECT_LT(max_rel_diff(x1, x2), 1e-12) << integrator << " L=" << L;
      EXPECT_LT(max_rel_diff(p1, p2), 1e-12) << integrator << " L=" << L;
      EXPECT_FALSE(x1.is_same(x));  // inputs are not modified in place
    }
  }
}

TEST(Phi4FreeField, PropagatorSolvesTheLatticeEquation) {
  for (int64_t L : {2, 5, 8}) {
    const double m2 = 0.5;
    auto g = free_field_propagator(L, m2);
    ASSERT_EQ(g.scalar_type(), torch::kFloat64);
    // (m2 + 4) G(x) - sum_nn G(x + e) = delta_{x,0} / 2.
    auto lhs = (m2 + 4.0) * g - (torch::roll(g, {1}, {0}) + torch::roll(g, {-1}, {0}) +
                                 torch::roll(g, {1}, {1}) + torch::roll(g, {-1}, {1}));
    auto rhs = torch::zeros({L, L}, kF64);
    rhs[0][0] = 0.5;
    EXPECT_LT((lhs - rhs).abs().max().item<double>(), 1e-14) << "L=" << L;
    EXPECT_NEAR(g.sum().item<double>(), 0.5 / m2, 1e-13);
    EXPECT_NEAR(g[0][1].item<double>(), g[1][0].item<double>(), 1e-15);
  }
}

TEST(Phi4FreeField, ZeroMomentumCorrelatorIsACosh) {
  const int64_t L = 10;
  const double m2 = 0.3;
  auto c = free_field_zero_momentum_correlator(L, m2);
  auto g = free_field_propagator(L, m2);
  EXPECT_LT((c - g.sum(1)).abs().max().item<double>(), 1e-14);
  const double E = free_field_mass(m2);
  EXPECT_NEAR(std::cosh(E), 1.0 + m2 / 2, 1e-15);
  for (int64_t t = 0; t < L; ++t) {
    const double exact = std::cosh(E * (t - L / 2.0)) / (4.0 * std::sinh(E) * std::sinh(E * L / 2.0));
    EXPECT_NEAR(c[t].item<double>(), exact, 1e-14) << "t=" << t;
  }
}

// Forward, flip the momenta, forward again: back at the start (time reversibility).
TEST(Phi4Hmc, IntegratorsAreReversible) {
  seed_all(14);
  const Phi4Params p{8, -1.0, 1.0};
  for (bool fused : {true, false}) {
    Phi4Action a(p, fused);
    for (const std::string integrator : {"leapfrog", "omelyan"}) {
      auto x0 = torch::randn({4, 8, 8}, kF64), p0 = torch::randn({4, 8, 8}, kF64);
      torch::Tensor x = x0, mom = p0;
      integrate(a, x, mom, 0.02, 50, integrator);
      EXPECT_GT((x - x0).abs().max().item<double>(), 0.1);  // it moved
      mom = -mom;
      integrate(a, x, mom, 0.02, 50, integrator);
      EXPECT_LT((x - x0).abs().max().item<double>(), 1e-10) << integrator << " fused=" << fused;
      EXPECT_LT((mom + p0).abs().max().item<double>(), 1e-10) << integrator;
    }
  }
}

// Both integrators are of 2nd order: at fixed trajectory length the energy violation |dH|
// shrinks by 4 when eps halves.
TEST(Phi4Hmc, EnergyViolationScalesAsEpsSquared) {
  seed_all(15);
  const Phi4Params p{8, -1.0, 1.0};
  Phi4Action a(p);
  auto x0 = 0.5 * torch::randn({64, 8, 8}, kF64), p0 = torch::randn({64, 8, 8}, kF64);
  auto h0 = hamiltonian(a, x0, p0);
  for (const std::string integrator : {"leapfrog", "omelyan"}) {
    std::vector<double> viol;
    for (int64_t n : {10, 20, 40}) {  // eps = 1/n, trajectory length 1
      torch::Tensor x = x0, mom = p0;
      integrate(a, x, mom, 1.0 / n, n, integrator);
      viol.push_back((hamiltonian(a, x, mom) - h0).abs().mean().item<double>());
    }
    for (size_t k = 0; k + 1 < viol.size(); ++k) {
      const double ratio = viol[k] / viol[k + 1];
      EXPECT_GT(ratio, 3.6) << integrator << " eps ratio step " << k;
      EXPECT_LT(ratio, 4.4) << integrator << " eps ratio step " << k;
    }
    if (integrator == "omelyan") {
      EXPECT_LT(viol[0], 1.0);
    }
  }
}

TEST(Phi4Hmc, OptionsAndConstructionAreValidated) {
  EXPECT_THROW(HmcOptions().integrator("verlet").validate(), InvalidArgument);
  EXPECT_THROW(HmcOptions().step_size(0.0).validate(), InvalidArgument);
  EXPECT_THROW(HmcOptions().n_steps(0).validate(), InvalidArgument);
  EXPECT_THROW(HmcOptions().jitter(1.0).validate(), InvalidArgument);
  const Phi4Params p{4, 0.5, 0.0};
  auto target = std::make_shared<const Phi4Action>(p);
  EXPECT_THROW(Hmc(target, HmcOptions(), torch::zeros({2, 4, 5}, kF64)), InvalidArgument);
  torch::Tensor x = torch::zeros({2, 4, 4}, kF64), mom = torch::zeros({2, 4, 3}, kF64);
  EXPECT_THROW(integrate(*target, x, mom, 0.1, 3), InvalidArgument);

  seed_all(16);
  auto hmc = make_phi4_hmc(p, 3, HmcOptions().step_size(0.2).n_steps(5).integrator("omelyan"),
                           torch::kCPU, torch::kFloat64, Phi4Start::Cold);
  EXPECT_EQ(hmc->state().abs().max().item<double>(), 0.0);
  hmc->update(4);
  auto info = hmc->info();
  EXPECT_EQ(info["algorithm"], "hmc");
  EXPECT_EQ(info["trajectories"], 4);
  EXPECT_EQ(info["fused_cpu"], true);
  EXPECT_GE(info["acceptance"].get<double>(), 0.0);
  EXPECT_LE(info["acceptance"].get<double>(), 1.0);
  EXPECT_EQ(hmc->chains(), 3);
  EXPECT_GT(hmc->state().abs().max().item<double>(), 0.0);
  // float32 runs through the tensor path.
  auto hmc32 = make_phi4_hmc(p, 2, HmcOptions(), torch::kCPU, torch::kFloat32);
  hmc32->update(2);
  EXPECT_EQ(hmc32->state().scalar_type(), torch::kFloat32);
  EXPECT_EQ(hmc32->info()["fused_cpu"], false);
}

TEST(Phi4Metropolis, OptionsAndConstructionAreValidated) {
  EXPECT_THROW(Phi4MetropolisOptions().delta(-1.0).validate(), InvalidArgument);
  EXPECT_THROW(Phi4MetropolisOptions().n_hits(0).validate(), InvalidArgument);
  EXPECT_THROW(make_phi4_metropolis({5, 0.5, 0.0}, 2), InvalidArgument);  // odd L
  seed_all(17);
  auto mc = make_phi4_metropolis({4, 0.5, 0.2}, 3, Phi4MetropolisOptions().n_hits(2));
  mc->update(3);
  auto info = mc->info();
  EXPECT_EQ(info["algorithm"], "phi4_metropolis");
  EXPECT_EQ(info["sweeps"], 3);
  EXPECT_GT(info["acceptance"].get<double>(), 0.0);
  EXPECT_LT(info["acceptance"].get<double>(), 1.0);
  const double delta = mc->tune_delta(40, 0.5);
  EXPECT_GT(delta, 0.0);
  mc->update(20);
  EXPECT_NEAR(mc->acceptance(), 0.5, 0.15);
}
