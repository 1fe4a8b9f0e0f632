// Coupled learning against gradient descent on allosteric flow-network tasks of several sizes
// (docs/physical_learning.md). Not a speed benchmark: the task error against training steps for
// both rules, measured on the same networks and tasks, with the learned network re-solved from
// scratch at the end. Prints a markdown table and writes the curves as CSV.
//
// Run: ./build/bench/bench_physical_learning [--steps S] [--csv FILE]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "physgen/core/runtime.h"
#include "physgen/physical/flow_network.h"

int main(int argc, char** argv) {
  using namespace physgen;
  int64_t steps = 1000;
  std::string csv = "physical_learning_curves.csv";
  double alpha = 2.0, lr = 20.0, eta = 0.1;
  std::vector<int64_t> sizes = {64, 128, 256, 512};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::stoll(argv[i + 1]);
    if (a == "--csv") csv = argv[i + 1];
    if (a == "--alpha") alpha = std::stod(argv[i + 1]);
    if (a == "--lr") lr = std::stod(argv[i + 1]);
    if (a == "--eta") eta = std::stod(argv[i + 1]);
    if (a == "--nodes") sizes = {std::stoll(argv[i + 1])};
  }
  configure_runtime(0);
  std::ofstream curves(csv);
  curves << "nodes,rule,step,error\n";
  std::printf("| nodes | edges | targets | start error | coupled (alpha %g, eta %g) | gradient (lr %g) | coupled / gradient | re-solved | coupled: target k | coupled: edges at k_min |\n", alpha, eta, lr);
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (int64_t nodes : sizes) {
    const FlowNetwork net = FlowNetwork::random(nodes, 4.0, 1);
    const FlowTask task = FlowTask::random(net, 2, 3, 2);
    PhysicalLearningOptions o;
    o.steps = steps;
    o.alpha = alpha;
    o.eta = eta;
    o.log_every = 10;
    const PhysicalLearningResult cl = train_flow_network(net, task, o);
    o.rule = "gradient";
    o.lr = lr;
    const PhysicalLearningResult gd = train_flow_network(net, task, o);
    for (size_t i = 0; i < cl.steps.size(); ++i) curves << nodes << ",coupled," << cl.steps[i] << "," << cl.errors[i] << "\n";
    for (size_t i = 0; i < gd.steps.size(); ++i) curves << nodes << ",gradient," << gd.steps[i] << "," << gd.errors[i] << "\n";
    const double resolved = flow_task_error(net, task, cl.k);
    // diagnostics of the coupled run: the learned conductances of the target edges, and how
    // many edges sit at the floor k_min (isolation of the targets shows as both going to k_min)
    std::string target_k;
    for (int64_t e : task.target_edges) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.3g", target_k.empty() ? "" : ", ", cl.k[e].item<double>());
      target_k += buf;
    }
    const int64_t at_floor = (cl.k <= o.k_min * (1 + 1e-12)).sum().item<int64_t>();
    std::printf("| %lld | %zu | 3 | %.3g | %.3g | %.3g | %.3g | %.3g | %s | %lld |\n", (long long)nodes, net.edges.size(),
                cl.errors.front(), cl.errors.back(), gd.errors.back(), cl.errors.back() / gd.errors.back(), resolved,
                target_k.c_str(), (long long)at_floor);
    std::fflush(stdout);
  }
  std::printf("\ncurves: %s (%lld steps per rule)\n", csv.c_str(), (long long)steps);
  return 0;
}
