// Continuous normalizing flows: exact log-density changes, trace estimators,
// regularisers, model contract.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/cnf/cnf.h"
#include "physgen/models/cnf/log_density.h"
#include "physgen/models/cnf/neural_ode.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/ode/trace.h"

using namespace physgen;

namespace {

const OdeOptions kTight = OdeOptions().rtol(1e-10).atol(1e-10);

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// A CNF whose field is the constant v: every weight zero, last bias v.
CNF constant_field_cnf(const torch::Tensor& v) {
  CNF m(CNFOptions({v.size(0)}).solver(kTight));
  m->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.zero_();
  auto last = m->field->layers[m->field->layers->size() - 1]->as<torch::nn::Linear>();
  last->bias.copy_(v);
  return m;
}

}  // namespace

TEST(CNF, LinearContractionChangesLogDensityByDimTimesTime) {
  // v = -x: div v = -d, so log p_t(x(t)) - log p_0(x(0)) = d t for every sample.
  torch::manual_seed(1);
  auto x = torch::randn({6, 3}, torch::kFloat64);
  VelocityField v = [](double, const torch::Tensor& y) { return -y; };
  const double t = 0.7, d = 3.0;
  for (const std::string trace : {"exact", "hutchinson"}) {
    auto o = LogDensityOptions().trace(trace).solver(kTight);
    auto fwd = integrate_log_density(v, {}, x, 0.0, t, o);
    ASSERT_TRUE(fwd.ode.ok());
    EXPECT_LT(max_abs(fwd.delta_log_density - d * t), 1e-9) << trace;
    EXPECT_LT(max_abs(fwd.x - x * std::exp(-t)), 1e-9) << trace;
    auto bwd = integrate_log_density(v, {}, x, t, 0.0, o);
    EXPECT_LT(max_abs(bwd.delta_log_density + d * t), 1e-9) << trace;
  }
  // Through the flow convention: log p_1(x) = log N(e x) + d.
  auto fd = flow_log_prob(v, {}, x, LogDensityOptions().solver(kTight));
  EXPECT_LT(max_abs(fd.log_prob - (standard_normal_log_prob(x * std::exp(1.0)) + d)), 1e-8);
}

TEST(CNF, ConstantVelocityShiftsTheBaseDensity) {
  // v constant: x(1) = x(0) + v and log q(x) = log N(x - v).
  auto v = torch::tensor({0.5, -1.5, 2.0}, torch::kFloat64);
  CNF m = constant_field_cnf(v);
  m->eval();
  torch::manual_seed(2);
  auto x = torch::randn({8, 3}, torch::kFloat64) * 2;
  auto lq = m->log_prob(x);
  EXPECT_TRUE(m->last_stats().ok());
  EXPECT_LT(max_abs(lq - standard_normal_log_prob(x - v)), 1e-10);
  auto [s, ls] = m->sample_and_log_prob(16);
  EXPECT_LT(max_abs(ls - standard_normal_log_prob(s - v)), 1e-10);
  m->train();  // Hutchinson in training mode: zero Jacobian, still exact
  EXPECT_LT(max_abs(m->log_prob(x) - standard_normal_log_prob(x - v)), 1e-10);
}

TEST(CNF, HutchinsonIsUnbiasedForTraceAndFrobeniusNorm) {
  torch::manual_seed(3);
  const int64_t d = 4, probes = 20000;
  TimeMLP f(TimeMLPOptions(d).hidden({32, 32}));
  f->to(torch::kFloat64);
  auto x0 = torch::randn({1, d}, torch::kFloat64);
  auto x = x0.expand({probes, d}).clone().requires_grad_(true);
  auto v = f->forward(0.3, x);
  auto exact = divergence_exact(v, x, false, true);
  const double tr = exact.trace[0].item<double>();
  const double fro = exact.frobenius_sq[0].item<double>();
  // Exact trace against the central finite-difference Jacobian of the single sample.
  auto jac = torch::zeros({d, d}, torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    const double h = 1e-5;
    for (int64_t j = 0; j < d; ++j) {
      auto e = torch::zeros({1, d}, torch::kFloat64);
      e[0][j] = h;
      jac.select(1, j).copy_(((f->forward(0.3, x0 + e) - f->forward(0.3, x0 - e)) / (2 * h))[0]);
    }
  }
  EXPECT_NEAR(tr, jac.trace().item<double>(), 1e-8);
  EXPECT_NEAR(fro, jac.square().sum().item<double>(), 1e-8);
  for (const std::string dist : {"rademacher", "gaussian"}) {
    auto eps = sample_probe(x, dist);
    auto est = divergence_hutchinson(v, x, eps, false, true);
    for (auto pair : {std::make_pair(est.trace, tr), std::make_pair(est.frobenius_sq, fro)}) {
      const double mean = pair.first.mean().item<double>();
      const double se = pair.first.std().item<double>() / std::sqrt(double(probes));
      std::printf("%s: estimate %.5f +- %.5f, exact %.5f\n", dist.c_str(), mean, se, pair.second);
      EXPECT_GT(se, 0.0);
      EXPECT_LT(std::abs(mean - pair.second), 4 * se) << dist;
      // The test can fail: a value 10 standard errors off is rejected.
      EXPECT_GT(std::abs(mean - (pair.second + 10 * se)), 4 * se);
    }
  }
}

TEST(CNF, RegularisersHaveClosedForms) {
  torch::manual_seed(4);
  auto x = torch::randn({5, 2}, torch::kFloat64);
  VelocityField contraction = [](double, const torch::Tensor& y) { return -y; };
  for (const std::string trace : {"exact", "hutchinson"}) {
    auto o = LogDensityOptions().trace(trace).kinetic_energy(true).jacobian_frobenius(true).solver(kTight);
    // Backward in time: the accumulators are still positive integrals over |dt|.
    auto s = integrate_log_density(contraction, {}, x, 1.0, 0.0, o);
    // ||dv/dx||_F^2 = ||-I||_F^2 = d; |v(t)|^2 = |x(t)|^2 with x(t) = x(1) e^{1 - t}.
    EXPECT_LT(max_abs(s.jacobian - 2.0), 1e-9) << trace;
    auto expected = x.square().sum(1) * (std::exp(2.0) - 1) / 2;
    EXPECT_LT(max_abs(s.kinetic - expected), 1e-8) << trace;
  }
}

TEST(CNF, LogDensityNormalisesInOneDimension) {
  torch::manual_seed(5);
  CNF m(CNFOptions({1})
            .field(TimeMLPOptions(1).hidden({16, 16}))
            .solver(OdeOptions().rtol(1e-8).atol(1e-8)));
  m->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.normal_(0.0, 0.7);
  }
  m->eval();
  const int64_t n = 801;
  auto grid = torch::linspace(-12.0, 12.0, n, torch::kFloat64).unsqueeze(1);
  torch::Tensor q;
  {
    torch::NoGradGuard no_grad;
    q = m->log_prob(grid).exp();
  }
  ASSERT_TRUE(m->last_stats().ok()) << m->last_stats().summary();
  const double h = 24.0 / (n - 1);
  const double mass = (q.sum().item<double>() - 0.5 * (q[0] + q[n - 1]).item<double>()) * h;
  // The flow must actually deform the base for the check to mean something.
  auto inner = grid.abs().squeeze(1) < 3.0;
  const double deformation =
      (q.log() - standard_normal_log_prob(grid)).index({inner}).abs().max().item<double>();
  std::printf("integral of q over [-12, 12]: %.8f (max |log q - log N| on [-3, 3]: %.2f)\n",
              mass, deformation);
  EXPECT_GT(deformation, 0.3);
  EXPECT_NEAR(mass, 1.0, 1e-5);
}

TEST(CNF, SampleAndLogProbAgreeWithLogProb) {
  torch::manual_seed(6);
  CNF m(CNFOptions({2}).field(TimeMLPOptions(2).hidden({16, 16})).solver(kTight));
  m->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.normal_(0.0, 0.4);
  }
  m->eval();
  torch::NoGradGuard no_grad;
  auto [x, lq] = m->sample_and_log_prob(32);
  EXPECT_LT(max_abs(m->log_prob(x) - lq), 1e-7);
  torch::manual_seed(9);
  auto xs = m->sample(4);
  torch::manual_seed(9);
  auto xs2 = m->sample_and_log_prob(4).first;
  EXPECT_LT(max_abs(xs - xs2), 1e-8);
}

TEST(CNF, AdjointLossGradientsMatchDirectBackprop) {
  auto make = [](bool adjoint) {
    torch::manual_seed(7);
    CNF m(CNFOptions({2})
              .field(TimeMLPOptions(2).hidden({16}).zero_init_output(false))
              .kinetic_weight(0.1)
              .jacobian_weight(0.05)
              .solver(OdeOptions().rtol(1e-10).atol(1e-10))
              .adjoint(adjoint));
    m->to(torch::kFloat64);
    return m;
  };
  auto batch = torch::randn({8, 2}, torch::kFloat64);
  std::vector<std::vector<torch::Tensor>> grads;
  for (bool adjoint : {false, true}) {
    CNF m = make(adjoint);
    torch::manual_seed(11);  // same Hutchinson probe for both
    m->loss(batch).backward();
    std::vector<torch::Tensor> g;
    for (auto& p : m->parameters()) g.push_back(p.grad().clone());
    grads.push_back(g);
  }
  for (size_t i = 0; i < grads[0].size(); ++i) {
    const double rel = max_abs(grads[0][i] - grads[1][i]) / max_abs(grads[0][i]);
    EXPECT_LT(rel, 1e-6) << "parameter " << i;
  }
}

TEST(CNF, FailedSolveGivesNanAndStatus) {
  CNF m(CNFOptions({2}).field(TimeMLPOptions(2).zero_init_output(false)).solver(
      OdeOptions().rtol(1e-12).atol(1e-12).max_steps(2)));
  m->eval();
  auto lq = m->log_prob(torch::randn({3, 2}));
  EXPECT_EQ(m->last_stats().status, OdeStatus::MaxStepsReached);
  EXPECT_TRUE(torch::isnan(lq).all().item<bool>());
}

TEST(CNF, ValidatesArguments) {
  CNF m(CNFOptions({2}));
  EXPECT_THROW(m->log_prob(torch::randn({3, 3})), InvalidArgument);
  EXPECT_THROW(CNF(CNFOptions({2}).trace("skilling")), InvalidArgument);
  EXPECT_THROW(CNF(CNFOptions({2}).solver(OdeOptions("rk4"))), InvalidArgument);
  EXPECT_THROW(CNF(CNFOptions({})), InvalidArgument);
  EXPECT_EQ(m->event_shape(), std::vector<int64_t>({2}));
}

TEST(NeuralODE, AdjointAndDirectAgree) {
  auto make = [](bool adjoint) {
    torch::manual_seed(8);
    NeuralODE m(NeuralODEOptions({2, 2})
                    .field(TimeMLPOptions(1).hidden({8}))
                    .solver(OdeOptions().rtol(1e-10).atol(1e-10))
                    .adjoint(adjoint));
    m->to(torch::kFloat64);
    return m;
  };
  auto x = torch::randn({3, 2, 2}, torch::kFloat64);
  std::vector<torch::Tensor> outs, grads;
  for (bool adjoint : {false, true}) {
    NeuralODE m = make(adjoint);
    auto y = m->forward(x);
    EXPECT_EQ(y.sizes(), x.sizes());
    y.square().sum().backward();
    outs.push_back(y.detach());
    grads.push_back(m->parameters()[0].grad().clone());
    EXPECT_TRUE(m->last_stats().ok());
  }
  EXPECT_LT(max_abs(outs[0] - outs[1]), 1e-12);
  EXPECT_LT(max_abs(grads[0] - grads[1]) / max_abs(grads[0]), 1e-6);
}
