#include "physgen/api/generalization.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "physgen/api/sample.h"
#include "physgen/api/train.h"
#include "physgen/core/check.h"
#include "physgen/eval/memorization.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/json_file.h"
#include "physgen/io/checkpoint.h"
#include "physgen/io/plot.h"
#include "physgen/zoo/setup.h"
#include "physgen/zoo/zoo.h"

namespace physgen {

namespace {

namespace fs = std::filesystem;

nlohmann::json mean_error(const torch::Tensor& v) {
  const torch::Tensor d = v.to(torch::kFloat64).flatten();
  const int64_t n = d.numel();
  const double mean = d.mean().item<double>();
  const double err = n > 1 ? (d.std().item<double>() / std::sqrt(double(n))) : 0.0;
  return {{"mean", mean}, {"error", err}};
}

/// Mean |m| (m the field's mean) with its standard error.
nlohmann::json abs_m(const torch::Tensor& x) { return mean_error(x.flatten(1).mean(1).abs()); }

/// The deterministic sampler of a family (DDIM eta = 0 for ddpm, the probability-flow / flow
/// ODE for the others) unless the user chose one.
SamplerSettings deterministic_settings(const std::string& family, SamplerSettings s) {
  if (s.sampler.empty()) {
    s.sampler = family == "ddpm" ? "ddim" : "ode";
    if (family == "ddpm") {
      s.eta = 0.0;
      if (s.steps == 0) s.steps = 50;
    }
  }
  return s;
}

torch::Tensor draw(const Model& m, int64_t n, uint64_t seed, const SamplerSettings& s) {
  SampleRequest req;
  req.n = n;
  req.batch = std::min<int64_t>(n, 256);
  req.seed = seed;
  req.settings = s;
  return sample_model(m, req).ensemble.x.to(torch::kCPU).to(torch::kFloat32);
}

}  // namespace

nlohmann::json run_generalization(const GeneralizationRequest& rq) {
  // ---- everything checked before any training --------------------------------------------
  const auto families = model_families();
  check_arg(std::find(families.begin(), families.end(), rq.family) != families.end(), "family", rq.family,
            "a zoo family (physgen train --help)");
  check_arg(rq.data.defined() && rq.data.dim() == 3, "data", rq.data.defined() ? rq.data.sizes() : torch::IntArrayRef{},
            "fields (M, L, L)");
  check_arg(!rq.sizes.empty(), "sizes", "", "at least one training-set size");
  for (int64_t n : rq.sizes) check_arg(n >= 1, "sizes", n, "sizes >= 1");
  const int64_t nmax = *std::max_element(rq.sizes.begin(), rq.sizes.end());
  const int64_t M = rq.data.size(0);
  check_arg(2 * nmax <= M, "sizes", nmax,
            "2 x the largest size <= the fields of " + rq.data_name + " (" + std::to_string(M) +
                "): the two training sets are disjoint");
  check_arg(rq.samples >= 2, "samples", rq.samples, "at least 2 paired samples");
  check_arg(!rq.out_dir.empty(), "out", rq.out_dir, "an output directory");
  for (int64_t t : rq.track_points) check_arg(t >= 1, "track", t, "training steps >= 1");
  const SamplerSettings settings = deterministic_settings(rq.family, rq.sampler);
  // the pairs must be one function of the shared initial noise: no fresh noise along the way
  const std::vector<std::string> stochastic = {"ddpm", "em", "pc", "ula", "mala"};
  check_arg(std::find(stochastic.begin(), stochastic.end(), settings.sampler) == stochastic.end() &&
                !(settings.sampler == "ddim" && settings.eta > 0),
            "sampler", settings.sampler,
            "a deterministic sampler (ddim with eta 0, ode, or a family whose sample is a function of its latent "
            "noise): ancestral and Langevin samplers draw fresh noise at every step");
  const std::vector<int64_t> shape(rq.data.sizes().begin() + 1, rq.data.sizes().end());
  const nlohmann::json config = merged_config(rq.family, shape, rq.config, "config");
  const int64_t steps = config["train"]["steps"].get<int64_t>();
  std::vector<int64_t> track = rq.track_points;
  std::sort(track.begin(), track.end());
  track.erase(std::remove_if(track.begin(), track.end(), [&](int64_t t) { return t >= steps; }), track.end());
  fs::create_directories(rq.out_dir);
  auto log = [&](const std::string& s) {
    if (rq.log) rq.log(s);
  };

  // ---- the two halves of a seeded permutation ---------------------------------------------
  torch::Tensor perm = torch::randperm(M, torch::make_generator<at::CPUGeneratorImpl>(rq.seed), torch::kInt64);
  const torch::Tensor data = rq.data.to(torch::kFloat32).contiguous();
  const torch::Tensor half_a = data.index_select(0, perm.narrow(0, 0, nmax));
  const torch::Tensor half_b = data.index_select(0, perm.narrow(0, nmax, nmax));
  SymmetryOptions sym;
  sym.z2 = has_z2_symmetry(rq.meta.system);
  const nlohmann::json abs_m_data = abs_m(data);

  std::vector<int64_t> sizes = rq.sizes;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t N : sizes) {
    nlohmann::json row = {{"N", N}};
    torch::Tensor samples[2];
    for (int which = 0; which < 2; ++which) {
      const std::string tag = "N" + std::to_string(N) + (which == 0 ? "_A" : "_B");
      const std::string ckpt = (fs::path(rq.out_dir) / (tag + ".pt")).string();
      const std::string report_path = (fs::path(rq.out_dir) / (tag + ".json")).string();
      const torch::Tensor train = (which == 0 ? half_a : half_b).narrow(0, 0, N).contiguous();
      nlohmann::json rep;
      if (fs::exists(report_path)) {
        rep = read_json_file(report_path);
        log(tag + ": finished earlier, reusing " + ckpt);
      } else {
        EnsembleMeta meta = rq.meta;
        meta.chains = 1;
        meta.samples_per_chain = N;
        meta.layout = "sample-major";
        meta.extra["subset_of"] = rq.data_name;
        meta.extra["subset"] = which == 0 ? "A" : "B";
        // the trainer draws minibatches from the fields: below the batch size the set is
        // repeated (the same N fields, drawn with replacement in effect)
        const int64_t batch = config["train"]["batch_size"].get<int64_t>();
        const torch::Tensor fit = N >= batch ? train : train.repeat({(batch + N - 1) / N, 1, 1});
        meta.samples_per_chain = fit.size(0);
        TrainRequest tr;
        tr.family = rq.family;
        tr.system = data_system({{fit, meta}}, {rq.data_name + "[" + tag + "]"}, "", torch::Tensor(), "", rq.device);
        tr.config = config;
        tr.out = ckpt;
        tr.seed = rq.seed + which;
        tr.progress = rq.progress;
        tr.device = rq.device;
        nlohmann::json tracking = nlohmann::json::array();
        double seconds = 0.0;
        // model A stops at the tracking points to measure its memorised fraction, then resumes
        std::vector<int64_t> stops = which == 0 && N >= 2 ? track : std::vector<int64_t>{};  // d1/d2 needs N >= 2
        stops.push_back(-1);
        for (int64_t stop : stops) {
          tr.resume = fs::exists(ckpt);
          if (tr.resume && stop > 0 && read_checkpoint_info(ckpt).step >= stop) continue;
          tr.stop_at = stop;
          log(tag + ": training " + rq.family + " on " + std::to_string(N) + " fields" +
              (stop > 0 ? " to step " + std::to_string(stop) : (tr.resume ? " (resumed)" : "")));
          const nlohmann::json r = train_model(tr);
          seconds += r["seconds"].get<double>();
          const std::string status = r["status"];
          if (status != "finished" && !(status == "interrupted" && stop > 0))
            throw IoError(tag + ": training ended '" + status + "': " + r.value("message", std::string()));
          if (stop > 0) {
            const Model m = load_model(ckpt, rq.device);
            const auto nn = nearest_training_fields(draw(m, rq.samples, rq.sample_seed, settings), train, sym);
            const MemorizationReport mr = memorization_report(nn);
            tracking.push_back({{"step", stop}, {"memorized", {{"mean", mr.memorized_fraction}, {"error", mr.error}}}});
          }
        }
        rep = {{"train_seconds", seconds}, {"tracking", tracking}, {"checkpoint", ckpt}, {"steps", steps}};
        write_file_atomic(report_path, rep.dump(2) + "\n");
      }
      const Model m = load_model(ckpt, rq.device);
      samples[which] = draw(m, rq.samples, rq.sample_seed, settings);
      const std::string side = which == 0 ? "A" : "B";
      if (N >= 2) {
        const MemorizationReport mr = memorization_report(nearest_training_fields(samples[which], train, sym));
        row["memorized_" + side] = {{"mean", mr.memorized_fraction}, {"error", mr.error}};
      } else {
        row["memorized_" + side] = nullptr;  // d1/d2 needs two training fields
      }
      row["abs_m_" + side] = abs_m(samples[which]);
      row["train_seconds_" + side] = rep["train_seconds"];
      if (which == 0) row["tracking"] = rep["tracking"];
    }
    // a uniform field (all Ising spins equal) has no mean-removed direction: its pair is left out
    const torch::Tensor sim = mean_removed_cosine_similarity(samples[0], samples[1]);
    const torch::Tensor defined = torch::isfinite(sim);
    row["similarity"] = mean_error(sim.masked_select(defined));
    row["pairs_undefined"] = sim.numel() - defined.sum().item<int64_t>();
    row["abs_m_data"] = abs_m_data;
    log("N = " + std::to_string(N) + ": similarity " + std::to_string(row["similarity"]["mean"].get<double>()));
    rows.push_back(row);
  }

  // ---- N*: where the similarity crosses 1/2, interpolated in log N --------------------------
  nlohmann::json n_star = nullptr;
  for (size_t k = 1; k < rows.size(); ++k) {
    const double s0 = rows[k - 1]["similarity"]["mean"], s1 = rows[k]["similarity"]["mean"];
    if (s0 < 0.5 && s1 >= 0.5) {
      const double l0 = std::log(rows[k - 1]["N"].get<double>()), l1 = std::log(rows[k]["N"].get<double>());
      n_star = std::exp(l0 + (0.5 - s0) / (s1 - s0) * (l1 - l0));
      break;
    }
  }
  nlohmann::json sampler = {{"sampler", settings.sampler}, {"steps", settings.steps}};
  if (settings.eta >= 0) sampler["eta"] = settings.eta;
  nlohmann::json report = {{"family", rq.family},       {"data", rq.data_name},      {"system", rq.meta.system},
                           {"params", rq.meta.params},  {"sizes", sizes},            {"steps", steps},
                           {"samples", rq.samples},     {"sampler", sampler},        {"seed", rq.seed},
                           {"symmetries", {{"translations", sym.translations}, {"point_group", sym.point_group},
                                           {"z2", sym.z2}}},
                           {"rows", rows},              {"n_star", n_star}};
  const fs::path dir(rq.out_dir);
  write_file_atomic((dir / "generalization.json").string(), report.dump(2) + "\n");
  write_file_atomic((dir / "generalization.md").string(), format_generalization(report));
  if (gnuplot_available()) {
    Series sim{"similarity of paired samples", {}, {}, {}}, mem{"memorised fraction (model A)", {}, {}, {}};
    for (const auto& r : rows) {
      const double logn = std::log2(r["N"].get<double>());
      sim.x.push_back(logn);
      sim.y.push_back(r["similarity"]["mean"]);
      sim.yerr.push_back(r["similarity"]["error"]);
      if (!r["memorized_A"].is_null()) {
        mem.x.push_back(logn);
        mem.y.push_back(r["memorized_A"]["mean"]);
        mem.yerr.push_back(r["memorized_A"]["error"]);
      }
    }
    std::vector<Series> series{sim};
    if (!mem.x.empty()) series.push_back(mem);
    plot_lines((dir / "generalization.png").string(),
               rq.family + " on " + rq.data_name + ": disjoint training sets of size N", "log2 N", "", series);
    report["plot"] = (dir / "generalization.png").string();
  }
  return report;
}

std::string format_generalization(const nlohmann::json& r) {
  std::ostringstream o;
  auto me = [](const nlohmann::json& v, int digits = 3) {
    if (v.is_null()) return std::string("-");
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(digits);
    s << v["mean"].get<double>() << " +- " << v["error"].get<double>();
    return s.str();
  };
  o << "| N | similarity (A, B) | memorised A | memorised B | |m| A | |m| B | |m| data | train s (A + B) |\n"
    << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& row : r["rows"]) {
    o << "| " << row["N"].get<int64_t>() << " | " << me(row["similarity"]) << " | " << me(row["memorized_A"], 2)
      << " | " << me(row["memorized_B"], 2) << " | " << me(row["abs_m_A"]) << " | " << me(row["abs_m_B"]) << " | "
      << me(row["abs_m_data"]) << " | "
      << static_cast<int64_t>(row["train_seconds_A"].get<double>() + row["train_seconds_B"].get<double>()) << " |\n";
  }
  o << "\nN* (similarity crosses 1/2, interpolated in log N): "
    << (r["n_star"].is_null() ? std::string("not crossed") : std::to_string(r["n_star"].get<double>())) << "\n";
  bool any = false;
  for (const auto& row : r["rows"])
    if (!row["tracking"].empty()) any = true;
  if (any) {
    o << "\nMemorised fraction of model A during training:\n\n| N | step | memorised |\n|---|---|---|\n";
    for (const auto& row : r["rows"])
      for (const auto& t : row["tracking"])
        o << "| " << row["N"].get<int64_t>() << " | " << t["step"].get<int64_t>() << " | " << me(t["memorized"], 2)
          << " |\n";
  }
  return o.str();
}

}  // namespace physgen
