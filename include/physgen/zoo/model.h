#pragma once
// What the zoo hands out: a built model of any family, the spec it was built from, and the
// typed pieces that travel with it (its condition, its training data, how to sample it).
//
// A ModelSpec says what a checkpoint holds: the family ("flow", ...), the family's resolved
// options as JSON, the physical system it models (a Target for reverse-KL training and exact
// sampling, or the data set's system for forward-KL training) and its Condition. Checkpoints
// written by the Trainer store ModelSpec::to_json() under meta["options"].
//
// A Model is the module (parameters, checkpoint keys) and its contract views: `generative`
// always, `likelihood` for exact-likelihood families, and the optional capabilities of
// models/capabilities.h (`latent`, `translator`, `restorer`) that commands use instead of
// downcasting to a family's class.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/models/capabilities.h"
#include "physgen/models/common/condition.h"
#include "physgen/models/generative.h"

namespace torch::nn {
class Module;
}

namespace physgen {

class TrainingTask;

/// What a model is conditioned on, parsed once from ModelSpec JSON (Condition::from_json).
///   none        unconditional
///   class       K class labels (label k: the k-th --data file; `labels` says what each means)
///   continuous  k physical parameters (`names`: the sidecar parameters, e.g. "beta")
/// JSON: null | {"kind": "class", "classes": K, "labels": [...]} |
///       {"kind": "continuous", "dim": k, "names": [...]}
struct Condition {
  std::string kind = "none";         ///< "none" | "class" | "continuous"
  int64_t classes = 0;               ///< class: K >= 1
  int64_t dim = 0;                   ///< continuous: k >= 1
  nlohmann::json labels = nlohmann::json::array();  ///< class: what label k means
  std::vector<std::string> names;    ///< continuous: parameter names

  bool none() const { return kind == "none"; }
  /// K for class conditions, k for continuous ones, 0 for none.
  int64_t width() const { return kind == "class" ? classes : kind == "continuous" ? dim : 0; }
  /// null for none.
  nlohmann::json to_json() const;
  /// null -> none; InvalidArgument naming "condition" for anything else malformed.
  static Condition from_json(const nlohmann::json& j);
  /// The diffusion families' ConditionOptions: `base` (its dropout) with this kind and width.
  ConditionOptions options(ConditionOptions base = ConditionOptions()) const;
  /// Network features of data conditions: one-hot (N, K) for class labels (N), the values
  /// (N, k) float for continuous ones.
  torch::Tensor features(const torch::Tensor& cond) const;
  /// The condition of `physgen sample --condition V[,V...]` for n samples: class labels (n)
  /// int64 or parameters (n, k) float32; undefined when `values` is empty. InvalidArgument
  /// naming --condition for a wrong count, a label out of [0, K), or any value given to an
  /// unconditional model of `family`.
  torch::Tensor sampling_values(const std::vector<double>& values, int64_t n, const std::string& family) const;
};

struct ModelSpec {
  std::string family;                  ///< registry name, e.g. "flow"
  nlohmann::json model;                ///< the family's options (resolved once built)
  std::string system;                  ///< "phi4", "ising", "toy", ... ("" if unknown)
  nlohmann::json system_params;        ///< the system's parameters (sidecar "params")
  std::string objective;               ///< "forward-kl" | "reverse-kl" | "native"
  Condition condition;                 ///< what the model is conditioned on (none by default)
  nlohmann::json to_json() const;
  /// Missing "family" or "model" -> IoError naming `where`.
  static ModelSpec from_json(const nlohmann::json& j, const std::string& where);
};

/// What a model trains on. All tensors on the training device.
struct TrainingData {
  torch::Tensor x;          ///< (N, *event_shape) samples; undefined for reverse KL
  torch::Tensor condition;  ///< (N) int64 class labels or (N, k) float parameters; undefined if none
  torch::Tensor x_b;        ///< (M, *event_shape) second ensemble (unpaired translation); or undefined
};

/// A family's own training: the task the Trainer runs and the tensor it draws
/// minibatches from (e.g. samples packed with their conditions, pack_condition).
struct NativeTraining {
  std::shared_ptr<TrainingTask> task;
  torch::Tensor fit_data;  ///< undefined for data-free tasks
};

/// How to draw samples (the flags of `physgen sample`). Each family reads the
/// fields it understands; empty / zero means "the family's default".
struct SamplerSettings {
  std::string sampler;            ///< diffusion: ddpm | ddim | em | pc | ode; EBM: ula | mala
  std::string solver;             ///< ODE families: dopri5 | rk4 | midpoint | euler
  int64_t steps = 0;              ///< sampler or fixed-step solver steps
  double rtol = 0.0, atol = 0.0;  ///< adaptive solver tolerances
  double eta = -1.0;              ///< DDIM eta (< 0: default)
  std::vector<double> condition;  ///< condition of conditional models (class label or parameters)
  double guidance = 0.0;          ///< classifier-free guidance weight w
};

/// Keys of the report `sample_with` and `likelihood_report` fill (one name each across
/// families): network / vector-field evaluations of the batch, solves that did not reach
/// their tolerance, sampler steps.
namespace report_key {
inline constexpr const char* nfe = "nfe";
inline constexpr const char* failed_solves = "failed_solves";
inline constexpr const char* steps = "steps";
}  // namespace report_key

/// A built model: the module (parameters, checkpoint keys) and its contract views.
struct Model {
  ModelSpec spec;
  std::shared_ptr<torch::nn::Module> module;
  std::shared_ptr<GenerativeModel> generative;  ///< always set
  std::shared_ptr<LikelihoodModel> likelihood;  ///< set for likelihood families
  std::shared_ptr<LatentModel> latent;          ///< set for families with a latent code (GANs, VAE)
  std::shared_ptr<Translator> translator;       ///< set for translators (CycleGAN)
  std::shared_ptr<Restorer> restorer;           ///< set for models that inpaint / denoise (DDPM)
  /// The family's own training (objective "native": flow matching, diffusion,
  /// GANs with two optimisers, ...); empty when the family trains by KL only.
  std::function<NativeTraining(const TrainingData&)> native_training;
  /// Family sampling with settings; adds what it measured (report_key::nfe, ...) to
  /// `report`. Empty: generative->sample(n).
  std::function<torch::Tensor(int64_t n, const SamplerSettings& settings, nlohmann::json& report)> sample_with;
  /// Applies settings (e.g. the ODE solver of a CNF likelihood) before the
  /// likelihood is used for --mcmc or reweighting. Empty: nothing to set.
  std::function<void(const SamplerSettings&)> configure_likelihood;
  /// What the likelihood's calls cost so far (e.g. {"nfe": mean function evaluations per
  /// solve}); `sample --mcmc --json` adds it to its report. Empty: nothing to report.
  std::function<nlohmann::json()> likelihood_report;
  /// Model samples of the post-training importance-sampling diagnostic (ESS, log Z) that
  /// `physgen train` runs when the model has a likelihood and the system a target; 0 skips
  /// it. Families with an expensive likelihood (exact CNF traces on lattices) set fewer.
  int64_t diagnostic_samples = 4096;
  /// The default training objective of this family: "native" when native_training
  /// is set, else forward-kl with data / reverse-kl with a target.
  std::string default_objective(bool has_data) const;
  /// n samples with the family's sampler and `settings` (sample_with, else generative->sample).
  torch::Tensor sample(int64_t n, const SamplerSettings& settings, nlohmann::json& report) const;
};

}  // namespace physgen
