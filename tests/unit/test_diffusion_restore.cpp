// The DDPM Restorer view (restore_fields; what `physgen inpaint` runs): input validation, the known region kept
// exactly, and the reported errors against hand-computed ones.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/diffusion/restore.h"
#include "physgen/zoo/zoo.h"

namespace {

using physgen::InvalidArgument;
using physgen::RestoreOptions;

/// What `physgen inpaint` calls: the model's Restorer view (restore_fields for a DDPM).
physgen::RestoreResult restore(const physgen::Model& m, const torch::Tensor& observed, const torch::Tensor& mask,
                               const torch::Tensor& truth, const RestoreOptions& o) {
  if (!m.restorer) throw InvalidArgument("model: '" + m.spec.family + "' has no Restorer view ('ddpm' model expected)");
  return m.restorer->restore(observed, mask, truth, o);
}

physgen::Model small_model(const std::string& family = "ddpm") {
  physgen::ModelSpec s;
  s.family = family;
  s.model = physgen::default_model_options(family, {4, 4});
  s.model["event_shape"] = {4, 4};
  if (family != "pfgm") {
    s.model["network"]["unet"]["base_channels"] = 8;
    s.model["network"]["unet"]["groups"] = 4;
  }
  if (family == "ddpm") s.model["schedule"]["steps"] = 50;
  torch::manual_seed(1);
  physgen::Model m = physgen::build_model(s);
  m.module->eval();
  return m;
}

RestoreOptions fast() {
  RestoreOptions o;
  o.resample(2).jump(5);
  return o;
}

}  // namespace

TEST(DiffusionRestore, InpaintingKeepsTheKnownRegionAndReportsTheErrors) {
  auto m = small_model();
  torch::manual_seed(2);
  auto truth = torch::randn({3, 4, 4});
  auto mask = torch::ones({4, 4});
  mask.slice(0, 1, 3).slice(1, 1, 3).zero_();  // the 2 x 2 centre is unknown
  auto observed = truth * mask + 7.0 * (1 - mask);  // values under mask = 0 are ignored
  auto r = restore(m, observed, mask, truth, fast());
  ASSERT_EQ(r.x.sizes(), truth.sizes());
  EXPECT_EQ(r.report["mode"], "inpaint");
  EXPECT_EQ(r.report["n"], 3);
  EXPECT_DOUBLE_EQ(r.report["unknown_fraction"].get<double>(), 4.0 / 16.0);
  // Known entries are the observation exactly (RePaint's last replacement is at level 0).
  auto known = mask.to(torch::kBool).expand_as(truth);
  EXPECT_TRUE(torch::allclose(r.x.masked_select(known), truth.masked_select(known), 0, 1e-6));
  EXPECT_LT(r.report["rmse_known"].get<double>(), 1e-6);
  // rmse over the 12 filled entries, computed by hand.
  auto d = (r.x.to(torch::kFloat64) - truth.to(torch::kFloat64)).slice(1, 1, 3).slice(2, 1, 3);
  EXPECT_NEAR(r.report["rmse"].get<double>(), std::sqrt(d.square().mean().item<double>()), 1e-6);
  // Mean-fill baseline: each field's unknown entries = the mean of its 12 known ones.
  auto t64 = truth.to(torch::kFloat64);
  auto kmean = (t64 * mask).flatten(1).sum(1) / 12.0;
  auto centre = t64.slice(1, 1, 3).slice(2, 1, 3);
  const double base = std::sqrt((centre - kmean.reshape({3, 1, 1})).square().mean().item<double>());
  EXPECT_NEAR(r.report["rmse_mean_fill"].get<double>(), base, 1e-6);
  // 50 steps, 2 passes over blocks of 5 (re-noising 5 steps after all but the last pass).
  EXPECT_GE(r.report["nfe"].get<int64_t>(), 40);
  // One field without a batch dimension; no truth -> no errors.
  auto one = restore(m, observed[0], mask, torch::Tensor(), fast());
  EXPECT_EQ(one.x.sizes(), (std::vector<int64_t>{1, 4, 4}));
  EXPECT_FALSE(one.report.contains("rmse"));
}

TEST(DiffusionRestore, DenoisingReportsTheInputError) {
  auto m = small_model();
  torch::manual_seed(3);
  auto truth = torch::randn({5, 4, 4});
  auto y = truth + 0.2 * torch::randn({5, 4, 4});
  RestoreOptions o;
  o.noise_std(0.2);
  auto r = restore(m, y, torch::Tensor(), truth, o);
  EXPECT_EQ(r.report["mode"], "denoise");
  EXPECT_NEAR(r.report["rmse_input"].get<double>(),
              std::sqrt((y - truth).to(torch::kFloat64).square().mean().item<double>()), 1e-6);
  EXPECT_NEAR(r.report["rmse"].get<double>(),
              std::sqrt((r.x - truth).to(torch::kFloat64).square().mean().item<double>()), 1e-6);
  EXPECT_TRUE(torch::isfinite(r.x).all().item<bool>());
  // Signs for Ising models.
  o.sign_output(true);
  auto s = restore(m, y, torch::Tensor(), truth, o);
  EXPECT_TRUE(((s.x == 1) | (s.x == -1)).all().item<bool>());
}

TEST(DiffusionRestore, InvalidInputsAreRejectedWithClearMessages) {
  auto m = small_model();
  auto x = torch::randn({2, 4, 4});
  auto mask = torch::ones({4, 4});
  mask[0][0] = 0;
  auto expect_message = [](auto&& f, const std::string& part) {
    try {
      f();
      ADD_FAILURE() << "no exception; expected one mentioning '" << part << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  RestoreOptions o = fast();
  expect_message([&] { restore(m, torch::randn({2, 4, 5}), mask, {}, o); }, "observed.shape");
  expect_message([&] { restore(m, x, torch::ones({4, 5}), {}, o); }, "mask.shape");
  auto bad = mask.clone();
  bad[1][1] = 0.5;
  expect_message([&] { restore(m, x, bad, {}, o); }, "0 and 1");
  expect_message([&] { restore(m, x, mask, torch::randn({3, 4, 4}), o); }, "truth.shape");
  auto nan = x.clone();
  nan[0][0][0] = std::nan("");
  expect_message([&] { restore(m, nan, mask, {}, o); }, "finite");
  expect_message([&] { restore(m, x, torch::Tensor(), {}, o); }, "exactly one");
  RestoreOptions both = fast();
  both.noise_std(0.1);
  expect_message([&] { restore(m, x, mask, {}, both); }, "exactly one");
  RestoreOptions huge;
  huge.noise_std(1e6);
  expect_message([&] { restore(m, x, torch::Tensor(), {}, huge); }, "noise_std");
  auto sde = small_model("score-sde");
  EXPECT_EQ(sde.restorer, nullptr);  // score-sde restores nothing: inpaint refuses it
  expect_message([&] { restore(sde, x, mask, {}, o); }, "'ddpm' model");
}
