// `physgen fit-couplings --data FILE.npy --system phi4|ising [--json]`: which couplings
// generated this ensemble? The exponential-family (maximum pseudo-likelihood) fit of
// models/ebm/exponential_family.h with delete-one-block jackknife errors, compared with
// the parameters the data's sidecar records.
#include <cmath>
#include <iomanip>
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/observables/estimators/jackknife.h"
#include "physgen/core/check.h"
#include "physgen/io/sidecar.h"
#include "physgen/models/ebm/exponential_family.h"

namespace physgen::cli {

namespace {

struct FitFlags {
  std::string data, system;
  int64_t n_blocks = 0;
  bool fit_field = false, refit = false, as_json = false;
  CommonOptions common;
};

/// The sidecar's value of a fitted coupling (null if the sidecar does not say).
nlohmann::json sidecar_value(const std::string& system, const nlohmann::json& p, const std::string& name) {
  if (system == "phi4" && (name == "m2" || name == "lambda") && p.contains(name)) return p[name];
  if (system == "ising" && name == "beta" && p.contains("beta")) return p["beta"].get<double>() * p.value("J", 1.0);
  if (system == "ising" && name == "beta_h" && p.contains("beta"))
    return p["beta"].get<double>() * p.value("h", 0.0);
  return nullptr;
}

void run_fit(const FitFlags& f) {
  apply_common_options(f.common);
  auto [x, meta] = load_ensemble(f.data);
  check_arg(meta.system == f.system, "--system", f.system,
            "the system of the data: the sidecar of " + f.data + " says '" + meta.system + "'");
  check_arg(x.dim() == 3 && x.size(1) == x.size(2), "--data", f.data,
            "an (N, L, L) lattice ensemble; got shape " + detail::to_display(x.sizes()));
  const int64_t blocks = f.n_blocks > 0 ? f.n_blocks : default_jackknife_blocks(x.size(0), meta.chains);
  check_arg(blocks >= 2 && blocks <= x.size(0), "--blocks", blocks,
            "an integer in [2, " + std::to_string(x.size(0)) + "] (the number of configurations)");
  CouplingFitOptions opts;
  opts.n_blocks(blocks).fit_field(f.fit_field).jackknife_refit(f.refit);
  const CouplingFit fit = fit_couplings(f.system == "phi4" ? x.to(torch::kFloat64) : x, f.system, opts);

  nlohmann::json out = fit.to_json();
  out["data"] = f.data;
  out["sidecar_params"] = meta.params;
  nlohmann::json agree = nlohmann::json::object();
  for (const auto& c : fit.couplings) {
    const nlohmann::json truth = sidecar_value(f.system, meta.params, c.name);
    if (truth.is_null()) continue;
    const double t = truth.get<double>();
    agree[c.name] = {{"sidecar", t}, {"pull", c.error > 0 ? (c.value - t) / c.error : 0.0},
                     {"relative_difference", t != 0 ? (c.value - t) / std::fabs(t) : c.value - t}};
  }
  out["agreement"] = agree;
  if (f.as_json) {
    print_json(out);
    return;
  }
  std::cout << "fit-couplings " << f.system << " (" << fit.method << ") on " << f.data << ": "
            << fit.n_configurations << " configurations, " << fit.n_blocks << " jackknife blocks, "
            << (fit.converged ? "converged" : "NOT converged: " + fit.message) << " after " << fit.iterations
            << " Newton steps\n";
  std::cout << std::setprecision(6);
  for (const auto& c : fit.couplings) {
    std::cout << "  " << std::left << std::setw(7) << c.name << std::right << std::setw(12) << c.value << " +- "
              << std::setw(10) << c.error;
    if (agree.contains(c.name))
      std::cout << "   sidecar " << agree[c.name]["sidecar"].get<double>() << "  pull "
                << std::setprecision(3) << agree[c.name]["pull"].get<double>() << " sigma" << std::setprecision(6);
    std::cout << "\n";
  }
}

}  // namespace

void register_fit_couplings(CLI::App& app) {
  auto f = std::make_shared<FitFlags>();
  auto* sub = app.add_subcommand(
      "fit-couplings",
      "fit the couplings of an exponential-family model (phi4: m2, lambda; ising: beta) to an ensemble by "
      "maximum pseudo-likelihood, with jackknife errors (Besag 1975; arXiv:1702.01522)");
  sub->add_option("--data", f->data, "ensemble FILE.npy (+ sidecar) or FILE.h5")->required();
  sub->add_option("--system", f->system, "phi4 | ising (must agree with the sidecar)")
      ->required()
      ->check(CLI::IsMember({"phi4", "ising"}));
  sub->add_option("--blocks", f->n_blocks, "jackknife blocks (0: ~20, a multiple of the chain count)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--fit-field", f->fit_field, "ising: also fit beta*h (otherwise h = 0 is known)");
  sub->add_flag("--refit", f->refit, "full Newton refit per jackknife block (default: one step)");
  sub->add_flag("--json", f->as_json, "print one JSON object with the fit");
  add_common_options(sub, f->common);
  sub->callback([f] { run_fit(*f); });
}

}  // namespace physgen::cli
