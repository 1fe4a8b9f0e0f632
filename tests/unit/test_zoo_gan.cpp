// Zoo entries "gan", "cgan", "wgan", "wgan-gp", "cyclegan", "vae", "ebm" (src/models/zoo_gan.cpp):
// a few native training steps through ModelTask + Trainer, a checkpoint, load_model, and the
// reloaded model draws exactly the samples of the trained one at a fixed seed. Plus the
// option/condition contract: defaults round-trip, unknown keys and missing conditions fail.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "support/io_test_util.h"
#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/models/gan/cyclegan.h"
#include "physgen/zoo/zoo.h"
#include "physgen/zoo/model_task.h"

namespace {

using namespace physgen;

struct Case {
  std::string family;
  std::vector<int64_t> shape;
  nlohmann::json overrides;  // small networks: the test is about the plumbing
  nlohmann::json condition;
};

/// Trains `spec` for 4 steps on `data`, checkpoints to `path` and returns the trained model.
Model train_briefly(const ModelSpec& spec, const TrainingData& data, const std::string& path) {
  Model model = build_model(spec);
  ModelTask task(model, "native", nullptr, 16, data);
  Trainer trainer(task, TrainerOptions().steps(4).batch_size(16).lr(1e-3).progress(false).checkpoint_path(path));
  const TrainResult r = trainer.fit(task.fit_data());
  EXPECT_EQ(r.status, TrainResult::Status::Finished) << r.message;
  EXPECT_EQ(r.steps_done, 4);
  return task.model();
}

torch::Tensor draw(const Model& m, int64_t n, const SamplerSettings& s) {
  torch::NoGradGuard ng;
  nlohmann::json report = nlohmann::json::object();
  return m.sample_with ? m.sample_with(n, s, report) : m.generative->sample(n);
}

ModelSpec make_spec(const Case& c) {
  ModelSpec spec;
  spec.family = c.family;
  spec.model = default_model_options(c.family, c.shape);
  spec.model.update(c.overrides);
  spec.model["event_shape"] = c.shape;
  spec.system = "toy";
  spec.objective = "native";
  spec.condition = Condition::from_json(c.condition);
  return spec;
}

TrainingData make_data(const Case& c) {
  TrainingData d;
  std::vector<int64_t> shape{96};
  shape.insert(shape.end(), c.shape.begin(), c.shape.end());
  d.x = torch::randn(shape);
  if (c.family == "cyclegan") d.x_b = 2 + 0.5 * torch::randn(shape);
  if (!c.condition.is_null()) {
    if (c.condition["kind"] == "class") d.condition = torch::randint(0, 3, {96}, torch::kInt64);
    else d.condition = torch::rand({96, 1});
  }
  return d;
}

void check_round_trip(const Case& c) {
  SCOPED_TRACE(c.family + " " + c.overrides.dump());
  configure_runtime(1);
  physgen::test::TempDir dir;
  seed_all(3);
  const ModelSpec spec = make_spec(c);
  const TrainingData data = make_data(c);
  Model trained = train_briefly(spec, data, dir.file("m.pt"));
  trained.module->eval();
  Model loaded = load_model(dir.file("m.pt"), torch::kCPU);
  EXPECT_EQ(loaded.spec.family, c.family);
  EXPECT_EQ(loaded.spec.model, trained.spec.model);
  EXPECT_EQ(loaded.spec.objective, "native");

  if (c.family == "cyclegan") {
    auto* a = dynamic_cast<CycleGanImpl*>(trained.module.get());
    auto* b = dynamic_cast<CycleGanImpl*>(loaded.module.get());
    ASSERT_TRUE(a && b);
    const auto x = torch::randn({8, c.shape[0]});
    EXPECT_TRUE(torch::equal(a->translate(x, "ab"), b->translate(x, "ab")));
    EXPECT_TRUE(torch::equal(a->translate(x, "ba"), b->translate(x, "ba")));
    // The translation moved (4 steps of Adam on the identity-initialised generators).
    EXPECT_FALSE(torch::equal(a->translate(x, "ab"), x));
    EXPECT_THROW(loaded.generative->sample(2), InvalidArgument);
    return;
  }
  SamplerSettings s;
  if (!c.condition.is_null()) s.condition = {c.condition["kind"] == "class" ? 2.0 : 0.5};
  seed_all(99);
  const auto x1 = draw(trained, 12, s);
  seed_all(99);
  const auto x2 = draw(loaded, 12, s);
  std::vector<int64_t> expected{12};
  expected.insert(expected.end(), c.shape.begin(), c.shape.end());
  ASSERT_EQ(x1.sizes().vec(), expected);
  EXPECT_TRUE(torch::equal(x1, x2));
  EXPECT_TRUE(torch::isfinite(x1).all().item<bool>());
  // A different seed gives different samples (the comparison above can fail).
  seed_all(100);
  EXPECT_FALSE(torch::equal(draw(loaded, 12, s), x1));
}

const nlohmann::json kSmallGan = {{"hidden", {16}}, {"latent_dim", 4}, {"channels", 16}};
const nlohmann::json kClass = {{"kind", "class"}, {"classes", 3}, {"labels", {"a", "b", "c"}}};
const nlohmann::json kContinuous = {{"kind", "continuous"}, {"dim", 1}, {"names", {"beta"}}};

TEST(ZooGan, GanRoundTripVector) { check_round_trip({"gan", {2}, kSmallGan, nullptr}); }
TEST(ZooGan, GanRoundTripLatticeDcgan) { check_round_trip({"gan", {8, 8}, kSmallGan, nullptr}); }
TEST(ZooGan, CganRoundTripClassLabels) { check_round_trip({"cgan", {2}, kSmallGan, kClass}); }
TEST(ZooGan, CganRoundTripLatticeContinuous) { check_round_trip({"cgan", {8, 8}, kSmallGan, kContinuous}); }
TEST(ZooGan, WganRoundTrip) { check_round_trip({"wgan", {8, 8}, kSmallGan, nullptr}); }
TEST(ZooGan, WganGpRoundTrip) { check_round_trip({"wgan-gp", {2}, kSmallGan, nullptr}); }
TEST(ZooGan, CycleGanRoundTrip) { check_round_trip({"cyclegan", {2}, {{"hidden", {16}}}, nullptr}); }
TEST(ZooGan, VaeRoundTripLattice) { check_round_trip({"vae", {4, 4}, {{"hidden", {16}}, {"latent_dim", 2}}, nullptr}); }
TEST(ZooGan, EbmRoundTripLatticeConv) {
  check_round_trip({"ebm", {4, 4}, {{"channels", 4}, {"buffer_size", 64}, {"sample_steps", 5}}, nullptr});
}

TEST(ZooGan, EbmRoundTripIsingFamily) {
  check_round_trip({"ebm",
                    {4, 4},
                    {{"network", "ising"}, {"init", "spins"}, {"sampler", {{"method", "heatbath"}, {"n_steps", 2}}},
                     {"buffer_size", 64}, {"sample_steps", 5}},
                    nullptr});
}

TEST(ZooGan, EbmTrainDefaultsFollowTheEnergy) {
  // Lattices: persistent contrastive divergence (batch-sized buffer, no restarts, MALA).
  const auto d = default_model_options("ebm", {8, 8});
  EXPECT_EQ(d["buffer_size"], 256);
  EXPECT_EQ(d["reinit_prob"], 0.0);
  EXPECT_EQ(d["sampler"]["method"], "mala");
  EXPECT_EQ(default_train_options("ebm", {8, 8}).batch_size(), 256);
  // A conv energy trains at 3e-3 (an MLP on vectors at 1e-3); the exponential families move
  // O(1..10) couplings at 0.02.
  EXPECT_EQ(default_train_options("ebm", {8, 8}).lr(), 3e-3);
  EXPECT_EQ(default_train_options("ebm", {2}).lr(), 1e-3);
  nlohmann::json phi4 = d;
  phi4["network"] = "phi4";
  EXPECT_EQ(default_train_options("ebm", {8, 8}, phi4).lr(), 0.02);
  nlohmann::json ising = d;
  ising["network"] = "ising";
  EXPECT_EQ(default_train_options("ebm", {8, 8}, ising).lr(), 0.02);
  // Families whose defaults depend on the shape only ignore the model options.
  EXPECT_EQ(default_train_options("gan", {8, 8}, phi4).lr(), default_train_options("gan", {8, 8}).lr());
}

TEST(ZooGan, DefaultsPickNetworksByShapeAndRoundTrip) {
  EXPECT_EQ(default_model_options("gan", {8, 8})["network"], "dcgan");
  EXPECT_EQ(default_model_options("wgan-gp", {2})["network"], "mlp");
  EXPECT_EQ(default_model_options("wgan-gp", {2})["constraint"], "gp");
  EXPECT_EQ(default_model_options("wgan", {2})["constraint"], "clip");
  EXPECT_EQ(default_model_options("cyclegan", {8, 8})["network"], "conv");
  EXPECT_EQ(default_model_options("ebm", {8, 8})["network"], "conv");
  EXPECT_EQ(default_train_options("wgan-gp", {2}).lr(), 1e-4);
  for (const std::string f : {"gan", "cgan", "wgan", "wgan-gp", "cyclegan", "vae", "ebm"}) {
    SCOPED_TRACE(f);
    ModelSpec spec;
    spec.family = f;
    spec.model = default_model_options(f, {8, 8});
    if (f == "cgan") spec.condition = Condition::from_json(kClass);
    // Built spec = defaults (+ the derived condition width).
    nlohmann::json expected = spec.model;
    if (f == "cgan") expected["condition_dim"] = 3;
    EXPECT_EQ(build_model(spec).spec.model, expected);
  }
}

TEST(ZooGan, BadOptionsAndConditionsAreRejected) {
  ModelSpec spec;
  spec.family = "gan";
  spec.model = default_model_options("gan", {2});
  spec.model["latent_dimension"] = 3;  // misspelt
  EXPECT_THROW(build_model(spec), InvalidArgument);
  spec.family = "cgan";
  spec.model = default_model_options("cgan", {2});
  EXPECT_THROW(build_model(spec), InvalidArgument);  // no condition
  spec.condition = Condition::from_json(kClass);
  spec.model["condition_dim"] = 5;  // disagrees with 3 classes
  EXPECT_THROW(build_model(spec), InvalidArgument);
  spec.model["condition_dim"] = 0;
  Model m = build_model(spec);
  nlohmann::json rep;
  SamplerSettings s;
  EXPECT_THROW(m.sample_with(2, s, rep), InvalidArgument);  // missing label
  s.condition = {3.0};
  EXPECT_THROW(m.sample_with(2, s, rep), InvalidArgument);  // out of range
  s.condition = {1.5};
  EXPECT_THROW(m.sample_with(2, s, rep), InvalidArgument);  // not an integer
  // Native training of a conditional GAN needs conditions in the data.
  TrainingData d;
  d.x = torch::randn({8, 2});
  EXPECT_THROW(ModelTask(m, "native", nullptr, 8, d), InvalidArgument);
  spec.family = "vae";
  spec.model = default_model_options("vae", {2});
  EXPECT_THROW(build_model(spec), InvalidArgument);  // vae is unconditional
  spec.condition = Condition();
  Model cg = build_model(ModelSpec{"cyclegan", default_model_options("cyclegan", {2}), "toy", {}, "", Condition()});
  EXPECT_THROW(ModelTask(cg, "native", nullptr, 8, d), InvalidArgument);  // no x_b
}

}  // namespace
