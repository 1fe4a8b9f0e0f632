#include "physgen/api/measure.h"

#include <cmath>
#include <sstream>

#include <torch/torch.h>

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

}  // namespace physgen
