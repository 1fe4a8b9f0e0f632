// `physgen anneal --problem FILE --solver sa|pt|sb-ballistic|sb-discrete ... [--json]`: an
// Ising machine run on a general Ising problem (ising_machines/solvers.h), and
// `physgen problem sk|maxcut-random|maxcut-regular|toroidal|ea|partition ... --out FILE`:
// instances in the edge-list format (ising_machines/problem.h), and `physgen boltzmann-fit`:
// Boltzmann machine learning of J and h from spin data (ising_machines/boltzmann.h).
#include <cmath>
#include <iostream>
#include <limits>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/hdf5.h"
#include "physgen/ising_machines/boltzmann.h"
#include "physgen/ising_machines/problem.h"
#include "physgen/ising_machines/solvers.h"

namespace physgen::cli {

namespace {

struct AnnealFlags {
  std::string problem, out;
  SolverOptions o;
  double target = std::numeric_limits<double>::quiet_NaN();
  bool json = false, quiet = false;
  CommonOptions common;
};

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

void register_anneal(CLI::App& app) {
  auto f = std::make_shared<AnnealFlags>();
  auto* sub = app.add_subcommand(
      "anneal",
      "ground states of an Ising problem (Max-Cut, QUBO, spin glass) by an Ising machine: simulated "
      "annealing, parallel tempering or simulated bifurcation, batched over replicas");
  sub->add_option("--problem", f->problem,
                  "problem file: a G-set style Max-Cut edge list ('N E' then 'i j w', 1-based), a file "
                  "written by `physgen problem`, or a qbsolv .qubo file")
      ->required();
  sub->add_option("--solver", f->o.solver, "sa | pt | sb-ballistic | sb-discrete")->capture_default_str();
  sub->add_option("--replicas", f->o.replicas, "independent trials run together (pt: ladders)")
      ->capture_default_str();
  sub->add_option("--sweeps", f->o.sweeps, "sweeps per trial (sb: iterations)")->capture_default_str();
  sub->add_option("--seed", f->o.seed, "random seed")->capture_default_str();
  sub->add_option("--update", f->o.update, "sa: metropolis | heatbath")->capture_default_str();
  sub->add_option("--beta-start", f->o.beta_start, "sa: first beta (geometric schedule); pt: hottest rung")
      ->capture_default_str();
  sub->add_option("--beta-end", f->o.beta_end, "sa: last beta; pt: coldest rung")->capture_default_str();
  sub->add_option("--temperatures", f->o.temperatures, "pt: rungs per ladder")->capture_default_str();
  sub->add_option("--kernel", f->o.kernel,
                  "sa / pt: cpu (scalar loops per replica on the threads), tensor (graph-coloured "
                  "LibTorch kernel, all replicas in one batch, runs on --device) or auto (cpu on the "
                  "CPU, tensor on a GPU)")
      ->capture_default_str();
  sub->add_option("--dt", f->o.dt, "sb: time step (0: min(1.25, 1.6 / omega_max), stable for the spectrum of J)")->capture_default_str();
  sub->add_option("--c0", f->o.c0, "sb: coupling scale (0: 0.5 / (sqrt(n) rms J))")->capture_default_str();
  sub->add_option("--target", f->target,
                  "what a trial must reach to count as a success: an energy E, or for a Max-Cut "
                  "problem a cut (E = W - 2 cut); gives success_probability and tts99_s");
  sub->add_option("--time-limit", f->o.time_limit_s, "stop after this many seconds (0: none)")
      ->capture_default_str();
  sub->add_option("--out", f->out, "write the best configuration (n lines of +-1) to this file");
  sub->add_flag("--json", f->json, "print one JSON object");
  sub->add_flag("--quiet", f->quiet, "no progress lines on stderr");
  add_common_options(sub, f->common);
  sub->callback([f] {
    f->o.device = apply_common_options(f->common);
    if ((f->o.solver == "sa" || f->o.solver == "pt") && f->o.kernel == "cpu") f->o.device = torch::kCPU;
    const IsingProblem p = read_problem(f->problem);
    double target_energy = f->target;
    if (std::isfinite(f->target) && p.is_maxcut()) target_energy = p.maxcut_weight - 2.0 * f->target;
    if (!f->quiet)
      f->o.progress = [](double frac, double best) {
        std::cerr << "anneal: " << static_cast<int>(100 * frac) << "% done, best energy " << best << "\n";
      };
    const SolverResult r = solve_ising(p, f->o);
    nlohmann::json out = {{"problem", f->problem},
                          {"solver", r.solver},
                          {"kernel", r.kernel},
                          {"device", f->o.device.str()},
                          {"n", p.n},
                          {"edges", p.edges()},
                          {"kind", p.kind},
                          {"replicas", r.replicas},
                          {"sweeps", r.sweeps_done},
                          {"time_limited", r.time_limited},
                          {"seconds", r.seconds},
                          {"best_energy", r.best_energy},
                          {"offset", p.offset},
                          {"best_objective", r.best_energy + p.offset}};
    if (p.is_maxcut()) out["best_cut"] = p.cut_from_energy(r.best_energy);
    out["replica_best_energies"] = r.replica_best;
    if (std::isfinite(target_energy)) {
      const double ps = success_probability(r, target_energy);
      out["target_energy"] = target_energy;
      out["success_probability"] = ps;
      out["tts99_s"] = number_or_null(tts99(r, ps));
    }
    if (r.sb_dt > 0) {
      out["dt"] = r.sb_dt;
      out["c0"] = r.sb_c0;
    }
    if (!r.exchange_acceptance.empty()) {
      out["exchange_acceptance"] = r.exchange_acceptance;
      out["betas"] = r.betas;
    }
    if (!f->out.empty()) {
      std::string text;
      for (int8_t s : r.best_state) text += s > 0 ? "1\n" : "-1\n";
      write_file_atomic(f->out, text);
      out["best_configuration"] = f->out;
    }
    if (f->json) {
      print_json(out);
    } else {
      std::cout << r.solver << " on " << f->problem << " (n = " << p.n << ", " << p.edges()
                << " couplings): best energy " << r.best_energy;
      if (p.is_maxcut()) std::cout << ", cut " << out["best_cut"].get<double>();
      std::cout << " after " << r.sweeps_done << " sweeps x " << r.replicas << " replicas in " << r.seconds
                << " s\n";
      if (out.contains("success_probability"))
        std::cout << "success probability " << out["success_probability"].get<double>() << ", TTS(99%) "
                  << out["tts99_s"] << " s\n";
    }
  });
}

void register_problem(CLI::App& app) {
  struct Flags {
    std::string kind, out;
    int64_t n = 100, L = 8, dim = 2, degree = 3, rows = 0, cols = 0, max_value = 1000;
    double density = 0.06;
    bool pm_one = false;
    uint64_t seed = 1;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand(
      "problem", "write an Ising problem instance in the edge-list format `physgen anneal` reads");
  sub->add_option("kind", f->kind,
                  "sk (Sherrington-Kirkpatrick) | maxcut-random (Erdos-Renyi, G-set G1 kind) | "
                  "maxcut-regular | toroidal | ea (Edwards-Anderson +-J) | partition")
      ->required();
  sub->add_option("--n", f->n, "spins / nodes / numbers")->capture_default_str();
  sub->add_option("--density", f->density, "maxcut-random: edge probability")->capture_default_str();
  sub->add_option("--degree", f->degree, "maxcut-regular: degree d")->capture_default_str();
  sub->add_option("--rows", f->rows, "toroidal: rows (default: sqrt n)");
  sub->add_option("--cols", f->cols, "toroidal: columns (default: n / rows)");
  sub->add_option("--L", f->L, "ea: linear size")->capture_default_str();
  sub->add_option("--dim", f->dim, "ea: 2 or 3")->capture_default_str();
  sub->add_option("--max-value", f->max_value, "partition: numbers uniform in 1..max")->capture_default_str();
  sub->add_flag("--pm-one", f->pm_one, "sk: J = +-1/sqrt(n) instead of Gaussian; maxcut kinds: weights +-1");
  sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
  sub->add_option("--out", f->out, "output file")->required();
  sub->callback([f] {
    IsingProblem p;
    if (f->kind == "sk") {
      p = generate_sk(f->n, f->pm_one, f->seed);
    } else if (f->kind == "maxcut-random") {
      p = generate_maxcut_random(f->n, f->density, f->pm_one, f->seed);
    } else if (f->kind == "maxcut-regular") {
      p = generate_maxcut_regular(f->n, f->degree, f->seed);
    } else if (f->kind == "toroidal") {
      int64_t rows = f->rows > 0 ? f->rows : static_cast<int64_t>(std::llround(std::sqrt(double(f->n))));
      int64_t cols = f->cols > 0 ? f->cols : (rows > 0 ? f->n / rows : 0);
      p = generate_maxcut_toroidal(rows, cols, f->pm_one, f->seed);
    } else if (f->kind == "ea") {
      p = generate_ea(f->L, f->dim, f->seed);
    } else if (f->kind == "partition") {
      p = generate_partition(f->n, f->max_value, f->seed);
    } else {
      throw InvalidArgument("argument kind = '" + f->kind +
                            "': expected sk, maxcut-random, maxcut-regular, toroidal, ea or partition");
    }
    write_problem(f->out, p);
    std::cout << "wrote " << f->out << ": " << p.info().dump() << "\n";
  });
}

}  // namespace physgen::cli

namespace physgen::cli {

void register_boltzmann_fit(CLI::App& app) {
  struct Flags {
    std::string data, structure = "all", out;
    BoltzmannFitOptions o;
    bool json = false;
    CommonOptions common;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = app.add_subcommand(
      "boltzmann-fit",
      "fit the couplings J and fields h of a fully visible Ising model (Boltzmann machine) to "
      "spin data by maximum likelihood, with persistent parallel tempering for the model statistics");
  sub->add_option("--data", f->data, "spins +-1: (N, n) or (N, L, L) in .npy or .h5")->required();
  sub->add_option("--structure", f->structure,
                  "which pairs are learned: 'all' (every pair) or a problem file whose edges are used "
                  "(its couplings are the starting point)")
      ->capture_default_str();
  sub->add_option("--steps", f->o.steps, "gradient steps")->capture_default_str();
  sub->add_option("--lr", f->o.lr, "gradient-ascent step size")->capture_default_str();
  sub->add_option("--chains", f->o.chains, "persistent PT ladders")->capture_default_str();
  sub->add_option("--rungs", f->o.rungs, "rungs per ladder (beta-min .. 1)")->capture_default_str();
  sub->add_option("--beta-min", f->o.beta_min, "hottest rung")->capture_default_str();
  sub->add_option("--sweeps-per-step", f->o.sweeps_per_step, "PT sweeps per step")->capture_default_str();
  sub->add_option("--seed", f->o.seed, "random seed")->capture_default_str();
  sub->add_option("--out", f->out, "write the fitted model as a problem file (physgen anneal reads it)");
  sub->add_flag("--json", f->json, "print one JSON object (couplings, fields, final gradient)");
  add_common_options(sub, f->common);
  sub->callback([f] {
    apply_common_options(f->common);
    torch::Tensor x = read_array(f->data);
    check_arg(x.dim() >= 2, "data", x.sizes(), "(N, n) or (N, L, L) spins");
    x = x.reshape({x.size(0), -1});
    const IsingProblem structure =
        f->structure == "all" ? complete_structure(x.size(1)) : read_problem(f->structure);
    const BoltzmannFit fit = fit_boltzmann_machine(x, structure, f->o);
    if (!f->out.empty()) write_problem(f->out, fit.model);
    nlohmann::json out = fit.to_json();
    out["data"] = f->data;
    if (f->json) {
      print_json(out);
    } else {
      std::cout << "boltzmann-fit: " << fit.model.n << " spins, " << fit.model.edges() << " couplings, "
                << out["steps"] << " steps, final max |gradient| " << out["final_gradient_max"] << "\n";
      if (!f->out.empty()) std::cout << "wrote " << f->out << "\n";
    }
  });
}

}  // namespace physgen::cli
