// `physgen measure FILE.npy [--json] [--scattering [--J J] [--orientations L] [--blocks B]]`:
// observables with errors and tau_int; with --scattering also the wavelet and scattering
// statistics of the fields (observables/scattering.h) under the key "scattering".
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/io/sidecar.h"
#include "physgen/api/measure.h"

namespace physgen::cli {

void register_measure(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  auto scattering = std::make_shared<bool>(false);
  auto so = std::make_shared<ScatteringOptions>();
  auto* sub = app.add_subcommand(
      "measure",
      "observables of an ensemble with errors (Gamma method) and integrated autocorrelation times");
  sub->add_option("file", *file, "ensemble FILE.npy (with its FILE.npy.json sidecar) or FILE.h5")->required();
  sub->add_flag("--json", *as_json, "print one JSON object instead of a table");
  add_scattering_options(sub, *so, scattering.get());
  add_common_options(sub, *common);
  sub->callback([file, as_json, common, scattering, so] {
    apply_common_options(*common);
    auto [ens, meta] = load_ensemble(*file);
    nlohmann::json out{{"file", *file}};
    out.update(measure_ensemble(ens, meta));
    ScatteringStatistics s;
    if (*scattering) {
      s = scattering_of_ensemble(ens, meta, *so);
      out["scattering"] = s.to_json();
    }
    if (*as_json) {
      print_json(out);
    } else {
      std::cout << *file << ": " << format_measurement(out);
      if (*scattering) std::cout << format_scattering(s);
    }
  });
}

void add_scattering_options(CLI::App* sub, ScatteringOptions& o, bool* enable) {
  if (enable)
    sub->add_flag("--scattering", *enable,
                "also the wavelet power spectrum, scattering coefficients and scattering-spectra covariances "
                "with jackknife errors (JSON key \"scattering\")");
  sub->add_option("--J", o.J, "scattering: scales 2^0..2^(J-1) (0: log2(L) - 2)")->check(CLI::NonNegativeNumber);
  sub->add_option("--orientations", o.orientations, "scattering: wavelet orientations in [0, pi)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--blocks", o.blocks, "scattering: jackknife blocks (default 50, aligned to the chains)")
      ->check(CLI::PositiveNumber);
}

}  // namespace physgen::cli
