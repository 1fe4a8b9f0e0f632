// Conditional generation with classifier-free guidance, trained through the shared Trainer on
// packed (sample, condition) data:
//  * class labels: DDPM on 8 Gaussians labelled by their component; samples asked for label k
//    must land in component k (chance: 1/8);
//  * a continuous parameter: score SDE on x ~ N((c, -c), 0.2^2 I), c ~ U[-1.5, 1.5]; samples
//    at fixed c must be centred on (c, -c).
// Accuracy and means carry binomial / sample standard errors (printed); the bounds sit many
// standard errors away from both the untrained model and the trained one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/data/toy2d.h"
#include "physgen/models/diffusion/ddpm.h"
#include "physgen/models/diffusion/score_sde.h"
#include "physgen/models/pfgm/pfgm.h"
#include "physgen/models/pfgm/pfgmpp.h"
#include "physgen/train/trainer.h"
#include "support/test_util.h"

using namespace physgen;

using physgen_test::SingleThread;
using physgen_test::seconds_since;

namespace {

/// Component k of the 8 Gaussians nearest to each point: centres at angles 2 pi k / 8.
torch::Tensor component(const torch::Tensor& x) {
  auto angle = torch::atan2(x.select(1, 1), x.select(1, 0));
  return torch::remainder(torch::round(angle / (M_PI / 4)), 8).to(torch::kLong);
}

double accuracy(const torch::Tensor& samples, const torch::Tensor& labels) {
  return (component(samples) == labels).to(torch::kFloat64).mean().item<double>();
}

}  // namespace

TEST(DiffusionConditional, ClassFreeGuidanceOn8Gaussians) {
  SingleThread single_thread;
  seed_all(200);
  auto density = make_toy_density("8gaussians");
  auto train = density->sample(20000);
  auto data = pack_condition(train, component(train));
  DDPM model(DDPMOptions({2})
                 .schedule(NoiseScheduleOptions().steps(200))
                 .condition(ConditionOptions().kind("class").classes(8).dropout(0.1)));
  const int64_t n = 800;
  auto labels = torch::arange(8, torch::kLong).repeat({n / 8});
  const double untrained = accuracy(model->sample_conditional(labels), labels);
  DDPMTask task(model, "ddpm");
  Trainer trainer(task,
                  TrainerOptions().steps(2000).batch_size(256).lr(2e-3).warmup(50).progress(false));
  TrainResult r = trainer.fit(data);
  ASSERT_EQ(r.status, TrainResult::Status::Finished) << r.message;
  std::printf("conditional ddpm: %lld steps in %.1f s\n", static_cast<long long>(r.steps_done),
              r.seconds);
  const double se = std::sqrt(0.25 / n);  // largest binomial standard error
  std::printf("accuracy untrained %.3f (chance 0.125), +- %.3f\n", untrained, se);
  EXPECT_LT(untrained, 0.4);
  for (double w : {0.0, 3.0}) {
    model->options.guidance(w);
    const double acc = accuracy(model->sample_conditional(labels), labels);
    std::printf("accuracy trained, guidance %.1f: %.3f\n", w, acc);
    EXPECT_GT(acc, 0.9) << "guidance " << w;
  }
  // The null condition still models the whole density: all 8 components appear.
  auto uncond = model->sample(n);
  auto counts = torch::bincount(component(uncond), {}, 8);
  std::printf("unconditional component counts: %s\n", c10::str(counts).c_str());
  EXPECT_GT(counts.min().item<int64_t>(), n / 8 / 3);
}

TEST(DiffusionConditional, ContinuousParameterScoreSde) {
  SingleThread single_thread;
  seed_all(201);
  const int64_t N = 20000;
  auto c = 3.0 * torch::rand({N}) - 1.5;
  auto x = torch::stack({c, -c}, 1) + 0.2 * torch::randn({N, 2});
  auto data = pack_condition(x, c);
  ScoreSDE model(ScoreSDEOptions({2})
                     .condition(ConditionOptions().kind("continuous").dim(1).dropout(0.1))
                     .sampling(SdeSamplerOptions().steps(200)));
  const int64_t n = 1000;
  auto check = [&](const char* label, double bound, bool below) {
    for (double cv : {-1.0, 0.0, 1.0}) {
      auto s = model->sample_conditional(torch::full({n, 1}, cv));
      auto mean = s.mean(0);
      auto se = s.std(0) / std::sqrt(static_cast<double>(n));
      const double err =
          std::max(std::abs(mean[0].item<double>() - cv), std::abs(mean[1].item<double>() + cv));
      std::printf("%s c = %+.1f: mean (%.3f, %.3f) +- (%.3f, %.3f), std (%.3f, %.3f)\n", label, cv,
                  mean[0].item<double>(), mean[1].item<double>(), se[0].item<double>(),
                  se[1].item<double>(), s.std(0)[0].item<double>(), s.std(0)[1].item<double>());
      if (below) {
        EXPECT_LT(err, bound) << label << " c=" << cv;
        for (int64_t j = 0; j < 2; ++j) {
          EXPECT_NEAR(s.std(0)[j].item<double>(), 0.2, 0.03) << label << " c=" << cv;
        }
      } else if (cv != 0.0) {
        EXPECT_GT(err, bound) << label << " c=" << cv;
      }
    }
  };
  check("untrained", 0.3, /*below=*/false);
  ScoreSDETask task(model, "score-sde");
  Trainer trainer(task,
                  TrainerOptions().steps(2000).batch_size(256).lr(2e-3).warmup(50).progress(false));
  TrainResult r = trainer.fit(data);
  ASSERT_EQ(r.status, TrainResult::Status::Finished) << r.message;
  std::printf("conditional score sde: %lld steps in %.1f s\n", static_cast<long long>(r.steps_done),
              r.seconds);
  check("trained", 0.1, /*below=*/true);

  // Guidance. At c = 0 (mid-ridge) the unconditional density is flat along the ridge direction
  // u = (x1 - x2) / sqrt 2 and equal to the conditional one across it, so the guided score
  // (1 + w) s(x|c) - w s(x) is the conditional score across the ridge and (1 + w) times it
  // along: guidance must narrow the samples along the ridge (the tilted density
  // p(x|c)^(1+w) p(x)^-w has std 0.2 / sqrt(1 + w) there) and leave them across it. A sampler
  // that ignores the weight fails the first check.
  auto spreads = [&](double w) {
    model->options.guidance(w);
    auto s = model->sample_conditional(torch::full({n, 1}, 0.0)).to(torch::kFloat64);
    auto along = (s.select(1, 0) - s.select(1, 1)) / std::sqrt(2.0);
    auto across = (s.select(1, 0) + s.select(1, 1)) / std::sqrt(2.0);
    return std::make_pair(along.std().item<double>(), across.std().item<double>());
  };
  const auto [along0, across0] = spreads(0.0);
  const auto [along3, across3] = spreads(3.0);
  const double se = 1.0 / std::sqrt(2.0 * static_cast<double>(n));  // relative se of a sample std
  std::printf("guidance 0: std along %.3f across %.3f; guidance 3: along %.3f (tilted density: %.3f) across %.3f\n",
              along0, across0, along3, 0.2 / 2.0, across3);
  EXPECT_LT(along3 * (1 + 4 * se), along0 * (1 - 4 * se)) << "guidance does not narrow the samples along the ridge";
  EXPECT_LT(std::abs(across3 / across0 - 1.0), 4 * std::sqrt(2.0) * se) << "guidance changed the cross-ridge width";
}
