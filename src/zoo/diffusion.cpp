// Zoo entries of the diffusion-type families: "ddpm", "score-sde" (models/diffusion),
// "pfgm" and "pfgmpp" (models/pfgm).
//
// Options are the families' own JSON (DDPMOptions::to_json, ...; unknown keys rejected).
// ModelSpec::condition (set by `physgen train --condition`) fills ConditionOptions: a class
// condition of K labels or a continuous one of k parameters (dropout from the options); the
// resolved options are written back into spec.model so a checkpoint is self-describing.
// Native training is the family's DiffusionTask (models/diffusion/task.h) on the data, packed
// with its conditions (pack_condition) for conditional models.
//
// SamplerSettings (`physgen sample`):
//   ddpm       sampler ddpm (all T ancestral steps) | ddim (steps, eta) | ode (the probability-
//              flow ODE of the linear schedule's VP limit: solver, steps, rtol, atol)
//   score-sde  sampler em | pc (steps) | ode (solver, steps, rtol, atol)
//   pfgm       ode only (solver, steps, rtol, atol)
//   pfgmpp     ode only (solver, steps, rtol, atol)
// condition (class label or parameter values) and guidance for conditional models. Reports
// "nfe": network evaluations of the batch (a guided evaluation is one call on 2n rows).
// Score-SDE is a likelihood model (probability-flow ODE, exact trace by default), so
// `physgen sample --mcmc` is exact; configure_likelihood applies --solver/--rtol/--atol.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/models/diffusion/ddpm.h"
#include "physgen/models/diffusion/restore.h"
#include "physgen/models/diffusion/score_sde.h"
#include "physgen/models/pfgm/pfgm.h"
#include "physgen/models/pfgm/pfgmpp.h"
#include "physgen/zoo/kit.h"

namespace physgen::zoo {

namespace {

/// Events with spatial axes, (L, L) lattices or (C, H, W) fields: the periodic U-Net's domain.
bool spatial(const std::vector<int64_t>& shape) { return shape.size() == 2 || shape.size() == 3; }

/// The network for an event shape: the periodic U-Net for lattices (16 base channels in 4
/// groups: 13 training steps/s at batch 64 on one CPU thread for 8 x 8, against 3 steps/s at
/// batch 128 with the U-Net's own default of 32), the time MLP else.
DenoiserNetOptions default_network(const std::vector<int64_t>& shape) {
  DenoiserNetOptions o;
  o.type(spatial(shape) ? "unet" : "mlp");
  o.unet().base_channels(16).groups(4);
  return o;
}

/// Guidance weight: the settings' when > 0, else the options' default.
double guidance_weight(const SamplerSettings& s, double option) {
  check_arg(s.guidance >= 0 && std::isfinite(s.guidance), "--guidance", s.guidance,
            "a finite weight >= 0");
  check_arg(s.guidance == 0.0 || !s.condition.empty(), "--guidance", s.guidance,
            "0 without --condition (guidance steers towards a condition)");
  return s.guidance > 0 ? s.guidance : option;
}

/// Native training on data.x (packed with data.condition for conditional models).
template <class Holder>
NativeTraining diffusion_training(Holder model, const std::string& family,
                                  const ConditionOptions& c, const TrainingData& data) {
  require_data(data, "'" + family + "'");
  NativeTraining t;
  t.task = std::make_shared<DiffusionTask<Holder>>(model, family);
  if (c.kind() == "none") {
    check_arg(!data.condition.defined(), "data.condition", "given",
              "none: this '" + family + "' model is unconditional");
    t.fit_data = data.x;
  } else {
    check_arg(data.condition.defined(), "data.condition", "(none)",
              "conditions (--condition label|PARAM) for a conditional '" + family + "' model");
    t.fit_data = pack_condition(data.x, data.condition);
  }
  return t;
}

torch::Tensor parameters_like(torch::nn::Module& m) {
  return m.parameters().front().detach();
}

// ---------------------------------------------------------------------------- ddpm

Model build_ddpm(const ModelSpec& spec) {
  DDPMOptions o = DDPMOptions::from_json(spec.model);
  o.condition(spec.condition.options(o.condition()));
  DDPM ddpm(o);
  Model m = make_model(spec, ddpm);
  m.restorer = std::make_shared<DDPMRestorer>(ddpm);
  m.native_training = [ddpm = ddpm.ptr()](const TrainingData& data) {
    return diffusion_training(DDPM(ddpm), "ddpm", ddpm->options.condition(), data);
  };
  m.sample_with = [ddpm = ddpm.ptr(), condition = spec.condition](int64_t n, const SamplerSettings& s, nlohmann::json& report) {
    torch::NoGradGuard ng;
    const std::string sampler = s.sampler.empty() ? ddpm->options.sampler() : s.sampler;
    check_choice("--sampler", sampler, {"ddim", "ddpm", "ode"});
    auto cond = condition.sampling_values(s.condition, n, "ddpm");
    const double w = guidance_weight(s, ddpm->options.guidance());
    const int64_t T = ddpm->schedule().steps();
    auto x_T = torch::randn(batch_shape(n, ddpm->options.event_shape()),
                            parameters_like(*ddpm).options());
    int64_t calls = 0;
    EpsilonFunction base = ddpm->epsilon_function(cond, w);
    EpsilonFunction eps = [&calls, base](const torch::Tensor& x, int64_t i) {
      ++calls;
      return base(x, i);
    };
    torch::Tensor x;
    if (sampler == "ddpm") {
      check_arg(s.steps == 0 || s.steps == T, "--steps", s.steps,
                "0 or T = " + std::to_string(T) +
                    " (ancestral sampling runs every step; fewer steps: --sampler ddim)");
      x = ddpm_sample(eps, ddpm->schedule(), x_T, ddpm->options.ancestral());
    } else if (sampler == "ddim") {
      DdimOptions d = ddpm->options.ddim();
      if (s.steps > 0) d.steps(s.steps);
      if (s.eta >= 0) d.eta(s.eta);
      check_arg(d.steps() >= 1 && d.steps() <= T, "--steps", d.steps(),
                "DDIM steps in [1, T = " + std::to_string(T) + "]");
      x = ddim_sample(eps, ddpm->schedule(), x_T, d);
      report[report_key::steps] = d.steps();
    } else {
      OdeStats st;
      x = ddpm->probability_flow_sample(
          x_T, cond, cond.defined() ? w : 0.0,
          solver_with(OdeOptions("dopri5").rtol(1e-5).atol(1e-5), s, 1.0, 0.0), &st);
      calls = st.nfe + 1;  // + the final denoising step
      report[report_key::failed_solves] = st.ok() ? 0 : 1;
    }
    report[report_key::nfe] = calls;
    return x;
  };
  return m;
}

nlohmann::json ddpm_defaults(const std::vector<int64_t>& shape) {
  return DDPMOptions(shape).network(default_network(shape)).to_json();
}

// ----------------------------------------------------------------------- score-sde

Model build_score_sde(const ModelSpec& spec) {
  ScoreSDEOptions o = ScoreSDEOptions::from_json(spec.model);
  o.condition(spec.condition.options(o.condition()));
  ScoreSDE sde(o);
  Model m = make_model(spec, sde);
  // The probability-flow likelihood costs an ODE solve with a d-pass exact trace (hours for
  // 4096 lattice samples through the U-Net): no unasked diagnostic after training.
  m.diagnostic_samples = 0;
  m.native_training = [sde = sde.ptr()](const TrainingData& data) {
    return diffusion_training(ScoreSDE(sde), "score-sde", sde->options.condition(), data);
  };
  m.sample_with = [sde = sde.ptr(), condition = spec.condition](int64_t n, const SamplerSettings& s, nlohmann::json& report) {
    torch::NoGradGuard ng;
    const std::string sampler = s.sampler.empty() ? sde->options.sampler() : s.sampler;
    check_choice("--sampler", sampler, score_sde_sampler_names());
    auto cond = condition.sampling_values(s.condition, n, "score-sde");
    const double w = guidance_weight(s, sde->options.guidance());
    auto x_1 = sde->sde().prior_std() * torch::randn(batch_shape(n, sde->options.event_shape()),
                                                     parameters_like(*sde).options());
    int64_t calls = 0;
    ScoreFunction base = sde->score_function(cond, w);
    ScoreFunction score = [&calls, base](const torch::Tensor& x, double t) {
      ++calls;
      return base(x, t);
    };
    SdeSamplerOptions so = sde->options.sampling();
    torch::Tensor x;
    if (sampler == "ode") {
      OdeStats st;
      x = probability_flow_sample(score, sde->sde(), x_1, so.t_min(),
                                  solver_with(sde->options.solver(), s, 1.0, so.t_min()), &st);
      report[report_key::failed_solves] = st.ok() ? 0 : 1;
    } else {
      if (s.steps > 0) so.steps(s.steps);
      x = sampler == "pc" ? predictor_corrector_sample(score, sde->sde(), x_1, so)
                          : euler_maruyama_sample(score, sde->sde(), x_1, so);
      report[report_key::steps] = so.steps();
    }
    report[report_key::nfe] = calls;
    return x;
  };
  m.configure_likelihood = [sde = sde.ptr()](const SamplerSettings& s) {
    sde->options.solver(solver_with(sde->options.solver(), s, 1.0, sde->options.sampling().t_min()));
  };
  return m;
}

nlohmann::json score_sde_defaults(const std::vector<int64_t>& shape) {
  return ScoreSDEOptions(shape).network(default_network(shape)).to_json();
}

// ---------------------------------------------------------------------------- pfgm

Model build_pfgm(const ModelSpec& spec) {
  PFGM pfgm(PFGMOptions::from_json(spec.model));
  Model m = make_model(spec, pfgm);
  m.native_training = [pfgm = pfgm.ptr()](const TrainingData& data) {
    return diffusion_training(PFGM(pfgm), "pfgm", ConditionOptions(), data);
  };
  m.sample_with = [pfgm = pfgm.ptr()](int64_t n, const SamplerSettings& s, nlohmann::json& report) {
    torch::NoGradGuard ng;
    check_arg(s.sampler.empty() || s.sampler == "ode", "--sampler", s.sampler,
              "ode (pfgm follows the field lines of its ODE)");
    (void)Condition().sampling_values(s.condition, n, "pfgm");
    guidance_weight(s, 0.0);
    const OdeOptions saved = pfgm->options.solver();
    const OdeOptions solver =
        solver_with(saved, s, std::log(pfgm->options.z_max()), std::log(pfgm->options.z_min()));
    pfgm->options.solver(solver);
    torch::Tensor x;
    try {
      x = pfgm->sample_from(pfgm->prior(n, parameters_like(*pfgm).options()));
    } catch (...) {
      pfgm->options.solver(saved);
      throw;
    }
    pfgm->options.solver(saved);
    report[report_key::nfe] = pfgm->last_stats().nfe;
    report[report_key::failed_solves] = pfgm->last_stats().ok() ? 0 : 1;
    return x;
  };
  return m;
}

nlohmann::json pfgm_defaults(const std::vector<int64_t>& shape) {
  return PFGMOptions(shape).to_json();
}

// -------------------------------------------------------------------------- pfgmpp

Model build_pfgmpp(const ModelSpec& spec) {
  PFGMPPOptions o = PFGMPPOptions::from_json(spec.model);
  o.condition(spec.condition.options(o.condition()));
  PFGMPP pp(o);
  Model m = make_model(spec, pp);
  m.native_training = [pp = pp.ptr()](const TrainingData& data) {
    return diffusion_training(PFGMPP(pp), "pfgmpp", pp->options.condition(), data);
  };
  m.sample_with = [pp = pp.ptr(), condition = spec.condition](int64_t n, const SamplerSettings& s, nlohmann::json& report) {
    torch::NoGradGuard ng;
    check_arg(s.sampler.empty() || s.sampler == "ode", "--sampler", s.sampler,
              "ode (pfgmpp solves its probability-flow ODE)");
    auto cond = condition.sampling_values(s.condition, n, "pfgmpp");
    const double w = guidance_weight(s, pp->options.guidance());
    const OdeOptions solver = solver_with(pp->options.solver(), s, std::log(pp->options.sigma_max()),
                                          std::log(pp->options.sigma_min()));
    OdeStats st;
    auto x = pfgmpp_sample(pp->denoiser_function(cond, w),
                           pp->prior(n, parameters_like(*pp).options()), pp->options.sigma_max(),
                           pp->options.sigma_min(), solver, true, &st);
    report[report_key::nfe] = st.nfe + 1;  // + the final denoising step
    report[report_key::failed_solves] = st.ok() ? 0 : 1;
    return x;
  };
  return m;
}

nlohmann::json pfgmpp_defaults(const std::vector<int64_t>& shape) {
  return PFGMPPOptions(shape).network(default_network(shape)).to_json();
}

// --------------------------------------------------------------- train defaults

/// Lattices: 4000 steps of batch 64, Adam 2e-3 with cosine decay and 100 warm-up steps,
/// gradient clip 1 (~5 CPU minutes for phi^4 L = 8; quality in bench/diffusion_quality.sh);
/// vectors: batch 256, lr 1e-3.
TrainerOptions denoiser_train_defaults(const std::vector<int64_t>& shape) {
  if (spatial(shape))
    return TrainerOptions().steps(4000).batch_size(64).lr(2e-3).schedule("cosine").warmup(100).grad_clip(1.0);
  return TrainerOptions().steps(3000).batch_size(256).lr(1e-3).schedule("cosine").warmup(100).grad_clip(1.0);
}

/// PFGM: the batch are the charges of the empirical field (large batches; Xu et al. use 2048
/// for CIFAR-10, 256 is the CPU compromise).
TrainerOptions pfgm_train_defaults(const std::vector<int64_t>&) {
  return TrainerOptions().steps(3000).batch_size(256).lr(1e-3).schedule("cosine").warmup(100).grad_clip(1.0);
}

}  // namespace

void register_diffusion(FamilyRegistry& r) {
  r.add("ddpm", make_family(build_ddpm, ddpm_defaults, by_shape(denoiser_train_defaults),
                        "denoising diffusion (DDPM / DDIM sampling): noise prediction on --data", /*conditional=*/true));
  r.add("score-sde", make_family(build_score_sde, score_sde_defaults, by_shape(denoiser_train_defaults),
                        "score SDE (VP / VE): denoising score matching on --data", /*conditional=*/true));
  r.add("pfgm", make_family(build_pfgm, pfgm_defaults, by_shape(pfgm_train_defaults),
                        "Poisson flow model: empirical-field regression on --data", /*conditional=*/false));
  r.add("pfgmpp", make_family(build_pfgmpp, pfgmpp_defaults, by_shape(denoiser_train_defaults),
                        "PFGM++ (D extra dimensions): denoising on --data", /*conditional=*/true));
}

}  // namespace physgen::zoo
