#include "physgen/particles/pm_correction.h"

#include <cmath>

#include "physgen/core/check.h"

namespace physgen {

torch::Tensor bspline_basis(const torch::Tensor& x, int64_t n_basis) {
  check_arg(n_basis >= 4, "knots", n_basis, "at least 4 spline coefficients");
  const double h = 1.0 / static_cast<double>(n_basis - 1);
  const torch::Tensor centres = torch::arange(n_basis, x.options()) * h;
  const torch::Tensor u = ((x.unsqueeze(-1) - centres) / h).abs();
  const torch::Tensor inner = 2.0 / 3.0 - u.pow(2) + u.pow(3) / 2.0;
  const torch::Tensor outer = (2.0 - u).pow(3) / 6.0;
  return torch::where(u < 1.0, inner, torch::where(u < 2.0, outer, torch::zeros_like(u)));
}

void PmCorrectionOptions::validate() const {
  check_arg(dim() == 2 || dim() == 3, "dim", dim(), "2 or 3");
  check_arg(knots() >= 4 && knots() <= 256, "knots", knots(), "a number of spline coefficients in [4, 256]");
  for (int64_t w : hidden()) check_arg(w >= 1, "hidden", w, "positive layer widths");
}

nlohmann::json PmCorrectionOptions::to_json() const {
  return {{"dim", dim()}, {"knots", knots()}, {"hidden", hidden()}};
}

PmCorrectionOptions PmCorrectionOptions::from_json(const nlohmann::json& j) {
  PmCorrectionOptions o;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "dim") o.dim(it.value().get<int64_t>());
    else if (it.key() == "knots") o.knots(it.value().get<int64_t>());
    else if (it.key() == "hidden") o.hidden(it.value().get<std::vector<int64_t>>());
    else throw InvalidArgument("unknown pm-correction option '" + it.key() + "' (valid: dim, knots, hidden)");
  }
  o.validate();
  return o;
}

PmCorrectionImpl::PmCorrectionImpl(PmCorrectionOptions o) : options(std::move(o)) {
  options.validate();
  mlp = register_module("mlp", MLP(MLPOptions(2, options.hidden(), options.knots())
                                       .activation(Activation::kTanh)
                                       .zero_init_last(true)));
  // PGD starting point (radians per cell): alpha = 0.05, k_l = 0.3, k_s = 1.5.
  pgd = register_parameter("pgd", torch::tensor({std::log(0.05), std::log(0.3), std::log(1.5)}));
}

torch::Tensor PmCorrectionImpl::coefficients(double a) const {
  const torch::Tensor in = torch::tensor({{a, std::log(a)}}, pgd.options().requires_grad(false));
  return const_cast<MLPImpl&>(*mlp).forward(in).squeeze(0);  // forward is not const in nn/mlp.h
}

torch::Tensor PmCorrectionImpl::correction(const torch::Tensor& kmag, double a) const {
  const double kmax = M_PI * std::sqrt(static_cast<double>(options.dim()));
  const torch::Tensor basis = bspline_basis((kmag / kmax).clamp(0.0, 1.0).to(pgd.scalar_type()), options.knots());
  return torch::matmul(basis, coefficients(a)).to(kmag.scalar_type());
}

PotentialFilter PmCorrectionImpl::filter_at(double a) const {
  return [this, a](const torch::Tensor& kmag) { return 1.0 + correction(kmag, a); };
}

torch::Tensor PmCorrectionImpl::pgd_displacement(const PmMesh& mesh, const torch::Tensor& x, double mass) const {
  const torch::Tensor p = pgd.to(x.scalar_type());
  const torch::Tensor alpha = p[0].exp(), kl = p[1].exp(), ks = p[2].exp();
  PotentialFilter filter = [&](const torch::Tensor& k) {
    const torch::Tensor safe = torch::where(k > 0, k, torch::ones_like(k));
    const torch::Tensor ol = torch::where(k > 0, torch::exp(-(kl * kl) / (safe * safe)), torch::zeros_like(k));
    return ol * torch::exp(-(k / ks).pow(4));
  };
  return alpha * mesh.forces(x, mass, filter);
}

torch::Tensor periodic_difference(const torch::Tensor& x, const torch::Tensor& y, double n) {
  const torch::Tensor d = x - y;
  return d - n * torch::round(d.detach() / n);
}

PmTrainingSet make_pm_training_set(const NbodyOptions& coarse, int64_t ref_mesh) {
  coarse.validate();
  check_arg(ref_mesh > coarse.mesh() && ref_mesh % coarse.mesh() == 0, "ref_mesh", ref_mesh,
            "a multiple of mesh = " + std::to_string(coarse.mesh()) + " above it");
  NbodyOptions ref = coarse;
  ref.mesh(ref_mesh);
  const NbodyRun run = run_nbody(ref);
  PmTrainingSet set;
  set.coarse = coarse;
  // The same initial conditions in coarse-mesh cells (positions and momenta scale with the cell).
  const double s = static_cast<double>(coarse.mesh()) / ref_mesh;
  set.initial = {run.initial.x * s, run.initial.p * s};
  const int64_t np = run.initial.x.size(0);
  set.mass = std::pow(static_cast<double>(coarse.mesh()), static_cast<double>(coarse.dim())) / np;
  for (const ParticleState& st : run.trajectory.states) {
    ParticleState c{st.x * s, st.p * s};
    set.reference.push_back(c);
    set.reference_power.push_back(
        power_spectrum(density_contrast(c.x, coarse.mesh(), coarse.dim(), np), coarse.box()).power);
  }
  return set;
}

std::pair<torch::Tensor, torch::Tensor> pm_loss_terms(const torch::Tensor& x, const torch::Tensor& x_ref,
                                                      const torch::Tensor& p_ref, const NbodyOptions& o,
                                                      double mass) {
  const torch::Tensor dx = periodic_difference(x, x_ref, static_cast<double>(o.mesh()));
  const torch::Tensor pos = dx.pow(2).sum(1).mean();
  const torch::Tensor delta = cic_paint(x, o.mesh(), mass) - 1.0;
  const torch::Tensor pk = power_spectrum(delta, o.box()).power;
  const torch::Tensor spec = (pk / p_ref - 1.0).pow(2).mean();
  return {pos, spec};
}

PmCorrectionTask::PmCorrectionTask(PmCorrection model, const PmTrainingSet& set, double lambda_pk)
    : model_(std::move(model)), set_(set), lambda_pk_(lambda_pk), mesh_(set.coarse.pm_options(), set.coarse.dtype()) {
  check_arg(lambda_pk >= 0, "lambda_pk", lambda_pk, "a weight >= 0");
}

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> PmCorrectionTask::parameter_groups() {
  return {{"model", model_->network_parameters()}};
}

torch::Tensor PmCorrectionTask::loss(const torch::Tensor& batch, Diagnostics& diag) {
  (void)batch;
  const NbodyOptions& o = set_.coarse;
  NbodyDynamics dyn(o.cosmology, mesh_, set_.initial.x.size(0));
  PmCorrectionImpl* m = model_.get();
  dyn.filter_at = [m](double a) { return m->filter_at(a); };
  const std::vector<torch::Tensor> params = o.integration().integrator() == "leapfrog"
                                                ? std::vector<torch::Tensor>{}
                                                : model_->network_parameters();
  const NbodyTrajectory traj = integrate_nbody(dyn, set_.initial, o.a_init(), o.snapshots(), o.integration(), params);
  torch::Tensor total = torch::zeros({}, set_.initial.x.options());
  double pos_sum = 0, spec_sum = 0;
  for (size_t s = 0; s < traj.states.size(); ++s) {
    auto [pos, spec] = pm_loss_terms(traj.states[s].x, set_.reference[s].x, set_.reference_power[s], o, set_.mass);
    total = total + pos + lambda_pk_ * spec;
    pos_sum += pos.item<double>();
    spec_sum += spec.item<double>();
  }
  diag["position_mse"] = pos_sum;
  diag["power_mse"] = spec_sum;
  diag["nfe"] = static_cast<double>(traj.stats.nfe);
  return total;
}

nlohmann::json PmCorrectionTask::options() const {
  return {{"model", model_->options.to_json()}, {"lambda_pk", lambda_pk_}};
}

double fit_pgd(PmCorrection& model, const PmTrainingSet& set, double lambda_pk, int64_t steps, double lr) {
  check_arg(steps >= 1, "pgd_steps", steps, "a positive number of steps");
  const NbodyOptions& o = set.coarse;
  const PmMesh mesh(o.pm_options(), o.dtype());
  // The plain PM run (no correction) to the last snapshot, then fit the displacement.
  torch::Tensor x_pm;
  {
    torch::NoGradGuard ng;
    NbodyDynamics dyn(o.cosmology, mesh, set.initial.x.size(0));
    x_pm = integrate_nbody(dyn, set.initial, o.a_init(), o.snapshots(), o.integration()).states.back().x;
  }
  torch::optim::Adam opt({model->pgd}, torch::optim::AdamOptions(lr));
  double last = 0;
  for (int64_t i = 0; i < steps; ++i) {
    opt.zero_grad();
    const torch::Tensor x = x_pm + model->pgd_displacement(mesh, x_pm, set.mass);
    auto [pos, spec] = pm_loss_terms(x, set.reference.back().x, set.reference_power.back(), o, set.mass);
    const torch::Tensor l = pos + lambda_pk * spec;
    l.backward();
    opt.step();
    last = l.item<double>();
  }
  return last;
}

nlohmann::json PmComparison::to_json() const {
  return {{"k", k}, {"ratio_pm", ratio_pm}, {"ratio_pgd", ratio_pgd}, {"ratio_nn", ratio_nn},
          {"r_pm", r_pm}, {"r_pgd", r_pgd}, {"r_nn", r_nn}};
}

PmComparison compare_pm_corrections(const NbodyOptions& o, int64_t ref_mesh, const PmCorrection& model) {
  torch::NoGradGuard ng;
  const PmTrainingSet set = make_pm_training_set(o, ref_mesh);
  const PmMesh mesh(o.pm_options(), o.dtype());
  const int64_t np = set.initial.x.size(0);
  NbodyDynamics plain(o.cosmology, mesh, np);
  const torch::Tensor x_pm = integrate_nbody(plain, set.initial, o.a_init(), o.snapshots(), o.integration()).states.back().x;
  const torch::Tensor x_pgd = x_pm + model->pgd_displacement(mesh, x_pm, set.mass);
  NbodyDynamics hybrid(o.cosmology, mesh, np);
  const PmCorrectionImpl* m = model.get();
  hybrid.filter_at = [m](double a) { return m->filter_at(a); };
  const torch::Tensor x_nn = integrate_nbody(hybrid, set.initial, o.a_init(), o.snapshots(), o.integration()).states.back().x;
  auto field = [&](const torch::Tensor& x) { return density_contrast(x, o.mesh(), o.dim(), np); };
  const torch::Tensor ref = field(set.reference.back().x);
  const PowerSpectrum pref = power_spectrum(ref, o.box());
  PmComparison c;
  auto vec = [](const torch::Tensor& t) {
    const torch::Tensor d = t.to(torch::kFloat64).contiguous();
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  };
  c.k = vec(pref.k);
  auto add = [&](const torch::Tensor& x, std::vector<double>& ratio, std::vector<double>& r) {
    const torch::Tensor f = field(x);
    ratio = vec(power_spectrum(f, o.box()).power / pref.power);
    r = vec(cross_correlation(f, ref, o.box()).power);
  };
  add(x_pm, c.ratio_pm, c.r_pm);
  add(x_pgd, c.ratio_pgd, c.r_pgd);
  add(x_nn, c.ratio_nn, c.r_nn);
  return c;
}

}  // namespace physgen

#include "physgen/io/checkpoint.h"

namespace physgen {

PmCorrectionReport train_pm_correction(const PmCorrectionRun& run) {
  run.sim.validate();
  run.eval_cosmology.validate();
  check_arg(!run.out.empty(), "out", run.out, "a checkpoint path");
  check_arg(run.model.dim() == run.sim.dim(), "model.dim", run.model.dim(), "the simulation's dim");
  run.trainer.validate();
  const PmTrainingSet set = make_pm_training_set(run.sim, run.ref_mesh);
  torch::manual_seed(run.sim.seed());  // the network's initial weights: reproducible runs
  PmCorrection model(run.model);
  model->to(run.sim.dtype());
  PmCorrectionReport rep;
  if (!run.resume) rep.json["pgd_loss"] = fit_pgd(model, set, run.lambda_pk, run.pgd_steps);
  PmCorrectionTask task(model, set, run.lambda_pk);
  TrainerOptions to = run.trainer;
  to.checkpoint_path(run.out).csv_path(run.out + ".csv");
  Trainer trainer(task, to);
  if (run.resume) trainer.resume(run.out);
  const TrainResult r = trainer.fit(torch::Tensor(), run.stop_at);
  rep.json["train"] = {{"steps", r.steps_done}, {"seconds", r.seconds}, {"steps_per_second", r.steps_per_second},
                       {"status", r.status == TrainResult::Status::Finished ? "finished" : "stopped"},
                       {"message", r.message}};
  if (!r.history.empty()) {
    rep.json["train"]["final_loss"] = r.history.back().loss;
    rep.json["train"]["first_loss"] = r.history.front().loss;
  }
  NbodyOptions same = run.sim;
  same.seed(run.eval_seed);
  NbodyOptions other = same;
  other.cosmology = run.eval_cosmology;
  rep.same = compare_pm_corrections(same, run.ref_mesh, model);
  rep.other = compare_pm_corrections(other, run.ref_mesh, model);
  rep.json["comparison"] = {{"training_cosmology", rep.same.to_json()}, {"other_cosmology", rep.other.to_json()}};
  rep.json["pgd"] = {{"alpha", std::exp(model->pgd[0].item<double>())},
                     {"k_l", std::exp(model->pgd[1].item<double>())},
                     {"k_s", std::exp(model->pgd[2].item<double>())}};
  return rep;
}

PmCorrection load_pm_correction(const std::string& path) {
  const CheckpointInfo info = read_checkpoint_info(path);
  if (!info.options.is_object() || !info.options.contains("model"))
    throw IoError(path + ": not a pm-correction checkpoint (no options.model)");
  PmCorrection model(PmCorrectionOptions::from_json(info.options["model"]));
  load_checkpoint(path, *model, static_cast<torch::optim::Optimizer*>(nullptr), false);
  return model;
}

}  // namespace physgen
