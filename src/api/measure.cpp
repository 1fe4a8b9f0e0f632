#include "physgen/api/measure.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/observables/estimators/jackknife.h"
#include "physgen/observables/lattice.h"
#include "physgen/observables/table.h"

namespace physgen {

nlohmann::json measure_ensemble(const torch::Tensor& x, const EnsembleMeta& meta) {
  validate_ensemble(x, meta, "ensemble", Blame::argument);
  nlohmann::json out{{"system", meta.system}, {"params", meta.params}, {"n_samples", x.size(0)},
                     {"chains", meta.chains}, {"algorithm", meta.algorithm}};
  if (meta.system == "ising" || meta.system == "phi4") {
    out.update(to_json(measure_lattice(x, meta.system, meta.params, meta.chains)));
    return out;
  }
  const auto xd = x.to(torch::kFloat64).reshape({x.size(0), -1});
  const auto mean = xd.mean(0), std = xd.std(0);
  const double n = static_cast<double>(xd.size(0));
  nlohmann::json obs = nlohmann::json::object();
  for (int64_t d = 0; d < xd.size(1); ++d) {
    const double s = std[d].item<double>();
    obs["mean_x" + std::to_string(d)] = {{"mean", mean[d].item<double>()}, {"error", s / std::sqrt(n)},
                                         {"tau_int", 0.5}};
    obs["std_x" + std::to_string(d)] = {{"mean", s}, {"error", s / std::sqrt(2 * (n - 1))}, {"tau_int", 0.5}};
  }
  out["observables"] = obs;
  return out;
}

std::string format_measurement(const nlohmann::json& m) {
  std::ostringstream os;
  const std::string system = m.at("system").get<std::string>();
  os << system << " " << m.at("params").dump() << ", " << m.at("n_samples").get<int64_t>();
  if (system == "ising" || system == "phi4") {
    os << " samples in " << m.at("chains").get<int64_t>() << " chain(s), " << m.at("algorithm").get<std::string>()
       << "\n"
       << format_table(observable_table_from_json(m));
    return os.str();
  }
  os << " points (independent samples)\n";
  for (auto& [k, v] : m.at("observables").items())
    os << "  " << k << " = " << v["mean"].get<double>() << " +- " << v["error"].get<double>() << "\n";
  return os.str();
}

ScatteringStatistics scattering_of_ensemble(const torch::Tensor& x, const EnsembleMeta& meta, ScatteringOptions o) {
  check_arg(x.dim() == 3, "fields.sizes()", std::to_string(x.dim()) + "-d ensemble",
            "a lattice ensemble (N, L, L) (scattering statistics are defined for 2-D fields)");
  if (o.blocks == ScatteringOptions().blocks && x.size(0) >= 1)
    o.blocks = std::max<int64_t>(2, default_jackknife_blocks(x.size(0), meta.chains, 50));
  return scattering_statistics(x, o);
}

std::string format_scattering(const ScatteringStatistics& s) {
  std::ostringstream os;
  os << "scattering statistics: J " << s.J << ", " << s.orientations << " orientations, " << s.n_fields
     << " fields, " << s.blocks << " jackknife blocks\n";
  char line[160];
  for (size_t k = 0; k < s.names.size(); ++k) {
    std::snprintf(line, sizeof line, "  %-28s %14.6g +- %.3g\n", s.names[k].c_str(), s.mean[k], s.error[k]);
    os << line;
  }
  return os.str();
}

std::string format_comparison(const EnsembleComparison& c) {
  std::ostringstream os;
  char line[200];
  std::snprintf(line, sizeof line, "%ld statistics: %.1f%% within 2 sigma, chi2/dof %.3g (J %ld, %ld orientations)\n",
                static_cast<long>(c.n_statistics), 100.0 * c.fraction_within_2sigma, c.chi2_per_dof,
                static_cast<long>(c.a.J), static_cast<long>(c.a.orientations));
  os << line;
  const auto j = c.to_json();
  for (auto it = j["groups"].begin(); it != j["groups"].end(); ++it) {
    std::snprintf(line, sizeof line, "  %-9s %4ld statistics  %5.1f%% within 2 sigma  chi2/dof %.3g\n", it.key().c_str(),
                  static_cast<long>(it.value()["n_statistics"].get<int64_t>()),
                  100.0 * it.value()["fraction_within_2sigma"].get<double>(), it.value()["chi2_per_dof"].get<double>());
    os << line;
  }
  for (size_t k = 0; k < c.z.size(); ++k) {
    std::snprintf(line, sizeof line, "  %-28s %12.6g +- %-10.3g %12.6g +- %-10.3g z %+6.2f\n", c.a.names[k].c_str(),
                  c.a.mean[k], c.a.error[k], c.b.mean[k], c.b.error[k], c.z[k]);
    os << line;
  }
  return os.str();
}

}  // namespace physgen
