// Checkpoints: an interrupted and resumed run is bit-identical to an uninterrupted one.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/io/checkpoint.h"
#include "support/io_test_util.h"

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

struct NetImpl : torch::nn::Module {
  explicit NetImpl(int64_t hidden = 16) {
    fc1 = register_module("fc1", torch::nn::Linear(3, hidden));
    norm = register_module("norm", torch::nn::BatchNorm1d(hidden));  // has buffers
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 1));
    scale = register_parameter("scale", torch::ones({1}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::tanh(norm(fc1(x)))) * scale; }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
  torch::Tensor scale;
};
TORCH_MODULE(Net);

// One training step on a fresh random minibatch (uses the default CPU generator).
void train_step(Net& net, torch::optim::Optimizer& opt) {
  auto x = torch::randn({32, 3});
  auto y = x.sum(1, true).sin();
  opt.zero_grad();
  auto loss = (net->forward(x) - y).pow(2).mean();
  loss.backward();
  opt.step();
}

std::vector<torch::Tensor> state_of(const Net& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) out.push_back(b.detach().clone());
  return out;
}

void expect_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
}

void expect_same_adam_state(torch::optim::Adam& a, torch::optim::Adam& b) {
  const auto pa = a.param_groups()[0].params(), pb = b.param_groups()[0].params();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    auto& sa = static_cast<torch::optim::AdamParamState&>(*a.state().at(c10::guts::to_string(pa[i].unsafeGetTensorImpl())));
    auto& sb = static_cast<torch::optim::AdamParamState&>(*b.state().at(c10::guts::to_string(pb[i].unsafeGetTensorImpl())));
    EXPECT_EQ(sa.step(), sb.step());
    EXPECT_TRUE(torch::equal(sa.exp_avg(), sb.exp_avg()));
    EXPECT_TRUE(torch::equal(sa.exp_avg_sq(), sb.exp_avg_sq()));
  }
}

TEST(Checkpoint, ResumedRunIsBitIdentical) {
  TempDir dir;
  const auto path = dir.file("run.pt");
  torch::manual_seed(7);
  Net net;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  for (int i = 0; i < 5; ++i) train_step(net, opt);
  const nlohmann::json meta = {{"options", {{"hidden", 16}, {"lr", 1e-2}}}, {"note", "test"}};
  save_checkpoint(path, *net, &opt, meta, 5);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"run.pt"});

  // Reference: the uninterrupted continuation.
  for (int i = 0; i < 4; ++i) train_step(net, opt);
  const auto reference = state_of(net);
  const auto reference_draw = torch::randn({5});

  // Perturb everything: other parameters, other optimizer history, other RNG state.
  torch::manual_seed(12345);
  Net net2;
  torch::optim::Adam opt2(net2->parameters(), torch::optim::AdamOptions(1e-2));
  for (int i = 0; i < 2; ++i) train_step(net2, opt2);
  Net net_at_save;  // built before loading: its initialisation draws random numbers
  torch::optim::Adam opt_at_save(net_at_save->parameters(), torch::optim::AdamOptions(1e-2));
  const auto info = load_checkpoint(path, *net2, &opt2);
  EXPECT_EQ(info.step, 5);
  EXPECT_EQ(info.meta, meta);
  EXPECT_EQ(info.options, meta["options"]);
  EXPECT_TRUE(info.has_optimizer);
  EXPECT_TRUE(info.rng_restored);
  EXPECT_FALSE(info.physgen_version.empty());

  // Right after loading: same parameters and optimizer state as at save time.
  load_checkpoint(path, *net_at_save, &opt_at_save, /*restore_rng=*/false);
  expect_identical(state_of(net2), state_of(net_at_save));
  expect_same_adam_state(opt2, opt_at_save);

  for (int i = 0; i < 4; ++i) train_step(net2, opt2);
  expect_identical(state_of(net2), reference);
  EXPECT_TRUE(torch::equal(torch::randn({5}), reference_draw));
}

TEST(Checkpoint, WithoutOptimizerAndInfoOnly) {
  TempDir dir;
  const auto path = dir.file("m.pt");
  Net net;
  save_checkpoint(path, *net, nullptr, nullptr, 0);
  const auto info = read_checkpoint_info(path);
  EXPECT_EQ(info.step, 0);
  EXPECT_FALSE(info.has_optimizer);
  EXPECT_TRUE(info.meta.is_null());
  Net other;
  load_checkpoint(path, *other, nullptr);
  expect_identical(state_of(other), state_of(net));
  torch::optim::SGD sgd(other->parameters(), torch::optim::SGDOptions(0.1));
  expect_contains(message_of<IoError>([&] { load_checkpoint(path, *other, &sgd); }),
                  {path, "no optimizer state"});
  message_of<InvalidArgument>([&] { save_checkpoint(path, *net, nullptr, nullptr, -1); });
}

TEST(Checkpoint, OverwriteKeepsOnlyTheFile) {
  TempDir dir;
  const auto path = dir.file("c.pt");
  Net net;
  save_checkpoint(path, *net, nullptr, {{"k", 1}}, 1);
  save_checkpoint(path, *net, nullptr, {{"k", 2}}, 2);
  EXPECT_EQ(read_checkpoint_info(path).step, 2);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"c.pt"});
}

TEST(Checkpoint, CorruptFilesAreRejectedCleanly) {
  TempDir dir;
  const auto path = dir.file("good.pt");
  torch::manual_seed(1);
  Net net;
  torch::optim::Adam opt(net->parameters());
  train_step(net, opt);
  save_checkpoint(path, *net, &opt, {{"a", 1}}, 1);
  const auto bytes = test::slurp(path);

  Net target;
  const auto before = state_of(target);
  expect_contains(message_of<IoError>([&] { load_checkpoint(dir.file("missing.pt"), *target, nullptr); }),
                  {dir.file("missing.pt"), "no such file"});
  for (size_t keep : {bytes.size() / 2, bytes.size() - 10, size_t{0}, size_t{100}}) {
    SCOPED_TRACE(keep);
    test::spit(dir.file("trunc.pt"), bytes.substr(0, keep));
    expect_contains(message_of<IoError>([&] { load_checkpoint(dir.file("trunc.pt"), *target, nullptr); }),
                    {dir.file("trunc.pt"), "truncated or corrupt"});
  }
  test::spit(dir.file("text.pt"), "this is not a zip archive\n");
  expect_contains(message_of<IoError>([&] { read_checkpoint_info(dir.file("text.pt")); }),
                  {dir.file("text.pt"), "not a readable checkpoint"});
  // A valid LibTorch archive that is not a physgen checkpoint.
  torch::save(torch::ones({2}), dir.file("tensor.pt"));
  expect_contains(message_of<IoError>([&] { load_checkpoint(dir.file("tensor.pt"), *target, nullptr); }),
                  {dir.file("tensor.pt"), "not a physgen checkpoint"});
  expect_identical(state_of(target), before);
}

TEST(Checkpoint, DifferentModelIsRejectedAndLeftUnchanged) {
  TempDir dir;
  const auto path = dir.file("c.pt");
  Net net(16);
  torch::optim::Adam opt(net->parameters());
  train_step(net, opt);
  save_checkpoint(path, *net, &opt, nullptr, 1);

  Net wider(32);
  torch::optim::Adam opt_wider(wider->parameters());
  const auto before = state_of(wider);
  expect_contains(message_of<IoError>([&] { load_checkpoint(path, *wider, &opt_wider); }),
                  {path, "parameter 'fc1.weight' has shape (16, 3) in the checkpoint but (32, 3) in the model"});
  expect_identical(state_of(wider), before);

  torch::nn::Sequential other(torch::nn::Linear(3, 16));
  expect_contains(message_of<IoError>([&] { load_checkpoint(path, *other, nullptr); }), {path, "checkpoint has no"});

  // Same parameters but the optimizer has a different number of parameters.
  Net same(16);
  torch::optim::Adam partial(std::vector<torch::Tensor>{same->fc1->weight});
  const auto same_before = state_of(same);
  expect_contains(message_of<IoError>([&] { load_checkpoint(path, *same, &partial); }),
                  {path, "optimizer state does not fit"});
  expect_identical(state_of(same), same_before);
}

}  // namespace
}  // namespace physgen
