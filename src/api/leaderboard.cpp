#include "physgen/api/leaderboard.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "physgen/api/measure.h"
#include "physgen/api/sample.h"
#include "physgen/api/train.h"
#include "physgen/core/check.h"
#include "physgen/eval/memorization.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/json_file.h"
#include "physgen/io/plot.h"
#include "physgen/observables/scattering.h"
#include "physgen/zoo/setup.h"
#include "physgen/zoo/zoo.h"

#include <torch/fft.h>

namespace physgen {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// {mean, error} of an observable in measure_ensemble's JSON; G(1) from the correlator.
std::pair<double, double> observable(const nlohmann::json& m, const std::string& name) {
  if (name == "G1") {
    const auto& g = m.at("correlator").at("G");
    return {g.at("mean").at(1).get<double>(), g.at("error").at(1).get<double>()};
  }
  const auto& o = m.at("observables").at(name);
  return {o.at("mean").get<double>(), o.at("error").get<double>()};
}

const std::vector<std::string>& observable_names() {
  static const std::vector<std::string> n = {"abs_m", "chi", "binder", "G1"};
  return n;
}

/// Radially averaged power spectrum of fields x (N, L, L): P(k) = < |FFT(x)(q)|^2 > / L^2 over
/// the fields and the wave vectors q in the shell round(|q| L / 2 pi) = k, k = 1 .. L/2 (the
/// zero mode, the magnetization, is in the histogram).
std::vector<double> radial_power(const torch::Tensor& x) {
  const int64_t L = x.size(1);
  const torch::Tensor f = torch::fft::fft2(x.to(torch::kFloat64));
  const torch::Tensor p = (f.abs().pow(2)).mean(0) / double(L * L);
  const torch::Tensor k = torch::fft::fftfreq(L, 1.0 / double(L), torch::kFloat64);  // integer wavenumbers
  const torch::Tensor shell = (k.unsqueeze(1).pow(2) + k.unsqueeze(0).pow(2)).sqrt().round();
  std::vector<double> out;
  for (int64_t s = 1; s <= L / 2; ++s) out.push_back(p.masked_select(shell == double(s)).mean().item<double>());
  return out;
}

/// The numbers of one (family, seed) run.
nlohmann::json judge(const Model& model, const LeaderboardRequest& rq, uint64_t seed, const nlohmann::json& data_obs,
                     const ScatteringStatistics& data_scat, const TrainingSystem& sys) {
  nlohmann::json row;
  SampleRequest sr;
  sr.n = rq.samples;
  sr.batch = std::min<int64_t>(rq.samples, 1024);
  sr.seed = 1000 + seed;
  const auto t0 = Clock::now();
  const SampleOutcome so = sample_model(model, sr);
  row["samples_per_second"] = double(rq.samples) / since(t0);
  const torch::Tensor x = so.ensemble.x;
  const nlohmann::json obs = measure_ensemble(x, so.ensemble.meta);
  for (const std::string& name : observable_names()) {
    const auto [g, ge] = observable(obs, name);
    const auto [d, de] = observable(data_obs, name);
    row["observables"][name] = {{"mean", g}, {"error", ge}};
    row["z"][name] = (g - d) / std::sqrt(ge * ge + de * de);
  }
  const EnsembleComparison c = compare_scattering(scattering_of_ensemble(x, so.ensemble.meta), data_scat);
  row["scattering_within_2sigma"] = c.fraction_within_2sigma;
  row["scattering_chi2_per_dof"] = c.chi2_per_dof;
  row["power_spectrum"] = radial_power(x);
  SymmetryOptions sym;
  sym.z2 = has_z2_symmetry(rq.meta.system);
  const int64_t G = std::min<int64_t>(rq.memorization_samples, x.size(0));
  const int64_t T = std::min<int64_t>(rq.memorization_train, rq.data.size(0));
  const MemorizationReport mr =
      memorization_report(nearest_training_fields(x.narrow(0, 0, G), rq.data.narrow(0, 0, T).to(torch::kFloat32), sym));
  row["memorized"] = mr.memorized_fraction;
  row["memorized_error"] = mr.error;
  {
    const torch::Tensor m = x.flatten(1).to(torch::kFloat64).mean(1).contiguous();
    row["magnetization"] = std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
  }
  if (rq.mcmc && model.likelihood && sys.target) {
    SampleRequest mc = sr;
    mc.mcmc = true;
    const SampleOutcome o = sample_model(model, mc);
    row["acceptance"] = o.report.at("acceptance");
    row["ess"] = o.report.at("ess");
  }
  return row;
}

/// mean and spread (standard deviation over seeds; 0 for one seed) of a numeric key path
nlohmann::json over_seeds(const std::vector<nlohmann::json>& rows, const nlohmann::json::json_pointer& key) {
  std::vector<double> v;
  for (const auto& r : rows)
    if (r.contains(key) && r.at(key).is_number()) v.push_back(r.at(key).get<double>());
  if (v.empty()) return nullptr;
  double mean = 0, var = 0;
  for (double a : v) mean += a / double(v.size());
  for (double a : v) var += (a - mean) * (a - mean);
  return {{"mean", mean}, {"spread", v.size() > 1 ? std::sqrt(var / double(v.size() - 1)) : 0.0}, {"n", v.size()}};
}

const std::vector<std::pair<std::string, std::string>>& summary_keys() {
  static const std::vector<std::pair<std::string, std::string>> k = {
      {"z_abs_m", "/z/abs_m"},          {"z_chi", "/z/chi"},
      {"z_binder", "/z/binder"},        {"z_G1", "/z/G1"},
      {"scattering_within_2sigma", "/scattering_within_2sigma"},
      {"memorized", "/memorized"},      {"acceptance", "/acceptance"},
      {"ess", "/ess"},                  {"train_seconds", "/train_seconds"},
      {"steps", "/steps"},              {"samples_per_second", "/samples_per_second"},
      {"params", "/params"}};
  return k;
}

}  // namespace

nlohmann::json run_leaderboard(const LeaderboardRequest& rq) {
  const auto all = model_families();
  check_arg(!rq.families.empty(), "families", "", "at least one family");
  for (const auto& f : rq.families)
    check_arg(std::find(all.begin(), all.end(), f) != all.end(), "families", f, "zoo families (physgen train --help)");
  check_arg(rq.models.empty() || rq.models.size() == rq.families.size(), "models", rq.models.size(),
            "one checkpoint per family (" + std::to_string(rq.families.size()) + ")");
  for (const auto& m : rq.models) check_arg(fs::exists(m), "models", m, "an existing checkpoint");
  check_arg(rq.budget_minutes > 0 && std::isfinite(rq.budget_minutes), "budget-minutes", rq.budget_minutes,
            "minutes > 0");
  check_arg(rq.seeds >= 1, "seeds", rq.seeds, "at least 1");
  check_arg(rq.samples >= 100, "samples", rq.samples, "at least 100 samples (errors of chi and U4)");
  check_arg(rq.data.defined() && rq.data.dim() == 3, "data", rq.data.defined() ? rq.data.sizes() : torch::IntArrayRef{},
            "lattice fields (N, L, L)");
  check_arg(!rq.out_dir.empty(), "out", rq.out_dir, "an output directory");
  fs::create_directories(rq.out_dir);
  auto log = [&](const std::string& s) {
    if (rq.log) rq.log(s);
  };
  const std::vector<int64_t> shape(rq.data.sizes().begin() + 1, rq.data.sizes().end());
  const nlohmann::json data_obs = measure_ensemble(rq.data, rq.meta);
  const ScatteringStatistics data_scat = scattering_of_ensemble(rq.data, rq.meta);
  const TrainingSystem sys = data_system({{rq.data, rq.meta}}, {rq.data_name}, "", torch::Tensor(), "", rq.device);

  std::vector<nlohmann::json> runs;
  const int64_t n_seeds = rq.models.empty() ? rq.seeds : 1;
  const int64_t total = static_cast<int64_t>(rq.families.size()) * n_seeds;
  int64_t done = 0;
  for (size_t fi = 0; fi < rq.families.size(); ++fi) {
    const std::string& family = rq.families[fi];
    for (int64_t s = 1; s <= n_seeds; ++s) {
      ++done;
      const std::string tag = family + "_s" + std::to_string(s);
      const std::string row_path = (fs::path(rq.out_dir) / (tag + ".json")).string();
      if (fs::exists(row_path) && rq.models.empty()) {
        runs.push_back(read_json_file(row_path));
        log("[" + std::to_string(done) + "/" + std::to_string(total) + "] " + tag + ": finished earlier, reused");
        continue;
      }
      nlohmann::json row = {{"family", family}, {"seed", s}};
      std::string ckpt;
      if (!rq.models.empty()) {
        ckpt = rq.models[fi];
        row["status"] = "given";
      } else {
        ckpt = (fs::path(rq.out_dir) / (tag + ".pt")).string();
        fs::remove(ckpt);  // a run cut short before its row was written starts again: the budget stays honest
        TrainRequest tr;
        tr.family = family;
        tr.system = sys;
        tr.config = merged_config(family, shape, nlohmann::json(), "defaults");
        tr.out = ckpt;
        tr.seed = static_cast<uint64_t>(s);
        tr.device = rq.device;
        tr.progress = false;
        const int64_t steps = tr.config["train"]["steps"].get<int64_t>();
        const double budget = 60.0 * rq.budget_minutes;
        const auto t0 = Clock::now();
        auto last = Clock::now();
        const std::string head = "[" + std::to_string(done) + "/" + std::to_string(total) + "] " + tag;
        tr.should_stop = [&, head, steps, budget](int64_t step, double) {
          const double el = since(t0);
          if (since(last) > 10.0) {
            last = Clock::now();
            const double eta = std::min(budget - el, el / double(step + 1) * double(steps - step - 1));
            std::ostringstream o;
            o.precision(3);
            o << head << ": step " << step + 1 << " of " << steps << ", " << el / 60 << " min, ETA "
              << std::max(0.0, eta) / 60 << " min";
            log(o.str());
          }
          return el > budget;
        };
        log(head + ": training (budget " + std::to_string(rq.budget_minutes) + " min)");
        const nlohmann::json r = train_model(tr);
        row["status"] = r["status"];
        row["steps"] = r["steps"];
        row["train_seconds"] = r["seconds"];
        if (r["status"] == "non-finite") {
          log(head + ": training diverged (non-finite loss); no samples");
          write_file_atomic(row_path, row.dump() + "\n");
          runs.push_back(row);
          continue;
        }
      }
      const Model model = load_model(ckpt, rq.device);
      int64_t params = 0;
      for (const auto& p : model.module->parameters()) params += p.numel();
      row["params"] = params;
      row["checkpoint"] = ckpt;
      log("[" + std::to_string(done) + "/" + std::to_string(total) + "] " + tag + ": sampling and measuring");
      row.update(judge(model, rq, static_cast<uint64_t>(s), data_obs, data_scat, sys));
      if (rq.models.empty()) write_file_atomic(row_path, row.dump() + "\n");
      runs.push_back(row);
    }
  }

  nlohmann::json families = nlohmann::json::array();
  for (const auto& family : rq.families) {
    std::vector<nlohmann::json> rows;
    for (const auto& r : runs)
      if (r["family"] == family) rows.push_back(r);
    nlohmann::json f = {{"family", family}, {"seeds", rows.size()}};
    int64_t diverged = 0;
    for (const auto& r : rows) diverged += r["status"] == "non-finite";
    f["diverged"] = diverged;
    for (const auto& [name, key] : summary_keys()) f[name] = over_seeds(rows, nlohmann::json::json_pointer(key));
    families.push_back(f);
  }
  nlohmann::json data_summary;
  for (const std::string& name : observable_names()) {
    const auto [m, e] = observable(data_obs, name);
    data_summary[name] = {{"mean", m}, {"error", e}};
  }
  nlohmann::json report = {{"data", rq.data_name},
                           {"system", rq.meta.system},
                           {"params", rq.meta.params},
                           {"n_data", rq.data.size(0)},
                           {"budget_minutes", rq.budget_minutes},
                           {"seeds", n_seeds},
                           {"samples", rq.samples},
                           {"data_observables", data_summary},
                           {"families", families}};
  nlohmann::json runs_out = nlohmann::json::array();
  for (auto r : runs) {
    r.erase("magnetization");  // kept in the per-run files for the plot
    runs_out.push_back(r);
  }
  report["runs"] = runs_out;
  const fs::path dir(rq.out_dir);
  write_file_atomic((dir / "leaderboard.json").string(), report.dump(2) + "\n");
  write_file_atomic((dir / "leaderboard.md").string(), format_leaderboard(report));
  if (gnuplot_available()) {
    std::vector<std::pair<std::string, std::vector<double>>> hist;
    {
      const torch::Tensor m = rq.data.flatten(1).to(torch::kFloat64).mean(1).contiguous();
      hist.push_back({"ensemble", std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel())});
    }
    std::vector<Series> power{{"ensemble", {}, radial_power(rq.data), {}}};
    for (const auto& r : runs) {
      if (r["seed"] != 1 || !r.contains("magnetization")) continue;
      hist.push_back({r["family"].get<std::string>(), r["magnetization"].get<std::vector<double>>()});
      power.push_back({r["family"].get<std::string>(), {}, r["power_spectrum"].get<std::vector<double>>(), {}});
    }
    for (auto& p : power)
      for (size_t j = 0; j < p.y.size(); ++j) p.x.push_back(double(j + 1));
    plot_histogram((dir / "leaderboard_m.png").string(), "magnetization per field (seed 1)", "m", hist, 60);
    plot_lines((dir / "leaderboard_power.png").string(), "radially averaged power spectrum (seed 1)",
               "|k| L / 2 pi", "P(k)", power, true);
    report["plots"] = {(dir / "leaderboard_m.png").string(), (dir / "leaderboard_power.png").string()};
  }
  return report;
}

std::string format_leaderboard(const nlohmann::json& r) {
  std::ostringstream o;
  auto cell = [](const nlohmann::json& v, int digits) {
    if (v.is_null()) return std::string("-");
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(digits);
    s << v["mean"].get<double>();
    if (v["n"].get<int64_t>() > 1) s << " (" << v["spread"].get<double>() << ")";
    return s.str();
  };
  o << "Data: " << r["data"].get<std::string>() << " (" << r["system"].get<std::string>() << " " << r["params"].dump()
    << ", " << r["n_data"].get<int64_t>() << " fields); budget " << r["budget_minutes"].get<double>()
    << " min per run; " << r["samples"].get<int64_t>() << " samples per run; mean (spread over seeds).\n\n";
  o << "| family | seeds | z abs_m | z chi | z U4 | z G(1) | scattering within 2 sigma | memorised | acceptance | ESS "
       "| train s | steps | samples/s | params |\n"
    << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& f : r["families"]) {
    o << "| " << f["family"].get<std::string>() << " | " << f["seeds"].get<int64_t>();
    if (f["diverged"].get<int64_t>() > 0) o << " (" << f["diverged"].get<int64_t>() << " diverged)";
    o << " | " << cell(f["z_abs_m"], 1) << " | " << cell(f["z_chi"], 1) << " | " << cell(f["z_binder"], 1) << " | "
      << cell(f["z_G1"], 1) << " | " << cell(f["scattering_within_2sigma"], 2) << " | " << cell(f["memorized"], 2)
      << " | " << cell(f["acceptance"], 3) << " | " << cell(f["ess"], 3) << " | " << cell(f["train_seconds"], 0)
      << " | " << cell(f["steps"], 0) << " | " << cell(f["samples_per_second"], 0) << " | " << cell(f["params"], 0)
      << " |\n";
  }
  o << "\nData: ";
  for (const auto& [k, v] : r["data_observables"].items())
    o << k << " " << v["mean"].get<double>() << " +- " << v["error"].get<double>() << "; ";
  o << "\n";
  return o.str();
}

}  // namespace physgen
