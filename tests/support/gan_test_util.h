#pragma once
// GAN training on the 8gaussians toy density, shared by the statistical and long GAN tests.
#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "physgen/data/toy2d.h"
#include "physgen/eval/mode_coverage.h"
#include "physgen/models/gan/gan.h"
#include "physgen/train/trainer.h"
#include "support/test_util.h"

namespace physgen_test {

/// Trains `opts` on 20000 draws of 8gaussians through the shared Trainer and returns the mode
/// coverage of 5000 samples (eval/mode_coverage.h), printing it with the wall time.
inline physgen::ModeCoverage train_on_eight_gaussians(physgen::GanOptions opts, physgen::TrainerOptions topts, const char* name) {
  const auto t0 = std::chrono::steady_clock::now();
  auto data = make_toy_density("8gaussians")->sample(20000);
  Gan gan(opts);
  GanTask task(gan);
  Trainer trainer(task, topts.progress(false));
  auto result = trainer.fit(data);
  EXPECT_EQ(result.status, TrainResult::Status::Finished) << result.message;
  gan->eval();
  auto samples = gan->sample(5000);
  auto cov = mode_coverage(samples, eight_gaussians_centers(), kEightGaussiansSigma);
  std::printf("%s: %s, %.1f s (%.1f steps/s)\n", name, cov.to_json().dump().c_str(), seconds_since(t0), result.steps_per_second);
  return cov;
}

}  // namespace physgen_test
