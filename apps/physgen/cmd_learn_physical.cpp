// `physgen learn-physical --network flow|elastic|hopfield --task allostery|classify
//  --rule coupled|eqprop|gradient ... [--csv FILE] [--png FILE] [--json]`: a physical network
// learning a task by a local rule or by gradient descent (physical/network.h, physical/hopfield.h),
// with the error (and accuracy) against training step as CSV and PNG.
#include <algorithm>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/plot.h"
#include "physgen/physical/hopfield.h"
#include "physgen/physical/network.h"

namespace physgen::cli {

namespace {

struct LearnFlags {
  std::string network = "flow", task = "allostery", rule = "coupled", csv, png;
  int64_t nodes = 256, hidden = 64, inputs = 3, outputs = 3, classes = 3, train = 60, test = 600, steps = 0;
  int64_t log_every = 10;
  double alpha = -1, eta = -1, beta = -1, lr = -1, k_min = 1e-3;
  uint64_t seed = 1;
  bool json = false;
  CommonOptions common;
};

/// The curve as CSV: step,error[,test_error][,accuracy][,test_accuracy].
std::string curve_csv(const LearningCurve& c) {
  std::ostringstream s;
  s.precision(10);
  s << "step,error" << (c.test_errors.empty() ? "" : ",test_error") << (c.accuracies.empty() ? "" : ",accuracy")
    << (c.test_accuracies.empty() ? "" : ",test_accuracy") << "\n";
  for (size_t i = 0; i < c.steps.size(); ++i) {
    s << c.steps[i] << "," << c.errors[i];
    if (!c.test_errors.empty()) s << "," << c.test_errors[i];
    if (!c.accuracies.empty()) s << "," << c.accuracies[i];
    if (!c.test_accuracies.empty()) s << "," << c.test_accuracies[i];
    s << "\n";
  }
  return s.str();
}

}  // namespace

void register_learn_physical(CLI::App& app) {
  auto f = std::make_shared<LearnFlags>();
  auto* sub = app.add_subcommand(
      "learn-physical",
      "a physical network (flow or elastic network, continuous Hopfield network) learning a task by a local "
      "rule (coupled learning, equilibrium propagation) or by gradient descent; error against step as CSV/PNG");
  sub->add_option("--network", f->network, "flow | elastic | hopfield")->capture_default_str();
  sub->add_option("--task", f->task,
                  "allostery (target drops on output pairs from imposed input drops; flow/elastic) | classify "
                  "(Gaussian blobs; the class is the output carrying the largest drop / activity)")
      ->capture_default_str();
  sub->add_option("--rule", f->rule, "coupled | eqprop | gradient")->capture_default_str();
  sub->add_option("--nodes", f->nodes, "flow/elastic: nodes of the spatial network")->capture_default_str();
  sub->add_option("--hidden", f->hidden, "hopfield: hidden units")->capture_default_str();
  sub->add_option("--inputs", f->inputs, "allostery: input pairs")->capture_default_str();
  sub->add_option("--outputs", f->outputs, "allostery: output pairs")->capture_default_str();
  sub->add_option("--classes", f->classes, "classify: classes (blobs)")->capture_default_str();
  sub->add_option("--train", f->train, "classify: training examples")->capture_default_str();
  sub->add_option("--test", f->test, "classify: held-out examples")->capture_default_str();
  sub->add_option("--steps", f->steps, "training steps (0: 2000 flow/elastic, 500 hopfield)")->capture_default_str();
  sub->add_option("--alpha", f->alpha, "coupled/eqprop learning rate (default 30 networks, 0.5 hopfield)");
  sub->add_option("--eta", f->eta, "coupled: clamp fraction (default 0.1 networks, 0.5 hopfield)");
  sub->add_option("--beta", f->beta, "eqprop: nudging force (default 0.1 networks, 0.5 hopfield)");
  sub->add_option("--lr", f->lr, "gradient: learning rate (default 100 networks, 0.5 hopfield)");
  sub->add_option("--k-min", f->k_min, "flow/elastic: floor of the conductances / stiffnesses")->capture_default_str();
  sub->add_option("--log-every", f->log_every, "record the error every this many steps")->capture_default_str();
  sub->add_option("--seed", f->seed, "seed of the network, task and data")->capture_default_str();
  sub->add_option("--csv", f->csv, "write the curve (step,error[,test_error][,accuracy][,test_accuracy])");
  sub->add_option("--png", f->png, "plot the error curve (needs gnuplot)");
  sub->add_flag("--json", f->json, "print one JSON object");
  add_common_options(sub, f->common);
  sub->callback([f] {
    apply_common_options(f->common);
    check_arg(f->network == "flow" || f->network == "elastic" || f->network == "hopfield", "--network", f->network,
              "flow, elastic or hopfield");
    check_arg(f->task == "allostery" || f->task == "classify", "--task", f->task, "allostery or classify");
    check_arg(!(f->network == "hopfield" && f->task == "allostery"), "--task", f->task,
              "classify for --network hopfield (allostery is a flow/elastic task)");
    check_arg(f->rule == "coupled" || f->rule == "eqprop" || f->rule == "gradient", "--rule", f->rule,
              "coupled, eqprop or gradient");
    check_arg(f->steps >= 0, "--steps", f->steps, ">= 0");
    check_arg(f->log_every >= 1, "--log-every", f->log_every, ">= 1");
    nlohmann::json out = {{"network", f->network}, {"task", f->task}, {"rule", f->rule}, {"seed", f->seed}};
    LearningCurve curve;
    if (f->network == "hopfield") {
      // the blobs of PhysicalTask::classification, read off a throwaway network's task
      const PhysicalNetwork dummy = PhysicalNetwork::spatial("flow", std::max<int64_t>(8, 2 * (2 + f->classes)), f->seed);
      const PhysicalTask task = PhysicalTask::classification(dummy, f->classes, f->train, f->test, f->seed);
      HopfieldNetwork net = HopfieldNetwork::random(task.x.size(1), f->hidden, f->classes, f->seed);
      HopfieldLearningOptions o;
      o.rule = f->rule;
      o.steps = f->steps > 0 ? f->steps : 500;
      if (f->alpha > 0) o.alpha = f->alpha;
      if (f->beta > 0) o.beta = f->beta;
      if (f->eta > 0) o.eta = f->eta;
      if (f->lr > 0) o.lr = f->lr;
      o.log_every = f->log_every;
      const torch::Tensor t = PhysicalTask::one_hot(task.labels, f->classes),
                          tt = task.y_test.numel() ? PhysicalTask::one_hot(task.labels_test, f->classes) : task.y_test;
      curve = train_hopfield(net, task.x, t, task.labels, task.x_test, tt, task.labels_test, o);
      out["hidden"] = f->hidden;
      out["alpha"] = o.alpha;
      out["beta"] = o.beta;
      out["eta"] = o.eta;
      out["lr"] = o.lr;
    } else {
      const PhysicalNetwork net = PhysicalNetwork::spatial(f->network, f->nodes, f->seed);
      const PhysicalTask task = f->task == "allostery"
                                    ? PhysicalTask::allostery(net, f->inputs, f->outputs, f->seed + 1)
                                    : PhysicalTask::classification(net, f->classes, f->train, f->test, f->seed + 1);
      PhysicalLearningOptions o;
      o.rule = f->rule;
      o.steps = f->steps > 0 ? f->steps : 2000;
      o.alpha = f->alpha > 0 ? f->alpha : 30.0;  // the bench's tuning, 64..256-node flow networks: 10..300
      o.eta = f->eta > 0 ? f->eta : 0.1;
      o.beta = f->beta > 0 ? f->beta : 0.1;
      o.lr = f->lr > 0 ? f->lr : 100.0;
      o.k_min = f->k_min;
      o.log_every = f->log_every;
      const PhysicalLearningResult r = train_network(net, task, o);
      curve = r;
      // the learned network checked by re-solving its physics from scratch
      out["resolved_error"] = network_task_error(net, task, r.k);
      out["nodes"] = net.nodes;
      out["edges"] = net.edges.size();
      out["alpha"] = o.alpha;
      out["eta"] = o.eta;
      out["beta"] = o.beta;
      out["lr"] = o.lr;
      out["edges_at_k_min"] = (r.k <= o.k_min * (1 + 1e-12)).sum().item<int64_t>();
      out["steps_to_100x"] = r.steps_to_reduce(100.0);
    }
    const std::vector<int64_t>& steps = curve.steps;
    const std::vector<double>& err = curve.errors;
    const std::vector<double>& terr = curve.test_errors;
    const std::vector<double>& acc = curve.accuracies;
    const std::vector<double>& tacc = curve.test_accuracies;
    out["steps"] = steps.back();
    out["start_error"] = err.front();
    out["final_error"] = err.back();
    out["reduction"] = err.front() / err.back();
    if (!terr.empty()) out["final_test_error"] = terr.back();
    if (!acc.empty()) out["final_accuracy"] = acc.back();
    if (!tacc.empty()) out["final_test_accuracy"] = tacc.back();
    if (!f->csv.empty()) {
      write_file_atomic(f->csv, curve_csv(curve));
      out["csv"] = f->csv;
    }
    if (!f->png.empty()) {
      std::vector<Series> s;
      std::vector<double> x(steps.begin(), steps.end());
      s.push_back({"training error", x, err, {}});
      if (!terr.empty()) s.push_back({"held-out error", x, terr, {}});
      plot_lines(f->png, f->network + " network, " + f->task + ", rule " + f->rule, "step",
                 "error sum|d - y|^2 / sum|y|^2", s, true);
      out["png"] = f->png;
    }
    if (f->json) {
      print_json(out);
    } else {
      std::cout << f->network << " / " << f->task << " / " << f->rule << ": error " << err.front() << " -> "
                << err.back() << " in " << steps.back() << " steps";
      if (!tacc.empty()) std::cout << ", held-out accuracy " << tacc.back();
      std::cout << "\n";
    }
  });
}

}  // namespace physgen::cli
