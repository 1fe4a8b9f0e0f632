// Adjoint sensitivities against direct backpropagation through the solver and against
// closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/ode/adjoint.h"
#include "physgen/ode/odeint.h"

using namespace physgen;

namespace {

TimeMLP make_field(int64_t dim, const std::string& conditioning) {
  torch::manual_seed(7);
  TimeMLP m(TimeMLPOptions(dim).hidden({16, 16}).time_conditioning(conditioning).time_embedding_dim(8));
  m->to(torch::kFloat64);
  return m;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

// L(y) = sum(w * sin(y)): a nonlinear loss so dL/dy1 depends on y1.
torch::Tensor loss_of(const torch::Tensor& y1, const torch::Tensor& w) {
  return (torch::sin(y1) * w).sum();
}

struct Grads {
  torch::Tensor y0;
  std::vector<torch::Tensor> params;
};

Grads collect(TimeMLP& m, const torch::Tensor& y0) {
  Grads g;
  g.y0 = y0.grad().clone();
  for (auto& p : m->parameters()) g.params.push_back(p.grad().clone());
  return g;
}

void zero_grads(TimeMLP& m, torch::Tensor& y0) {
  for (auto& p : m->parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  if (y0.grad().defined()) y0.mutable_grad().zero_();
}

void compare_adjoint_with_direct(const std::string& conditioning, double t0, double t1,
                                 const OdeOptions& options, double tolerance) {
  TimeMLP m = make_field(3, conditioning);
  auto y0 = torch::randn({5, 3}, torch::kFloat64).requires_grad_(true);
  auto w = torch::randn({5, 3}, torch::kFloat64);
  OdeFunction f = [&](double t, const torch::Tensor& y) { return m->forward(t, y); };

  auto direct = odeint(f, y0, t0, t1, options);
  ASSERT_TRUE(direct.ok()) << direct.summary();
  loss_of(direct.y(), w).backward();
  Grads gd = collect(m, y0);
  zero_grads(m, y0);

  auto adj = odeint_adjoint(m, y0, t0, t1, options);
  ASSERT_TRUE(adj.ok()) << adj.summary();
  EXPECT_LT(relative_error(adj.y(), direct.y()), 1e-12);
  loss_of(adj.y(), w).backward();
  Grads ga = collect(m, y0);
  ASSERT_TRUE(adj.backward);
  EXPECT_TRUE(adj.backward->ok()) << adj.backward->summary();
  EXPECT_GT(adj.backward->nfe, 0);
  EXPECT_DOUBLE_EQ(adj.backward->t, t0);

  EXPECT_LT(relative_error(ga.y0, gd.y0), tolerance) << "dL/dy0";
  for (size_t i = 0; i < gd.params.size(); ++i) {
    EXPECT_LT(relative_error(ga.params[i], gd.params[i]), tolerance) << "parameter " << i;
  }
  std::printf("%s [%g -> %g] %s: rel err dy0 %.2e, forward nfe %lld, backward nfe %lld\n",
              options.method().c_str(), t0, t1, conditioning.c_str(),
              relative_error(ga.y0, gd.y0), static_cast<long long>(adj.nfe),
              static_cast<long long>(adj.backward->nfe));
}

}  // namespace

TEST(Adjoint, MatchesDirectBackpropDopri5Forward) {
  compare_adjoint_with_direct("concat", 0.0, 1.0, OdeOptions("dopri5").rtol(1e-11).atol(1e-11),
                              1e-6);
}

TEST(Adjoint, MatchesDirectBackpropDopri5BackwardInTime) {
  compare_adjoint_with_direct("sinusoidal", 1.0, 0.0,
                              OdeOptions("dopri5").rtol(1e-11).atol(1e-11), 1e-6);
}

TEST(Adjoint, MatchesDirectBackpropRk4) {
  // The adjoint of the continuous problem and the derivative of the discrete RK4 map
  // differ by O(h^4): 400 steps make that ~1e-10.
  compare_adjoint_with_direct("concat", 0.0, 1.0, OdeOptions("rk4").n_steps(400), 1e-6);
}

TEST(Adjoint, LinearScalarOdeHasClosedFormGradients) {
  // y' = theta y: y(t) = y0 e^{theta t}; L = sum y(t) gives dL/dy0 = e^{theta t},
  // dL/dtheta = sum(y0) t e^{theta t}.
  auto theta = torch::tensor({0.7}, torch::kFloat64).requires_grad_(true);
  auto y0 = torch::tensor({1.0, -2.0, 0.5}, torch::kFloat64).requires_grad_(true);
  OdeFunction f = [&](double, const torch::Tensor& y) { return theta * y; };
  const double t = 1.3;
  auto r = odeint_adjoint(f, {theta}, y0, 0.0, t, OdeOptions().rtol(1e-12).atol(1e-12));
  r.y().sum().backward();
  const double e = std::exp(0.7 * t);
  EXPECT_NEAR(y0.grad()[0].item<double>(), e, 1e-9 * e);
  EXPECT_NEAR(theta.grad().item<double>(), -0.5 * t * e, 1e-9 * t * e);
}

TEST(Adjoint, AugmentedStateGradients) {
  // State {x (n, 2), s (n)} with dx/dt = v(t, x), ds/dt = |v|^2 (a kinetic-energy-like
  // accumulator); compare both components' gradients with direct backprop.
  TimeMLP m = make_field(2, "concat");
  auto x0 = torch::randn({4, 2}, torch::kFloat64).requires_grad_(true);
  auto s0 = torch::zeros({4}, torch::kFloat64);
  OdeSystem f = [&](double t, const OdeState& s) {
    auto v = m->forward(t, s[0]);
    return OdeState{v, v.square().sum(1)};
  };
  auto o = OdeOptions().rtol(1e-11).atol(1e-11);
  auto direct = odeint(f, {x0, s0}, 0.0, 1.0, o);
  (direct.state[0].square().sum() + direct.state[1].sum()).backward();
  Grads gd = collect(m, x0);
  zero_grads(m, x0);
  auto adj = odeint_adjoint(f, m->parameters(), {x0, s0}, 0.0, 1.0, o);
  (adj.state[0].square().sum() + adj.state[1].sum()).backward();
  Grads ga = collect(m, x0);
  EXPECT_LT(relative_error(ga.y0, gd.y0), 1e-6);
  for (size_t i = 0; i < gd.params.size(); ++i) {
    EXPECT_LT(relative_error(ga.params[i], gd.params[i]), 1e-6) << "parameter " << i;
  }
}

TEST(Adjoint, FailedBackwardSolveGivesNanGradientsAndStatus) {
  auto theta = torch::tensor({0.7}, torch::kFloat64).requires_grad_(true);
  auto y0 = torch::tensor({1.0}, torch::kFloat64).requires_grad_(true);
  OdeFunction f = [&](double, const torch::Tensor& y) { return theta * y; };
  AdjointOptions a;
  a.backward(OdeOptions().rtol(1e-30).atol(1e-300));
  auto r = odeint_adjoint(f, {theta}, y0, 0.0, 1.0, OdeOptions(), a);
  EXPECT_TRUE(r.ok());
  r.y().sum().backward();
  EXPECT_EQ(r.backward->status, OdeStatus::StepSizeUnderflow) << r.backward->summary();
  EXPECT_TRUE(std::isnan(theta.grad().item<double>()));
}

TEST(Adjoint, RejectsRecordedTimes) {
  auto y0 = torch::ones({2}, torch::kFloat64);
  OdeFunction f = [](double, const torch::Tensor& y) { return -y; };
  EXPECT_THROW(odeint_adjoint(f, {}, y0, 0.0, 1.0, OdeOptions().t_eval({0.5})), InvalidArgument);
  EXPECT_THROW(odeint_adjoint(f, {}, y0, 0.0, 1.0, OdeOptions("heun")), InvalidArgument);
}
