// `physgen measure FILE.npy [--json]`: observables with errors and tau_int.
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
  auto* sub = app.add_subcommand(
      "measure",
      "observables of an ensemble with errors (Gamma method) and integrated autocorrelation times");
  sub->add_option("file", *file, "ensemble FILE.npy (with its FILE.npy.json sidecar) or FILE.h5")->required();
  sub->add_flag("--json", *as_json, "print one JSON object instead of a table");
  add_common_options(sub, *common);
  sub->callback([file, as_json, common] {
    apply_common_options(*common);
    auto [ens, meta] = load_ensemble(*file);
    nlohmann::json out{{"file", *file}};
    out.update(measure_ensemble(ens, meta));
    if (*as_json)
      print_json(out);
    else
      std::cout << *file << ": " << format_measurement(out);
  });
}

}  // namespace physgen::cli
