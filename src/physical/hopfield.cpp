#include "physgen/physical/hopfield.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"

namespace physgen {

HopfieldNetwork HopfieldNetwork::random(int64_t inputs, int64_t hidden, int64_t outputs, uint64_t seed) {
  check_arg(inputs >= 1, "inputs", inputs, "at least 1");
  check_arg(hidden >= 1 && hidden <= 100000, "hidden", hidden, "1 .. 100000");
  check_arg(outputs >= 1, "outputs", outputs, "at least 1");
  Xoshiro256pp r(seed, 0xf4);
  auto glorot = [&](int64_t a, int64_t b) {
    const double lim = std::sqrt(6.0 / static_cast<double>(a + b));
    torch::Tensor w = torch::empty({a, b}, torch::kFloat64);
    auto acc = w.accessor<double, 2>();
    for (int64_t i = 0; i < a; ++i)
      for (int64_t j = 0; j < b; ++j) acc[i][j] = lim * (2.0 * r.uniform() - 1.0);
    return w;
  };
  HopfieldNetwork n;
  n.W1 = glorot(inputs, hidden);
  n.W2 = glorot(hidden, outputs);
  n.b1 = torch::zeros({hidden}, torch::kFloat64);
  n.b2 = torch::zeros({outputs}, torch::kFloat64);
  return n;
}

std::pair<torch::Tensor, torch::Tensor> hopfield_relax(const HopfieldNetwork& net, const torch::Tensor& x,
                                                       int64_t steps, double dt, const torch::Tensor& h0,
                                                       const torch::Tensor& y0, double beta, const torch::Tensor& t) {
  check_arg(x.dim() == 2 && x.size(1) == net.inputs(), "x", x.sizes(),
            "(examples, " + std::to_string(net.inputs()) + " inputs)");
  check_arg(steps >= 0, "steps", steps, ">= 0");
  check_arg(dt > 0 && dt <= 1, "dt", dt, "a step in (0, 1]");
  check_arg(beta >= 0, "beta", beta, ">= 0");
  const int64_t M = x.size(0);
  torch::Tensor h = h0.defined() ? h0 : torch::zeros({M, net.hidden()}, torch::kFloat64);
  torch::Tensor y = y0.defined() ? y0 : torch::zeros({M, net.outputs()}, torch::kFloat64);
  const torch::Tensor xin = torch::mm(x, net.W1) + net.b1;  // constant drive of the hidden layer
  for (int64_t s = 0; s < steps; ++s) {
    // -dF/dh = -h + x W1 + y W2^T + b1 ; -dF/dy = -y + h W2 + b2 + beta (t - y)
    torch::Tensor gh = xin + torch::mm(y, net.W2.t()) - h;
    torch::Tensor gy = torch::mm(h, net.W2) + net.b2 - y;
    if (beta > 0) gy = gy + beta * (t - y);
    h = (h + dt * gh).clamp(0.0, 1.0);
    y = (y + dt * gy).clamp(0.0, 1.0);
  }
  return {h, y};
}

torch::Tensor hopfield_energy(const HopfieldNetwork& net, const torch::Tensor& x, const torch::Tensor& h,
                              const torch::Tensor& y) {
  return 0.5 * h.pow(2).sum(1) + 0.5 * y.pow(2).sum(1) - (torch::mm(x, net.W1) * h).sum(1) -
         (torch::mm(h, net.W2) * y).sum(1) - torch::mv(h, net.b1) - torch::mv(y, net.b2);
}

torch::Tensor hopfield_outputs(const HopfieldNetwork& net, const torch::Tensor& x, const HopfieldRelaxation& relax) {
  torch::NoGradGuard ng;
  return hopfield_relax(net, x, relax.free_steps, relax.dt).second;
}

HopfieldLearningResult train_hopfield(HopfieldNetwork& net, const torch::Tensor& x, const torch::Tensor& t,
                                      const torch::Tensor& labels, const torch::Tensor& x_test,
                                      const torch::Tensor& t_test, const torch::Tensor& labels_test,
                                      const HopfieldLearningOptions& o) {
  check_arg(o.rule == "eqprop" || o.rule == "coupled" || o.rule == "gradient", "rule", o.rule,
            "eqprop, coupled or gradient");
  check_arg(o.steps >= 1, "steps", o.steps, "at least 1");
  check_arg(o.alpha > 0 && o.beta > 0 && o.lr > 0, "alpha/beta/lr", std::to_string(o.alpha) + "/" + std::to_string(o.beta) + "/" + std::to_string(o.lr), "all > 0");
  check_arg(o.eta > 0 && o.eta <= 1, "eta", o.eta, "a clamp fraction in (0, 1]");
  check_arg(t.dim() == 2 && t.size(0) == x.size(0) && t.size(1) == net.outputs(), "t", t.sizes(),
            "(examples, outputs)");
  const bool held_out = x_test.defined() && x_test.numel() > 0;
  HopfieldLearningResult res;
  auto log = [&](int64_t step) {
    res.record(step, hopfield_outputs(net, x, o.relax), t, labels,
               held_out ? hopfield_outputs(net, x_test, o.relax) : torch::Tensor(), t_test, labels_test);
  };
  log(0);
  const double M = static_cast<double>(x.size(0));
  for (int64_t step = 1; step <= o.steps; ++step) {
    if (o.rule == "gradient") {
      HopfieldNetwork g = net;
      for (torch::Tensor* p : {&g.W1, &g.W2, &g.b1, &g.b2}) *p = p->clone().requires_grad_(true);
      const torch::Tensor y = hopfield_relax(g, x, o.relax.free_steps, o.relax.dt).second;
      const torch::Tensor loss = 0.5 * (y - t).pow(2).sum() / M;
      loss.backward();
      torch::NoGradGuard ng;
      net.W1 = net.W1 - o.lr * g.W1.grad();
      net.W2 = net.W2 - o.lr * g.W2.grad();
      net.b1 = net.b1 - o.lr * g.b1.grad();
      net.b2 = net.b2 - o.lr * g.b2.grad();
    } else {
      torch::NoGradGuard ng;
      const auto [h0, y0] = hopfield_relax(net, x, o.relax.free_steps, o.relax.dt);
      torch::Tensor hb, yb;
      double scale;
      if (o.rule == "eqprop") {
        std::tie(hb, yb) = hopfield_relax(net, x, o.relax.nudged_steps, o.relax.dt, h0, y0, o.beta, t);
        scale = o.alpha / o.beta;
      } else {
        // outputs clamped at y0 + eta (t - y0): relax h only, with y held
        yb = y0 + o.eta * (t - y0);
        hb = h0;
        const torch::Tensor drive = torch::mm(x, net.W1) + net.b1 + torch::mm(yb, net.W2.t());
        for (int64_t s = 0; s < o.relax.nudged_steps; ++s) hb = (hb + o.relax.dt * (drive - hb)).clamp(0.0, 1.0);
        scale = o.alpha / o.eta;
      }
      net.W1 = net.W1 + (scale / M) * torch::mm(x.t(), hb - h0);
      net.W2 = net.W2 + (scale / M) * (torch::mm(hb.t(), yb) - torch::mm(h0.t(), y0));
      net.b1 = net.b1 + scale * (hb - h0).mean(0);
      net.b2 = net.b2 + scale * (yb - y0).mean(0);
    }
    if (step % o.log_every == 0 || step == o.steps) log(step);
  }
  return res;
}

}  // namespace physgen
