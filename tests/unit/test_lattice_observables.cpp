// Lattice observables: series against direct sums, measure_lattice against exact answers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/observables/lattice.h"

using namespace physgen;

namespace {

// Direct O(V^2) G(r) of one configuration (L, L).
double direct_g(const torch::Tensor& phi, int64_t r0, int64_t r1) {
  auto a = phi.accessor<double, 2>();
  const int64_t L = phi.size(0);
  double s = 0;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) s += a[i][j] * a[(i + r0) % L][(j + r1) % L];
  return s / (L * L);
}

// Direct C(t) with time along tensor dim 1 (first lattice axis).
double direct_c(const torch::Tensor& phi, int64_t t) {
  auto a = phi.accessor<double, 2>();
  const int64_t L = phi.size(0);
  std::vector<double> slice(L, 0.0);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) slice[i] += a[i][j];
  double s = 0;
  for (int64_t t0 = 0; t0 < L; ++t0) s += slice[t0] * slice[(t0 + t) % L];
  return s / L;
}

// All 2^16 configurations of the 4x4 Ising model, (65536, 4, 4) int8.
torch::Tensor all_ising_4x4() {
  auto idx = torch::arange(1 << 16, torch::kLong).unsqueeze(1);
  auto bits = torch::arange(16, torch::kLong).unsqueeze(0);
  auto s = torch::div(idx, torch::pow(2, bits), "floor").remainder(2) * 2 - 1;
  return s.reshape({1 << 16, 4, 4}).to(torch::kInt8);
}

// Exact free-field samples: phi = IFFT(sqrt(D) FFT(eta)), D(k) = 1 / (2 (m2 + khat^2)).
torch::Tensor momentum_propagator(int64_t L, double m2) {
  auto k = torch::arange(L, torch::kFloat64) * (2 * M_PI / L);
  auto s2 = 4 * torch::sin(k / 2).pow(2);
  return 1.0 / (2 * (m2 + s2.unsqueeze(1) + s2.unsqueeze(0)));
}

torch::Tensor free_field_samples(int64_t n, int64_t L, double m2) {
  auto eta = torch::randn({n, L, L}, torch::kFloat64);
  auto d = momentum_propagator(L, m2);
  return torch::real(torch::fft::ifft2(torch::fft::fft2(eta) * torch::sqrt(d)));
}

void expect_within(const Estimate& e, double exact, double sigmas, const std::string& what) {
  EXPECT_NEAR(e.mean, exact, sigmas * e.error) << what;
  EXPECT_GT(e.error, 0.0) << what;
}

}  // namespace

TEST(LatticeObservables, TwoPointFunctionMatchesDirectSums) {
  seed_all(1);
  for (int64_t L : {5, 6}) {
    auto x = torch::randn({3, L, L}, torch::kFloat64);
    auto g = two_point_function(x);
    auto ga = two_point_axial(x);
    auto c = zero_momentum_correlator(x, false);
    auto c_avg = zero_momentum_correlator(x);
    ASSERT_EQ(ga.size(1), L / 2 + 1);
    for (int64_t n = 0; n < 3; ++n) {
      for (int64_t r0 = 0; r0 < L; ++r0)
        for (int64_t r1 = 0; r1 < L; ++r1)
          EXPECT_NEAR(g[n][r0][r1].item<double>(), direct_g(x[n], r0, r1), 1e-12);
      for (int64_t r = 0; r <= L / 2; ++r)
        EXPECT_NEAR(ga[n][r].item<double>(), 0.5 * (direct_g(x[n], r, 0) + direct_g(x[n], 0, r)),
                    1e-12);
      for (int64_t t = 0; t < L; ++t) {
        EXPECT_NEAR(c[n][t].item<double>(), direct_c(x[n], t), 1e-11);
        // C(t) = L sum_x G(t, x) and C(t) = C(L - t).
        EXPECT_NEAR(c[n][t].item<double>(), L * g[n][t].sum().item<double>(), 1e-11);
        EXPECT_NEAR(c[n][t].item<double>(), c[n][(L - t) % L].item<double>(), 1e-11);
        const double other = direct_c(x[n].t().contiguous(), t);
        EXPECT_NEAR(c_avg[n][t].item<double>(), 0.5 * (direct_c(x[n], t) + other), 1e-11);
      }
    }
    // P(k) is the Fourier transform of G; P(0) = V m^2.
    auto p = power_spectrum(x);
    auto pg = torch::real(torch::fft::fft2(g));
    EXPECT_LT((p - pg).abs().max().item<double>(), 1e-10);
    auto m = magnetization(x);
    EXPECT_NEAR(p[1][0][0].item<double>(), L * L * std::pow(m[1].item<double>(), 2), 1e-10);
    auto rad = radial_power_spectrum(x);
    EXPECT_NEAR(rad.power[2][0].item<double>(), p[2][0][0].item<double>(), 1e-12);
    int64_t modes = 0;
    for (auto c1 : rad.modes) modes += c1;
    EXPECT_EQ(modes, L * L);
    // Each bin is the mean of P over the momenta with round(|n|) = b (n_mu in (-L/2, L/2]).
    std::vector<double> sum(rad.k.size(), 0.0);
    std::vector<int64_t> count(rad.k.size(), 0);
    for (int64_t i = 0; i < L; ++i) {
      for (int64_t j = 0; j < L; ++j) {
        const double ni = 2 * i <= L ? i : i - L, nj = 2 * j <= L ? j : j - L;
        const auto b = static_cast<size_t>(std::llround(std::sqrt(ni * ni + nj * nj)));
        ASSERT_LT(b, rad.k.size());
        sum[b] += p[0][i][j].item<double>();
        ++count[b];
      }
    }
    for (size_t b = 0; b < rad.k.size(); ++b) {
      EXPECT_EQ(rad.modes[b], count[b]);
      EXPECT_NEAR(rad.power[0][b].item<double>(), sum[b] / count[b], 1e-10);
      EXPECT_NEAR(rad.k[b], 2 * M_PI * b / L, 1e-15);
    }
    EXPECT_EQ(rad.modes[1], 8);  // (+-1, 0), (0, +-1) and (+-1, +-1)
  }
}

TEST(LatticeObservables, MagnetizationOfConstantFields) {
  auto up = torch::ones({2, 4, 4}, torch::kInt8);
  auto down = -up;
  auto ms = magnetization_series(torch::cat({up, down}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(ms.m[i].item<double>(), i < 2 ? 1.0 : -1.0);
    EXPECT_DOUBLE_EQ(ms.abs_m[i].item<double>(), 1.0);
    EXPECT_DOUBLE_EQ(ms.m2[i].item<double>(), 1.0);
    EXPECT_DOUBLE_EQ(ms.m4[i].item<double>(), 1.0);
  }
  auto f = torch::full({1, 3, 3}, -0.7f);
  EXPECT_NEAR(magnetization(f).item<double>(), -0.7, 1e-7);
  EXPECT_NEAR(magnetization_series(f).abs_m.item<double>(), 0.7, 1e-7);
  EXPECT_NEAR(magnetization_series(f).m4.item<double>(), std::pow(0.7, 4), 1e-6);
}

TEST(LatticeObservables, IsingEnergyMatchesDirectSum) {
  auto up = torch::ones({1, 4, 4}, torch::kInt8);
  EXPECT_DOUBLE_EQ(ising_energy_density(up, 1.0, 0.3).item<double>(), -2.3);
  auto i = torch::arange(4).unsqueeze(1), j = torch::arange(4).unsqueeze(0);
  auto neel = (((i + j) % 2) * 2 - 1).unsqueeze(0).to(torch::kInt8);
  EXPECT_DOUBLE_EQ(ising_energy_density(neel).item<double>(), 2.0);
  seed_all(3);
  auto s = torch::randint(0, 2, {1, 5, 5}, torch::kInt8) * 2 - 1;
  auto a = s[0].to(torch::kFloat64).contiguous();
  auto acc = a.accessor<double, 2>();
  double h = 0;
  for (int x = 0; x < 5; ++x)
    for (int y = 0; y < 5; ++y)
      h += -0.7 * acc[x][y] * (acc[(x + 1) % 5][y] + acc[x][(y + 1) % 5]) - 0.2 * acc[x][y];
  EXPECT_NEAR(ising_energy_density(s, 0.7, 0.2).item<double>(), h / 25, 1e-14);
}

TEST(LatticeObservables, EffectiveMassOfExactCosh) {
  const int64_t L = 16;
  const double mass = 0.37;
  auto t = torch::arange(L, torch::kFloat64);
  auto c = 2.5 * torch::cosh(mass * (t - L / 2.0));
  auto m = effective_mass(c);
  ASSERT_EQ(m.size(0), L - 2);
  for (int64_t i = 0; i < L - 2; ++i) EXPECT_NEAR(m[i].item<double>(), mass, 1e-10);
  // Batched input and a pure exponential (an infinite lattice) give the same mass.
  auto e = torch::exp(-mass * t).unsqueeze(0).repeat({3, 1});
  EXPECT_LT((effective_mass(e) - mass).abs().max().item<double>(), 1e-10);
}

TEST(MeasureLattice, IidIsingSamplesMatchExactEnumeration) {
  const double beta = 0.4;
  const int64_t L = 4, V = 16;
  auto states = all_ising_4x4();
  auto e = ising_energy_density(states);
  auto w = torch::exp(-beta * V * (e - e.min()));
  auto p = w / w.sum();
  auto ex = [&](const torch::Tensor& o) { return (p * o).sum().item<double>(); };
  auto m = magnetization(states);
  const double m2 = ex(m * m), m4 = ex(m.pow(4)), am = ex(m.abs());
  const double e1 = ex(e), e2 = ex(e * e);
  auto g_exact = (p.unsqueeze(1) * two_point_axial(states)).sum(0);
  auto c_exact = (p.unsqueeze(1) * zero_momentum_correlator(states)).sum(0);

  seed_all(42);
  const int64_t n = 20000, chains = 4;
  auto idx = torch::multinomial(p, n, /*replacement=*/true);
  auto ens = states.index_select(0, idx);
  nlohmann::json params{{"beta", beta}, {"J", 1.0}, {"h", 0.0}, {"L", L}};
  auto t = measure_lattice(ens, "ising", params, chains);
  EXPECT_EQ(t.n_configurations, n);
  EXPECT_EQ(t.chains, chains);

  expect_within(t.at("energy_per_site"), e1, 4, "energy");
  expect_within(t.at("m"), 0.0, 4, "m");
  expect_within(t.at("abs_m"), am, 4, "abs_m");
  expect_within(t.at("chi"), V * m2, 4, "chi");
  expect_within(t.at("chi_connected"), V * (m2 - am * am), 4, "chi_connected");
  expect_within(t.at("binder"), 1 - m4 / (3 * m2 * m2), 4, "binder");
  expect_within(t.at("specific_heat"), beta * beta * V * (e2 - e1 * e1), 4, "specific_heat");
  // Sanity: a 10% wrong specific heat is rejected.
  EXPECT_GT(std::abs(t.at("specific_heat").mean - 1.1 * beta * beta * V * (e2 - e1 * e1)),
            4 * t.at("specific_heat").error);
  // Independent draws: tau_int = 1/2 for every quantity.
  for (const auto& kv : t.observables) {
    EXPECT_NEAR(kv.second.tau_int, 0.5, 4 * std::max(kv.second.tau_int_error, 0.01)) << kv.first;
  }
  const auto& g = t.array("G");
  const auto& c = t.array("C_t");
  ASSERT_EQ(g.values.size(), 3u);
  ASSERT_EQ(c.values.size(), 3u);
  EXPECT_DOUBLE_EQ(g.values[0].mean, 1.0);  // s^2 = 1 on every configuration
  EXPECT_EQ(g.values[0].error, 0.0);
  for (int r = 0; r <= 2; ++r) {
    if (r > 0) expect_within(g.values[r], g_exact[r].item<double>(), 4, "G");
    expect_within(c.values[r], c_exact[r].item<double>(), 4, "C_t");
  }
  const auto& me = t.array("m_eff");
  ASSERT_EQ(me.values.size(), 1u);
  EXPECT_EQ(me.distance[0], 1);
  const double c0 = c_exact[0].item<double>(), c1 = c_exact[1].item<double>(),
               c2 = c_exact[2].item<double>();
  expect_within(me.values[0], std::acosh((c0 + c2) / (2 * c1)), 4, "m_eff");
}

TEST(MeasureLattice, IidFreeFieldMatchesExactPropagator) {
  const int64_t L = 8, V = 64;
  const double m2 = 0.5;
  seed_all(7);
  auto ens = free_field_samples(4096, L, m2).to(torch::kFloat32);
  auto t = measure_lattice(ens, "phi4", {{"m2", m2}, {"lambda", 0.0}, {"L", L}}, 2);
  EXPECT_FALSE(t.contains("specific_heat"));
  auto d = momentum_propagator(L, m2);
  const double d0 = d[0][0].item<double>();
  auto g_exact = torch::real(torch::fft::ifft2(d));  // (1/V) sum_k D(k) e^{ikr}
  // Equipartition: <S> = V/2 for the quadratic action.
  expect_within(t.at("energy_per_site"), 0.5, 4, "energy");
  expect_within(t.at("m"), 0.0, 4, "m");
  expect_within(t.at("chi"), d0, 4, "chi");
  expect_within(t.at("abs_m"), std::sqrt(2 * d0 / (M_PI * V)), 4, "abs_m");
  expect_within(t.at("chi_connected"), d0 * (1 - 2 / M_PI), 4, "chi_connected");
  expect_within(t.at("binder"), 0.0, 4, "binder");
  for (const auto& kv : t.observables)
    EXPECT_NEAR(kv.second.tau_int, 0.5, 4 * std::max(kv.second.tau_int_error, 0.02)) << kv.first;
  const auto& g = t.array("G");
  for (int r = 0; r <= L / 2; ++r) expect_within(g.values[r], g_exact[r][0].item<double>(), 4, "G");
  // The free zero-momentum correlator is an exact cosh with cosh(m) = 1 + m2/2.
  auto c_exact = L * g_exact.sum(1);
  const double mass = std::acosh(1 + m2 / 2);
  EXPECT_LT((effective_mass(c_exact) - mass).abs().max().item<double>(), 1e-10);
  const auto& c = t.array("C_t");
  for (int r = 0; r <= L / 2; ++r) expect_within(c.values[r], c_exact[r].item<double>(), 4, "C_t");
  const auto& me = t.array("m_eff");
  ASSERT_EQ(me.values.size(), 3u);
  for (const auto& v : me.values) expect_within(v, mass, 4, "m_eff");
}

namespace {
// phi^4 action of DESIGN.md as a Target (for the Target overload).
class TestPhi4 : public Target {
 public:
  torch::Tensor action(const torch::Tensor& x) const override {
    auto d0 = torch::roll(x, {-1}, {1}) - x, d1 = torch::roll(x, {-1}, {2}) - x;
    return (d0 * d0 + d1 * d1 + 0.5 * x * x + 0.25 * x.pow(4)).sum({1, 2});
  }
  std::vector<int64_t> event_shape() const override { return {6, 6}; }
  std::string name() const override { return "phi4"; }
  nlohmann::json params() const override { return {{"L", 6}, {"m2", 0.5}, {"lambda", 0.25}}; }
};
}  // namespace

TEST(MeasureLattice, TargetOverloadAndJsonRoundTrip) {
  seed_all(9);
  auto ens = torch::randn({64, 6, 6}, torch::kFloat64);
  TestPhi4 target;
  auto a = measure_lattice(ens, target, 4);
  auto b = measure_lattice(ens, "phi4", target.params(), 4);
  EXPECT_NEAR(a.at("energy_per_site").mean, b.at("energy_per_site").mean, 1e-12);
  EXPECT_NEAR(a.at("energy_per_site").mean,
              (target.action(ens) / 36).mean().item<double>(), 1e-12);
  auto j = to_json(a);
  EXPECT_TRUE(j["observables"].contains("binder"));
  EXPECT_EQ(j["correlator"]["G"]["mean"].size(), 4u);
  auto back = observable_table_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.observables.size(), a.observables.size());
  for (const auto& kv : a.observables) {
    EXPECT_NEAR(back.at(kv.first).mean, kv.second.mean, 1e-12 * std::abs(kv.second.mean) + 1e-15);
    EXPECT_NEAR(back.at(kv.first).error, kv.second.error, 1e-12 * kv.second.error + 1e-15);
  }
  EXPECT_EQ(back.array("C_t").distance, a.array("C_t").distance);
  const std::string text = format_table(a);
  EXPECT_NE(text.find("chi_connected"), std::string::npos);
  EXPECT_NE(text.find("m_eff"), std::string::npos);
  EXPECT_EQ(format_value_error(0.123456, 0.000213), "0.12346 +- 0.00021");
  EXPECT_EQ(format_value_error(1234.5, 27.0), "1234 +- 27");
}

TEST(MeasureLattice, RejectsBadArguments) {
  auto ens = torch::ones({10, 4, 4}, torch::kInt8);
  nlohmann::json p{{"beta", 0.3}};
  try {
    measure_lattice(ens, "potts", p);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("ising|phi4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(measure_lattice(ens, "ising", p, 3), InvalidArgument);          // 3 does not divide 10
  EXPECT_THROW(measure_lattice(ens, "ising", nlohmann::json::object()), InvalidArgument);  // no beta
  EXPECT_THROW(measure_lattice(ens, "ising", {{"beta", 0.3}, {"L", 8}}), InvalidArgument);
  EXPECT_THROW(measure_lattice(ens * 2, "ising", p), InvalidArgument);         // not +-1
  EXPECT_THROW(measure_lattice(torch::ones({10, 4, 5}), "phi4", {{"m2", 1}, {"lambda", 1}}),
               InvalidArgument);
  auto t = measure_lattice(ens, "ising", p, 2);
  EXPECT_EQ(t.at("m").error, 0.0);  // constant field: no fluctuations
  try {
    t.at("magnetisation");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("abs_m"), std::string::npos) << e.what();
  }
}
