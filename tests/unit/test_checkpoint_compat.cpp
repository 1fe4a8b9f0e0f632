// Checkpoints written by physgen 0.1.0 still load and give the same samples. tests/data/ holds
// a cnf checkpoint (its ODE solver written flat: solver = "dopri5", steps, rtol, atol,
// max_steps, before the [model.solver] table) and a ddpm checkpoint, with the samples that
// release drew from them:
//   physgen simulate toy --name 8gaussians --samples 400 --seed 1 --out toy.npy
//   physgen train cnf  --data toy.npy --config cnf.toml  --out cnf.pt  --seed 2   ([model] hidden = [8, 8], 3 steps)
//   physgen train ddpm --data toy.npy --config ddpm.toml --out ddpm.pt --seed 2   (mlp [8], 50 noise steps, 3 steps)
//   physgen sample --model cnf.pt  --n 4 --seed 3 --solver rk4 --steps 4 --threads 1
//   physgen sample --model ddpm.pt --n 4 --seed 3 --sampler ddim --steps 5 --threads 1
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "physgen/core/rng.h"
#include "physgen/io/npy.h"
#include "physgen/zoo/zoo.h"
#include "support/test_util.h"

namespace {

using namespace physgen;

const std::string kData = std::string(PHYSGEN_SOURCE_DIR) + "/tests/data/";

/// What `physgen sample --seed 3 --threads 1` does: seed, load, sample.
torch::Tensor resample(const std::string& checkpoint, const SamplerSettings& settings) {
  physgen_test::SingleThread single;
  seed_all(3);
  const Model m = load_model(kData + checkpoint, torch::kCPU);
  nlohmann::json report = nlohmann::json::object();
  return m.sample(4, settings, report);
}

}  // namespace

TEST(CheckpointCompat, CnfOfRelease010LoadsWithItsSolverAsATable) {
  const Model m = load_model(kData + "cnf_v0.1.0.pt", torch::kCPU);
  EXPECT_EQ(m.spec.family, "cnf");
  ASSERT_TRUE(m.spec.model.at("solver").is_object()) << m.spec.model.dump();
  EXPECT_EQ(m.spec.model.at("solver").at("method"), "dopri5");
  EXPECT_FALSE(m.spec.model.contains("steps"));
  SamplerSettings s;
  s.solver = "rk4";
  s.steps = 4;
  const torch::Tensor x = resample("cnf_v0.1.0.pt", s);
  const torch::Tensor expected = read_npy(kData + "cnf_v0.1.0_samples.npy");
  EXPECT_TRUE(torch::allclose(x, expected, 1e-5, 1e-6)) << x << expected;
  // Negative control: another seed's samples differ from the recorded ones.
  seed_all(4);
  nlohmann::json report = nlohmann::json::object();
  EXPECT_FALSE(torch::allclose(m.sample(4, s, report), expected, 1e-3, 1e-3));
}

TEST(CheckpointCompat, DdpmOfRelease010GivesTheSameSamples) {
  SamplerSettings s;
  s.sampler = "ddim";
  s.steps = 5;
  const torch::Tensor x = resample("ddpm_v0.1.0.pt", s);
  const torch::Tensor expected = read_npy(kData + "ddpm_v0.1.0_samples.npy");
  EXPECT_TRUE(torch::allclose(x, expected, 1e-5, 1e-5)) << x << expected;
}
