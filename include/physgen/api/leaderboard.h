#pragma once
// One leaderboard across families (`physgen compare`): every family trained on the same
// ensemble with its defaults under the same wall-clock budget, over several seeds, sampled,
// and judged by the same numbers:
//   * observables |m|, chi, Binder U4 and G(1) of the samples against the ensemble, as
//     z = (gen - data) / sqrt(err_gen^2 + err_data^2) (errors by the Gamma method,
//     api/measure.h);
//   * the fraction of scattering statistics within 2 combined standard errors
//     (observables/scattering.h: S1, S2, sparsity, S3, S4, power spectrum);
//   * the memorised fraction of the samples against the training set (eval/memorization.h);
//   * for likelihood families of a system with a known action, the acceptance and pooled ESS
//     of the Metropolis-corrected chain (mcmc/independence_metropolis.h);
//   * training time and steps, samples per second, parameters.
// Each (family, seed) run keeps its checkpoint DIR/<family>_s<seed>.pt and its row
// DIR/<family>_s<seed>.json: a rerun reuses finished rows, so a leaderboard grows by families
// or seeds without retraining. The table reports, per family, the mean over seeds and the
// spread (the standard deviation over seeds): a recipe that works at one seed is not a recipe.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/io/sidecar.h"

namespace physgen {

struct LeaderboardRequest {
  torch::Tensor data;                 ///< the ensemble (N, L, L)
  EnsembleMeta meta;                  ///< its sidecar (system, params, chains)
  std::string data_name;
  std::vector<std::string> families;  ///< zoo families
  std::vector<std::string> models;    ///< optional: trained checkpoints, one per family (no training, one seed)
  int64_t seeds = 3;                  ///< seeds 1 .. seeds per family
  double budget_minutes = 5.0;        ///< training wall clock per run (the family's steps may end it earlier)
  int64_t samples = 4096;             ///< samples drawn per run for the observables and scattering
  int64_t memorization_samples = 256; ///< samples searched against the training set
  int64_t memorization_train = 4096;  ///< training fields searched (the first ones; all if fewer)
  bool mcmc = true;                   ///< the corrected chain for likelihood families of a known action
  std::string out_dir;
  torch::Device device = torch::kCPU;
  std::function<void(const std::string&)> log;  ///< progress lines (family, seed, step, ETA)
};

/// Runs (or continues) the comparison; returns {"data", "system", "params", "budget_minutes",
/// "seeds", "samples", "data_observables", "runs": [one row per (family, seed)], "families":
/// [{"family", per-quantity {"mean", "spread"} over seeds, "seeds"}]} and writes it to
/// DIR/leaderboard.json, the table to DIR/leaderboard.md and, with gnuplot, the magnetization
/// histograms (DIR/leaderboard_m.png) and the radially averaged power spectra P(k)
/// (DIR/leaderboard_power.png)
/// of every family's first seed against the ensemble. InvalidArgument before any training for
/// an unknown family, --models of another count than the families, a budget <= 0, too few
/// samples.
nlohmann::json run_leaderboard(const LeaderboardRequest& request);

/// The markdown table of a run_leaderboard report.
std::string format_leaderboard(const nlohmann::json& report);

}  // namespace physgen
