// `physgen demo`: the main job. On built-in defaults it simulates 2D Ising at
// T_c (L = 16) and phi^4 (L = 8, m2 = -4, lambda = 8), prints observables with
// errors beside exact values where they exist, and writes pictures, plots and a
// JSON summary into an output folder.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/progress.h"
#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/core/version.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/plot.h"
#include "physgen/io/png.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/ising_exact.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/phi4_metropolis.h"
#include "physgen/mcmc/simulate.h"
#include "physgen/lattice/targets.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/zoo/zoo.h"
#include "physgen/observables/estimators/estimate.h"
#include "physgen/observables/lattice.h"
#include "physgen/zoo/model_task.h"

namespace physgen::cli {

namespace {

struct DemoFlags {
  std::string out = "physgen-demo";
  uint64_t seed = 2026;
  double scale = 1.0;  // multiplies every sample count
  int64_t flow_steps = 2500;
  double flow_minutes = 3.0;
  CommonOptions common;
};

std::string fmt_estimate(const Estimate& e) {
  std::ostringstream os;
  os << std::setprecision(6) << e.mean << " +- " << std::setprecision(2) << e.error;
  return os.str();
}

std::string fmt_double(double x) {
  std::ostringstream os;
  os << std::setprecision(8) << x;
  return os.str();
}

/// Prints rows "name | column... " for the observables present in every table.
void print_side_by_side(const std::vector<std::string>& names,
                        const std::vector<std::pair<std::string, const ObservableTable*>>& cols,
                        const std::map<std::string, double>& exact) {
  std::cout << std::left << std::setw(16) << "observable";
  for (auto& c : cols) std::cout << std::setw(28) << c.first;
  std::cout << std::setw(14) << "exact" << "tau_int(" << cols.front().first << ")\n";
  for (const auto& n : names) {
    std::cout << std::left << std::setw(16) << n;
    for (auto& c : cols) std::cout << std::setw(28) << fmt_estimate(c.second->at(n));
    auto it = exact.find(n);
    std::cout << std::setw(14) << (it == exact.end() ? "-" : fmt_double(it->second));
    std::cout << std::setprecision(3) << cols.front().second->at(n).tau_int << "\n";
  }
}

/// Prints, and returns as JSON, the agreement of column `a` with column `b` (and with the exact
/// values) on every observable in `names`: z in combined standard errors, each |z| > 2 flagged.
nlohmann::json report_agreement(const std::string& a_name, const ObservableTable& a, const std::string& b_name,
                                const ObservableTable& b, const std::vector<std::string>& names,
                                const std::map<std::string, double>& exact = {}) {
  nlohmann::json out = nlohmann::json::object();
  std::vector<std::string> off;
  auto show = [&](const std::string& key, double z) {
    out[key] = z;
    std::cout << "  " << key << " " << std::showpos << std::fixed << std::setprecision(2) << z << std::noshowpos
              << std::defaultfloat;
    if (!(std::abs(z) <= 2.0)) off.push_back(key);
  };
  std::cout << "agreement in combined standard errors (" << a_name << " - " << b_name << "):";
  for (const auto& n : names) show(n, combined_z(a.at(n), b.at(n)));
  for (const auto& [n, v] : exact) {
    show(a_name + " " + n + " vs exact", z_to_exact(a.at(n), v));
    show(b_name + " " + n + " vs exact", z_to_exact(b.at(n), v));
  }
  std::cout << "\n";
  if (off.empty()) {
    std::cout << "all within 2 combined standard errors\n";
  } else {
    std::cout << "OFF BY MORE THAN 2 combined standard errors:";
    for (const auto& k : off) std::cout << " " << k;
    std::cout << " (one in ~20 comparisons is by chance; more, or |z| > 4, points to a problem)\n";
  }
  return out;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat64).contiguous().view(-1);
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// One configuration from each of the first `n` chains of a chain-major ensemble.
torch::Tensor one_per_chain(const torch::Tensor& ens, int64_t chains, int64_t n) {
  const int64_t per_chain = ens.size(0) / chains;
  n = std::min(n, chains);
  return ens.index_select(0, torch::arange(n, torch::kLong) * per_chain + (per_chain - 1));
}

Series correlator_series(const std::string& label, const ObservableTable& t) {
  const auto& g = t.array("G");
  Series s{label, {}, {}, {}};
  for (size_t i = 0; i < g.values.size(); ++i) {
    s.x.push_back(static_cast<double>(g.distance[i]));
    s.y.push_back(g.values[i].mean);
    s.yerr.push_back(g.values[i].error);
  }
  return s;
}

nlohmann::json run_ising(const DemoFlags& f, const std::filesystem::path& dir) {
  const double beta_c = 0.5 * std::log(1.0 + std::sqrt(2.0));
  const IsingParams p{16, beta_c};
  const auto samples = static_cast<int64_t>(100000 * f.scale);
  std::cout << "\n== 2D Ising, L = 16, beta = beta_c = " << beta_c << " (T_c = 2/ln(1+sqrt 2)) ==\n";

  IsingSampler wolff(p, "wolff", 8, f.seed);
  RecordOptions rw;
  rw.therm = 200;
  rw.samples = samples / 8 * 8 / 8;
  rw.label = "ising wolff";
  auto ens_w = record_chain(wolff, rw);

  IsingSampler metro(p, "metropolis", 64, f.seed + 1);
  RecordOptions rm;
  rm.therm = 500;
  rm.samples = samples / 8;
  rm.every = 2;
  rm.label = "ising metropolis (64 multispin chains)";
  auto ens_m = record_chain(metro, rm);

  const nlohmann::json params = IsingModel(p).params();
  auto tw = measure_lattice(ens_w, "ising", params, wolff.chains());
  auto tm = measure_lattice(ens_m, "ising", params, metro.chains());
  const IsingExact exact = ising_exact_kaufman(p);
  std::map<std::string, double> ex{{"energy_per_site", exact.energy}, {"specific_heat", exact.specific_heat}};
  print_side_by_side({"energy_per_site", "abs_m", "chi", "chi_connected", "binder", "specific_heat"},
                     {{"wolff", &tw}, {"metropolis", &tm}}, ex);
  std::cout << "exact: Kaufman's finite-L torus partition function (energy, specific heat)\n";
  const auto ising_agreement =
      report_agreement("wolff", tw, "metropolis", tm, {"energy_per_site", "abs_m", "chi", "chi_connected", "binder",
                                                       "specific_heat"}, ex);

  write_field_grid_png((dir / "ising_samples.png").string(), one_per_chain(ens_w, wolff.chains(), 8), 4, 8);
  if (gnuplot_available()) {
    auto m = ens_w.to(torch::kFloat64).mean({1, 2});
    plot_histogram((dir / "ising_magnetization.png").string(), "2D Ising L=16 at T_c: magnetization per site",
                   "m", {{"wolff", to_vector(m)}}, 33);
    plot_lines((dir / "ising_correlator.png").string(), "2D Ising L=16 at T_c: G(r) along an axis", "r",
               "G(r)", {correlator_series("wolff", tw), correlator_series("metropolis", tm)});
  }
  return {{"params", params},
          {"wolff", to_json(tw)},
          {"metropolis", to_json(tm)},
          {"exact", {{"energy_per_site", exact.energy}, {"specific_heat", exact.specific_heat},
                     {"source", "Kaufman 1949 finite torus"}}},
          {"agreement", ising_agreement},
          {"wolff_info", wolff.info()},
          {"metropolis_info", metro.info()}};
}

nlohmann::json run_phi4(const DemoFlags& f, const torch::Device& device, const std::filesystem::path& dir,
                        ObservableTable& hmc_table) {
  const Phi4Params p{8, -4.0, 8.0};
  std::cout << "\n== 2D phi^4, L = 8, m2 = -4, lambda = 8 ==\n";
  seed_all(f.seed);
  const auto samples = static_cast<int64_t>(100000 * f.scale);
  auto hmc_ptr = make_phi4_hmc(p, 16, HmcOptions().step_size(0.1).n_steps(10).integrator("omelyan"), device,
                               torch::kFloat64, Phi4Start::Cold);
  Hmc& hmc = *hmc_ptr;
  RecordOptions rh;
  rh.therm = 1000;  // from a cold start at m2 = -4: 200 left percent-level drifts in coupling fits
  rh.samples = samples / 16;
  rh.label = "phi4 hmc (16 chains)";
  auto ens_h = record_chain(hmc, rh);

  auto metro_ptr = make_phi4_metropolis(p, 64, Phi4MetropolisOptions(), device, torch::kFloat64, Phi4Start::Cold);
  Phi4Metropolis& metro = *metro_ptr;
  RecordOptions rm;
  rm.therm = 500;
  rm.samples = samples / 16;
  rm.every = 4;
  rm.label = "phi4 metropolis (64 chains)";
  auto ens_m = record_chain(metro, rm);

  const nlohmann::json params = Phi4Action(p).params();
  auto th = measure_lattice(ens_h, "phi4", params, hmc.chains());
  auto tm = measure_lattice(ens_m, "phi4", params, metro.chains());
  print_side_by_side({"energy_per_site", "abs_m", "chi", "chi_connected", "binder"},
                     {{"hmc", &th}, {"metropolis", &tm}}, {});
  std::cout << "(no closed form at lambda > 0: HMC and local Metropolis are independent checks)\n";
  const auto phi4_agreement =
      report_agreement("hmc", th, "metropolis", tm, {"energy_per_site", "abs_m", "chi", "chi_connected", "binder"});

  write_field_grid_png((dir / "phi4_samples.png").string(), one_per_chain(ens_h, hmc.chains(), 8), 4, 16);
  if (gnuplot_available()) {
    auto m = ens_h.to(torch::kFloat64).mean({1, 2});
    plot_histogram((dir / "phi4_magnetization.png").string(),
                   "phi^4 L=8, m2=-4, lambda=8: magnetization per site", "m", {{"hmc", to_vector(m)}}, 41);
    plot_lines((dir / "phi4_correlator.png").string(), "phi^4 L=8: G(r) along an axis", "r", "G(r)",
               {correlator_series("hmc", th), correlator_series("metropolis", tm)});
  }
  hmc_table = th;
  return {{"params", params}, {"hmc", to_json(th)}, {"metropolis", to_json(tm)}, {"agreement", phi4_agreement},
          {"hmc_info", hmc.info()}, {"metropolis_info", metro.info()}};
}

/// Normalizing flow for the same phi^4 theory: reverse-KL training from the
/// action alone, then flow MCMC (independence Metropolis) as an exact sampler,
/// compared observable by observable with HMC.
nlohmann::json run_flow(const DemoFlags& f, const torch::Device& device, const std::filesystem::path& dir,
                        const ObservableTable& hmc_table) {
  const Phi4Params p{8, -4.0, 8.0};
  std::cout << "\n== RealNVP flow for the same phi^4 (reverse KL from the action; flow MCMC) ==\n";
  seed_all(f.seed + 7);
  const nlohmann::json params = Phi4Action(p).params();
  auto target = make_target("phi4", params);
  ModelSpec spec{"flow", default_model_options("flow", {p.L, p.L}), "phi4", params, "reverse-kl", Condition()};
  Model model = build_model(spec);
  model.module->to(device);
  ModelTask task(model, "reverse-kl", target, 64);
  const std::string ckpt = (dir / "flow_phi4.pt").string();
  // The zoo's defaults for lattice flows (Z2 odd-network couplings, Adam 8e-3 with cosine decay).
  auto topts = default_train_options("flow", {p.L, p.L})
                   .steps(f.flow_steps).log_every(10).checkpoint_path(ckpt).csv_path(ckpt + ".csv");
  Trainer trainer(task, topts);
  // This flow is small (batch 64 of 8x8 fields): intra-op threads cost more than they bring.
  // Measured here: 30.7 steps/s on one thread vs 7.5 on two (2-core machine with background load).
  // An explicit --threads still wins.
  if (f.common.threads == 0) configure_runtime(1);
  // Train in slices so the wall-clock budget is honoured on slow machines.
  TrainResult r;
  std::vector<HistoryRow> history;
  Progress clock("flow", 1, "", false);
  while (trainer.step() < f.flow_steps) {
    r = trainer.fit(torch::Tensor(), std::min<int64_t>(trainer.step() + 250, f.flow_steps));
    history.insert(history.end(), r.history.begin(), r.history.end());
    if (r.status != TrainResult::Status::Finished) throw std::runtime_error(r.message);
    if (clock.elapsed() > 60.0 * f.flow_minutes) {
      std::cout << "flow: stopping at step " << trainer.step() << " (budget of " << f.flow_minutes
                << " min reached)\n";
      break;
    }
  }
  const double train_seconds = clock.elapsed();
  model.module->eval();
  const int64_t n = static_cast<int64_t>(100000 * f.scale);
  IndependenceMetropolis chain(model.likelihood, target, IndependenceMetropolisOptions().batch_size(1024).seed(f.seed));
  IndependenceMetropolisResult mc = chain.run(n);
  auto ens = mc.chain.to(torch::kCPU, torch::kFloat64);
  auto tf = measure_lattice(ens, "phi4", params, 1);
  std::cout << "trained " << trainer.step() << " steps in " << std::setprecision(3) << train_seconds
            << " s; flow MCMC: acceptance " << mc.acceptance << ", ESS " << mc.proposal_batch_ess
            << " (mean over batches of 64, the definition of arXiv:2101.08176), " << mc.proposal_ess
            << " (pooled over all " << n << " proposals)\n";
  print_side_by_side({"energy_per_site", "abs_m", "chi", "chi_connected", "binder"},
                     {{"hmc", &hmc_table}, {"flow-mcmc", &tf}}, {});
  std::cout << "tau_int(flow-mcmc):";
  for (const auto& name : {"abs_m", "chi", "binder"}) std::cout << " " << name << " " << tf.at(name).tau_int;
  std::cout << "\n";
  // The exactness check: every observable of the corrected chain against HMC.
  const auto flow_agreement =
      report_agreement("flow-mcmc", tf, "hmc", hmc_table, {"energy_per_site", "abs_m", "chi", "chi_connected", "binder"});
  const double chi_z = flow_agreement.at("chi").get<double>();
  // An independence sampler's errors are unreliable when it sits on one state for a long run
  // of rejections (the autocorrelation estimate then misses the tail): say so.
  int64_t longest = 0;
  {
    const auto acc = mc.accepted.to(torch::kCPU, torch::kBool).contiguous();
    const bool* a = acc.data_ptr<bool>();
    int64_t run = 0;
    for (int64_t i = 0; i < acc.numel(); ++i) {
      run = a[i] ? 0 : run + 1;
      longest = std::max(longest, run);
    }
  }
  double max_tau = 0;
  for (const auto& name : {"abs_m", "chi", "binder"}) max_tau = std::max(max_tau, tf.at(name).tau_int);
  const bool unreliable = longest > n / 100 || max_tau > static_cast<double>(n) / 200.0;
  std::cout << "longest run of rejections: " << longest << " steps; largest tau_int " << std::setprecision(3) << max_tau
            << (unreliable ? " -- the chain's error bars are UNRELIABLE (a rare long rejection run or tau_int > N/200 "
                             "dominates): train longer or run a longer chain before trusting the comparison"
                           : " (short against the chain: its error bars are usable)")
            << "\n";
  if (gnuplot_available()) {
    Series loss{"reverse KL (loss = KL - log Z)", {}, {}, {}}, ess{"batch ESS", {}, {}, {}};
    for (const auto& row : history) {
      loss.x.push_back(static_cast<double>(row.step));
      loss.y.push_back(row.loss);
      ess.x.push_back(static_cast<double>(row.step));
      ess.y.push_back(row.diag.count("ess") ? row.diag.at("ess") : 0.0);
    }
    plot_lines((dir / "flow_loss.png").string(), "RealNVP on phi^4 L=8: reverse-KL loss", "step", "loss", {loss});
    plot_lines((dir / "flow_ess.png").string(), "RealNVP on phi^4 L=8: ESS of training batches", "step", "ESS",
               {ess});
  }
  write_field_grid_png((dir / "flow_samples.png").string(),
                       ens.index_select(0, torch::arange(8, torch::kLong) * (n / 8)), 4, 16);
  return {{"steps", trainer.step()}, {"train_seconds", train_seconds}, {"acceptance", mc.acceptance},
          {"ess", mc.proposal_ess}, {"ess_batch64", mc.proposal_batch_ess}, {"chi_z_vs_hmc", chi_z}, {"agreement", flow_agreement},
          {"longest_rejection_run", longest}, {"errors_unreliable", unreliable},
          {"flow_mcmc", to_json(tf)}, {"checkpoint", ckpt}};
}

}  // namespace

void register_demo(CLI::App& app) {
  auto f = std::make_shared<DemoFlags>();
  auto* sub = app.add_subcommand(
      "demo",
      "the main job: Ising at T_c (L=16) and phi^4 (L=8, m2=-4, lambda=8) with observables, exact values, "
      "pictures, plots and a JSON summary");
  sub->add_option("--out", f->out, "output folder")->capture_default_str();
  sub->add_option("--seed", f->seed, "random seed")->capture_default_str();
  sub->add_option("--scale", f->scale, "multiplies every sample count (e.g. 0.1 for a smoke run)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100.0));
  sub->add_option("--flow-steps", f->flow_steps, "reverse-KL steps of the phi^4 flow (0: skip the flow)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--flow-minutes", f->flow_minutes, "wall-clock budget of the flow training")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_common_options(sub, f->common);
  sub->callback([f] {
    const torch::Device device = apply_common_options(f->common);
    const std::filesystem::path dir(f->out);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError("cannot create output folder '" + f->out + "': " + ec.message());
    Progress clock("demo", 1, "", false);
    nlohmann::json summary{{"physgen_version", version()}, {"seed", f->seed}, {"device", device.str()}};
    summary["ising"] = run_ising(*f, dir);
    ObservableTable hmc_table;
    summary["phi4"] = run_phi4(*f, device, dir, hmc_table);
    if (f->flow_steps > 0) summary["flow"] = run_flow(*f, device, dir, hmc_table);
    summary["seconds"] = clock.elapsed();
    write_file_atomic((dir / "summary.json").string(), summary.dump(2) + "\n");
    std::cout << "\nwrote " << f->out << "/: summary.json, *_samples.png"
              << (gnuplot_available() ? ", *_magnetization.png, *_correlator.png" : " (gnuplot missing: no plots)")
              << "  [" << std::fixed << std::setprecision(1) << clock.elapsed() << " s]\n";
  });
}

}  // namespace physgen::cli
