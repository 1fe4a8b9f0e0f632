// The shared Trainer: exact resume, NaN stop, schedule, options validation.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/train/trainer.h"

namespace {

using namespace physgen;

/// Least-squares fit of a small MLP, with a noise draw inside the loss so the
/// RNG state matters for resume.
struct RegressionTask : TrainingTask {
  torch::nn::Sequential net{torch::nn::Linear(2, 16), torch::nn::Tanh(), torch::nn::Linear(16, 1)};
  int64_t nan_at = -1;
  int64_t poison_at = -1;  ///< train step after which a parameter becomes NaN (finite loss)
  int64_t calls = 0;
  double train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& opts, double clip,
                    int64_t step, Diagnostics& diag) override {
    const double l = TrainingTask::train_step(batch, opts, clip, step, diag);
    if (step == poison_at) {
      torch::NoGradGuard ng;
      net->parameters()[0].view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
    }
    return l;
  }
  torch::nn::Module& module() override { return *net; }
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override {
    auto x = batch.index({torch::indexing::Slice(), torch::indexing::Slice(0, 2)});
    auto y = batch.index({torch::indexing::Slice(), torch::indexing::Slice(2, 3)});
    auto noise = 0.01 * torch::randn_like(y);
    auto l = (net->forward(x) - y - noise).pow(2).mean();
    diag["mse"] = l.item<double>();
    if (calls++ == nan_at) return l * std::numeric_limits<double>::quiet_NaN();
    return l;
  }
  nlohmann::json options() const override { return {{"hidden", 16}}; }
};

torch::Tensor make_data() {
  seed_all(7);
  auto x = torch::randn({256, 2});
  auto y = torch::sin(x.index({torch::indexing::Slice(), 0})) * x.index({torch::indexing::Slice(), 1});
  return torch::cat({x, y.unsqueeze(1)}, 1);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("physgen_trainer_" + std::to_string(getpid()) + name)).string();
}

TEST(Trainer, ResumeReproducesUninterruptedLosses) {
  auto data = make_data();
  auto opts = TrainerOptions().steps(40).batch_size(32).lr(3e-2).log_every(1).progress(false);

  seed_all(11);
  RegressionTask full;
  auto full_data_mse = [&](RegressionTask& t) {
    torch::NoGradGuard ng;
    auto x = data.index({torch::indexing::Slice(), torch::indexing::Slice(0, 2)});
    auto y = data.index({torch::indexing::Slice(), torch::indexing::Slice(2, 3)});
    return (t.net->forward(x) - y).pow(2).mean().item<double>();
  };
  const double mse_before = full_data_mse(full);
  Trainer t_full(full, opts);
  auto r_full = t_full.fit(data);
  ASSERT_EQ(r_full.history.size(), 40u);

  const std::string ckpt = temp_path("resume.pt");
  seed_all(11);
  RegressionTask first;
  // Interrupted after 15 of 40 steps.
  Trainer t_part(first, TrainerOptions(opts).checkpoint_path(ckpt));
  auto r_part = t_part.fit(data, 15);
  ASSERT_EQ(r_part.steps_done, 15);

  // A fresh process: new model (different init), restored from the checkpoint.
  seed_all(999);
  RegressionTask second;
  Trainer t_second(second, opts);
  t_second.resume(ckpt);
  EXPECT_EQ(t_second.step(), 15);
  auto r_second = t_second.fit(data);
  ASSERT_EQ(r_second.history.size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(r_second.history[i].step, r_full.history[15 + i].step);
    // Identical arithmetic in the same order: bit-identical losses.
    EXPECT_EQ(r_second.history[i].loss, r_full.history[15 + i].loss) << "step " << r_second.history[i].step;
  }
  // Training actually reduced the loss (the test has power to see a broken loop).
  EXPECT_LT(full_data_mse(full), 0.7 * mse_before);
  std::remove(ckpt.c_str());
}

TEST(Trainer, ShouldStopInterruptsWithAResumableCheckpoint) {
  // A stop request (Ctrl-C in the Python module) after step 12: status Interrupted, the
  // checkpoint holds step 12, and resuming reproduces the uninterrupted run's losses.
  auto data = make_data();
  auto opts = TrainerOptions().steps(30).batch_size(32).lr(3e-2).log_every(1).progress(false);
  seed_all(5);
  RegressionTask full;
  auto r_full = Trainer(full, opts).fit(data);
  ASSERT_EQ(r_full.history.size(), 30u);

  const std::string ckpt = temp_path("interrupt.pt");
  seed_all(5);
  RegressionTask first;
  Trainer t_first(first, TrainerOptions(opts).checkpoint_path(ckpt));
  int64_t calls = 0;
  auto r = t_first.fit(data, -1, [&](int64_t step, double) { return ++calls == 12 && step == 12; });
  EXPECT_EQ(r.status, TrainResult::Status::Interrupted);
  EXPECT_EQ(r.steps_done, 12);
  EXPECT_NE(r.message.find("after step 12"), std::string::npos) << r.message;
  ASSERT_TRUE(std::filesystem::exists(ckpt));

  seed_all(123);
  RegressionTask second;
  Trainer t_second(second, opts);
  t_second.resume(ckpt);
  EXPECT_EQ(t_second.step(), 12);
  auto r_second = t_second.fit(data);
  ASSERT_EQ(r_second.history.size(), 18u);
  for (size_t i = 0; i < 18; ++i) EXPECT_EQ(r_second.history[i].loss, r_full.history[12 + i].loss);
  // Control: a callback that never fires changes nothing.
  seed_all(5);
  RegressionTask third;
  auto r_third = Trainer(third, opts).fit(data, -1, [](int64_t, double) { return false; });
  EXPECT_EQ(r_third.status, TrainResult::Status::Finished);
  EXPECT_EQ(r_third.history.back().loss, r_full.history.back().loss);
  std::remove(ckpt.c_str());
}

TEST(Trainer, StopsOnNonFiniteLossWithoutCheckpoint) {
  auto data = make_data();
  const std::string ckpt = temp_path("nan.pt");
  const std::string csv = temp_path("nan.csv");
  std::remove(ckpt.c_str());
  seed_all(3);
  RegressionTask task;
  task.nan_at = 5;
  Trainer trainer(task, TrainerOptions().steps(20).batch_size(16).progress(false).checkpoint_path(ckpt).csv_path(csv).log_every(1));
  auto r = trainer.fit(data);
  EXPECT_EQ(r.status, TrainResult::Status::NonFinite);
  EXPECT_EQ(r.steps_done, 5);
  EXPECT_NE(r.message.find("non-finite loss"), std::string::npos) << r.message;
  EXPECT_FALSE(std::filesystem::exists(ckpt));
  // The CSV holds the 5 good steps plus its header.
  std::ifstream in(csv);
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, 6);
  std::remove(csv.c_str());
}

TEST(Trainer, CosineScheduleWithWarmup) {
  RegressionTask task;
  Trainer t(task, TrainerOptions().steps(110).lr(1.0).warmup(10).schedule("cosine").progress(false));
  EXPECT_DOUBLE_EQ(t.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(t.lr_at(9), 1.0);
  EXPECT_DOUBLE_EQ(t.lr_at(10), 1.0);
  EXPECT_NEAR(t.lr_at(60), 0.5, 1e-12);
  EXPECT_NEAR(t.lr_at(110), 0.0, 1e-12);
}

TEST(Trainer, InvalidOptionsNameTheArgument) {
  RegressionTask task;
  try {
    Trainer t(task, TrainerOptions().optimizer("adagrad"));
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer = 'adagrad'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("adam|adamw|sgd"), std::string::npos) << e.what();
  }
  EXPECT_THROW(TrainerOptions::from_json({{"stepz", 3}}), InvalidArgument);
}

}  // namespace

TEST(Trainer, NonFiniteParametersStopBeforeAnyCheckpoint) {
  // The last step poisons a parameter after a finite loss: no later loss can reveal it, so
  // only the parameter check (every log_every steps, before each checkpoint, at the end)
  // keeps the final checkpoint from being written from a broken state.
  auto data = make_data();
  const std::string ckpt = temp_path("poison.pt");
  std::remove(ckpt.c_str());
  seed_all(3);
  RegressionTask task;
  task.poison_at = 19;  // 0-based: the last of 20 steps
  Trainer trainer(task, TrainerOptions().steps(20).batch_size(16).progress(false).checkpoint_path(ckpt)
                            .log_every(100));
  auto r = trainer.fit(data);
  EXPECT_EQ(r.status, TrainResult::Status::NonFinite);
  EXPECT_EQ(r.steps_done, 19);
  EXPECT_NE(r.message.find("non-finite parameters"), std::string::npos) << r.message;
  EXPECT_FALSE(std::filesystem::exists(ckpt));
}
