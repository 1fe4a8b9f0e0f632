// Diffusion-type models as library components: options round-trip through JSON and TOML,
// checkpoints of the shared Trainer rebuild and resume every family, and the conditional
// features behave as documented.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/io/checkpoint.h"
#include "physgen/io/config.h"
#include "physgen/models/diffusion/ddpm.h"
#include "physgen/models/diffusion/score_sde.h"
#include "physgen/models/pfgm/pfgm.h"
#include "physgen/models/pfgm/pfgmpp.h"

using namespace physgen;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("physgen_diffusion_" + std::to_string(getpid()) + "_" + name))
      .string();
}

/// Copies parameters and buffers of `from` into `to` (same architecture).
void copy_state(torch::nn::Module& to, const torch::nn::Module& from) {
  torch::NoGradGuard ng;
  auto a = to.parameters(), b = from.parameters();
  for (size_t i = 0; i < a.size(); ++i) a[i].copy_(b[i]);
  auto ab = to.buffers(), bb = from.buffers();
  for (size_t i = 0; i < ab.size(); ++i) ab[i].copy_(bb[i]);
}

bool same_parameters(const torch::nn::Module& x, const torch::nn::Module& y) {
  auto a = x.parameters(), b = y.parameters();
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

/// A 10-step run interrupted at step 6 (checkpoint), rebuilt from the checkpoint's options
/// (through TOML) in a fresh model with another initialisation, resumed and finished, ends with
/// exactly the parameters of the same 10-step run never interrupted (same initial weights, same
/// seed, same schedule horizon). Negative control: the same resume with the checkpoint's RNG
/// state overwritten (a resume that reseeds) does not.
template <class Holder, class Options>
void check_checkpoint_round_trip(Holder model, const std::string& family,
                                 const torch::Tensor& data) {
  const std::string path = temp_path(family + ".pt");
  const auto opts = TrainerOptions().steps(10).batch_size(16).progress(false);
  Holder twin(model->options);
  copy_state(*twin, *model);

  seed_all(77);
  DiffusionTask<Holder> task(model, family);
  Trainer trainer(task, TrainerOptions(opts).checkpoint_path(path));
  TrainResult r = trainer.fit(data, /*stop_at=*/6);
  ASSERT_EQ(r.steps_done, 6) << r.message;
  CheckpointInfo info = read_checkpoint_info(path);
  const auto& stored = info.options;
  EXPECT_EQ(stored.at("family"), family);
  // Options -> TOML text -> JSON -> options.
  const auto toml = json_to_toml(stored.at("options"));
  Options rebuilt_options = Options::from_json(parse_toml_string(toml, family));
  EXPECT_EQ(rebuilt_options.to_json(), model->options.to_json()) << family << "\n" << toml;

  seed_all(12345);  // a different initialisation
  Holder rebuilt(rebuilt_options);
  DiffusionTask<Holder> rebuilt_task(rebuilt, family);
  Trainer resumed(rebuilt_task, opts);
  resumed.resume(path);
  EXPECT_EQ(resumed.step(), 6);
  EXPECT_TRUE(same_parameters(*model, *rebuilt)) << family << ": restored parameters differ";
  const TrainResult rr = resumed.fit(data);
  ASSERT_EQ(rr.steps_done, 10) << rr.message;

  seed_all(77);
  DiffusionTask<Holder> twin_task(twin, family);
  Trainer uninterrupted(twin_task, opts);
  ASSERT_EQ(uninterrupted.fit(data).steps_done, 10);
  EXPECT_FALSE(same_parameters(*twin, *model)) << family << ": steps 7-10 changed nothing";
  EXPECT_TRUE(same_parameters(*twin, *rebuilt)) << family << ": resumed run differs from the uninterrupted one";

  // Negative control: resumed, then reseeded.
  Holder reseeded(rebuilt_options);
  DiffusionTask<Holder> reseeded_task(reseeded, family);
  Trainer bad(reseeded_task, opts);
  bad.resume(path);
  seed_all(4242);
  ASSERT_EQ(bad.fit(data).steps_done, 10);
  EXPECT_FALSE(same_parameters(*twin, *reseeded)) << family << ": the check cannot see a lost RNG state";
  std::filesystem::remove(path);
}

}  // namespace

TEST(DiffusionModels, CheckpointsRebuildAndResumeEveryFamily) {
  seed_all(50);
  auto data = torch::randn({64, 2});
  check_checkpoint_round_trip<DDPM, DDPMOptions>(
      DDPM(DDPMOptions({2}).sampler("ddim").ddim(DdimOptions().steps(20).eta(0.5))), "ddpm", data);
  check_checkpoint_round_trip<ScoreSDE, ScoreSDEOptions>(
      ScoreSDE(ScoreSDEOptions({2}).sde(SdeOptions().name("ve").sigma_max(10)).sampler("pc")),
      "score-sde", data);
  check_checkpoint_round_trip<PFGM, PFGMOptions>(PFGM(PFGMOptions({2}).M(200)), "pfgm", data);
  check_checkpoint_round_trip<PFGMPP, PFGMPPOptions>(PFGMPP(PFGMPPOptions({2}).extra_dims(16)),
                                                     "pfgmpp", data);
  // A conditional model trains on packed data.
  auto labels = torch::randint(0, 3, {64}, torch::kLong);
  check_checkpoint_round_trip<DDPM, DDPMOptions>(
      DDPM(DDPMOptions({2}).condition(ConditionOptions().kind("class").classes(3))), "ddpm",
      pack_condition(data, labels));
  // Lattice events with the U-Net.
  auto fields = torch::randn({16, 4, 4});
  check_checkpoint_round_trip<DDPM, DDPMOptions>(
      DDPM(DDPMOptions({4, 4}).network(DenoiserNetOptions().unet(UNetOptions().base_channels(4)))),
      "ddpm", fields);
}

TEST(DiffusionModels, OptionsRejectUnknownKeysAndBadValues) {
  EXPECT_THROW(DDPMOptions::from_json({{"sampler", "ddpm"}, {"steps", 3}}), InvalidArgument);
  EXPECT_THROW(DDPM(DDPMOptions({2}).sampler("euler")), InvalidArgument);
  EXPECT_THROW(DDPM(DDPMOptions({2}).ddim(DdimOptions().steps(2000))), InvalidArgument);
  EXPECT_THROW(ScoreSDE(ScoreSDEOptions({2}).sampling(SdeSamplerOptions().t_min(0.0))),
               InvalidArgument);
  EXPECT_THROW(ScoreSDE(ScoreSDEOptions({2}).sampler("heun")), InvalidArgument);
  EXPECT_THROW(DDPM(DDPMOptions({2}).condition(ConditionOptions().kind("class"))),
               InvalidArgument);  // classes missing
  DDPM model(DDPMOptions({2}));
  EXPECT_THROW(model->loss(torch::randn({4, 3})), InvalidArgument);
}

TEST(DiffusionModels, ConditionFeaturesAndGuidance) {
  ConditionOptions cls = ConditionOptions().kind("class").classes(3);
  auto like = torch::zeros({1});
  auto f = condition_features(cls, torch::tensor({2, 0}, torch::kLong), 2, like);
  EXPECT_TRUE(torch::equal(f, torch::tensor({{0.f, 0.f, 1.f, 1.f}, {1.f, 0.f, 0.f, 1.f}})));
  auto null = condition_features(cls, torch::Tensor(), 2, like);
  EXPECT_TRUE(torch::equal(null, torch::zeros({2, 4})));
  auto dropped = condition_features(cls, torch::tensor({2, 0}, torch::kLong), 2, like,
                                    torch::tensor({0.f, 1.f}));
  EXPECT_TRUE(torch::equal(dropped[0], torch::zeros({4})));
  EXPECT_THROW(condition_features(cls, torch::tensor({3}, torch::kLong), 1, like), InvalidArgument);
  ConditionOptions cont = ConditionOptions().kind("continuous").dim(1);
  auto g = condition_features(cont, torch::tensor({0.5f, -1.f}), 2, like);
  EXPECT_TRUE(torch::equal(g, torch::tensor({{0.5f, 1.f}, {-1.f, 1.f}})));
  // Guidance: (1 + w) c - w u.
  auto c = torch::tensor({1.0f}), u = torch::tensor({0.5f});
  EXPECT_FLOAT_EQ(guided(c, u, 2.0).item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(guided(c, u, 0.0).item<float>(), 1.0f);
  // Packing keeps samples and conditions together.
  auto x = torch::randn({5, 2, 2});
  auto labels = torch::tensor({0, 2, 1, 1, 0}, torch::kLong);
  auto packed = pack_condition(x, labels);
  auto [x2, l2] = unpack_condition(packed, {2, 2}, cls);
  EXPECT_TRUE(torch::equal(x2, x));
  EXPECT_TRUE(torch::equal(l2, labels));
}
