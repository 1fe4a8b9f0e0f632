// `physgen memorization GENERATED.npy --train TRAIN.npy [--z2 auto|on|off] [--no-translations]
// [--no-point-group] [--threshold 0.333] [--json]`: how many generated fields are copies of
// training fields (eval/memorization.h): the exact nearest and second-nearest training field of
// each generated field under the lattice symmetries, the memorised fraction (d1/d2 below the
// threshold) with its binomial error and the quantiles of d1/d2.
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/eval/memorization.h"
#include "physgen/io/sidecar.h"

namespace physgen::cli {

void register_memorization(CLI::App& app) {
  auto gen = std::make_shared<std::string>();
  auto train = std::make_shared<std::string>();
  auto z2 = std::make_shared<std::string>("auto");
  auto no_translations = std::make_shared<bool>(false);
  auto no_point_group = std::make_shared<bool>(false);
  auto threshold = std::make_shared<double>(1.0 / 3.0);
  auto as_json = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  auto* sub = app.add_subcommand(
      "memorization",
      "are generated fields copies of training fields? nearest training field under translations, rotations, "
      "reflections (and Z2), d1/d2, memorised fraction");
  sub->add_option("generated", *gen, "generated fields GEN.npy (G, L, L)")->required();
  sub->add_option("--train", *train, "the training set TRAIN.npy (N, L, L)")->required();
  sub->add_option("--z2", *z2, "minimise over the sign flip too: auto (on for ising / phi4 data), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  sub->add_flag("--no-translations", *no_translations, "do not minimise over the lattice translations");
  sub->add_flag("--no-point-group", *no_point_group, "do not minimise over rotations and reflections");
  sub->add_option("--threshold", *threshold, "memorised when d1/d2 < threshold")->check(CLI::Range(1e-9, 1.0));
  sub->add_flag("--json", *as_json, "print one JSON object (memorized_fraction {mean, error}, ratio_d1_d2, ...)");
  add_common_options(sub, *common);
  sub->callback([=] {
    apply_common_options(*common);
    auto [g, gm] = load_ensemble(*gen);
    auto [t, tm] = load_ensemble(*train);
    SymmetryOptions sym;
    sym.translations = !*no_translations;
    sym.point_group = !*no_point_group;
    sym.z2 = *z2 == "on" || (*z2 == "auto" && has_z2_symmetry(tm.system));
    const auto nn = nearest_training_fields(g, t, sym);
    const auto r = memorization_report(nn, *threshold);
    nlohmann::json out = r.to_json();
    out["generated"] = *gen;
    out["train"] = *train;
    out["n_train"] = t.size(0);
    out["symmetries"] = {{"translations", sym.translations}, {"point_group", sym.point_group}, {"z2", sym.z2}};
    out["d1_mean"] = nn.d1.mean().item<double>();
    if (*as_json) {
      print_json(out);
    } else {
      std::printf("%s against %ld training fields: memorised %.4f +- %.4f (d1/d2 < %.3f); d1/d2 p10 %.3f, median %.3f, "
                  "p90 %.3f\n",
                  gen->c_str(), static_cast<long>(t.size(0)), r.memorized_fraction, r.error, r.threshold, r.ratio_p10,
                  r.ratio_median, r.ratio_p90);
    }
  });
}

}  // namespace physgen::cli
