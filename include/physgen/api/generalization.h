#pragma once
// The disjoint-set experiment of Kadkhodaie, Guth, Simoncelli & Mallat, "Generalization in
// diffusion models arises from geometry-adaptive harmonic representations", ICLR 2024: for
// each training-set size N, two models of one family are trained on disjoint subsets A_N and
// B_N of one ensemble, both are sampled from the same noise with a deterministic sampler
// (DDIM with eta = 0, or the probability-flow ODE), and the paired samples are compared by
// their mean-removed cosine similarity (eval/memorization.h). Small N: each model returns
// (symmetry images of) its own training fields, the pairs differ (similarity ~ the overlap of
// two random fields) and the memorised fraction is ~1. Large N: both models learn the same
// density and map the same noise to nearly the same field (similarity -> 1) while the
// memorised fraction falls. The transition N* is where the similarity crosses 1/2.
//
// The subsets are nested (A_N is the first N fields of one half of a seeded permutation of
// the ensemble, B_N of the other half), so the sizes share their randomness. Each trained model
// is a checkpoint DIR/N<N>_<A|B>.pt with its report DIR/N<N>_<A|B>.json; a run that finds a
// finished report reuses the model, one that finds only a checkpoint resumes it, so an
// interrupted experiment continues where it stopped. With `track_points` the training of
// model A stops at those steps to sample and measure the memorised fraction (the
// memorisation curve during training), then resumes (Trainer checkpoints, no restart).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/io/sidecar.h"
#include "physgen/zoo/model.h"

namespace physgen {

struct GeneralizationRequest {
  std::string family = "ddpm";     ///< a zoo family with a deterministic sampler
  torch::Tensor data;              ///< the ensemble (M, L, L)
  EnsembleMeta meta;               ///< its sidecar (system: Z2 symmetry of the distances)
  std::string data_name;           ///< how messages and the report name it
  std::vector<int64_t> sizes;      ///< N values (each >= 1, 2 max(N) <= M)
  std::string out_dir;             ///< checkpoints, reports, table, plot
  nlohmann::json config;           ///< user tables {"model": ..., "train": ...} (null: defaults)
  int64_t samples = 64;            ///< paired samples per N (and per tracking point)
  SamplerSettings sampler;         ///< empty sampler: ddim eta 0 (ddpm), ode (other families)
  std::vector<int64_t> track_points;  ///< steps at which model A's memorised fraction is measured
  uint64_t seed = 1;               ///< subset permutation and training seeds (A: seed, B: seed + 1)
  uint64_t sample_seed = 12345;    ///< the shared noise
  torch::Device device = torch::kCPU;
  bool progress = false;
  std::function<void(const std::string&)> log;  ///< one line per stage (may be empty)
};

/// Runs (or continues) the experiment and returns the report: {"family", "data", "sizes",
/// "rows": [{"N", "similarity": {mean, error} (pairs with a uniform field, which has no
/// mean-removed direction, left out and counted in "pairs_undefined"), "memorized_A", "memorized_B" ({mean, error}
/// or null at N = 1, where d1/d2 is undefined), "abs_m_A", "abs_m_B", "abs_m_data",
/// "train_seconds_A", "train_seconds_B", "tracking": [{step, memorized}] (model A)}],
/// "n_star" (log-interpolated N where the similarity crosses 1/2; null if it does not),
/// "sampler"}. The same object is written to DIR/generalization.json, a markdown table to
/// DIR/generalization.md, and with gnuplot a plot DIR/generalization.png. InvalidArgument
/// (naming the argument) for bad sizes, too few fields, or a stochastic sampler (ddpm
/// ancestral, ddim with eta > 0, em, pc, ula, mala: they draw fresh noise at every step), before
/// any training. Caveat: similarity alone does not prove generalization; two untrained
/// networks both return (a rescaling of) the shared noise and agree too, which is why the
/// memorised fractions and |m| are in every row.
nlohmann::json run_generalization(const GeneralizationRequest& request);

/// The markdown table of a run_generalization report.
std::string format_generalization(const nlohmann::json& report);

}  // namespace physgen
