// odeint_adjoint as a torch::autograd::Function whose backward solves the augmented
// adjoint system.
#include "physgen/ode/adjoint.h"

#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/ode/state.h"

namespace physgen {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Everything backward needs besides tensors; travels in ctx->saved_data as a capsule.
struct AdjointClosure : torch::CustomClassHolder {
  OdeSystem f;
  std::vector<torch::Tensor> params;
  OdeOptions forward_options;
  OdeOptions backward_options;
  double t0 = 0.0, t1 = 0.0;
  OdeResult forward_result;                 // filled by forward
  std::shared_ptr<OdeStats> backward_stats;  // filled by backward
};

// dL/dtheta_j may be undefined when f does not use theta_j: treat as zero.
torch::Tensor or_zeros(const torch::Tensor& g, const torch::Tensor& like) {
  return g.defined() ? g : torch::zeros_like(like);
}

class OdeAdjointFunction : public torch::autograd::Function<OdeAdjointFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, c10::intrusive_ptr<AdjointClosure> closure,
                               at::TensorList y0, at::TensorList params) {
    OdeState y0v(y0.begin(), y0.end());
    OdeResult r = odeint(closure->f, y0v, closure->t0, closure->t1, closure->forward_options);
    variable_list out;
    for (const auto& y : r.state) {
      // A zero-length span returns clones; anything else is fresh. Either way the
      // outputs must not alias the inputs.
      out.push_back(y);
    }
    ctx->save_for_backward(out);
    closure->forward_result = r;
    ctx->saved_data["closure"] = c10::IValue::make_capsule(closure);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto closure = c10::static_intrusive_pointer_cast<AdjointClosure>(
        ctx->saved_data["closure"].toCapsule());
    const variable_list y1 = ctx->get_saved_variables();
    const size_t k = y1.size();
    const std::vector<torch::Tensor>& params = closure->params;
    const size_t p = params.size();

    // Augmented state [y (k), a (k), a_theta (p)] at the time forward reached.
    OdeState s1;
    for (const auto& y : y1) s1.push_back(y.detach());
    for (size_t i = 0; i < k; ++i) s1.push_back(or_zeros(grad_outputs[i], y1[i]).detach());
    for (const auto& w : params) s1.push_back(torch::zeros_like(w));

    const OdeSystem& f = closure->f;
    OdeSystem augmented = [&f, &params, k, p](double t, const OdeState& s) {
      torch::AutoGradMode enable_grad(true);
      std::vector<torch::Tensor> ys;
      for (size_t i = 0; i < k; ++i) ys.push_back(s[i].detach().requires_grad_(true));
      OdeState fy = f(t, ys);
      // a^T df/d(y, theta) by one reverse pass over the outputs that depend on them.
      std::vector<torch::Tensor> outputs, cotangents;
      for (size_t i = 0; i < k; ++i) {
        if (fy[i].requires_grad()) {
          outputs.push_back(fy[i]);
          cotangents.push_back(s[k + i]);
        }
      }
      std::vector<torch::Tensor> inputs(ys.begin(), ys.end());
      inputs.insert(inputs.end(), params.begin(), params.end());
      std::vector<torch::Tensor> vjp(inputs.size());
      if (!outputs.empty()) {
        vjp = torch::autograd::grad(outputs, inputs, cotangents, /*retain_graph=*/false,
                                    /*create_graph=*/false, /*allow_unused=*/true);
      }
      OdeState ds;
      ds.reserve(2 * k + p);
      for (size_t i = 0; i < k; ++i) ds.push_back(fy[i].detach());
      for (size_t i = 0; i < k + p; ++i) ds.push_back(-or_zeros(vjp[i], inputs[i]));
      return ds;
    };

    OdeResult rb = odeint(augmented, s1, closure->forward_result.t, closure->t0,
                          closure->backward_options);
    if (closure->backward_stats) *closure->backward_stats = rb;

    variable_list grads;
    grads.push_back(torch::Tensor());  // the closure argument
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (size_t i = 0; i < k + p; ++i) {
      torch::Tensor g = rb.state[k + i];
      grads.push_back(rb.ok() ? g : torch::full_like(g, nan));
    }
    return grads;
  }
};

}  // namespace

OdeResult odeint_adjoint(const OdeSystem& f, const std::vector<torch::Tensor>& params,
                         const OdeState& y0, double t0, double t1, const OdeOptions& options,
                         const AdjointOptions& adjoint) {
  check_arg(static_cast<bool>(f), "f", "empty function", "a callable f(t, y)");
  check_arg(options.t_eval().empty(), "t_eval.size()", options.t_eval().size(),
            "0 (odeint_adjoint differentiates the final state only)");
  check_ode_options(options, t0, t1);
  OdeOptions backward = adjoint.backward().value_or(options);
  check_arg(backward.t_eval().empty(), "backward.t_eval.size()", backward.t_eval().size(), "0");
  check_ode_options(backward, t1, t0);
  check_arg(!y0.empty(), "y0", "{}", "at least one tensor");
  for (size_t i = 0; i < y0.size(); ++i) {
    check_arg(y0[i].defined() && y0[i].is_floating_point(), "y0[" + std::to_string(i) + "]",
              "undefined or integral", "a defined floating-point tensor");
  }

  auto closure = c10::make_intrusive<AdjointClosure>();
  closure->f = f;
  for (const auto& w : params) {
    if (w.defined() && w.requires_grad()) closure->params.push_back(w);
  }
  closure->forward_options = options;
  closure->backward_options = backward;
  closure->t0 = t0;
  closure->t1 = t1;
  closure->backward_stats = std::make_shared<OdeStats>();
  closure->backward_stats->t = t1;

  variable_list out = OdeAdjointFunction::apply(closure, at::TensorList(y0),
                                                at::TensorList(closure->params));
  OdeResult result = closure->forward_result;
  result.state = OdeState(out.begin(), out.end());
  result.backward = closure->backward_stats;
  // The closure (kept alive by the graph) must not keep the forward states twice.
  closure->forward_result.state.clear();
  return result;
}

OdeResult odeint_adjoint(const OdeFunction& f, const std::vector<torch::Tensor>& params,
                         const torch::Tensor& y0, double t0, double t1, const OdeOptions& options,
                         const AdjointOptions& adjoint) {
  check_arg(static_cast<bool>(f), "f", "empty function", "a callable f(t, y)");
  return odeint_adjoint(as_system(f), params, OdeState{y0}, t0, t1, options, adjoint);
}

}  // namespace physgen
