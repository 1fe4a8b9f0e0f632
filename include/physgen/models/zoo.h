#pragma once
// Every trainable generative family behind one name: build a model from its
// options, and rebuild a trained one from a checkpoint.
//
// A ModelSpec says what a checkpoint holds: the family ("flow", ...), the
// family's options as JSON (exactly what the family's *_options_from_json
// reads), and the physical system it models (a Target for reverse-KL training
// and exact sampling, or the data set's system for forward-KL training).
// Checkpoints written by the Trainer store the spec under meta["options"].
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
  nlohmann::json to_json() const;
  /// Missing "family" or "model" -> IoError naming `where`.
  static ModelSpec from_json(const nlohmann::json& j, const std::string& where);
};

/// A built model: the module (parameters, checkpoint keys) and its contract views.
struct Model {
  ModelSpec spec;
  std::shared_ptr<torch::nn::Module> module;
  std::shared_ptr<GenerativeModel> generative;  ///< always set
  std::shared_ptr<LikelihoodModel> likelihood;  ///< set for likelihood families
  /// The family's own training loss (flow matching, diffusion, ...); empty when
  /// the family trains by forward/reverse KL only.
  std::function<torch::Tensor(const torch::Tensor&, Diagnostics&)> native_loss;
};

/// Builds a fresh model of spec.family from spec.model (parameters initialised
/// from LibTorch's default generator). Unknown family -> InvalidArgument listing them.
Model build_model(const ModelSpec& spec);

/// Default options of a family for an event shape (what --print-config shows).
nlohmann::json default_model_options(const std::string& family, const std::vector<int64_t>& event_shape);

/// Rebuilds the model stored in a Trainer checkpoint and loads its parameters
/// (not the optimiser or RNG state), on `device`.
Model load_model(const std::string& checkpoint, const torch::Device& device);

/// Families build_model knows.
std::vector<std::string> model_families();

}  // namespace physgen
