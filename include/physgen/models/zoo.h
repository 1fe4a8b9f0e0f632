#pragma once
// Every trainable generative family behind one name: build a model from its
// options, and rebuild a trained one from a checkpoint.
//
// A ModelSpec says what a checkpoint holds: the family ("flow", ...), the
// family's options as JSON (exactly what the family's *_options_from_json
// reads), and the physical system it models (a Target for reverse-KL training
// and exact sampling, or the data set's system for forward-KL training).
// Checkpoints written by the Trainer store the spec under meta["options"].
//
// Adding a family: write `void register_<area>_families(FamilyRegistry&)` in
// src/models/zoo_<area>.cpp (see src/models/zoo_families.h) and call it from
// zoo.cpp. A family supplies build (spec -> Model) and defaults (event shape ->
// options JSON); the Model it builds says how it trains (likelihood for
// forward/reverse KL, native_training for its own loss or train step) and,
// optionally, how it samples (sample_with: solver, sampler, steps, conditions).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/models/generative.h"
#include "physgen/train/trainer.h"

namespace physgen {

struct ModelSpec {
  std::string family;                  ///< registry name, e.g. "flow"
  nlohmann::json model;                ///< the family's options
  std::string system;                  ///< "phi4", "ising", "toy", ... ("" if unknown)
  nlohmann::json system_params;        ///< the system's parameters (sidecar "params")
  std::string objective;               ///< "forward-kl" | "reverse-kl" | "native"
  /// What the model is conditioned on (null: unconditional):
  ///   {"kind": "class", "classes": K, "labels": [what label k means, ...]}
  ///   {"kind": "continuous", "dim": k, "names": [sidecar parameter names]}
  /// Families read it when they build (e.g. the condition width of their networks).
  nlohmann::json condition;
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
  std::string sampler;            ///< diffusion: ddpm | ddim | em | pc | ode
  std::string solver;             ///< ODE families: dopri5 | rk4 | midpoint | euler
  int64_t steps = 0;              ///< sampler or fixed-step solver steps
  double rtol = 0.0, atol = 0.0;  ///< adaptive solver tolerances
  double eta = -1.0;              ///< DDIM eta (< 0: default)
  std::vector<double> condition;  ///< condition of conditional models (class label or parameters)
  double guidance = 0.0;          ///< classifier-free guidance weight w
};

/// A built model: the module (parameters, checkpoint keys) and its contract views.
struct Model {
  ModelSpec spec;
  std::shared_ptr<torch::nn::Module> module;
  std::shared_ptr<GenerativeModel> generative;  ///< always set
  std::shared_ptr<LikelihoodModel> likelihood;  ///< set for likelihood families
  /// The family's own training (objective "native": flow matching, diffusion,
  /// GANs with two optimisers, ...); empty when the family trains by KL only.
  std::function<NativeTraining(const TrainingData&)> native_training;
  /// Family sampling with settings; adds what it measured (e.g. "nfe", the
  /// function evaluations of the batch) to `report`. Empty: generative->sample(n).
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
};

/// Builds a fresh model of spec.family from spec.model (parameters initialised
/// from LibTorch's default generator). Unknown family -> InvalidArgument listing them.
Model build_model(const ModelSpec& spec);

/// Default options of a family for an event shape (what --print-config shows).
nlohmann::json default_model_options(const std::string& family, const std::vector<int64_t>& event_shape);

/// Default Trainer options of a family for an event shape and the model options to be built
/// (null: the family's defaults) (the [train] table of --print-config): the family's own where
/// it has them, else 2500 steps of batch 64.
TrainerOptions default_train_options(const std::string& family, const std::vector<int64_t>& event_shape,
                                     const nlohmann::json& model = nullptr);

/// Rebuilds the model stored in a Trainer checkpoint and loads its parameters
/// (not the optimiser or RNG state), on `device`.
Model load_model(const std::string& checkpoint, const torch::Device& device);

/// Families build_model knows.
std::vector<std::string> model_families();

/// One line on a family (what it is, how it trains) for help texts.
std::string model_family_summary(const std::string& family);

}  // namespace physgen
