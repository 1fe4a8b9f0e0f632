// Zoo entries "cnf" and "flow-matching": options <-> JSON, build / train / checkpoint /
// load_model round trip with identical log-densities, sampler settings and their report.
#include <gtest/gtest.h>

#include "support/io_test_util.h"
#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/zoo/ode_options_json.h"
#include "physgen/zoo/zoo.h"
#include "physgen/zoo/model_task.h"

namespace {

using namespace physgen;

ModelSpec spec_for(const std::string& family, const std::vector<int64_t>& shape) {
  ModelSpec s;
  s.family = family;
  s.model = default_model_options(family, shape);
  s.model["event_shape"] = shape;
  s.system = "toy";
  return s;
}

/// Trains `steps` steps through ModelTask + Trainer (checkpoint at `path`), then reloads the
/// checkpoint and returns (trained model, reloaded model).
std::pair<Model, Model> train_and_reload(const ModelSpec& spec, const torch::Tensor& data, int64_t steps,
                                         const std::string& path) {
  Model m = build_model(spec);
  TrainingData td;
  td.x = data;
  ModelTask task(m, m.default_objective(true), nullptr, 16, td);
  Trainer trainer(task, TrainerOptions().steps(steps).batch_size(16).lr(1e-2).progress(false).checkpoint_path(path));
  const TrainResult r = trainer.fit(task.fit_data());
  EXPECT_EQ(r.status, TrainResult::Status::Finished);
  m.module->eval();
  return {m, load_model(path, torch::kCPU)};
}

class ZooOde : public ::testing::TestWithParam<std::tuple<std::string, std::vector<int64_t>>> {
 protected:
  void SetUp() override { configure_runtime(1); }
};

TEST_P(ZooOde, CheckpointRoundTripGivesIdenticalLogProb) {
  const auto& [family, shape] = GetParam();
  seed_all(3);
  std::vector<int64_t> data_shape = {64};
  data_shape.insert(data_shape.end(), shape.begin(), shape.end());
  auto data = 0.5 * torch::randn(data_shape) + 1.0;
  test::TempDir dir;
  auto [trained, loaded] = train_and_reload(spec_for(family, shape), data, 3, dir.file("m.pt"));
  EXPECT_EQ(loaded.spec.family, family);
  EXPECT_EQ(loaded.spec.model, trained.spec.model);
  auto x = data.narrow(0, 0, 8);
  auto a = trained.likelihood->log_prob(x);
  auto b = loaded.likelihood->log_prob(x);
  ASSERT_TRUE(torch::isfinite(a).all().item<bool>());
  EXPECT_TRUE(torch::equal(a, b)) << a << b;
  // Training moved the parameters: the density is no longer the initial one.
  Model fresh = build_model(trained.spec);
  fresh.module->eval();
  EXPECT_FALSE(torch::allclose(fresh.likelihood->log_prob(x), a, 1e-6, 1e-6));
}

TEST_P(ZooOde, SampleWithReportsFunctionEvaluationsOfTheSolver) {
  const auto& [family, shape] = GetParam();
  seed_all(4);
  Model m = build_model(spec_for(family, shape));
  m.module->eval();
  torch::NoGradGuard ng;
  for (auto& p : m.module->parameters()) p.add_(0.3 * torch::randn_like(p));  // a non-trivial field
  struct Case { std::string solver; int64_t steps; int64_t nfe; };
  for (const Case& c : {Case{"euler", 7, 7}, Case{"midpoint", 5, 10}, Case{"rk4", 3, 12}}) {
    SamplerSettings s;
    s.solver = c.solver;
    s.steps = c.steps;
    nlohmann::json report;
    auto x = m.sample_with(5, s, report);
    std::vector<int64_t> expected = {5};
    expected.insert(expected.end(), shape.begin(), shape.end());
    EXPECT_EQ(x.sizes().vec(), expected);
    EXPECT_EQ(report.at("nfe").get<int64_t>(), c.nfe) << c.solver;
  }
  SamplerSettings s;
  s.solver = "dopri5";
  s.rtol = 1e-3;
  s.atol = 1e-3;
  nlohmann::json loose, tight;
  m.sample_with(5, s, loose);
  s.rtol = s.atol = 1e-8;
  m.sample_with(5, s, tight);
  EXPECT_GT(tight.at("nfe").get<int64_t>(), loose.at("nfe").get<int64_t>());
  // configure_likelihood applies the solver to log_prob; the report counts it.
  SamplerSettings e;
  e.solver = "euler";
  e.steps = 4;
  m.configure_likelihood(e);
  m.likelihood->log_prob(m.generative->sample(3));
  EXPECT_DOUBLE_EQ(m.likelihood_report().at("nfe").get<double>(), 4.0);
}

INSTANTIATE_TEST_SUITE_P(Families, ZooOde,
                         ::testing::Values(std::make_tuple(std::string("cnf"), std::vector<int64_t>{2}),
                                           std::make_tuple(std::string("cnf"), std::vector<int64_t>{4, 4}),
                                           std::make_tuple(std::string("flow-matching"), std::vector<int64_t>{2}),
                                           std::make_tuple(std::string("flow-matching"),
                                                           std::vector<int64_t>{4, 4})));

TEST(ZooOdeOptions, JsonRoundTripAndUnknownKeys) {
  for (const std::string family : {"cnf", "flow-matching"}) {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3}, std::vector<int64_t>{6, 6}}) {
      auto j = default_model_options(family, shape);
      EXPECT_EQ(j.at("field").get<std::string>(), shape.size() == 2 ? "conv" : "mlp");
      auto again = family == "cnf" ? cnf_options_to_json(cnf_options_from_json(j))
                                   : flow_matching_options_to_json(flow_matching_options_from_json(j));
      EXPECT_EQ(again, j) << family;
      auto bad = j;
      bad["hiden"] = {8};
      try {
        build_model(ModelSpec{family, bad, "", {}, "", Condition()});
        ADD_FAILURE() << "unknown key accepted";
      } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("hiden"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("hidden"), std::string::npos) << e.what();
      }
    }
  }
  auto j = default_model_options("flow-matching", {4});
  j["field"] = "conv";
  EXPECT_THROW(build_model(ModelSpec{"flow-matching", j, "", {}, "", Condition()}), InvalidArgument);
  j = default_model_options("cnf", {4});
  j["solver"] = "rk45";
  EXPECT_THROW(build_model(ModelSpec{"cnf", j, "", {}, "", Condition()}), InvalidArgument);
}

TEST(ZooOdeOptions, ConvFieldIsTranslationEquivariant) {
  configure_runtime(1);
  seed_all(5);
  auto j = default_model_options("flow-matching", {4, 6});
  j["event_shape"] = std::vector<int64_t>{4, 6};
  Model m = build_model(ModelSpec{"flow-matching", j, "", {}, "", Condition()});
  auto x = torch::randn({3, 4, 6});
  SamplerSettings s;
  s.solver = "rk4";
  s.steps = 2;
  // Same base draws, shifted lattice: the transported samples shift with them.
  auto fm = std::dynamic_pointer_cast<FlowMatchingImpl>(m.module);
  ASSERT_TRUE(fm);
  torch::NoGradGuard ng;
  auto y = fm->transport(x);
  auto y_shift = fm->transport(torch::roll(x, {1, 2}, {1, 2}));
  EXPECT_TRUE(torch::allclose(torch::roll(y, {1, 2}, {1, 2}), y_shift, 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(y, x, 1e-3, 1e-3));
}

}  // namespace
