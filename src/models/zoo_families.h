#pragma once
// Internal: the registry behind build_model / default_model_options (zoo.h).
// Each area registers its families from src/models/zoo_<area>.cpp.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "physgen/core/registry.h"
#include "physgen/models/zoo.h"

namespace physgen::zoo {

/// Train defaults that depend on the event shape only.
inline std::function<TrainerOptions(const std::vector<int64_t>&, const nlohmann::json&)> by_shape(
    std::function<TrainerOptions(const std::vector<int64_t>&)> f) {
  return [f = std::move(f)](const std::vector<int64_t>& shape, const nlohmann::json&) { return f(shape); };
}

struct Family {
  /// Builds a fresh model from spec (spec.model holds the family's options, with
  /// "event_shape" set by the caller).
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
  /// One line for `physgen train --help`: what the family is and how it trains.
  std::string summary;
};

using FamilyRegistry = Registry<Family>;

/// Normalising flows: "flow" (models/flows).
void register_flow_families(FamilyRegistry& r);
/// Diffusion-type models: "ddpm", "score-sde", "pfgm", "pfgmpp" (models/diffusion, models/pfgm).
void register_diffusion_families(FamilyRegistry& r);

/// GANs, CycleGAN, VAE, EBM: "gan", "cgan", "wgan", "wgan-gp", "cyclegan", "vae", "ebm"
/// (models/gan, models/vae, models/ebm; src/models/zoo_gan.cpp).
void register_gan_families(FamilyRegistry& r);

/// ODE families: "cnf" (models/cnf), "flow-matching" (models/flow_matching).
void register_ode_families(FamilyRegistry& r);

}  // namespace physgen::zoo
