// odeint: convergence orders, tolerance control, failure statuses, augmented states.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/ode/odeint.h"
#include "physgen/ode/state.h"

using namespace physgen;

namespace {

// dy/dt = A y with A = [[-a, w], [-w, -a]]: y(t) = e^{-a (t - t0)} R(w (t - t0)) y0,
// R(phi) = [[cos, sin], [-sin, cos]]. Batched: y is (n, 2), rows are states.
constexpr double kA = 0.5, kW = 2.0;

torch::Tensor linear_rhs(double, const torch::Tensor& y) {
  auto y0 = y.select(1, 0), y1 = y.select(1, 1);
  return torch::stack({-kA * y0 + kW * y1, -kW * y0 - kA * y1}, 1);
}

torch::Tensor linear_exact(const torch::Tensor& y0, double dt) {
  const double d = std::exp(-kA * dt), c = std::cos(kW * dt), s = std::sin(kW * dt);
  auto a = y0.select(1, 0), b = y0.select(1, 1);
  return torch::stack({d * (c * a + s * b), d * (-s * a + c * b)}, 1);
}

torch::Tensor initial_states() {
  return torch::tensor({{1.0, 0.0}, {0.3, -0.7}, {-1.2, 0.4}}, torch::kFloat64);
}

double max_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

double fixed_error(const std::string& method, int64_t n, double t0, double t1) {
  auto y0 = initial_states();
  auto r = odeint(linear_rhs, y0, t0, t1, OdeOptions(method).n_steps(n));
  EXPECT_TRUE(r.ok()) << r.summary();
  return max_error(r.y(), linear_exact(y0, t1 - t0));
}

void expect_order(const std::string& method, int order, double t0, double t1) {
  // Error ratios for n -> 2n must approach 2^p.
  // Euler's error keeps a sizable O(h^2) part for longer: start it on a finer grid.
  const double expected = std::pow(2.0, order);
  const int64_t base = order == 1 ? 128 : 16;
  for (int64_t n : {base, 2 * base, 4 * base}) {
    const double e1 = fixed_error(method, n, t0, t1);
    const double e2 = fixed_error(method, 2 * n, t0, t1);
    const double ratio = e1 / e2;
    EXPECT_NEAR(ratio / expected, 1.0, 0.12)
        << method << " n=" << n << " errors " << e1 << " " << e2 << " ratio " << ratio;
  }
}

}  // namespace

TEST(Odeint, EulerConvergesWithOrderOneForwardAndBackward) {
  expect_order("euler", 1, 0.0, 2.0);
  expect_order("euler", 1, 2.0, 0.0);
}

TEST(Odeint, MidpointConvergesWithOrderTwoForwardAndBackward) {
  expect_order("midpoint", 2, 0.0, 2.0);
  expect_order("midpoint", 2, 1.5, -0.5);
}

TEST(Odeint, Rk4ConvergesWithOrderFourForwardAndBackward) {
  expect_order("rk4", 4, 0.0, 2.0);
  expect_order("rk4", 4, 2.0, 0.0);
}

TEST(Odeint, FixedStepCountsAndStepSize) {
  auto y0 = initial_states();
  auto r = odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions("rk4").n_steps(10));
  EXPECT_EQ(r.nfe, 40);
  EXPECT_EQ(r.accepted_steps, 10);
  EXPECT_DOUBLE_EQ(r.t, 1.0);
  // step_size 0.3 over [0, 1] -> ceil(3.33) = 4 equal steps.
  auto s = odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions("midpoint").step_size(0.3));
  EXPECT_EQ(s.accepted_steps, 4);
  EXPECT_EQ(s.nfe, 8);
  auto ref = odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions("midpoint").n_steps(4));
  EXPECT_TRUE(torch::equal(s.y(), ref.y()));
}

TEST(Odeint, Dopri5MeetsItsToleranceForwardAndBackward) {
  auto y0 = initial_states();
  for (double tol : {1e-4, 1e-6, 1e-8, 1e-10}) {
    for (auto span : {std::pair<double, double>{0.0, 3.0}, {3.0, 0.0}}) {
      auto r = odeint(linear_rhs, y0, span.first, span.second,
                      OdeOptions("dopri5").rtol(tol).atol(tol));
      ASSERT_TRUE(r.ok()) << r.summary();
      // Global error in units of the per-component tolerance atol + rtol |y|: within a
      // small multiple of 1 (local errors are controlled, the flow is stable forward and
      // grows by e^{1.5} = 4.5 backward).
      auto exact = linear_exact(y0, span.second - span.first);
      const double err = ((r.y() - exact).abs() / (tol + tol * exact.abs())).max().item<double>();
      EXPECT_LT(err, 10.0) << "tol " << tol << " " << r.summary();
      std::printf("dopri5 tol %.0e span [%g, %g]: error / tolerance = %.2f, nfe %lld\n", tol,
                  span.first, span.second, err, static_cast<long long>(r.nfe));
      EXPECT_EQ(r.nfe, 2 + 6 * (r.accepted_steps + r.rejected_steps)) << r.summary();
    }
  }
}

TEST(Odeint, Dopri5WorkDecreasesWithLooserTolerance) {
  auto y0 = initial_states();
  auto tight = odeint(linear_rhs, y0, 0.0, 3.0, OdeOptions().rtol(1e-10).atol(1e-10));
  auto loose = odeint(linear_rhs, y0, 0.0, 3.0, OdeOptions().rtol(1e-4).atol(1e-4));
  EXPECT_GT(tight.nfe, 3 * loose.nfe);
}

TEST(Odeint, Dopri5ReportsUnreachableToleranceAsStepSizeUnderflow) {
  auto y0 = initial_states();
  // A relative tolerance far below double precision cannot be met by any step.
  auto r = odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions().rtol(1e-30).atol(1e-300));
  EXPECT_EQ(r.status, OdeStatus::StepSizeUnderflow) << r.summary();
  EXPECT_LT(r.t, 1.0);
  EXPECT_FALSE(r.ok());
}

TEST(Odeint, Dopri5ReportsExhaustedStepBudget) {
  auto y0 = initial_states();
  auto r = odeint(linear_rhs, y0, 0.0, 50.0, OdeOptions().rtol(1e-10).atol(1e-10).max_steps(20));
  EXPECT_EQ(r.status, OdeStatus::MaxStepsReached) << r.summary();
  EXPECT_EQ(r.accepted_steps + r.rejected_steps, 20);
  EXPECT_GT(r.t, 0.0);
  EXPECT_LT(r.t, 50.0);
  // The returned state is the true solution at the time reached, not garbage.
  EXPECT_LT(max_error(r.y(), linear_exact(y0, r.t)), 1e-8);
}

TEST(Odeint, BlowUpIsAFailureNotAHang) {
  // y' = y^2, y(0) = 1 has y = 1 / (1 - t): singular at t = 1.
  auto rhs = [](double, const torch::Tensor& y) { return y * y; };
  auto y0 = torch::ones({1}, torch::kFloat64);
  auto r = odeint(rhs, y0, 0.0, 2.0, OdeOptions().max_steps(5000));
  EXPECT_FALSE(r.ok()) << r.summary();
  std::printf("blow-up: %s (t - 1 = %.3g)\n", r.summary().c_str(), r.t - 1.0);
  EXPECT_LT(r.t, 1.01) << r.summary();
}

TEST(Odeint, NonFiniteRightHandSideIsReported) {
  auto rhs = [](double t, const torch::Tensor& y) {
    return t > 0.5 ? torch::full_like(y, std::numeric_limits<double>::quiet_NaN()) : -y;
  };
  auto y0 = torch::ones({4}, torch::kFloat64);
  auto a = odeint(rhs, y0, 0.0, 1.0);
  EXPECT_EQ(a.status, OdeStatus::NonFinite) << a.summary();
  EXPECT_LE(a.t, 0.5);
  auto b = odeint(rhs, y0, 0.0, 1.0, OdeOptions("rk4").n_steps(10));
  EXPECT_EQ(b.status, OdeStatus::NonFinite) << b.summary();
}

TEST(Odeint, UnknownMethodListsValidNames) {
  auto y0 = initial_states();
  try {
    odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions("rk45"));
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'rk45'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dopri5|euler|midpoint|rk4"), std::string::npos) << msg;
  }
  EXPECT_THROW(odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions("euler")), InvalidArgument);
  EXPECT_THROW(odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions().rtol(-1)), InvalidArgument);
  EXPECT_THROW(odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions().t_eval({0.5, 0.2})),
               InvalidArgument);
  EXPECT_THROW(odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions().t_eval({1.5})), InvalidArgument);
  auto wrong_shape = [](double, const torch::Tensor& y) { return y.sum(1); };
  EXPECT_THROW(odeint(wrong_shape, y0, 0.0, 1.0), InvalidArgument);
}

TEST(Odeint, RecordsStatesAtRequestedTimes) {
  auto y0 = initial_states();
  const std::vector<double> times = {0.0, 0.25, 1.0, 1.7, 2.0};
  for (const std::string method : {"rk4", "dopri5"}) {
    auto o = OdeOptions(method).n_steps(400).rtol(1e-9).atol(1e-9).t_eval(times);
    auto r = odeint(linear_rhs, y0, 0.0, 2.0, o);
    ASSERT_TRUE(r.ok()) << r.summary();
    ASSERT_EQ(r.times.size(), times.size());
    for (size_t i = 0; i < times.size(); ++i) {
      EXPECT_DOUBLE_EQ(r.times[i], times[i]);
      EXPECT_LT(max_error(r.states[i][0], linear_exact(y0, times[i])), 1e-8) << method << " " << i;
    }
    // Backward with recorded times.
    auto back = odeint(linear_rhs, y0, 2.0, 0.0, o.t_eval({1.5, 0.5}));
    ASSERT_TRUE(back.ok());
    EXPECT_LT(max_error(back.states[1][0], linear_exact(y0, -1.5)), 1e-8) << method;
  }
}

TEST(Odeint, AugmentedStateMatchesFlattenedState) {
  // Two components, y (n, 2) and a scalar accumulator z (n) with dz/dt = |y|^2.
  auto y0 = initial_states();
  auto z0 = torch::zeros({3}, torch::kFloat64);
  OdeSystem sys = [](double t, const OdeState& s) {
    return OdeState{linear_rhs(t, s[0]), s[0].square().sum(1)};
  };
  auto o = OdeOptions().rtol(1e-10).atol(1e-10);
  auto r = odeint(sys, {y0, z0}, 0.0, 1.0, o);
  ASSERT_TRUE(r.ok());
  // |y(t)|^2 = e^{-2 a t} |y0|^2, so z(1) = |y0|^2 (1 - e^{-2a}) / (2a).
  auto z_exact = y0.square().sum(1) * (1 - std::exp(-2 * kA)) / (2 * kA);
  EXPECT_LT(max_error(r.state[1], z_exact), 1e-9);
  EXPECT_LT(max_error(r.state[0], linear_exact(y0, 1.0)), 1e-9);

  // Same system through the flattening helpers and the single-tensor solver.
  StateLayout layout = state_layout({y0, z0});
  auto flat_rhs = [&](double t, const torch::Tensor& flat) {
    return flatten_state(sys(t, unflatten_state(flat, layout)));
  };
  auto rf = odeint(flat_rhs, flatten_state({y0, z0}), 0.0, 1.0, o);
  auto back = unflatten_state(rf.y(), layout);
  EXPECT_LT(max_error(back[1], z_exact), 1e-9);
  EXPECT_LT(max_error(back[0], linear_exact(y0, 1.0)), 1e-9);
}

TEST(Odeint, DirectBackpropMatchesExactSensitivity) {
  // d y(t)/d y0 = e^{A t}: for L = sum(w * y(t)), dL/dy0 = e^{A t}^T w.
  auto y0 = initial_states().requires_grad_(true);
  auto w = torch::tensor({{0.5, -1.0}, {2.0, 0.1}, {-0.3, 0.8}}, torch::kFloat64);
  auto r = odeint(linear_rhs, y0, 0.0, 1.0, OdeOptions().rtol(1e-11).atol(1e-11));
  (r.y() * w).sum().backward();
  // e^{A t}^T w = e^{-a t} R(w t)^T w = e^{-a t} R(-w t) w.
  auto expected = linear_exact(w, -1.0) * std::exp(-2 * kA * 1.0);
  // linear_exact(w, -1) = e^{+a} R(-w) w; multiply by e^{-2a} -> e^{-a} R(-w) w.
  EXPECT_LT(max_error(y0.grad(), expected), 1e-8);
}

TEST(Odeint, ZeroSpanReturnsInitialState) {
  auto y0 = initial_states();
  auto r = odeint(linear_rhs, y0, 1.0, 1.0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.nfe, 0);
  EXPECT_TRUE(torch::equal(r.y(), y0));
}
