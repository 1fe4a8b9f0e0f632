// `physgen simulate nbody ...` (a particle-mesh N-body run, particles/nbody.h) and
// `physgen train pm-correction ...` (the hybrid physical-neural PM correction,
// particles/pm_correction.h). Flags only; the physics is in the library.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/npz.h"
#include "physgen/io/plot.h"
#include "physgen/particles/pm_correction.h"

namespace physgen::cli {

namespace {

/// The flags of one simulation, shared by both commands.
struct SimFlags {
  int64_t dim = 3, particles = 32, mesh = 32, lpt = 2, steps = 0;
  double box = 100.0, omega_m = 0.3, omega_b = 0.049, h = 0.6711, n_s = 0.9624, sigma8 = 0.8;
  double a_init = 0.1, a_final = 1.0, rtol = 1e-5, atol = 1e-5, r_split = 0.0;
  std::string snapshots, integrator = "dopri5", gradient = "fd4", laplace = "exact";
  bool compensate = false, float64 = false;
  uint64_t seed = 1;
};

void add_sim_flags(CLI::App* sub, SimFlags& f, const std::string& snapshot_help) {
  sub->add_option("--dim", f.dim, "2 or 3")->capture_default_str();
  sub->add_option("--particles", f.particles, "particles per side")->capture_default_str();
  sub->add_option("--mesh", f.mesh, "PM cells per side (a multiple of --particles)")->capture_default_str();
  sub->add_option("--box", f.box, "box side in Mpc/h")->capture_default_str();
  sub->add_option("--omega-m", f.omega_m, "matter density today (flat Lambda-CDM)")->capture_default_str();
  sub->add_option("--omega-b", f.omega_b, "baryon density (transfer function)")->capture_default_str();
  sub->add_option("--h", f.h, "H0 / 100 km/s/Mpc")->capture_default_str();
  sub->add_option("--n-s", f.n_s, "spectral index")->capture_default_str();
  sub->add_option("--sigma8", f.sigma8, "linear rms contrast at a = 1 in 8 Mpc/h top-hats (discs in 2-D)")
      ->capture_default_str();
  sub->add_option("--a-init", f.a_init, "scale factor of the initial conditions")->capture_default_str();
  sub->add_option("--a-final", f.a_final, "last scale factor (when --snapshots is not given)")->capture_default_str();
  sub->add_option("--snapshots", f.snapshots, snapshot_help);
  sub->add_option("--lpt", f.lpt, "initial conditions: 1 (Zel'dovich) or 2 (2LPT)")->capture_default_str();
  sub->add_option("--integrator", f.integrator, "dopri5 | rk4 | midpoint | euler | leapfrog (KDK)")
      ->capture_default_str();
  sub->add_option("--steps", f.steps, "fixed-step integrators: steps from a-init to the last snapshot")
      ->capture_default_str();
  sub->add_option("--rtol", f.rtol, "dopri5 relative tolerance")->capture_default_str();
  sub->add_option("--atol", f.atol, "dopri5 absolute tolerance")->capture_default_str();
  sub->add_option("--gradient", f.gradient, "force gradient: fd4 | fd2 | fourier")->capture_default_str();
  sub->add_option("--laplace", f.laplace, "Poisson kernel: exact (-1/k^2) | discrete")->capture_default_str();
  sub->add_option("--r-split", f.r_split, "Gaussian smoothing of the potential, cells (0: none)")
      ->capture_default_str();
  sub->add_flag("--compensate-cic", f.compensate, "deconvolve the CIC painting window");
  sub->add_flag("--float64", f.float64, "double precision (default float32)");
  sub->add_option("--seed", f.seed, "seed of the initial Gaussian field")->capture_default_str();
}

std::vector<double> parse_list(const std::string& s, const std::string& flag) {
  std::vector<double> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stod(item, &used));
      check_arg(used == item.size(), flag, s, "a comma-separated list of numbers");
    } catch (const std::logic_error&) {
      throw InvalidArgument("argument " + flag + " = '" + s + "': expected a comma-separated list of numbers");
    }
  }
  return v;
}

NbodyOptions sim_options(const SimFlags& f) {
  NbodyOptions o;
  o.cosmology.omega_m = f.omega_m;
  o.cosmology.omega_b = f.omega_b;
  o.cosmology.h = f.h;
  o.cosmology.n_s = f.n_s;
  o.cosmology.sigma8 = f.sigma8;
  o.dim(f.dim).particles(f.particles).mesh(f.mesh).box(f.box).a_init(f.a_init).lpt_order(f.lpt).seed(f.seed);
  o.float64(f.float64);
  o.snapshots(f.snapshots.empty() ? std::vector<double>{f.a_final} : parse_list(f.snapshots, "--snapshots"));
  o.pm(PmOptions().gradient(f.gradient).laplace(f.laplace).r_split(f.r_split).compensate_cic(f.compensate));
  o.integration(NbodyIntegration().integrator(f.integrator).steps(f.steps).rtol(f.rtol).atol(f.atol));
  o.validate();  // every flag checked before the first allocation
  return o;
}

std::vector<double> to_vec(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

nlohmann::json cosmology_json(const Cosmology& c) {
  return {{"omega_m", c.omega_m}, {"omega_b", c.omega_b}, {"h", c.h}, {"n_s", c.n_s}, {"sigma8", c.sigma8}};
}

nlohmann::json sim_json(const NbodyOptions& o) {
  return {{"cosmology", cosmology_json(o.cosmology)},
          {"dim", o.dim()},
          {"particles", o.particles()},
          {"mesh", o.mesh()},
          {"box", o.box()},
          {"a_init", o.a_init()},
          {"snapshots", o.snapshots()},
          {"lpt_order", o.lpt_order()},
          {"seed", o.seed()},
          {"integrator", o.integration().integrator()},
          {"steps", o.integration().steps()},
          {"rtol", o.integration().rtol()},
          {"gradient", o.pm().gradient()},
          {"laplace", o.pm().laplace()},
          {"r_split", o.pm().r_split()},
          {"compensate_cic", o.pm().compensate_cic()},
          {"float64", o.float64()}};
}

void plot_comparison(const std::string& dir, const std::string& tag, const PmComparison& c, const std::string& title) {
  plot_lines(dir + "/pk_ratio_" + tag + ".png", "P(k)/P_ref(k), " + title, "k [h/Mpc]", "P / P_ref",
             {{"PM", c.k, c.ratio_pm, {}}, {"PM + PGD", c.k, c.ratio_pgd, {}}, {"PM + neural filter", c.k, c.ratio_nn, {}}});
  plot_lines(dir + "/r_" + tag + ".png", "cross-correlation r(k), " + title, "k [h/Mpc]", "r(k)",
             {{"PM", c.k, c.r_pm, {}}, {"PM + PGD", c.k, c.r_pgd, {}}, {"PM + neural filter", c.k, c.r_nn, {}}});
}

}  // namespace

void register_nbody(CLI::App& app) {
  // ---- simulate nbody
  {
    auto* sim = app.get_subcommand("simulate");
    auto f = std::make_shared<SimFlags>();
    auto out = std::make_shared<std::string>(), png = std::make_shared<std::string>(),
         correction = std::make_shared<std::string>();
    auto pgd = std::make_shared<bool>(false), json = std::make_shared<bool>(false);
    auto common = std::make_shared<CommonOptions>();
    auto* sub = sim->add_subcommand(
        "nbody",
        "cosmological particle-mesh N-body run (flat Lambda-CDM, LPT initial conditions); writes an .npz with the "
        "snapshots' positions, momenta, density fields and power spectra");
    add_sim_flags(sub, *f, "increasing scale factors to record, e.g. 0.5,1 (default: --a-final)");
    sub->add_option("--correction", *correction, "apply a trained pm-correction checkpoint (the neural filter)");
    sub->add_flag("--pgd", *pgd, "with --correction: also move the last snapshot by its fitted PGD displacement");
    sub->add_option("--out", *out, "output .npz (sidecar OUT.json with the settings)")->required();
    sub->add_option("--png", *png, "plot P(k) of every snapshot (needs gnuplot)");
    sub->add_flag("--json", *json, "print one JSON object");
    add_common_options(sub, *common);
    sub->callback([=] {
      apply_common_options(*common);
      const NbodyOptions o = sim_options(*f);
      check_arg(!*pgd || !correction->empty(), "--pgd", "set", "--correction (the PGD parameters live in it)");
      PmCorrection model{nullptr};
      std::function<PotentialFilter(double)> filter_at;
      if (!correction->empty()) {
        model = load_pm_correction(*correction);
        check_arg(model->options.dim() == o.dim(), "--correction", *correction,
                  "a correction trained in " + std::to_string(o.dim()) + "-D");
        model->to(o.dtype());
        PmCorrectionImpl* m = model.get();
        filter_at = [m](double a) { return m->filter_at(a); };
      }
      const auto t0 = std::chrono::steady_clock::now();
      NbodyRun run = run_nbody(o, filter_at);
      const int64_t np = run.initial.x.size(0);
      if (*pgd) {
        torch::NoGradGuard ng;
        const PmMesh mesh(o.pm_options(), o.dtype());
        ParticleState& last = run.trajectory.states.back();
        last.x = last.x + model->pgd_displacement(mesh, last.x, run.mass);
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<torch::Tensor> xs, ps, dens, pks;
      torch::Tensor k;
      for (const ParticleState& s : run.trajectory.states) {
        xs.push_back(torch::remainder(s.x, static_cast<double>(o.mesh())) * (o.box() / o.mesh()));  // Mpc/h
        ps.push_back(s.p);
        const torch::Tensor d = density_contrast(s.x, o.mesh(), o.dim(), np);
        dens.push_back(o.dim() == 3 ? d.mean(2) : d);  // 3-D: projected along the last axis
        const PowerSpectrum pk = power_spectrum(d, o.box());
        k = pk.k;
        pks.push_back(pk.power);
      }
      torch::NoGradGuard ng;
      write_npz(*out, {{"a", torch::tensor(o.snapshots(), torch::kFloat64)},
                       {"positions", torch::stack(xs)},
                       {"momenta", torch::stack(ps)},
                       {"density", torch::stack(dens)},
                       {"k", k},
                       {"power", torch::stack(pks)},
                       {"linear_density", run.delta0}});
      nlohmann::json meta = sim_json(o);
      meta["units"] = {{"positions", "Mpc/h, in [0, box)"},
                       {"momenta", "p = a^3 E(a) dx/da in mesh cells (H0 = 1)"},
                       {"density", o.dim() == 3 ? "density contrast on the mesh, averaged along the last axis"
                                                : "density contrast on the mesh"},
                       {"k", "h/Mpc"},
                       {"power", "(Mpc/h)^dim, CIC painting not deconvolved, shot noise not subtracted"}};
      if (!correction->empty()) meta["correction"] = {{"checkpoint", *correction}, {"pgd", *pgd}};
      write_file_atomic(*out + ".json", meta.dump(2) + "\n");
      nlohmann::json rep = meta;
      rep["out"] = *out;
      rep["seconds"] = seconds;
      rep["nfe"] = run.trajectory.stats.nfe;
      rep["k"] = to_vec(k);
      rep["power_final"] = to_vec(pks.back());
      if (!png->empty()) {
        std::vector<Series> s;
        for (size_t i = 0; i < pks.size(); ++i)
          s.push_back({"a = " + std::to_string(o.snapshots()[i]).substr(0, 5), to_vec(k), to_vec(pks[i]), {}});
        plot_lines(*png, "matter power spectrum", "k [h/Mpc]", "P(k) [(Mpc/h)^" + std::to_string(o.dim()) + "]", s,
                   true);
        rep["png"] = *png;
      }
      if (*json) {
        print_json(rep);
      } else {
        std::cout << "nbody: " << np << " particles, mesh " << o.mesh() << "^" << o.dim() << ", "
                  << o.snapshots().size() << " snapshot(s), " << run.trajectory.stats.nfe << " force evaluations, "
                  << seconds << " s -> " << *out << "\n";
      }
    });
  }
  // ---- train pm-correction
  {
    auto* train = app.get_subcommand("train");
    auto f = std::make_shared<SimFlags>();
    f->snapshots = "0.5,0.75,1";
    f->rtol = f->atol = 1e-4;
    struct TrainFlags {
      int64_t ref_mesh = 128, steps = 200, knots = 12, pgd_steps = 200, log_every = 5, stop_at = -1;
      double lr = 3e-3, lambda_pk = 1.0, eval_omega_m = 0.25, eval_sigma8 = 0.9;
      uint64_t eval_seed = 1000;
      std::string out, png_dir;
      bool resume = false, json = false;
      CommonOptions common;
    };
    auto t = std::make_shared<TrainFlags>();
    auto* sub = train->add_subcommand(
        "pm-correction",
        "the hybrid physical-neural PM correction (Lanzieri et al. 2022): a Fourier filter of the PM potential "
        "learned through the ODE (adjoint) against a finer-mesh reference; PGD baseline; P(k) ratio and r(k)");
    add_sim_flags(sub, *f, "loss snapshots (scale factors)");
    sub->add_option("--ref-mesh", t->ref_mesh, "reference mesh cells per side (a multiple of --mesh)")
        ->capture_default_str();
    sub->add_option("--train-steps", t->steps, "optimisation steps (each one ODE solve + adjoint)")
        ->capture_default_str();
    sub->add_option("--lr", t->lr, "Adam learning rate (cosine schedule)")->capture_default_str();
    sub->add_option("--lambda-pk", t->lambda_pk, "weight of the power-spectrum loss")->capture_default_str();
    sub->add_option("--knots", t->knots, "spline coefficients of the filter")->capture_default_str();
    sub->add_option("--pgd-steps", t->pgd_steps, "Adam steps of the PGD fit")->capture_default_str();
    sub->add_option("--log-every", t->log_every, "history row every k steps")->capture_default_str();
    sub->add_option("--eval-omega-m", t->eval_omega_m, "the second cosmology's Omega_m")->capture_default_str();
    sub->add_option("--eval-sigma8", t->eval_sigma8, "the second cosmology's sigma_8")->capture_default_str();
    sub->add_option("--eval-seed", t->eval_seed, "seed of the evaluation runs")->capture_default_str();
    sub->add_option("--out", t->out, "checkpoint (history OUT.csv)")->required();
    sub->add_option("--png-dir", t->png_dir, "write pk_ratio_{train,other}.png and r_{train,other}.png here");
    sub->add_flag("--resume", t->resume, "continue an interrupted run from --out");
    sub->add_option("--stop-at", t->stop_at, "stop after this training step (checkpoint written; --resume continues)");
    sub->add_flag("--json", t->json, "print one JSON object");
    add_common_options(sub, t->common);
    sub->callback([f, t] {
      apply_common_options(t->common);
      PmCorrectionRun run;
      run.sim = sim_options(*f);
      run.ref_mesh = t->ref_mesh;
      check_arg(t->ref_mesh > f->mesh && t->ref_mesh % f->mesh == 0, "--ref-mesh", t->ref_mesh,
                "a multiple of --mesh above it");
      check_arg(t->steps >= 1, "--train-steps", t->steps, ">= 1");
      check_arg(t->lambda_pk >= 0, "--lambda-pk", t->lambda_pk, ">= 0");
      run.lambda_pk = t->lambda_pk;
      run.model = PmCorrectionOptions().dim(f->dim).knots(t->knots);
      run.model.validate();
      run.trainer = TrainerOptions().steps(t->steps).lr(t->lr).log_every(t->log_every).progress(!t->json);
      run.pgd_steps = t->pgd_steps;
      run.out = t->out;
      run.resume = t->resume;
      run.stop_at = t->stop_at;
      run.eval_cosmology = run.sim.cosmology;
      run.eval_cosmology.omega_m = t->eval_omega_m;
      run.eval_cosmology.sigma8 = t->eval_sigma8;
      run.eval_cosmology.validate();
      run.eval_seed = t->eval_seed;
      if (!t->png_dir.empty()) std::filesystem::create_directories(t->png_dir);
      PmCorrectionReport rep = train_pm_correction(run);
      rep.json["settings"] = sim_json(run.sim);
      rep.json["settings"]["ref_mesh"] = run.ref_mesh;
      rep.json["settings"]["lambda_pk"] = run.lambda_pk;
      rep.json["settings"]["eval_cosmology"] = cosmology_json(run.eval_cosmology);
      rep.json["checkpoint"] = run.out;
      if (!t->png_dir.empty()) {
        plot_comparison(t->png_dir, "train", rep.same, "training cosmology, new seed");
        plot_comparison(t->png_dir, "other", rep.other,
                        "Omega_m = " + std::to_string(t->eval_omega_m).substr(0, 4) +
                            ", sigma_8 = " + std::to_string(t->eval_sigma8).substr(0, 4));
        rep.json["png_dir"] = t->png_dir;
      }
      if (t->json) {
        print_json(rep.json);
      } else {
        const PmComparison& c = rep.same;
        std::cout << "pm-correction: trained " << rep.json["train"]["steps"] << " steps -> " << run.out << "\n"
                  << "k [h/Mpc]   P/P_ref: PM  PGD  NN    r: PM  PGD  NN   (training cosmology, new seed)\n";
        for (size_t i = 0; i < c.k.size(); ++i)
          std::cout << c.k[i] << "  " << c.ratio_pm[i] << " " << c.ratio_pgd[i] << " " << c.ratio_nn[i] << "   "
                    << c.r_pm[i] << " " << c.r_pgd[i] << " " << c.r_nn[i] << "\n";
      }
    });
  }
}

}  // namespace physgen::cli
