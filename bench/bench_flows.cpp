// Flow benchmarks (Google Benchmark). The headline number is the phi^4 reverse-KL training
// step of the model: L = 8, 16 affine couplings, checkerboard masks, periodic conv
// conditioners {8, 8}, kernel 3, batch 64, Adam; one intra-op thread (pinned), with Z2 off,
// symmetrised or by odd networks. The C++/Python ratio on the same model and loop is
// bench_flow_vs_python (reference: bench/python/flow_reverse_kl.py):
//   ./build/bench/bench_flows --benchmark_filter=TrainStep
#include <benchmark/benchmark.h>

#include <torch/torch.h>

#include "physgen/core/runtime.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/objectives.h"
#include "physgen/nn/conv.h"

using namespace physgen;

namespace {

// S = sum_x [sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi^2 + lambda phi^4] (bench-local copy).
class Phi4 : public Target {
 public:
  torch::Tensor action(const torch::Tensor& x) const override {
    auto k = (x.roll(1, 1) - x).square() + (x.roll(1, 2) - x).square();
    auto x2 = x.square();
    return (k - 4.0 * x2 + 8.0 * x2.square()).sum({1, 2});
  }
  std::vector<int64_t> event_shape() const override { return {8, 8}; }
  std::string name() const override { return "phi4"; }
  nlohmann::json params() const override { return {{"L", 8}, {"m2", -4}, {"lambda", 8}}; }
};

void BM_RealNVPPhi4TrainStep(benchmark::State& state) {
  configure_runtime(1);
  torch::manual_seed(0);
  const int z2 = static_cast<int>(state.range(0));  // 0 off, 1 symmetrised, 2 odd network
  auto flow = make_flow(FlowOptions("affine", {8, 8})
                            .n_layers(16)
                            .hidden({8, 8})
                            .activation(z2 == 2 ? "tanh" : "leaky_relu")
                            .z2_equivariant(z2 != 0)
                            .z2_method(z2 == 2 ? "odd" : "symmetrize"));
  Phi4 target;
  torch::optim::Adam opt(flow->parameters(), torch::optim::AdamOptions(1e-3));
  for (auto _ : state) {
    auto r = reverse_kl(*flow, target, 64);
    opt.zero_grad();
    r.loss.backward();
    opt.step();
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                     benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RealNVPPhi4TrainStep)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_RealNVPPhi4Sample(benchmark::State& state) {
  configure_runtime(1);
  torch::manual_seed(0);
  auto flow = make_realnvp_lattice(8, 16, {8, 8}, 3);
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(flow->sample_and_log_prob(state.range(0)));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RealNVPPhi4Sample)->Arg(1024)->Unit(benchmark::kMillisecond);

// The periodic conv (gather kernel + GEMM) against Conv2d(kCircular), forward and backward.
void BM_PeriodicConv(benchmark::State& state) {
  configure_runtime(1);
  const bool ours = state.range(0) == 1;
  auto x = torch::randn({64, 8, 8, 8}).requires_grad_(true);
  auto a = PeriodicConv2d(PeriodicConv2dOptions(8, 8, 3));
  auto b = torch::nn::Conv2d(
      torch::nn::Conv2dOptions(8, 8, 3).padding(1).padding_mode(torch::kCircular));
  for (auto _ : state) {
    auto y = ours ? a->forward(x) : b->forward(x);
    y.sum().backward();
  }
  state.SetLabel(ours ? "PeriodicConv2d" : "Conv2d(kCircular)");
}
BENCHMARK(BM_PeriodicConv)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
