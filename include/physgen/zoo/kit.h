#pragma once
// The kit a zoo family is written with (src/zoo/<family>.cpp): the shared wiring every builder
// needs, written once.
//
//   make_model(spec, holder)   a Model whose module and generative view are the family's
//                              module, with the resolved options written back into the spec
//                              (so a checkpoint is self-describing); sets the likelihood view
//                              when the module is a LikelihoodModel.
//   is_lattice(shape)          the one meaning of "lattice event": {H, W} (is_square_lattice: {L, L}).
//   batch_shape(n, shape)      (n, *event_shape) (core/shape.h).
//   solver_with(base, s)       SamplerSettings --solver/--steps/--rtol/--atol on ODE options.
//   require_data(data, ...)    the missing-data error every data-trained family gives.
//   native_data_model<Task>    make_model plus native training of Task on --data.
//   by_shape(f)                train defaults that depend on the event shape only.
//   make_family(...)           a Family from its build, defaults, train defaults and summary.
//
// Registration: each family file defines `void register_<name>(FamilyRegistry&)`, declared
// below and called from src/zoo/families.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "physgen/core/registry.h"
#include "physgen/core/shape.h"
#include "physgen/ode/odeint.h"
#include "physgen/zoo/zoo.h"

namespace physgen::zoo {

using FamilyRegistry = Registry<Family>;

/// True for lattice events: two dimensions, H x W (periodic fields and spins). The periodic
/// conv fields and U-Nets work on any H x W; families whose lattice networks halve a square
/// lattice (DCGAN, the conv energies) ask for is_square_lattice.
bool is_lattice(const std::vector<int64_t>& event_shape);

/// True for square lattice events, L x L.
bool is_square_lattice(const std::vector<int64_t>& event_shape);

/// `base` with the settings' method (`--solver`), fixed steps (`--steps`, fixed-step methods)
/// and tolerances (`--rtol`/`--atol`, adaptive methods) applied; a new method starts from its
/// defaults (make_ode_options). Validated on the interval [t0, t1] (check_ode_options).
OdeOptions solver_with(const OdeOptions& base, const SamplerSettings& settings, double t0, double t1);

/// Checks that data.x is there: InvalidArgument "argument data = '(none)': expected training
/// samples (--data FILE.npy) for <what>".
void require_data(const TrainingData& data, const std::string& what);

/// Train defaults that depend on the event shape only.
inline std::function<TrainerOptions(const std::vector<int64_t>&, const nlohmann::json&)> by_shape(
    std::function<TrainerOptions(const std::vector<int64_t>&)> f) {
  return [f = std::move(f)](const std::vector<int64_t>& shape, const nlohmann::json&) { return f(shape); };
}

/// A Family from the parts every registration sets; set the other fields (condition_required,
/// shapes, needs_second_ensemble) on the result.
inline Family make_family(std::function<Model(const ModelSpec&)> build,
                          std::function<nlohmann::json(const std::vector<int64_t>&)> defaults,
                          std::function<TrainerOptions(const std::vector<int64_t>&, const nlohmann::json&)> train_defaults,
                          std::string summary, bool conditional = false) {
  Family f;
  f.build = std::move(build);
  f.defaults = std::move(defaults);
  f.train_defaults = std::move(train_defaults);
  f.summary = std::move(summary);
  f.conditional = conditional;
  return f;
}

/// The Model of a family's module `holder` (a TORCH_MODULE holder of a GenerativeModel) with
/// its resolved options given as JSON (modules that keep no `options` member, or whose options
/// convert by free functions): module and generative views set, spec.model = the resolved
/// options, and the likelihood view when the Impl is a LikelihoodModel.
template <typename Holder>
Model make_model(const ModelSpec& spec, const Holder& holder, nlohmann::json resolved_options) {
  using Impl = typename Holder::ContainedType;
  static_assert(std::is_base_of_v<GenerativeModel, Impl>, "a zoo module is a GenerativeModel");
  Model m;
  m.spec = spec;
  m.spec.model = std::move(resolved_options);
  m.module = holder.ptr();
  m.generative = holder.ptr();
  if constexpr (std::is_base_of_v<LikelihoodModel, Impl>) m.likelihood = holder.ptr();
  return m;
}

/// The same for a module whose Impl has `options` with to_json() (most families).
template <typename Holder>
Model make_model(const ModelSpec& spec, const Holder& holder) {
  using Impl = typename Holder::ContainedType;
  static_assert(std::is_base_of_v<GenerativeModel, Impl>, "a zoo module is a GenerativeModel");
  return make_model(spec, holder, holder->options.to_json());
}

/// The Model of an unconditional family trained natively on --data through Task(holder)
/// (VAE, EBM): make_model's views, and native training that draws minibatches of data.x
/// (float32). `what` names the model in the missing-data error.
template <typename Task, typename Holder>
Model native_data_model(const ModelSpec& spec, const Holder& holder, const std::string& what) {
  Model m = make_model(spec, holder);
  m.native_training = [holder, what](const TrainingData& data) {
    require_data(data, what);
    return NativeTraining{std::make_shared<Task>(holder), data.x.to(torch::kFloat32)};
  };
  return m;
}

/// Registers every family (src/zoo/families.cpp: one line per family file).
void register_all_families(FamilyRegistry& r);

/// Family registrations, one per file of src/zoo/.
void register_flow(FamilyRegistry& r);           ///< "flow" (flow.cpp)
void register_cnf(FamilyRegistry& r);            ///< "cnf" (ode.cpp)
void register_flow_matching(FamilyRegistry& r);  ///< "flow-matching" (ode.cpp)
void register_diffusion(FamilyRegistry& r);      ///< "ddpm", "score-sde", "pfgm", "pfgmpp" (diffusion.cpp)
void register_gan(FamilyRegistry& r);            ///< "gan", "cgan", "wgan", "wgan-gp" (gan.cpp)
void register_cyclegan(FamilyRegistry& r);       ///< "cyclegan" (cyclegan.cpp)
void register_vae(FamilyRegistry& r);            ///< "vae" (vae.cpp)
void register_ebm(FamilyRegistry& r);            ///< "ebm" (ebm.cpp)
void register_autoregressive(FamilyRegistry& r); ///< "van", "han", "transformer" (autoregressive.cpp)

}  // namespace physgen::zoo
