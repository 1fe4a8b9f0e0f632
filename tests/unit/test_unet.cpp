// U-Net for periodic lattices: periodicity (translation equivariance by the pooling stride),
// conditioning, zero initial output, validation; and DenoiserNet's choice of network.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/models/diffusion/ddpm.h"
#include "physgen/models/diffusion/denoiser_net.h"
#include "physgen/nn/unet.h"

using namespace physgen;

namespace {

UNet random_unet(int64_t channels, int64_t condition_dim = 0) {
  UNet net(UNetOptions(channels)
               .base_channels(8)
               .channel_multipliers({1, 2})
               .condition_dim(condition_dim)
               .zero_init_output(false));
  return net;
}

}  // namespace

// Periodic padding + 2x2 pooling: shifting the input by multiples of 2 sites shifts the output.
TEST(UNet, CommutesWithLatticeTranslationsByThePoolingStride) {
  seed_all(40);
  UNet net = random_unet(2);
  net->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 2, 8, 8}, torch::kFloat64);
  net->to(torch::kFloat64);
  auto t = torch::tensor({0.1, 0.5, 0.9}, torch::kFloat64);
  auto y = net->forward(t, x);
  for (auto shift : std::vector<std::pair<int64_t, int64_t>>{{2, 0}, {0, 4}, {6, 2}}) {
    auto xs = torch::roll(x, {shift.first, shift.second}, {2, 3});
    auto ys = net->forward(t, xs);
    EXPECT_TRUE(
        torch::allclose(ys, torch::roll(y, {shift.first, shift.second}, {2, 3}), 1e-10, 1e-10))
        << shift.first << "," << shift.second;
  }
  // A one-site shift is not a symmetry of the pooled network (the check has power).
  auto y1 = net->forward(t, torch::roll(x, {1}, {2}));
  EXPECT_FALSE(torch::allclose(y1, torch::roll(y, {1}, {2}), 1e-6, 1e-6));
}

// With one level (no pooling) every translation is a symmetry, and rectangular lattices work.
TEST(UNet, SingleLevelIsFullyTranslationEquivariant) {
  seed_all(41);
  UNet net(UNetOptions(1).base_channels(4).channel_multipliers({1}).zero_init_output(false));
  net->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 1, 5, 7}, torch::kFloat64);
  auto y = net->forward(torch::full({1}, 0.3, torch::kFloat64), x);
  auto ys = net->forward(torch::full({1}, 0.3, torch::kFloat64), torch::roll(x, {1, 3}, {2, 3}));
  EXPECT_TRUE(torch::allclose(ys, torch::roll(y, {1, 3}, {2, 3}), 1e-10, 1e-10));
}

TEST(UNet, TimeAndConditionChangeTheOutput) {
  seed_all(42);
  UNet net = random_unet(1, 3);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 1, 8, 8});
  auto c = torch::tensor({{1.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 1.0f}});
  auto a = net->forward(torch::full({1}, 0.2), x, c);
  auto b = net->forward(torch::full({1}, 0.7), x, c);
  auto d = net->forward(torch::full({1}, 0.2), x, c.flip(0));
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-4);
  EXPECT_GT((a - d).abs().max().item<double>(), 1e-4);
  EXPECT_THROW(net->forward(torch::full({1}, 0.2), x), InvalidArgument);  // condition missing
  EXPECT_THROW(net->forward(torch::full({1}, 0.2), torch::randn({2, 1, 5, 8}), c),
               InvalidArgument);  // odd side with one pooling level
}

TEST(UNet, ZeroInitialisedOutputAndValidation) {
  UNet net(UNetOptions(1));
  auto y = net->forward(torch::full({1}, 0.5), torch::randn({2, 1, 8, 8}));
  EXPECT_EQ(y.abs().max().item<double>(), 0.0);
  EXPECT_THROW(UNet(UNetOptions(0)), InvalidArgument);
  EXPECT_THROW(UNet(UNetOptions(1).channel_multipliers({})), InvalidArgument);
  EXPECT_THROW(net->forward(torch::full({1}, 0.5), torch::randn({2, 1, 7, 8})), InvalidArgument);
}

TEST(UNet, DenoiserNetPicksTheNetworkFromTheEventShape) {
  DenoiserNet lattice(std::vector<int64_t>{8, 8}, 0, DenoiserNetOptions());
  EXPECT_EQ(lattice->type(), "unet");
  DenoiserNet vec(std::vector<int64_t>{2}, 0, DenoiserNetOptions());
  EXPECT_EQ(vec->type(), "mlp");
  DenoiserNet odd(std::vector<int64_t>{5, 5}, 0, DenoiserNetOptions());
  EXPECT_EQ(odd->type(), "mlp");
  DenoiserNet multi(std::vector<int64_t>{2, 8, 8}, 4, DenoiserNetOptions());
  EXPECT_EQ(multi->type(), "unet");
  auto x = torch::randn({3, 2, 8, 8});
  EXPECT_EQ(multi->forward(torch::rand({3}), x, torch::zeros({3, 4})).sizes(), x.sizes());
  // A DDPM on a lattice trains its U-Net: one Adam step lowers the loss on a fixed batch.
  seed_all(43);
  DDPM model(
      DDPMOptions({8, 8}).network(DenoiserNetOptions().unet(UNetOptions().base_channels(8))));
  EXPECT_EQ(model->net->type(), "unet");
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto batch = torch::randn({16, 8, 8});
  auto step = torch::randint(0, 1000, {16}, torch::kLong);
  auto noise = torch::randn({16, 8, 8});
  const double before = model->loss_at(batch, step, noise, torch::Tensor()).item<double>();
  for (int i = 0; i < 5; ++i) {
    opt.zero_grad();
    model->loss_at(batch, step, noise, torch::Tensor()).backward();
    opt.step();
  }
  const double after = model->loss_at(batch, step, noise, torch::Tensor()).item<double>();
  EXPECT_LT(after, before);
  EXPECT_NEAR(before, 1.0, 0.2);  // zero-initialised output: the loss starts at E eps^2 = 1
}
