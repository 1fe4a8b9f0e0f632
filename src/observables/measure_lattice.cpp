// measure_lattice: per-configuration series in chunks, then the Gamma method.
#include <cmath>
#include <functional>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/observables/estimators/gamma_method.h"
#include "physgen/observables/lattice.h"
#include "physgen/lattice/phi4.h"
#include "lattice_util.h"

namespace physgen {

namespace {

// params[key] as a finite number; `fallback` when absent (NaN fallback = required).
double param(const nlohmann::json& params, const std::string& key, double fallback) {
  const std::string name = "params." + key;
  if (!params.is_object() || !params.contains(key)) {
    check_arg(!std::isnan(fallback), name, "missing", "a number");
    return fallback;
  }
  const auto& v = params.at(key);
  check_arg(v.is_number(), name, v.dump(), "a number");
  const double d = v.get<double>();
  check_arg(std::isfinite(d), name, d, "a finite number");
  return d;
}

// Per-configuration series collected over all chunks (CPU float64).
struct Series {
  torch::Tensor e, m;  // (N)
  torch::Tensor g, c;  // (N, L/2 + 1)
};

Series collect(const torch::Tensor& ensemble,
               const std::function<torch::Tensor(const torch::Tensor&)>& energy,
               bool spins) {
  const int64_t n = ensemble.size(0), L = ensemble.size(1);
  const int64_t half = L / 2;
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 21) / (L * L));
  std::vector<torch::Tensor> e, m, g, c;
  torch::NoGradGuard no_grad;
  for (int64_t start = 0; start < n; start += chunk) {
    auto x = ensemble.slice(0, start, std::min(n, start + chunk)).detach().to(torch::kFloat64);
    if (spins) {
      check_arg(x.abs().eq(1.0).all().item<bool>(), "ensemble", "values other than +-1",
                "Ising spins +-1");
    } else {
      check_arg(torch::isfinite(x).all().item<bool>(), "ensemble", "NaN/inf entries",
                "finite field values");
    }
    e.push_back(energy(x).to(torch::kCPU, torch::kFloat64));
    m.push_back(magnetization(x).cpu());
    g.push_back(two_point_axial(x).cpu());
    c.push_back(zero_momentum_correlator(x).slice(1, 0, half + 1).cpu());
  }
  return {torch::cat(e), torch::cat(m), torch::cat(g), torch::cat(c)};
}

ObservableTable analyse(const Series& s, const std::string& system, int64_t L, int64_t chains,
                        double beta, double S) {
  const int64_t n = s.e.size(0), len = n / chains;
  const double v = static_cast<double>(L * L);
  auto per_chain = [&](const torch::Tensor& a) {  // (N, ...) -> (chains, S, ...)
    std::vector<int64_t> shape{chains, len};
    for (int64_t d = 1; d < a.dim(); ++d) shape.push_back(a.size(d));
    return a.reshape(shape);
  };
  auto e = per_chain(s.e), m = per_chain(s.m);
  auto m2 = m * m;
  ObservableTable t;
  t.system = system;
  t.L = L;
  t.n_configurations = n;
  t.chains = chains;
  t.set("energy_per_site", gamma_method(e, S));
  t.set("m", gamma_method(m, S));
  t.set("abs_m", gamma_method(m.abs(), S));
  t.set("chi", gamma_method(v * m2, S));
  t.set("chi_connected", gamma_method_derived(
                             torch::stack({m2, m.abs()}, -1),
                             [v](const std::vector<double>& a) { return v * (a[0] - a[1] * a[1]); },
                             S));
  t.set("binder", gamma_method_derived(
                      torch::stack({m2 * m2, m2}, -1),
                      [](const std::vector<double>& a) { return 1.0 - a[0] / (3.0 * a[1] * a[1]); },
                      S));
  if (system == "ising") {
    const double b2v = beta * beta * v;
    t.set("specific_heat",
          gamma_method_derived(torch::stack({e * e, e}, -1),
                               [b2v](const std::vector<double>& a) { return b2v * (a[0] - a[1] * a[1]); },
                               S));
  }

  auto g = per_chain(s.g), c = per_chain(s.c);
  const int64_t half = L / 2;
  ArrayEstimate ga, ca, ma;
  for (int64_t r = 0; r <= half; ++r) {
    ga.distance.push_back(r);
    ga.values.push_back(gamma_method(g.select(2, r), S));
    ca.distance.push_back(r);
    ca.values.push_back(gamma_method(c.select(2, r), S));
  }
  auto meff = [](const std::vector<double>& a) { return std::acosh((a[0] + a[2]) / (2 * a[1])); };
  for (int64_t tt = 1; tt + 1 <= half; ++tt) {
    ma.distance.push_back(tt);
    ma.values.push_back(gamma_method_derived(c.slice(2, tt - 1, tt + 2), meff, S));
  }
  t.set_array("G", ga);
  t.set_array("C_t", ca);
  t.set_array("m_eff", ma);
  return t;
}

void check_ensemble(const torch::Tensor& ensemble, int64_t chains, double S) {
  check_arg(ensemble.defined() && ensemble.dim() == 3 && ensemble.size(1) == ensemble.size(2) &&
                ensemble.size(1) >= 2 && ensemble.size(0) >= 1,
            "ensemble", detail::lattice_shape_string(ensemble),
            "shape (N, L, L) with N >= 1, L >= 2");
  check_arg(!ensemble.is_complex() && ensemble.scalar_type() != torch::kBool, "ensemble",
            std::string(c10::toString(ensemble.scalar_type())), "a real dtype");
  check_arg(chains >= 1 && ensemble.size(0) % chains == 0, "chains", chains,
            "a divisor of N = " + std::to_string(ensemble.size(0)));
  check_arg(std::isfinite(S) && S >= 0, "S", S, "a finite value >= 0");
}

ObservableTable measure(const torch::Tensor& ensemble, const std::string& system,
                        const nlohmann::json& params, int64_t chains, double S,
                        const Target* target) {
  check_choice("system", system, {"ising", "phi4"});
  check_ensemble(ensemble, chains, S);
  const int64_t L = ensemble.size(1);
  if (params.is_object() && params.contains("L")) {
    check_arg(params.at("L").is_number_integer() && params.at("L").get<int64_t>() == L,
              "params.L", params.at("L").dump(), "the ensemble's L = " + std::to_string(L));
  }
  if (system == "ising") {
    const double beta = param(params, "beta", NAN);
    const double J = param(params, "J", 1.0);
    const double h = param(params, "h", 0.0);
    auto energy = [J, h](const torch::Tensor& x) { return ising_energy_density(x, J, h); };
    return analyse(collect(ensemble, energy, true), system, L, chains, beta, S);
  }
  std::function<torch::Tensor(const torch::Tensor&)> energy;
  if (target != nullptr) {
    const double v = static_cast<double>(L * L);
    energy = [target, v](const torch::Tensor& x) { return target->action(x) / v; };
  } else {
    const Phi4Params p{L, param(params, "m2", NAN), param(params, "lambda", NAN)};
    const double v = static_cast<double>(L * L);
    energy = [p, v](const torch::Tensor& x) { return phi4_action_tensor(p, x) / v; };
  }
  return analyse(collect(ensemble, energy, false), system, L, chains, 0.0, S);
}

}  // namespace

ObservableTable measure_lattice(const torch::Tensor& ensemble, const std::string& system,
                                const nlohmann::json& params, int64_t chains, double S) {
  return measure(ensemble, system, params, chains, S, nullptr);
}

ObservableTable measure_lattice(const torch::Tensor& ensemble, const Target& target,
                                int64_t chains, double S) {
  return measure(ensemble, target.name(), target.params(), chains, S, &target);
}

}  // namespace physgen
