// Zoo entries of the diffusion-type families (src/models/zoo_diffusion.cpp): options round
// trip, native training through ModelTask + Trainer, checkpoint -> load_model -> identical
// samples at a fixed seed, sampler settings and their validation, conditions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <torch/torch.h>

#include "support/io_test_util.h"
#include "physgen/core/check.h"
#include "physgen/models/diffusion/score_sde.h"
#include "physgen/models/diffusion/sde.h"
#include "physgen/zoo/model.h"
#include "physgen/zoo/zoo.h"
#include "physgen/zoo/model_task.h"
#include "physgen/train/trainer.h"

namespace {

using physgen::Condition;
using physgen::InvalidArgument;
using physgen::Model;
using physgen::ModelSpec;
using physgen::SamplerSettings;

/// Small, fast options of `family` for an event shape (the defaults with smaller networks
/// and fewer sampling steps).
nlohmann::json small_options(const std::string& family, const std::vector<int64_t>& shape) {
  nlohmann::json o = physgen::default_model_options(family, shape);
  o["event_shape"] = shape;
  const bool lattice = shape.size() == 2;
  if (family != "pfgm") {
    if (lattice) {
      o["network"]["unet"]["base_channels"] = 8;
      o["network"]["unet"]["groups"] = 4;
    } else {
      o["network"]["mlp"]["hidden"] = {16, 16};
    }
  } else {
    o["network"]["hidden"] = {16, 16};
  }
  if (family == "ddpm") o["schedule"]["steps"] = 50;
  if (family == "score-sde") o["sampling"]["steps"] = 10;
  if (family == "pfgm") o["solver"] = {{"method", "rk4"}, {"n_steps", 8}};
  if (family == "pfgmpp") o["solver"] = {{"method", "rk4"}, {"n_steps", 8}};
  return o;
}

ModelSpec small_spec(const std::string& family, const std::vector<int64_t>& shape,
                     nlohmann::json condition = nullptr) {
  ModelSpec s;
  s.family = family;
  s.model = small_options(family, shape);
  s.system = "toy";
  s.system_params = nlohmann::json::object();
  s.condition = Condition::from_json(condition);
  return s;
}

/// Trains `spec` for 2 steps with ModelTask + Trainer (checkpoint at `path`) and returns the
/// trained model.
Model train_two_steps(const ModelSpec& spec, const physgen::TrainingData& data,
                      const std::string& path) {
  Model m = physgen::build_model(spec);
  EXPECT_EQ(m.default_objective(true), "native");
  physgen::ModelTask task(m, "native", nullptr, 16, data);
  physgen::Trainer trainer(
      task, physgen::TrainerOptions().steps(2).batch_size(16).progress(false).checkpoint_path(path));
  auto r = trainer.fit(task.fit_data());
  EXPECT_EQ(r.steps_done, 2);
  return m;
}

torch::Tensor draw(const Model& m, const SamplerSettings& s, uint64_t seed, nlohmann::json* report = nullptr) {
  torch::manual_seed(seed);
  nlohmann::json rep = nlohmann::json::object();
  auto x = m.sample_with(6, s, rep);
  if (report) *report = rep;
  return x;
}

void expect_round_trip(const std::string& family, const std::vector<int64_t>& shape,
                       const std::vector<SamplerSettings>& settings) {
  SCOPED_TRACE(family + " " + c10::str(c10::IntArrayRef(shape)));
  physgen::test::TempDir dir;
  const std::string path = dir.file("model.pt");
  torch::manual_seed(3);
  std::vector<int64_t> dshape{64};
  dshape.insert(dshape.end(), shape.begin(), shape.end());
  physgen::TrainingData data;
  data.x = torch::randn(dshape);
  Model trained = train_two_steps(small_spec(family, shape), data, path);
  trained.module->eval();
  Model loaded = physgen::load_model(path, torch::kCPU);
  EXPECT_EQ(loaded.spec.family, family);
  EXPECT_EQ(loaded.spec.model, trained.spec.model);
  auto p1 = trained.module->named_parameters();
  auto p2 = loaded.module->named_parameters();
  ASSERT_EQ(p1.size(), p2.size());
  for (const auto& kv : p1) EXPECT_TRUE(torch::equal(kv.value(), p2[kv.key()])) << kv.key();
  // Training moved the parameters away from a fresh initialisation's.
  for (const auto& s : settings) {
    SCOPED_TRACE("sampler '" + s.sampler + "'");
    nlohmann::json report;
    auto a = draw(trained, s, 11, &report);
    auto b = draw(loaded, s, 11);
    ASSERT_EQ(a.sizes().vec()[0], 6);
    EXPECT_EQ(std::vector<int64_t>(a.sizes().begin() + 1, a.sizes().end()), shape);
    EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_GE(report.value("nfe", 0), 1);
    // A different seed gives different samples (the seed is what makes them equal).
    EXPECT_FALSE(torch::equal(a, draw(loaded, s, 12)));
  }
}

SamplerSettings with_sampler(const std::string& name, int64_t steps = 0) {
  SamplerSettings s;
  s.sampler = name;
  s.steps = steps;
  return s;
}

}  // namespace

TEST(DiffusionZoo, FamiliesAreRegistered) {
  auto names = physgen::model_families();
  for (const char* f : {"ddpm", "score-sde", "pfgm", "pfgmpp"})
    EXPECT_NE(std::find(names.begin(), names.end(), f), names.end()) << f;
}

TEST(DiffusionZoo, DefaultsPickUNetForLatticesAndRejectUnknownKeys) {
  for (const char* f : {"ddpm", "score-sde", "pfgmpp"}) {
    EXPECT_EQ(physgen::default_model_options(f, {8, 8})["network"]["type"], "unet") << f;
    EXPECT_EQ(physgen::default_model_options(f, {2})["network"]["type"], "mlp") << f;
    auto spec = small_spec(f, {2});
    spec.model["bogus"] = 1;
    EXPECT_THROW(physgen::build_model(spec), InvalidArgument) << f;
  }
  auto spec = small_spec("pfgm", {2});
  spec.model["bogus"] = 1;
  EXPECT_THROW(physgen::build_model(spec), InvalidArgument);
  // Lattice train defaults differ from the generic 2500 x 64.
  EXPECT_EQ(physgen::default_train_options("ddpm", {8, 8}).steps(), 4000);
  EXPECT_EQ(physgen::default_model_options("ddpm", {8, 8})["network"]["unet"]["base_channels"], 16);
}

TEST(DiffusionZoo, DdpmRoundTripVectorAndLattice) {
  SamplerSettings ddim = with_sampler("ddim", 5);
  ddim.eta = 0.5;
  expect_round_trip("ddpm", {3}, {with_sampler("ddpm"), ddim, with_sampler("ode")});
  expect_round_trip("ddpm", {4, 4}, {with_sampler("ddim", 4)});
}

TEST(DiffusionZoo, ScoreSdeRoundTrip) {
  SamplerSettings ode = with_sampler("ode");
  ode.solver = "rk4";
  ode.steps = 6;
  expect_round_trip("score-sde", {3}, {with_sampler("em"), with_sampler("pc", 5), ode});
}

TEST(DiffusionZoo, PfgmRoundTrip) { expect_round_trip("pfgm", {3}, {SamplerSettings()}); }

TEST(DiffusionZoo, PfgmppRoundTrip) {
  SamplerSettings s;
  s.solver = "euler";
  s.steps = 5;
  expect_round_trip("pfgmpp", {3}, {SamplerSettings(), s});
}

TEST(DiffusionZoo, NfeFollowsTheSettings) {
  Model m = physgen::build_model(small_spec("ddpm", {3}));
  nlohmann::json r;
  draw(m, with_sampler("ddpm"), 1, &r);
  EXPECT_EQ(r["nfe"], 50);
  draw(m, with_sampler("ddim", 7), 1, &r);
  EXPECT_EQ(r["nfe"], 7);
  Model s = physgen::build_model(small_spec("score-sde", {3}));
  draw(s, with_sampler("em", 9), 1, &r);
  EXPECT_EQ(r["nfe"], 9);
  SamplerSettings ode = with_sampler("ode");
  ode.solver = "rk4";
  ode.steps = 3;
  draw(s, ode, 1, &r);
  EXPECT_EQ(r["nfe"], 12);  // 4 stages per rk4 step
}

TEST(DiffusionZoo, SamplerSettingsAreValidated) {
  Model m = physgen::build_model(small_spec("ddpm", {3}));
  EXPECT_THROW(draw(m, with_sampler("em"), 1), InvalidArgument);
  EXPECT_THROW(draw(m, with_sampler("ddim", 51), 1), InvalidArgument);   // > T = 50
  EXPECT_THROW(draw(m, with_sampler("ddpm", 10), 1), InvalidArgument);   // ancestral: all T
  SamplerSettings c;
  c.condition = {1.0};
  EXPECT_THROW(draw(m, c, 1), InvalidArgument);  // unconditional model
  SamplerSettings g;
  g.guidance = 2.0;
  EXPECT_THROW(draw(m, g, 1), InvalidArgument);  // guidance without a condition
  Model p = physgen::build_model(small_spec("pfgm", {3}));
  EXPECT_THROW(draw(p, with_sampler("ddim"), 1), InvalidArgument);
  EXPECT_THROW(physgen::build_model(small_spec("pfgm", {3}, {{"kind", "class"}, {"classes", 2}})),
               InvalidArgument);
  // A native model needs data.
  EXPECT_THROW(physgen::ModelTask(m, "native", nullptr, 16, physgen::TrainingData()), InvalidArgument);
}

TEST(DiffusionZoo, ConditionalRoundTripWithGuidance) {
  for (const char* family : {"ddpm", "score-sde", "pfgmpp"}) {
    SCOPED_TRACE(family);
    physgen::test::TempDir dir;
    const std::string path = dir.file("model.pt");
    torch::manual_seed(5);
    physgen::TrainingData data;
    data.x = torch::randn({64, 3});
    data.condition = torch::arange(64, torch::kInt64).remainder(2);
    Model trained = train_two_steps(small_spec(family, {3}, {{"kind", "class"}, {"classes", 2}}),
                                    data, path);
    EXPECT_EQ(trained.spec.model["condition"]["kind"], "class");
    EXPECT_EQ(trained.spec.model["condition"]["classes"], 2);
    trained.module->eval();
    Model loaded = physgen::load_model(path, torch::kCPU);
    EXPECT_EQ(loaded.spec.condition.kind, "class");
    SamplerSettings s;
    s.condition = {1.0};
    s.guidance = 1.5;
    if (std::string(family) == "score-sde") s.sampler = "em";
    auto a = draw(trained, s, 21), b = draw(loaded, s, 21);
    EXPECT_TRUE(torch::equal(a, b));
    // The condition changes the samples (same seed).
    s.condition = {0.0};
    EXPECT_FALSE(torch::equal(a, draw(loaded, s, 21)));
    s.condition = {2.0};  // out of range
    EXPECT_THROW(draw(loaded, s, 21), InvalidArgument);
    // Conditional models need conditions in training.
    EXPECT_THROW(physgen::ModelTask(loaded, "native", nullptr, 16, physgen::TrainingData{data.x, {}, {}}),
                 InvalidArgument);
  }
}

TEST(DiffusionZoo, ScoreSdeLikelihoodFollowsTheSolverSettings) {
  torch::manual_seed(9);
  Model m = physgen::build_model(small_spec("score-sde", {2}));
  ASSERT_TRUE(m.likelihood != nullptr);
  ASSERT_TRUE(static_cast<bool>(m.configure_likelihood));
  auto x = torch::randn({4, 2});
  SamplerSettings s;
  s.solver = "rk4";
  s.steps = 40;
  m.configure_likelihood(s);
  EXPECT_EQ(m.spec.model["solver"]["method"], "dopri5");  // the spec keeps the trained options
  auto lp_rk4 = m.likelihood->log_prob(x);
  s.solver = "dopri5";
  s.steps = 0;
  s.rtol = s.atol = 1e-7;
  m.configure_likelihood(s);
  auto lp_dopri = m.likelihood->log_prob(x);
  ASSERT_TRUE(torch::isfinite(lp_dopri).all().item<bool>());
  // Two converged solvers of the same ODE agree (rk4 with 40 steps: error ~ 1e-6).
  EXPECT_LT((lp_rk4 - lp_dopri).abs().max().item<double>(), 1e-3);
  s.solver = "nonsense";
  EXPECT_THROW(m.configure_likelihood(s), InvalidArgument);
}

TEST(DiffusionZoo, ScoreSdeConvFieldRoundTripAndExactLikelihood) {
  // network.type "conv": the periodic time-conditioned conv field (nn/time_conv.h).
  physgen::test::TempDir dir;
  const std::string path = dir.file("conv.pt");
  torch::manual_seed(5);
  ModelSpec spec = small_spec("score-sde", {4, 4});
  spec.model["network"] = {{"type", "conv"}, {"conv", {{"hidden", {4, 4}}}}};
  physgen::TrainingData data;
  data.x = torch::randn({64, 4, 4});
  Model trained = train_two_steps(spec, data, path);
  trained.module->eval();
  Model loaded = physgen::load_model(path, torch::kCPU);
  EXPECT_EQ(loaded.spec.model, trained.spec.model);
  EXPECT_EQ(loaded.spec.model["network"]["conv"]["hidden"], nlohmann::json({4, 4}));
  SamplerSettings s;
  s.solver = "rk4";
  s.steps = 4;
  trained.configure_likelihood(s);
  loaded.configure_likelihood(s);
  auto x = torch::randn({3, 4, 4});
  auto lp = trained.likelihood->log_prob(x);
  EXPECT_TRUE(torch::isfinite(lp).all().item<bool>());
  EXPECT_TRUE(torch::allclose(lp, loaded.likelihood->log_prob(x)));
  // Translation equivariance of the field makes the density translation invariant.
  auto shifted = torch::roll(x, {1, 2}, {1, 2});
  EXPECT_TRUE(torch::allclose(lp, trained.likelihood->log_prob(shifted), 1e-4, 1e-4));
  // A conditional model cannot use the unconditional conv field.
  ModelSpec cond = spec;
  cond.condition = Condition::from_json({{"kind", "class"}, {"classes", 2}});
  EXPECT_THROW(physgen::build_model(cond), InvalidArgument);
  // Non-lattice events are refused by name.
  ModelSpec vec = small_spec("score-sde", {3});
  vec.model["network"] = {{"type", "conv"}};
  EXPECT_THROW(physgen::build_model(vec), InvalidArgument);
}

// The lattice log-density of the probability-flow ODE (exact trace integrated along the
// solve) against an independent value: the same ODE integrated by a fixed-step RK4 written
// here, whose map Phi: x(t_min) -> x(1) is differentiated by autograd, so that
//   log p(x) = log N(Phi(x); 0, s_p^2 I) + log |det dPhi/dx|   (change of variables, slogdet).
// Float64 throughout (in float32 this stiff, randomly perturbed field loses ~1.5 nats to
// rounding in both computations). The library value is converged (dopri5, rtol = atol = 1e-9);
// the independent one has an RK4 discretisation error, estimated as |value(128) - value(64)|
// (O(h^4): the 128-step error is ~1/15 of that). Tolerance: 3 x that estimate + 1e-6.
// Control: the value without the log-determinant (a transport that forgot the trace) misses.
TEST(DiffusionZoo, LatticeExactTraceLogDensityMatchesAutogradJacobian) {
  torch::manual_seed(21);
  ModelSpec spec = small_spec("score-sde", {4, 4});
  spec.model["network"] = {{"type", "conv"}, {"conv", {{"hidden", {4, 4}}}}};
  Model m = physgen::build_model(spec);
  {
    torch::NoGradGuard ng;  // a non-trivial field: an initialisation may output zeros
    for (auto& p : m.module->parameters()) p.add_(0.1 * torch::randn_like(p));
  }
  m.module->eval();
  m.module->to(torch::kFloat64);
  auto sde_model = std::dynamic_pointer_cast<physgen::ScoreSDEImpl>(m.module);
  ASSERT_TRUE(sde_model != nullptr);
  SamplerSettings s;
  s.solver = "dopri5";
  s.rtol = s.atol = 1e-9;
  m.configure_likelihood(s);
  const auto x = 0.5 * torch::randn({3, 4, 4}, torch::kFloat64);
  const auto lp = m.likelihood->log_prob(x);
  ASSERT_TRUE(torch::isfinite(lp).all().item<bool>());

  // Independent: RK4 of dx/dt = f(x, t) - g(t)^2 score(x, t) / 2 from t_min to 1.
  const physgen::Sde& sde = sde_model->sde();
  const auto score = sde_model->score_function();
  const double t0 = sde_model->options.sampling().t_min(), sp = sde.prior_std();
  bool score_off = false;  // control: the drift of the SDE alone
  auto field = [&](const torch::Tensor& y, double t) {
    return sde.probability_flow_drift(y, score_off ? torch::zeros_like(y) : score(y, t), t);
  };
  torch::Tensor prior;  // of the last call
  auto independent = [&](int64_t n_steps) {
    auto grid = [&](int64_t k) { return t0 + (1.0 - t0) * static_cast<double>(k) / static_cast<double>(n_steps); };
    auto x0 = x.clone().requires_grad_(true);
    torch::Tensor y = x0;
    for (int64_t k = 0; k < n_steps; ++k) {
      const double t = grid(k), h = grid(k + 1) - t;
      auto k1 = field(y, t);
      auto k2 = field(y + 0.5 * h * k1, t + 0.5 * h);
      auto k3 = field(y + 0.5 * h * k2, t + 0.5 * h);
      auto k4 = field(y + h * k3, t + h);
      y = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    const auto phi = y.reshape({3, 16});
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < 16; ++i)
      rows.push_back(torch::autograd::grad({phi.select(1, i).sum()}, {x0}, {}, /*retain_graph=*/true)[0].reshape({3, 16}));
    const auto logdet = std::get<1>(torch::linalg_slogdet(torch::stack(rows, 1)));  // (3, 16 out, 16 in)
    prior = -0.5 * phi.detach().square().sum(1) / (sp * sp) - 8.0 * std::log(2.0 * M_PI * sp * sp);
    return (prior + logdet).detach();
  };
  const auto coarse = independent(64);
  const auto fine = independent(128);
  const auto full_prior = prior.clone();
  const double tol = 3.0 * (fine - coarse).abs().max().item<double>() + 1e-6;
  EXPECT_LT((lp - fine).abs().max().item<double>(), tol) << lp << "\n" << fine << "\n" << coarse;
  EXPECT_LT(tol, 0.05) << "the independent value is not converged enough to test anything";
  // Controls: the value without the Jacobian term, and the Jacobian of the SDE's drift alone
  // (a divergence that missed the network's part), both miss by far more than the tolerance.
  EXPECT_GT((lp - full_prior).abs().min().item<double>(), 100 * tol) << "the log-determinant is negligible here";
  score_off = true;
  const auto drift_only_logdet = independent(64) - prior;
  EXPECT_GT((lp - (full_prior + drift_only_logdet)).abs().min().item<double>(), 100 * tol)
      << "the network's divergence is negligible here";
}
