// GAN family: exact loss values, the gradient penalty on critics with closed-form input
// gradients, per-sample interpolation, periodic DCGAN layers, the alternating train step,
// CycleGAN identity start, latent tools, options round trips.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/models/gan/cyclegan.h"
#include "physgen/models/gan/gan.h"
#include "physgen/models/gan/latent.h"
#include "physgen/models/gan/losses.h"
#include "physgen/nn/dcgan.h"
#include "support/test_util.h"

using namespace physgen;

namespace {
using physgen_test::kF64;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& p) {
  std::vector<torch::Tensor> out;
  for (const auto& t : p) out.push_back(t.detach().clone());
  return out;
}
}  // namespace

TEST(GanLosses, ExactValues) {
  auto r = torch::tensor({0.3, -1.2, 2.0}, kF64);
  auto f = torch::tensor({-0.5, 1.5}, kF64);
  double d_ce = 0, g_ns = 0, g_mm = 0;
  for (double x : {0.3, -1.2, 2.0}) d_ce -= std::log(sigmoid(x)) / 3;
  for (double x : {-0.5, 1.5}) {
    d_ce -= std::log(1 - sigmoid(x)) / 2;
    g_ns -= std::log(sigmoid(x)) / 2;
    g_mm += std::log(1 - sigmoid(x)) / 2;
  }
  EXPECT_NEAR(discriminator_loss(GanLoss::Minimax, r, f).item<double>(), d_ce, 1e-14);
  EXPECT_NEAR(discriminator_loss(GanLoss::NonSaturating, r, f).item<double>(), d_ce, 1e-14);
  EXPECT_NEAR(generator_loss(GanLoss::Minimax, f).item<double>(), g_mm, 1e-14);
  EXPECT_NEAR(generator_loss(GanLoss::NonSaturating, f).item<double>(), g_ns, 1e-14);
  EXPECT_NEAR(discriminator_loss(GanLoss::Wasserstein, r, f).item<double>(), 0.5 - 1.1 / 3, 1e-14);
  EXPECT_NEAR(generator_loss(GanLoss::Wasserstein, f).item<double>(), -0.5, 1e-14);
  const double ls_d = 0.5 * ((0.49 + 4.84 + 1.0) / 3 + (0.25 + 2.25) / 2);
  EXPECT_NEAR(discriminator_loss(GanLoss::LeastSquares, r, f).item<double>(), ls_d, 1e-14);
  EXPECT_NEAR(generator_loss(GanLoss::LeastSquares, f).item<double>(), (2.25 + 0.25) / 2, 1e-14);
  EXPECT_EQ(gan_loss_from_name("wasserstein"), GanLoss::Wasserstein);
  EXPECT_THROW(gan_loss_from_name("hinge"), InvalidArgument);
}

// Linear critic f(x) = w.x: grad f = w everywhere, so GP = lambda (|w| - 1)^2 exactly for any
// interpolates, and dGP/dw = 2 lambda (|w| - 1) w / |w|.
TEST(GradientPenalty, ExactOnLinearCritic) {
  seed_all(3);
  for (double scale : {0.3, 1.0, 2.7}) {
    auto w = (scale * torch::randn({2, 3}, kF64)).requires_grad_(true);
    auto critic = [&](const torch::Tensor& x) { return (x * w).sum({1, 2}); };
    auto real = torch::randn({7, 2, 3}, kF64), fake = torch::randn({7, 2, 3}, kF64);
    torch::Tensor norms;
    auto gp = gradient_penalty(critic, real, fake, 10.0, &norms);
    const double nw = w.norm().item<double>();
    EXPECT_NEAR(gp.item<double>(), 10.0 * (nw - 1) * (nw - 1), 1e-12 * (1 + nw * nw));
    EXPECT_TRUE(torch::allclose(norms, torch::full({7}, nw, kF64), 1e-13, 0));
    auto grad = torch::autograd::grad({gp}, {w})[0];
    auto expected = 2 * 10.0 * (nw - 1) * w.detach() / nw;
    EXPECT_TRUE(torch::allclose(grad, expected, 1e-11, 1e-13));
  }
  // A unit-norm critic has zero penalty; lambda scales it linearly.
  auto u = torch::tensor({0.6, 0.8}, kF64);
  auto unit = [&](const torch::Tensor& x) { return (x * u).sum(1); };
  EXPECT_NEAR(gradient_penalty(unit, torch::randn({5, 2}, kF64), torch::randn({5, 2}, kF64)).item<double>(), 0.0,
              1e-14);
}

// One eps per sample: x_hat - fake = eps (real - fake) with eps constant within a sample.
TEST(GradientPenalty, InterpolatesArePerSample) {
  seed_all(5);
  auto real = torch::randn({64, 3, 4}, kF64), fake = torch::randn({64, 3, 4}, kF64);
  torch::Tensor eps;
  auto xh = gradient_penalty_interpolates(real, fake, &eps);
  ASSERT_EQ(eps.sizes(), torch::IntArrayRef({64}));
  auto ratio = (xh - fake) / (real - fake);
  auto spread = (ratio.flatten(1).amax(1) - ratio.flatten(1).amin(1)).max().item<double>();
  EXPECT_LT(spread, 1e-10);
  EXPECT_TRUE(torch::allclose(ratio.flatten(1).mean(1), eps, 1e-10, 1e-12));
  EXPECT_GE(eps.min().item<double>(), 0.0);
  EXPECT_LE(eps.max().item<double>(), 1.0);
  EXPECT_GT(eps.std().item<double>(), 0.2);  // U[0,1]: sd 0.289; a shared eps would give 0
}

// Quadratic critic f = |x|^2 / 2 with real = 0: x_hat = (1 - eps) fake, |grad| = (1 - eps)|fake|.
TEST(GradientPenalty, QuadraticCriticPerSampleNorms) {
  seed_all(9);
  auto real = torch::zeros({16, 5}, kF64), fake = 2 * torch::randn({16, 5}, kF64);
  auto critic = [](const torch::Tensor& x) { return 0.5 * x.pow(2).sum(1); };
  torch::Tensor eps, norms;
  auto xh = gradient_penalty_interpolates(real, fake, &eps);
  auto gp = gradient_penalty_at(critic, xh, 3.0, &norms);
  auto expected_norms = (1 - eps) * fake.norm(2, 1);
  EXPECT_TRUE(torch::allclose(norms, expected_norms, 1e-12, 1e-14));
  EXPECT_NEAR(gp.item<double>(), 3.0 * (expected_norms - 1).pow(2).mean().item<double>(), 1e-12);
}

// Periodic transposed convolution = circular padding by one site, zero-padded transposed
// convolution, and the central 2n window; shifting the input by 1 shifts the output by 2.
TEST(Dcgan, PeriodicUpsampleMatchesCircularPaddingAndIsEquivariant) {
  seed_all(1);
  LatticeUpsample up(3, 2, true);
  up->to(torch::kFloat64);
  {
    torch::NoGradGuard ng;
    up->bias.normal_();
  }
  auto x = torch::randn({2, 3, 4, 4}, kF64);
  auto y = up->forward(x);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({2, 2, 8, 8}));
  auto padded = torch::nn::functional::pad(x, torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kCircular));
  auto full = up->conv->forward(padded);  // (2, 2, 14, 14)
  auto ref = full.narrow(2, 3, 8).narrow(3, 3, 8) + up->bias.view({1, -1, 1, 1});
  EXPECT_LT((y - ref).abs().max().item<double>(), 1e-12);
  auto ys = up->forward(torch::roll(x, {1, -1}, {2, 3}));
  EXPECT_LT((ys - torch::roll(y, {2, -2}, {2, 3})).abs().max().item<double>(), 1e-12);
}

TEST(Dcgan, DiscriminatorInvariantUnderStrideShifts) {
  seed_all(2);
  LatticeDiscriminator d(LatticeDiscriminatorOptions(8).downsamplings(2).channels(4));
  d->to(torch::kFloat64);
  auto x = torch::randn({3, 8, 8}, kF64);
  auto out = d->forward(x);
  EXPECT_LT((d->forward(torch::roll(x, {4, -4}, {1, 2})) - out).abs().max().item<double>(), 1e-12);
  // Not a constant: different fields score differently.
  EXPECT_GT((out - out[0]).abs().max().item<double>(), 1e-6);
  LatticeGenerator g(LatticeGeneratorOptions(8, 5).upsamplings(2).channels(16));
  EXPECT_EQ(g->forward(torch::randn({4, 5})).sizes(), torch::IntArrayRef({4, 8, 8}));
  EXPECT_THROW(LatticeGenerator(LatticeGeneratorOptions(6, 5).upsamplings(2)), InvalidArgument);
}

// n_critic = 3: the critic moves every step, the generator only after every third; weight
// clipping keeps every critic parameter in [-c, c].
TEST(GanTask, AlternatesWithNCriticAndClipsWeights) {
  seed_all(4);
  Gan gan(GanOptions::preset("wgan", {2}).n_critic(3).hidden({16}).clip_value(0.05));
  GanTask task(gan);
  torch::optim::Adam opt_g(gan->generator_parameters(), 1e-2), opt_d(gan->discriminator_parameters(), 1e-2);
  std::vector<torch::optim::Optimizer*> opts{&opt_g, &opt_d};
  for (int64_t s = 0; s < 6; ++s) {
    auto g0 = snapshot(gan->generator_parameters()), d0 = snapshot(gan->discriminator_parameters());
    Diagnostics diag;
    task.train_step(torch::randn({32, 2}), opts, 0.0, s, diag);
    EXPECT_TRUE(diag.count("g_loss") && diag.count("d_loss"));
    EXPECT_FALSE(same(d0, gan->discriminator_parameters())) << "step " << s;
    EXPECT_EQ(same(g0, gan->generator_parameters()), (s + 1) % 3 != 0) << "step " << s;
    for (const auto& p : gan->discriminator_parameters()) EXPECT_LE(p.abs().max().item<double>(), 0.05 + 1e-7);
  }
  EXPECT_EQ(task.parameter_groups()[0].first, "generator");
  // The task asks the Trainer for its Adam coefficients and the generator's lr scale.
  const GroupSettings gd = task.group_settings("discriminator"), gg = task.group_settings("generator");
  EXPECT_DOUBLE_EQ(gd.beta1, gan->options.adam_beta1());
  EXPECT_DOUBLE_EQ(gd.beta2, gan->options.adam_beta2());
  EXPECT_DOUBLE_EQ(gd.lr_scale, 1.0);
  EXPECT_DOUBLE_EQ(gg.lr_scale, gan->options.generator_lr_scale());
}

// Weight average: after the k-th generator update avg = d avg + (1 - d) w, d = min(ema, (1+k)/(10+k)).
TEST(GanTask, GeneratorWeightAverage) {
  seed_all(14);
  Gan gan(GanOptions::preset("gan", {2}).hidden({8}).generator_ema(0.5));
  ASSERT_TRUE(gan->generator_average != nullptr);
  EXPECT_EQ(gan->generator_average->parameters().size(), gan->generator_parameters().size());
  for (const auto& p : gan->generator_average->parameters()) EXPECT_FALSE(p.requires_grad());
  GanTask task(gan);
  EXPECT_EQ(task.parameter_groups()[0].second.size(), gan->generator_parameters().size());
  torch::optim::Adam opt_g(gan->generator_parameters(), 1e-2), opt_d(gan->discriminator_parameters(), 1e-2);
  std::vector<torch::optim::Optimizer*> opts{&opt_g, &opt_d};
  auto avg0 = snapshot(gan->generator_average->parameters());
  Diagnostics diag;
  task.train_step(torch::randn({16, 2}), opts, 0.0, 0, diag);  // first update: d = 0.1
  auto live1 = snapshot(gan->generator_parameters());
  auto avg1 = snapshot(gan->generator_average->parameters());
  for (size_t i = 0; i < avg1.size(); ++i) EXPECT_TRUE(torch::allclose(avg1[i], 0.1 * avg0[i] + 0.9 * live1[i]));
  task.train_step(torch::randn({16, 2}), opts, 0.0, 1, diag);  // second: d = 2/11
  auto live2 = snapshot(gan->generator_parameters());
  auto avg2 = snapshot(gan->generator_average->parameters());
  for (size_t i = 0; i < avg2.size(); ++i)
    EXPECT_TRUE(torch::allclose(avg2[i], (2.0 / 11) * avg1[i] + (9.0 / 11) * live2[i]));
  // Sampling uses the average, training the live generator.
  torch::NoGradGuard ng;
  auto z = gan->sample_latent(4);
  EXPECT_FALSE(torch::allclose(gan->generate(z), gan->generate_trained(z)));
  EXPECT_EQ(task.parameter_groups()[1].first, "discriminator");
}

TEST(GanTask, ConditionalBatchesAndSampling) {
  seed_all(6);
  Gan gan(GanOptions::preset("cgan", {3}, 2).hidden({8}));
  auto x = torch::randn({10, 3});
  auto c = one_hot_condition(torch::tensor({0, 1, 1, 0, 1, 0, 0, 1, 1, 0}), 2);
  auto packed = pack_condition(x, c);
  ASSERT_EQ(packed.sizes(), torch::IntArrayRef({10, 5}));
  EXPECT_TRUE(torch::equal(packed.narrow(1, 3, 2), c));
  GanTask task(gan);
  Diagnostics diag;
  EXPECT_TRUE(std::isfinite(task.loss(packed, diag).item<double>()));
  EXPECT_THROW(task.loss(x, diag), InvalidArgument);  // unpacked rows
  EXPECT_THROW(gan->sample(4), InvalidArgument);      // no condition set
  gan->set_sampling_condition(torch::tensor({0.0, 1.0}));
  EXPECT_EQ(gan->sample(4).sizes(), torch::IntArrayRef({4, 3}));
  // The condition matters: same latents, different classes, different samples.
  torch::NoGradGuard ng;
  auto z = gan->sample_latent(4);
  auto a = gan->generate(z, one_hot_condition(torch::zeros({4}), 2));
  auto b = gan->generate(z, one_hot_condition(torch::ones({4}), 2));
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-6);
  EXPECT_THROW(one_hot_condition(torch::tensor({0, 2}), 2), InvalidArgument);
}

TEST(GanOptions, JsonRoundTripAndValidation) {
  auto o = GanOptions::preset("wgan-gp", {8, 8}).network("dcgan").latent_dim(16).channels(32);
  auto j = o.to_json();
  auto back = GanOptions::from_json(j);
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.n_critic(), 5);
  EXPECT_EQ(back.constraint(), "gp");
  EXPECT_DOUBLE_EQ(back.gp_lambda(), 10.0);
  auto bad = j;
  bad["n_critc"] = 3;
  EXPECT_THROW(GanOptions::from_json(bad), InvalidArgument);
  EXPECT_THROW(Gan(GanOptions({8, 4}).network("dcgan")), InvalidArgument);
  EXPECT_THROW(GanOptions::preset("bigan", {2}), InvalidArgument);
  Gan gan(back);
  EXPECT_EQ(gan->sample(3).sizes(), torch::IntArrayRef({3, 8, 8}));
}

TEST(GanOptions, MinibatchStdFeaturesSeeTheGroup) {
  for (const char* network : {"mlp", "dcgan"}) {
    SCOPED_TRACE(network);
    seed_all(31);
    Gan gan(GanOptions({4, 4}).network(network).channels(4).scales(1).minibatch_std(2));
    EXPECT_EQ(GanOptions::from_json(gan->options.to_json()).minibatch_std(), 2);
    auto x = torch::randn({4, 4, 4});
    auto d = gan->discriminate(x);
    // Sample 0's score depends on its group partner (sample 1), not on the other group.
    auto y = x.clone();
    y[1] = torch::randn({4, 4});
    EXPECT_GT((gan->discriminate(y)[0] - d[0]).abs().item<double>(), 1e-6);
    auto w = x.clone();
    w[3] = torch::randn({4, 4});
    EXPECT_NEAR(gan->discriminate(w)[0].item<double>(), d[0].item<double>(), 1e-6);
    // A batch not divisible by the group size is scored as one group.
    EXPECT_EQ(gan->discriminate(torch::randn({3, 4, 4})).sizes(), torch::IntArrayRef({3}));
  }
  EXPECT_THROW(GanOptions({2}).minibatch_std(1).validate(), InvalidArgument);
}

TEST(GanOptions, InstanceNoiseOnlyInTraining) {
  seed_all(33);
  Gan gan(GanOptions({2}).hidden({8}).instance_noise(0.5));
  EXPECT_DOUBLE_EQ(GanOptions::from_json(gan->options.to_json()).instance_noise(), 0.5);
  auto x = torch::randn({6, 2});
  gan->train();
  EXPECT_FALSE(torch::allclose(gan->discriminate(x), gan->discriminate(x)));  // fresh noise per call
  gan->eval();
  EXPECT_TRUE(torch::equal(gan->discriminate(x), gan->discriminate(x)));
  EXPECT_THROW(GanOptions({2}).instance_noise(-1).validate(), InvalidArgument);
}

TEST(GanOptions, SignOutputIsStraightThrough) {
  seed_all(34);
  Gan gan(GanOptions({3}).hidden({8}).output_activation("sign"));
  seed_all(34);
  Gan soft(GanOptions({3}).hidden({8}).output_activation("tanh"));  // the same weights
  auto z = torch::randn({5, 8});
  auto w = torch::randn({5, 3});
  auto hard = gan->generate(z);
  auto smooth = soft->generate(z);
  // Forward: exact spins, the signs of the tanh output.
  EXPECT_TRUE(hard.abs().eq(1).all().item<bool>());
  EXPECT_TRUE(torch::equal(hard, torch::where(smooth < 0, -torch::ones_like(smooth), torch::ones_like(smooth))));
  // Backward: the tanh model's gradient.
  (hard * w).sum().backward();
  (smooth * w).sum().backward();
  auto g1 = gan->generator_parameters(), g2 = soft->generator_parameters();
  ASSERT_EQ(g1.size(), g2.size());
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_TRUE(torch::allclose(g1[i].grad(), g2[i].grad()));
}

TEST(GanOptions, Z2SymmetricGeneratorIsOddInTheFirstLatent) {
  for (const char* network : {"mlp", "dcgan"}) {
    SCOPED_TRACE(network);
    seed_all(32);
    Gan gan(GanOptions({4, 4}).network(network).channels(4).scales(1).latent_dim(3).z2_symmetric(true));
    gan->eval();
    EXPECT_TRUE(GanOptions::from_json(gan->options.to_json()).z2_symmetric());
    auto z = torch::randn({5, 3});
    auto flipped = z.clone();
    flipped.select(1, 0).neg_();
    // G(-z_0, z_1, ...) = -G(z_0, z_1, ...): every sample has its mirror image at equal density.
    EXPECT_TRUE(torch::allclose(gan->generate(flipped), -gan->generate(z), 1e-6, 1e-6));
  }
}

TEST(CycleGan, StartsAtTheIdentityAndPacksUnpairedData) {
  seed_all(8);
  CycleGan cg(CycleGanOptions({2}).hidden({16}));
  auto a = torch::randn({20, 2});
  EXPECT_TRUE(torch::equal(cg->translate(a, "ab"), a));
  EXPECT_TRUE(torch::equal(cg->translate(a, "ba"), a));
  CycleGan conv(CycleGanOptions({4, 4}).network("conv").channels(4).depth(2));
  auto l = torch::randn({3, 4, 4});
  EXPECT_TRUE(torch::equal(conv->translate(l, "ab"), l));
  auto b = 5 + torch::randn({30, 2});
  auto packed = pack_unpaired(a, b);
  ASSERT_EQ(packed.sizes(), torch::IntArrayRef({20, 2, 2}));
  // Every row holds one element of a and one of b, each used once.
  auto sa = std::get<0>(packed.select(1, 0).select(1, 0).sort());
  EXPECT_TRUE(torch::equal(sa, std::get<0>(a.select(1, 0).sort())));
  EXPECT_GT(packed.select(1, 1).min().item<double>(), 0.0);
  CycleGanTask task(cg);
  Diagnostics diag;
  auto l0 = task.loss(packed, diag);
  EXPECT_DOUBLE_EQ(diag["cycle"], 0.0);     // identity maps are cycle consistent
  EXPECT_DOUBLE_EQ(diag["identity"], 0.0);
  EXPECT_TRUE(std::isfinite(l0.item<double>()));
  auto j = cg->options.to_json();
  EXPECT_EQ(CycleGanOptions::from_json(j).to_json(), j);
}

TEST(Latent, InterpolationAndArithmetic) {
  auto z0 = torch::tensor({3.0, 0.0, 0.0}, kF64), z1 = torch::tensor({0.0, 3.0, 0.0}, kF64);
  auto s = interpolate_latents(z0, z1, 5, "spherical");
  ASSERT_EQ(s.sizes(), torch::IntArrayRef({5, 3}));
  EXPECT_TRUE(torch::allclose(s[0], z0));
  EXPECT_TRUE(torch::allclose(s[4], z1));
  EXPECT_TRUE(torch::allclose(s.norm(2, 1), torch::full({5}, 3.0, kF64), 1e-12, 1e-12));
  const double c = 3.0 / std::sqrt(2.0);
  EXPECT_TRUE(torch::allclose(s[2], torch::tensor({c, c, 0.0}, kF64), 1e-12, 1e-12));
  auto l = interpolate_latents(z0, z1, 5, "linear");
  EXPECT_TRUE(torch::allclose(l[2], torch::tensor({1.5, 1.5, 0.0}, kF64)));
  // Rows: (m, n, k); parallel latents fall back to linear interpolation.
  auto rows = interpolate_latents(torch::stack({z0, z0}), torch::stack({z1, 2 * z0}),
                                  torch::tensor({0.0, 0.5, 1.0}, kF64), "spherical");
  ASSERT_EQ(rows.sizes(), torch::IntArrayRef({3, 2, 3}));
  EXPECT_TRUE(torch::allclose(rows[1][1], 1.5 * z0));
  auto a = torch::tensor({{1.0, 2.0}, {3.0, 4.0}}, kF64), b = torch::tensor({1.0, 1.0}, kF64),
       cc = torch::tensor({{0.0, 1.0}}, kF64);
  EXPECT_TRUE(torch::allclose(latent_arithmetic(a, b, cc), torch::tensor({1.0, 3.0}, kF64)));
  EXPECT_TRUE(torch::allclose(latent_direction(a, b), torch::tensor({1.0, 2.0}, kF64)));
  EXPECT_THROW(interpolate_latents(z0, z1, 5, "cubic"), InvalidArgument);
  EXPECT_THROW(latent_arithmetic(a, torch::ones({3}, kF64), cc), InvalidArgument);
}
