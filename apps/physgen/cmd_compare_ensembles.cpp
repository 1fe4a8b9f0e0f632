// `physgen compare-ensembles A.npy B.npy [--json] [--png FILE] [--J J] [--orientations L]
// [--blocks B]`: the wavelet and scattering statistics (observables/scattering.h) of two
// ensembles of 2-D fields, each with its jackknife error, the z-score of every difference, the
// fraction with |z| < 2 and chi^2/dof, overall and per group; optionally a PNG of both
// ensembles' statistics with error bars.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/api/measure.h"
#include "physgen/io/plot.h"
#include "physgen/io/sidecar.h"

namespace physgen::cli {

namespace {

/// Both ensembles' statistics, each divided by max(|mean_A|, |mean_B|), against the statistic's
/// index (so groups of very different magnitude share one axis).
void plot_comparison(const std::string& png, const EnsembleComparison& c, const std::string& name_a,
                     const std::string& name_b) {
  Series a{name_a, {}, {}, {}}, b{name_b, {}, {}, {}};
  for (size_t k = 0; k < c.z.size(); ++k) {
    const double scale = std::max({std::abs(c.a.mean[k]), std::abs(c.b.mean[k]), 1e-300});
    for (auto* s : {&a, &b}) s->x.push_back(static_cast<double>(k));
    a.y.push_back(c.a.mean[k] / scale);
    a.yerr.push_back(c.a.error[k] / scale);
    b.y.push_back(c.b.mean[k] / scale);
    b.yerr.push_back(c.b.error[k] / scale);
  }
  plot_lines(png, "scattering statistics (power, S1, sparsity, S2, S3, S4), each / max(|A|, |B|)",
             "statistic index (order of the JSON list)", "value / max(|A|, |B|)", {a, b});
}

}  // namespace

void register_compare_ensembles(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto as_json = std::make_shared<bool>(false);
  auto png = std::make_shared<std::string>();
  auto so = std::make_shared<ScatteringOptions>();
  auto common = std::make_shared<CommonOptions>();
  auto* sub = app.add_subcommand(
      "compare-ensembles",
      "do two ensembles of 2-D fields have the same statistics? wavelet power spectrum, scattering coefficients "
      "and scattering-spectra covariances of both with jackknife errors, z-scores, fraction within 2 sigma, chi2/dof");
  sub->add_option("files", *files, "A.npy B.npy (or .h5), ensembles of the same field shape (N, L, L)")
      ->required()
      ->expected(2);
  sub->add_flag("--json", *as_json, "print one JSON object (keys fraction_within_2sigma, chi2_per_dof, n_statistics, "
                                    "groups, statistics)");
  sub->add_option("--png", *png, "write a PNG of both ensembles' statistics with error bars");
  add_scattering_options(sub, *so);
  add_common_options(sub, *common);
  sub->callback([files, as_json, png, so, common] {
    apply_common_options(*common);
    auto [xa, ma] = load_ensemble((*files)[0]);
    auto [xb, mb] = load_ensemble((*files)[1]);
    check_arg(xa.dim() == 3 && xb.dim() == 3 && xa.size(1) == xb.size(1) && xa.size(2) == xb.size(2), "files",
              (*files)[0] + ", " + (*files)[1], "two ensembles of 2-D fields of the same shape (N, L, L)");
    const auto a = scattering_of_ensemble(xa, ma, *so);
    const auto b = scattering_of_ensemble(xb, mb, *so);
    const auto c = compare_scattering(a, b);
    nlohmann::json out = c.to_json();
    out["files"] = *files;
    if (!png->empty()) {
      plot_comparison(*png, c, (*files)[0], (*files)[1]);
      out["png"] = *png;
    }
    if (*as_json)
      print_json(out);
    else
      std::cout << (*files)[0] << " vs " << (*files)[1] << ": " << format_comparison(c);
  });
}

}  // namespace physgen::cli
