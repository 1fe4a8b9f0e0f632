// Exact checks of the flow building blocks: periodic conv vs Conv2d(kCircular), MADE's
// autoregressive structure, base-distribution normalisation, masks, options round trips,
// importance-weight helpers and the independence Metropolis chain's bookkeeping.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/models/flows/base.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/flows/masks.h"
#include "physgen/nn/conv.h"
#include "physgen/nn/made.h"
#include "physgen/nn/mlp.h"
#include "physgen/observables/estimators/gamma_method.h"

using namespace physgen;

// Every kernel path: compile-time widths, channel chunks (16 = 2 x 8 floats, 4 x 4 doubles),
// run-time widths (3, 5); float and double; kernel sizes 1, 3, 5.
TEST(PeriodicConv, MatchesConv2dWithCircularPaddingIncludingGradients) {
  torch::manual_seed(0);
  const std::vector<std::pair<int64_t, int64_t>> channels{{3, 4}, {5, 16}, {16, 3}, {1, 8}, {8, 1}};
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 2e-5;
    for (int64_t k : {1, 3, 5})
      for (auto ch : channels) {
        auto conv = PeriodicConv2d(PeriodicConv2dOptions(ch.first, ch.second, k));
        conv->to(dtype);
        auto ref = torch::nn::Conv2d(torch::nn::Conv2dOptions(ch.first, ch.second, k)
                                         .padding(k / 2)
                                         .padding_mode(torch::kCircular));
        ref->to(dtype);
        {
          torch::NoGradGuard no_grad;
          ref->weight.copy_(conv->weight.permute({3, 2, 0, 1}));
          ref->bias.copy_(conv->bias);
        }
        auto x = torch::randn({5, ch.first, 6, 5}, dtype).requires_grad_(true);
        auto x2 = x.detach().clone().requires_grad_(true);
        auto y = conv->forward(x);
        auto y2 = ref->forward(x2);
        const std::string what = "k " + std::to_string(k) + ", " + std::to_string(ch.first) +
                                 " -> " + std::to_string(ch.second);
        EXPECT_LT((y - y2).abs().max().item<double>(), tol) << what;
        auto w = torch::randn_like(y);
        (y * w).sum().backward();
        (y2 * w).sum().backward();
        EXPECT_LT((x.grad() - x2.grad()).abs().max().item<double>(), tol) << what;
        EXPECT_LT((conv->weight.grad().permute({3, 2, 0, 1}) - ref->weight.grad())
                      .abs()
                      .max()
                      .item<double>(),
                  10 * tol)
            << what;
        EXPECT_LT((conv->bias.grad() - ref->bias.grad()).abs().max().item<double>(), 10 * tol)
            << what;
      }
  }
}

TEST(PeriodicConv, NetIsTranslationEquivariantOnTheTorus) {
  torch::manual_seed(1);
  auto net = PeriodicConvNet(PeriodicConvNetOptions(1, {4, 4}, 2));
  auto x = torch::randn({3, 1, 6, 6});
  auto y = net->forward(x);
  auto ys = net->forward(x.roll({2, -1}, {2, 3}));
  EXPECT_LT((ys - y.roll({2, -1}, {2, 3})).abs().max().item<double>(), 1e-5);
}

TEST(MLP, ZeroInitLastLayerOutputsZero) {
  auto mlp = MLP(MLPOptions(3, {8}, 2).zero_init_last(true));
  EXPECT_EQ(mlp->forward(torch::randn({5, 3})).abs().max().item<double>(), 0.0);
}

// d out[:, j, i] / d x_m must vanish unless m precedes i in the ordering.
TEST(MADE, ForwardFeatureEqualsTheFullPassColumn) {
  // The sampling path (context term once, one feature's outputs per call) must equal the
  // full pass; with and without context.
  torch::manual_seed(3);
  for (int64_t C : {0, 3}) {
    const int64_t D = 6, K = 2;
    auto made = MADE(MADEOptions(D, {20, 20}, K).context_features(C));
    made->to(torch::kFloat64);
    const auto x = torch::randn({4, D}, torch::kFloat64);
    const auto c = C > 0 ? torch::randn({4, C}, torch::kFloat64) : torch::Tensor();
    const auto full = made->forward(x, c);
    const auto term = made->context_term(c);
    EXPECT_EQ(term.defined(), C > 0);
    for (int64_t i = 0; i < D; ++i)
      EXPECT_TRUE(torch::allclose(made->forward_feature(x, term, i), full.select(2, i), 1e-14, 1e-14)) << C << " " << i;
    // Control: another feature's outputs differ.
    EXPECT_FALSE(torch::allclose(made->forward_feature(x, term, 1), full.select(2, 2)));
  }
}

TEST(MADE, OutputsDependOnlyOnEarlierInputs) {
  torch::manual_seed(2);
  for (bool reverse : {false, true}) {
    const int64_t D = 5, K = 3;
    // tanh: no dead units, so every allowed dependence shows up in the gradient.
    auto made = MADE(MADEOptions(D, {16, 16}, K)
                         .reverse_order(reverse)
                         .context_features(2)
                         .activation(Activation::kTanh));
    made->to(torch::kFloat64);
    auto x = torch::randn({1, D}, torch::kFloat64).requires_grad_(true);
    auto c = torch::randn({1, 2}, torch::kFloat64).requires_grad_(true);
    auto out = made->forward(x, c);
    for (int64_t j = 0; j < K; ++j)
      for (int64_t i = 0; i < D; ++i) {
        auto g = torch::autograd::grad({out[0][j][i]}, {x, c}, {}, true, false, true);
        for (int64_t m = 0; m < D; ++m) {
          const double d = g[0].defined() ? g[0][0][m].item<double>() : 0.0;
          if (made->input_degree(m) >= made->input_degree(i)) {
            EXPECT_EQ(d, 0.0) << "output (" << j << "," << i << ") depends on input " << m;
          }
        }
        // Every output, the first in the ordering included, sees the context.
        ASSERT_TRUE(g[1].defined());
        EXPECT_GT(g[1].abs().sum().item<double>(), 0.0);
      }
  }
}

TEST(BaseDistributions, ExactNormalisation) {
  auto x = torch::tensor({{0.3, -1.2, 2.0}, {0.0, 0.0, 0.0}}, torch::kFloat64);
  auto sn = StandardNormal(std::vector<int64_t>{3});
  auto lp = sn->log_prob(x);
  const double c = -1.5 * std::log(2 * M_PI);
  EXPECT_NEAR(lp[0].item<double>(), c - 0.5 * (0.09 + 1.44 + 4.0), 1e-12);
  EXPECT_NEAR(lp[1].item<double>(), c, 1e-12);

  auto dg = DiagonalGaussian(DiagonalGaussianOptions({3}).loc(0.5).log_scale(std::log(2.0)));
  dg->to(torch::kFloat64);
  double expect = 0;
  for (double v : {0.3, -1.2, 2.0}) {
    const double u = (v - 0.5) / 2.0;
    expect += -0.5 * u * u - std::log(2.0) - 0.5 * std::log(2 * M_PI);
  }
  // (loc and log_scale were created in float32: log 2 carries a ~1e-8 rounding.)
  EXPECT_NEAR(dg->log_prob(x)[0].item<double>(), expect, 1e-6);
  EXPECT_FALSE(dg->symmetric());
  EXPECT_TRUE(sn->symmetric());
  // Learnable vs fixed: same checkpoint keys, parameters only when learnable.
  auto fixed = DiagonalGaussian(DiagonalGaussianOptions({3}).learnable(false));
  EXPECT_EQ(fixed->parameters().size(), 0u);
  EXPECT_EQ(fixed->named_buffers().size(), 2u);
  EXPECT_EQ(dg->parameters().size(), 2u);
}

TEST(BaseDistributions, SampleMomentsMatch) {
  torch::manual_seed(4);
  auto dg = DiagonalGaussian(DiagonalGaussianOptions({2}).loc(1.0).log_scale(std::log(0.5)));
  auto z = dg->sample(200000, torch::TensorOptions()).detach();
  // Standard errors: 0.5 / sqrt(2e5) ~ 1.1e-3 for the mean.
  EXPECT_NEAR(z.mean().item<double>(), 1.0, 5e-3);
  EXPECT_NEAR(z.std().item<double>(), 0.5, 5e-3);
}

TEST(Masks, CheckerboardAndVectorMasks) {
  auto m = checkerboard_mask(4, 4, 0);
  EXPECT_EQ(m.sum().item<double>(), 8.0);
  // Nearest neighbours (periodic) have the other colour.
  EXPECT_TRUE(torch::equal(m + m.roll(1, 0), torch::ones({4, 4})));
  EXPECT_TRUE(torch::equal(m + m.roll(1, 1), torch::ones({4, 4})));
  EXPECT_TRUE(torch::equal(checkerboard_mask(4, 4, 1), 1 - m));
  EXPECT_TRUE(torch::equal(vector_mask(5, VectorMask::kHalves),
                           torch::tensor({1.f, 1.f, 1.f, 0.f, 0.f})));
  EXPECT_TRUE(torch::equal(vector_mask(4, VectorMask::kAlternating, true),
                           torch::tensor({0.f, 1.f, 0.f, 1.f})));
  EXPECT_THROW(vector_mask(1, VectorMask::kHalves), InvalidArgument);
}

TEST(FlowFactory, OptionsRoundTripThroughJsonAndRebuildTheSameKeys) {
  auto o = FlowOptions("spline", {4, 4}).n_layers(3).hidden({6}).spline_bins(5).z2_equivariant(true);
  auto j = flow_options_to_json(o);
  auto o2 = flow_options_from_json(j);
  EXPECT_EQ(flow_options_to_json(o2), j);
  auto a = make_flow(o), b = make_flow(o2);
  auto ka = a->named_parameters().keys(), kb = b->named_parameters().keys();
  EXPECT_EQ(ka, kb);
  EXPECT_THROW(flow_options_from_json(nlohmann::json{{"coupling", "affine"},
                                                     {"event_shape", {2}},
                                                     {"n_layer", 3}}),
               InvalidArgument);
  try {
    make_flow(FlowOptions("glow", {2}));
    FAIL() << "unknown coupling accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("affine|iaf|maf|spline"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_flow(FlowOptions("maf", {4, 4})), InvalidArgument);
  EXPECT_THROW(make_flow(FlowOptions("affine", {4}).network("conv")), InvalidArgument);
  EXPECT_THROW(make_flow(FlowOptions("affine", {4}).z2_equivariant(true).base("diagonal_gaussian")),
               InvalidArgument);
}

TEST(FlowFactory, BadInputShapesAndContextsAreRejectedWithTheArgumentName) {
  auto f = make_realnvp_lattice(4, 2, {4}, 3);
  try {
    f->log_prob(torch::randn({2, 4, 5}));
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("x.sizes()"), std::string::npos) << e.what();
  }
  EXPECT_THROW(f->log_prob(torch::randn({2, 4, 4}), torch::randn({2, 3})), InvalidArgument);
  auto g = make_realnvp_vector(3, 2, {8}, false, 2);
  EXPECT_THROW(g->log_prob(torch::randn({2, 3})), InvalidArgument);  // context missing
  EXPECT_NO_THROW(g->log_prob(torch::randn({2, 3}), torch::randn({2, 2})));
}

TEST(Flow, CloneIsDeepAndEqual) {
  torch::manual_seed(5);
  auto f = make_realnvp_vector(4, 3, {8});
  {
    torch::NoGradGuard no_grad;
    for (auto& p : f->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  auto c = std::dynamic_pointer_cast<FlowImpl>(f->clone());
  ASSERT_TRUE(c);
  auto x = torch::randn({3, 4});
  EXPECT_TRUE(torch::equal(f->log_prob(x), c->log_prob(x)));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : c->parameters()) p.add_(1.0);
  }
  EXPECT_FALSE(torch::equal(f->log_prob(x), c->log_prob(x)));
}

TEST(Flow, SampleAndLogProbAgreesWithLogProb) {
  torch::manual_seed(6);
  auto f = make_spline_flow({3}, 3, 4, 2.0, {8});
  f->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : f->parameters()) p.add_(torch::randn_like(p) * 0.3);
  }
  torch::NoGradGuard no_grad;
  auto s = f->sample_and_log_prob(16);
  EXPECT_EQ(s.first.scalar_type(), torch::kFloat64);
  EXPECT_LT((f->log_prob(s.first) - s.second).abs().max().item<double>(), 1e-10);
}

TEST(Importance, EssAndReweightedMeans) {
  EXPECT_NEAR(ess(torch::full({10}, 3.0)), 1.0, 1e-12);
  auto lw = torch::tensor({0.0, -1000.0, -1000.0, -1000.0}, torch::kFloat64);
  EXPECT_NEAR(ess(lw), 0.25, 1e-12);
  // Weights 1 : 3 on values 0 and 4: mean 3; error^2 = (1/4)^2 9 + (3/4)^2 1 = 18/16.
  auto e = reweighted_mean(torch::tensor({0.0, 4.0}, torch::kFloat64),
                           torch::tensor({0.0, std::log(3.0)}, torch::kFloat64));
  EXPECT_NEAR(e.mean, 3.0, 1e-12);
  EXPECT_NEAR(e.error, std::sqrt(18.0 / 16.0), 1e-12);
  EXPECT_NEAR(log_mean_exp(torch::tensor({std::log(1.0), std::log(3.0)}, torch::kFloat64)),
              std::log(2.0), 1e-12);
}

namespace {
// S(x) = x^2 / 2 summed: the standard normal (Z = (2 pi)^{d/2}).
class GaussianTarget : public Target {
 public:
  torch::Tensor action(const torch::Tensor& x) const override {
    return 0.5 * x.square().sum(1);
  }
  std::vector<int64_t> event_shape() const override { return {3}; }
  std::string name() const override { return "gaussian"; }
  nlohmann::json params() const override { return nlohmann::json::object(); }
};
}  // namespace

TEST(FlowMCMC, ExactModelAcceptsEverythingAndBookkeepingIsConsistent) {
  torch::manual_seed(7);
  GaussianTarget target;
  auto exact = Flow(std::vector<BijectorPtr>{}, StandardNormal(std::vector<int64_t>{3}).ptr());
  auto r = independence_metropolis(*exact, target, 1000, IndependenceMetropolisOptions().batch_size(300));
  EXPECT_EQ(r.chain.size(0), 1000);
  EXPECT_DOUBLE_EQ(r.acceptance, 1.0);
  EXPECT_NEAR(r.proposal_ess, 1.0, 1e-12);

  // A poor model (too wide): rejections repeat the previous state, acceptances change it.
  auto wide = Flow(std::vector<BijectorPtr>{},
                   DiagonalGaussian(DiagonalGaussianOptions({3}).log_scale(std::log(2.0))).ptr());
  auto chain = IndependenceMetropolis(wide.ptr(), std::make_shared<GaussianTarget>(),
                              IndependenceMetropolisOptions().batch_size(64).seed(1));
  auto a = chain.run(500);
  EXPECT_GT(a.acceptance, 0.05);
  EXPECT_LT(a.acceptance, 0.95);
  for (int64_t i = 1; i < 500; ++i) {
    const bool same = torch::equal(a.chain[i], a.chain[i - 1]);
    EXPECT_EQ(same, !a.accepted[i].item<bool>()) << "step " << i;
  }
  // update() continues the same chain; run() after it starts from the held state.
  chain.update(100);
  EXPECT_EQ(chain.steps(), 600);
  auto held = chain.state().clone();
  auto b = chain.run(50);
  if (!b.accepted[0].item<bool>()) {
    EXPECT_TRUE(torch::equal(b.chain[0], held[0]));
  }
  EXPECT_EQ(chain.info()["algorithm"], "flow_mh");
}

namespace {
// S(x) = x^2 / 2 + a x^2 / 2: a Gaussian of variance 1 / (1 + a) per coordinate (d = 3).
class ScaledGaussianTarget : public Target {
 public:
  explicit ScaledGaussianTarget(double extra) : extra_(extra) {}
  torch::Tensor action(const torch::Tensor& x) const override { return 0.5 * (1.0 + extra_) * x.square().sum(1); }
  std::vector<int64_t> event_shape() const override { return {3}; }
  std::string name() const override { return "scaled_gaussian"; }
  nlohmann::json params() const override { return {{"extra", extra_}}; }

 private:
  double extra_;
};
}  // namespace

// Independence Metropolis with a proposal of width s = 2 for the standard normal in d = 3 has
// known answers: the chain's <x^2> = 1 per coordinate, and the acceptance rate
//   A = E_{x ~ pi, y ~ q} min(1, w(y) / w(x)),  w = pi / q = exp(-c |x|^2), c = (1 - 1/s^2) / 2,
// evaluated here by plain Monte Carlo over 4 million independent pairs (error < 3e-4). Both are
// compared within 4 standard errors of the chain (Gamma method, autocorrelations included).
// Negative control: an acceptance ratio with half the log ratio, min(1, (w(y)/w(x))^(1/2)), is
// the exact sampler of p' ∝ sqrt(pi q) ∝ exp(-(1/2 + 1/(2 s^2)) |x|^2 / 2), whose <x^2> is 1.6.
// It is run as the correct sampler for that target (same proposal, so the same accept/reject
// arithmetic as the bug) and the same checks must reject it.
TEST(FlowMCMC, ChainMomentsAndAcceptanceMatchTheExactValues) {
  const double s = 2.0, c = 0.5 * (1.0 - 1.0 / (s * s));
  auto exact_acceptance = [&](double cc) {
    torch::manual_seed(3);
    const int64_t n = 4000000;
    auto rx = torch::randn({n, 3}, torch::kFloat64).square().sum(1);            // pi: chi^2_3
    auto ry = (s * s) * torch::randn({n, 3}, torch::kFloat64).square().sum(1);  // q: s^2 chi^2_3
    return torch::clamp_max(torch::exp(-cc * (ry - rx)), 1.0).mean().item<double>();
  };
  auto run = [&](double extra) {
    auto wide = Flow(std::vector<BijectorPtr>{},
                     DiagonalGaussian(DiagonalGaussianOptions({3}).log_scale(std::log(s))).ptr());
    IndependenceMetropolis chain(wide.ptr(), std::make_shared<ScaledGaussianTarget>(extra),
                                 IndependenceMetropolisOptions().batch_size(1000).seed(11));
    torch::manual_seed(11);
    auto r = chain.run(40000);
    const auto x2 = r.chain.to(torch::kFloat64).square().mean(1);  // per-step mean over the 3 coordinates
    return std::make_pair(gamma_method(x2), gamma_method(r.accepted.to(torch::kFloat64)));
  };
  const double a_exact = exact_acceptance(c);
  const auto [x2, acc] = run(0.0);
  EXPECT_LT(std::abs(x2.mean - 1.0), 4.0 * x2.error) << "<x^2> = " << x2;
  EXPECT_LT(std::abs(acc.mean - a_exact), 4.0 * acc.error + 3e-4) << "acceptance " << acc << " vs " << a_exact;

  // The half-log-ratio sampler: its stationary density is sqrt(pi q) ∝ exp(-(1/2 + 1/(2 s^2)) |x|^2 / 2).
  const double extra = 0.5 + 0.5 / (s * s) - 1.0;
  const auto [bad_x2, bad_acc] = run(extra);
  EXPECT_NEAR(bad_x2.mean, 1.0 / (1.0 + extra), 4.0 * bad_x2.error);  // it samples its own target...
  EXPECT_GT(std::abs(bad_x2.mean - 1.0), 4.0 * bad_x2.error) << "the moment check cannot see the bug";
  EXPECT_GT(std::abs(bad_acc.mean - a_exact), 4.0 * bad_acc.error + 3e-4) << "the acceptance check cannot see it";
}
