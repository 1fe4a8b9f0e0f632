// CNF and flow matching trained on two moons reach a test NLL that an untrained model
// misses. Fixed seeds; the NLLs carry their standard errors over the test set.
//
// Reference numbers for the standardized two moons below (noise 0.1 in raw units):
//   N(0, I) (the untrained CNF, whose field starts at zero): NLL ~ log(2 pi) + 1 = 2.84;
//   the data's own entropy (arc density x transverse Gaussian): ~ 1.79 nats.
// The bound 2.35 sits between them.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "physgen/models/cnf/cnf.h"
#include "physgen/models/flow_matching/flow_matching.h"
#include "support/test_util.h"

using namespace physgen;

using physgen_test::SingleThread;
using physgen_test::seconds_since;

namespace {

constexpr double kBound = 2.35;

// Noisy two moons, standardized by the exact moments of the noise-free arcs:
// upper arc (cos a, sin a), lower arc (1 - cos a, 1/2 - sin a), a ~ U[0, pi], plus
// N(0, noise^2) per coordinate; then x -> ((x - 0.5) / 0.87, (y - 0.25) / 0.5).
torch::Tensor standardized_two_moons(int64_t n, double noise = 0.1) {
  auto a = torch::rand({n}, torch::kFloat64) * 3.14159265358979323846;
  auto upper = torch::rand({n}, torch::kFloat64) < 0.5;
  auto x = torch::where(upper, torch::cos(a), 1.0 - torch::cos(a));
  auto y = torch::where(upper, torch::sin(a), 0.5 - torch::sin(a));
  auto pts = torch::stack({x, y}, 1) + noise * torch::randn({n, 2}, torch::kFloat64);
  auto shift = torch::tensor({0.5, 0.25}, torch::kFloat64);
  auto scale = torch::tensor({0.87, 0.5}, torch::kFloat64);
  return ((pts - shift) / scale).to(torch::kFloat32);
}

struct Nll {
  double mean, se;
};

Nll test_nll(LikelihoodModel& model, torch::nn::Module& module, const torch::Tensor& test) {
  module.eval();
  torch::NoGradGuard no_grad;
  auto nll = -model.log_prob(test).to(torch::kFloat64);
  module.train();
  return {nll.mean().item<double>(), nll.std().item<double>() / std::sqrt(double(test.size(0)))};
}

void expect_learned(const char* name, Nll untrained, Nll trained) {
  std::printf("%s: test NLL untrained %.3f +- %.3f, trained %.3f +- %.3f, bound %.2f\n", name,
              untrained.mean, untrained.se, trained.mean, trained.se, kBound);
  EXPECT_GT(untrained.mean - 4 * untrained.se, kBound) << name;
  EXPECT_LT(trained.mean + 4 * trained.se, kBound) << name;
}

}  // namespace

TEST(CnfFmTraining, CnfOnTwoMoonsBeatsTheBound) {
  SingleThread single_thread;
  torch::manual_seed(11);
  auto test = standardized_two_moons(2000);
  CNF model(CNFOptions({2})
                .field(TimeMLPOptions(2).hidden({64, 64}).zero_init_output(true))
                .trace("hutchinson")
                .kinetic_weight(0.01)
                .jacobian_weight(0.01)
                .solver(OdeOptions("dopri5").rtol(1e-4).atol(1e-4)));
  const Nll untrained = test_nll(*model, *model, test);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  const auto start = std::chrono::steady_clock::now();
  const int iterations = 400;
  int64_t nfe = 0;
  for (int it = 0; it < iterations; ++it) {
    opt.zero_grad();
    auto loss = model->loss(standardized_two_moons(256));
    loss.backward();
    opt.step();
    nfe += model->last_stats().nfe;
    ASSERT_TRUE(model->last_stats().ok()) << model->last_stats().summary();
  }
  std::printf("CNF: %d iterations in %.1f s, %.1f forward evaluations per iteration\n",
              iterations, seconds_since(start), double(nfe) / iterations);
  const Nll trained = test_nll(*model, *model, test);
  expect_learned("CNF", untrained, trained);
}

TEST(CnfFmTraining, FlowMatchingOnTwoMoonsBeatsTheBound) {
  SingleThread single_thread;
  torch::manual_seed(12);
  auto test = standardized_two_moons(2000);
  FlowMatching model(FlowMatchingOptions({2})
                         .field(TimeMLPOptions(2).hidden({128, 128}).activation("silu"))
                         .coupling("ot")
                         .solver(OdeOptions("dopri5").rtol(1e-5).atol(1e-5)));
  const Nll untrained = test_nll(*model, *model, test);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  const auto start = std::chrono::steady_clock::now();
  const int iterations = 4000;
  for (int it = 0; it < iterations; ++it) {
    if (it == 2 * iterations / 3) {
      for (auto& group : opt.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(5e-4);
      }
    }
    opt.zero_grad();
    auto loss = model->loss(standardized_two_moons(128));
    loss.backward();
    opt.step();
  }
  std::printf("flow matching: %d iterations in %.1f s\n", iterations, seconds_since(start));
  const Nll trained = test_nll(*model, *model, test);
  std::printf("flow matching: log_prob solve %s\n", model->last_stats().summary().c_str());
  expect_learned("flow matching", untrained, trained);
}
