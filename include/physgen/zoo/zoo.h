#pragma once
// The model zoo: every trainable generative family behind one name. Build a model from its
// options, list a family's defaults, and rebuild a trained one from a checkpoint.
//
// Each family is one file in src/zoo/ (its builder, defaults and training defaults, written
// with the kit of zoo/kit.h) and one line in src/zoo/families.cpp. docs/architecture.md says
// how to add one; tests/contracts/test_zoo_contracts.cpp then checks it with every other
// family (defaults -> build -> JSON and TOML round trips, unknown keys, conditions, two
// training steps, checkpoint reload).
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/train/trainer.h"
#include "physgen/zoo/model.h"

namespace physgen {

/// A family of the zoo.
struct Family {
  /// Builds a fresh model from spec (spec.model holds the family's options, with
  /// "event_shape" set by the caller). Use make_model (kit.h): it writes the resolved
  /// options back into Model::spec.
  std::function<Model(const ModelSpec&)> build;
  /// Default options for an event shape (what `train FAMILY --print-config` shows).
  std::function<nlohmann::json(const std::vector<int64_t>&)> defaults;
  /// Default Trainer options for an event shape and the model options that will be built
  /// (the family's defaults merged with the user's [model] table: an exponential-family
  /// energy wants a different learning rate than a network); empty: 2500 steps, batch 64,
  /// the Trainer's other defaults.
  std::function<TrainerOptions(const std::vector<int64_t>&, const nlohmann::json&)> train_defaults;
  /// Whether build reads ModelSpec::condition (conditional models); build_model
  /// rejects a condition for families that would silently ignore it.
  bool conditional = false;
  /// Whether build requires a condition ("cgan").
  bool condition_required = false;
  /// One line for `physgen train --help`: what the family is and how it trains.
  std::string summary;
  /// Event shapes the family supports: "lattice" ({L, L}), "vector" ({d}). The contract
  /// suite builds and trains each family on every kind it lists.
  std::vector<std::string> shapes = {"lattice", "vector"};
  bool needs_second_ensemble = false;  ///< trains on two ensembles (--data and --data-b)
  /// What its samples are: "continuous" (fields, points) or "spins" (+-1 only: VAN). The
  /// contract suite trains each family on data of its kind.
  std::string data = "continuous";
};

/// Builds a fresh model of spec.family from spec.model (parameters initialised from LibTorch's
/// default generator); Model::spec holds the resolved options. Unknown family ->
/// InvalidArgument listing them; a condition for an unconditional family -> InvalidArgument.
Model build_model(const ModelSpec& spec);

/// Default options of a family for an event shape (what --print-config shows).
nlohmann::json default_model_options(const std::string& family, const std::vector<int64_t>& event_shape);

/// Default Trainer options of a family for an event shape and the model options to be built
/// (null: the family's defaults) (the [train] table of --print-config): the family's own where
/// it has them, else 2500 steps of batch 64.
TrainerOptions default_train_options(const std::string& family, const std::vector<int64_t>& event_shape,
                                     const nlohmann::json& model = nullptr);

/// Rebuilds the model stored in a Trainer checkpoint and loads its parameters
/// (not the optimiser or RNG state), on `device`; eval mode.
Model load_model(const std::string& checkpoint, const torch::Device& device);

/// Families build_model knows, sorted.
std::vector<std::string> model_families();

/// The registration of a family (InvalidArgument listing the families for an unknown name).
const Family& model_family(const std::string& family);

/// One line on a family (what it is, how it trains) for help texts.
std::string model_family_summary(const std::string& family);

}  // namespace physgen
