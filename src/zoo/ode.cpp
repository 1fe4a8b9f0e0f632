// Zoo families of the ODEs (one file: they share the solve-based sampler and likelihood): "cnf" (models/cnf, maximum likelihood by forward KL) and
// "flow-matching" (models/flow_matching, its conditional flow-matching loss). Both sample by
// one ODE solve with the solver of `physgen sample --solver/--steps/--rtol/--atol` and have
// a likelihood through the CNF log-density transport with the exact trace (eval mode), so
// flow MCMC (--mcmc) corrects them up to the solver error of log q: log q is the integrated
// exact divergence along the same discrete trajectory, not the log-Jacobian of the discrete
// map, so a coarse solver leaves a bias of the order of its error in log q.
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/zoo/ode_options_json.h"
#include "physgen/zoo/kit.h"

namespace physgen::zoo {

namespace {

/// One ODE solve base -> data of v (flattened (n, d)) with the report of `physgen sample`.
template <typename Impl>
torch::Tensor sample_by_solve(Impl& m, int64_t n, const OdeOptions& solver, nlohmann::json& report) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  const int64_t d = event_shape_numel(m.event_shape());
  auto w = m.parameters().front();
  auto z = torch::randn({n, d}, w.options().requires_grad(false));
  OdeResult r = odeint([&m](double t, const torch::Tensor& x) { return m.velocity(t, x); }, z, 0.0, 1.0, solver);
  report[report_key::nfe] = r.nfe;
  report[report_key::failed_solves] = r.ok() ? 0 : 1;
  auto x = r.ok() ? r.y() : torch::full_like(r.y(), std::numeric_limits<double>::quiet_NaN());
  return x.reshape(batch_shape(n, m.event_shape()));
}

/// Counts the solver work of a likelihood model's calls (for `sample --mcmc --json`).
template <typename Impl>
class CountingLikelihood : public LikelihoodModel {
 public:
  explicit CountingLikelihood(std::shared_ptr<Impl> m) : m_(std::move(m)) {}
  torch::Tensor log_prob(const torch::Tensor& x) override { return count(m_->log_prob(x)); }
  std::pair<torch::Tensor, torch::Tensor> sample_and_log_prob(int64_t n) override {
    auto r = m_->sample_and_log_prob(n);
    count(r.second);
    return r;
  }
  torch::Tensor sample(int64_t n) override { return m_->sample(n); }
  std::vector<int64_t> event_shape() const override { return m_->event_shape(); }
  nlohmann::json report() const {
    return {{report_key::nfe, solves_ ? static_cast<double>(nfe_) / static_cast<double>(solves_) : 0.0},
            {"likelihood_solves", solves_}, {report_key::failed_solves, failed_}};
  }

 private:
  torch::Tensor count(torch::Tensor lp) {
    const OdeStats& s = m_->last_stats();
    nfe_ += s.nfe;
    ++solves_;
    if (!s.ok()) ++failed_;
    return lp;
  }
  std::shared_ptr<Impl> m_;
  int64_t nfe_ = 0, solves_ = 0, failed_ = 0;
};

/// Post-training diagnostic samples: the exact trace costs d reverse passes per evaluation.
int64_t diagnostic_samples_for(const std::vector<int64_t>& shape) {
  return event_shape_numel(shape) <= 16 ? 4096 : 512;
}

/// The Model of an ODE family: make_model's views, with the likelihood counting its solves.
template <typename Holder>
Model ode_model(const ModelSpec& spec, const Holder& holder, nlohmann::json resolved_options) {
  using Impl = typename Holder::ContainedType;
  auto impl = holder.ptr();
  Model m = make_model(spec, holder, std::move(resolved_options));
  auto counting = std::make_shared<CountingLikelihood<Impl>>(impl);
  m.likelihood = counting;
  m.likelihood_report = [counting] { return counting->report(); };
  m.diagnostic_samples = diagnostic_samples_for(impl->event_shape());
  return m;
}

/// settings' solver on [0, 1] over `base` (kit.h).
OdeOptions settings_solver(const SamplerSettings& s, const OdeOptions& base) { return solver_with(base, s, 0.0, 1.0); }

Model build_cnf(const ModelSpec& spec) {
  CNF cnf(cnf_options_from_json(spec.model));
  auto impl = cnf.ptr();
  Model m = ode_model(spec, cnf, cnf_options_to_json(impl->options));
  m.sample_with = [impl](int64_t n, const SamplerSettings& s, nlohmann::json& report) {
    return sample_by_solve(*impl, n, settings_solver(s, impl->options.sample_solver().value_or(impl->options.solver())),
                           report);
  };
  m.configure_likelihood = [impl](const SamplerSettings& s) {
    const OdeOptions o = settings_solver(s, impl->options.solver());
    impl->options.solver(o).sample_solver(o);
  };
  return m;
}

/// The flow-matching objective as a TrainingTask: loss(batch) = FlowMatchingImpl::loss.
class FlowMatchingTask : public TrainingTask {
 public:
  explicit FlowMatchingTask(std::shared_ptr<FlowMatchingImpl> m) : m_(std::move(m)) {}
  torch::nn::Module& module() override { return *m_; }
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics&) override { return m_->loss(batch); }
  nlohmann::json options() const override { return flow_matching_options_to_json(m_->options); }

 private:
  std::shared_ptr<FlowMatchingImpl> m_;
};

Model build_flow_matching(const ModelSpec& spec) {
  FlowMatching fm(flow_matching_options_from_json(spec.model));
  auto impl = fm.ptr();
  Model m = ode_model(spec, fm, flow_matching_options_to_json(impl->options));
  m.native_training = [impl](const TrainingData& data) {
    require_data(data, "flow matching");
    return NativeTraining{std::make_shared<FlowMatchingTask>(impl), data.x};
  };
  m.sample_with = [impl](int64_t n, const SamplerSettings& s, nlohmann::json& report) {
    return sample_by_solve(*impl, n, settings_solver(s, impl->options.solver()), report);
  };
  m.configure_likelihood = [impl](const SamplerSettings& s) {
    impl->options.solver(settings_solver(s, impl->options.solver()));
  };
  return m;
}

nlohmann::json cnf_defaults(const std::vector<int64_t>& shape) {
  CNFOptions o(shape);
  if (is_lattice(shape)) {
    // Periodic conv field (translation equivariant), small enough that the exact trace
    // (L^2 reverse passes per evaluation) stays affordable; fixed rk4 steps bound the
    // cost of a training step.
    o.conv_field(TimeConvFieldOptions(shape[0], shape[1]).hidden({16, 16}).zero_init_output(true))
        .solver(make_ode_options("rk4", 8));
  }
  return cnf_options_to_json(o);
}

TrainerOptions cnf_train_defaults(const std::vector<int64_t>& shape) {
  if (is_lattice(shape)) return TrainerOptions().steps(1000).batch_size(64).lr(1e-3).schedule("cosine");
  return TrainerOptions().steps(2000).batch_size(256).lr(1e-3).schedule("cosine");
}

nlohmann::json flow_matching_defaults(const std::vector<int64_t>& shape) {
  FlowMatchingOptions o(shape);
  if (is_lattice(shape))
    o.conv_field(TimeConvFieldOptions(shape[0], shape[1]).hidden({16, 16, 16})).solver(make_ode_options("rk4", 5));
  return flow_matching_options_to_json(o);
}

TrainerOptions flow_matching_train_defaults(const std::vector<int64_t>& shape) {
  if (is_lattice(shape)) return TrainerOptions().steps(4000).batch_size(128).lr(2e-3).schedule("cosine");
  return TrainerOptions().steps(4000).batch_size(256).lr(2e-3).schedule("cosine");
}

}  // namespace

void register_cnf(FamilyRegistry& r) {
  r.add("cnf", make_family(build_cnf, cnf_defaults, by_shape(cnf_train_defaults),
                        "continuous normalizing flow (FFJORD): maximum likelihood on --data", /*conditional=*/false));
}

void register_flow_matching(FamilyRegistry& r) {
  r.add("flow-matching", make_family(build_flow_matching, flow_matching_defaults, by_shape(flow_matching_train_defaults),
                        "flow matching (linear / VP path, minibatch OT): regression on --data", /*conditional=*/false));
}

}  // namespace physgen::zoo
