// `physgen measure FILE.npy [--json]`: observables with errors and tau_int.
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/io/sidecar.h"
#include "physgen/observables/lattice.h"

namespace physgen::cli {

void register_measure(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  auto* sub = app.add_subcommand(
      "measure",
      "observables of an ensemble with errors (Gamma method) and integrated autocorrelation times");
  sub->add_option("file", *file, "ensemble FILE.npy (with its FILE.npy.json sidecar)")->required();
  sub->add_flag("--json", *as_json, "print one JSON object instead of a table");
  add_common_options(sub, *common);
  sub->callback([file, as_json, common] {
    apply_common_options(*common);
    auto [ens, meta] = load_ensemble(*file);
    nlohmann::json out{{"file", *file}, {"system", meta.system}, {"params", meta.params},
                       {"n_samples", ens.size(0)}, {"chains", meta.chains},
                       {"algorithm", meta.algorithm}};
    if (meta.system == "ising" || meta.system == "phi4") {
      auto table = measure_lattice(ens, meta.system, meta.params, meta.chains);
      out.update(to_json(table));
      if (!*as_json) {
        std::cout << *file << ": " << meta.system << " " << meta.params.dump() << ", "
                  << ens.size(0) << " samples in " << meta.chains << " chain(s), "
                  << meta.algorithm << "\n"
                  << format_table(table);
        return;
      }
    } else {
      // Point clouds: per-coordinate mean and standard deviation with errors.
      auto x = ens.to(torch::kFloat64);
      auto mean = x.mean(0), std = x.std(0);
      const double n = static_cast<double>(x.size(0));
      nlohmann::json obs;
      for (int64_t d = 0; d < x.size(1); ++d) {
        obs["mean_x" + std::to_string(d)] = {{"mean", mean[d].item<double>()},
                                             {"error", std[d].item<double>() / std::sqrt(n)},
                                             {"tau_int", 0.5}};
        obs["std_x" + std::to_string(d)] = {{"mean", std[d].item<double>()},
                                            {"error", std[d].item<double>() / std::sqrt(2 * (n - 1))},
                                            {"tau_int", 0.5}};
      }
      out["observables"] = obs;
      if (!*as_json) {
        std::cout << *file << ": " << meta.system << " " << meta.params.dump() << ", " << ens.size(0)
                  << " points (independent samples)\n";
        for (auto& [k, v] : obs.items())
          std::cout << "  " << k << " = " << v["mean"].get<double>() << " +- "
                    << v["error"].get<double>() << "\n";
        return;
      }
    }
    print_json(out);
  });
}

}  // namespace physgen::cli
