// Zoo families "van", "han" and "transformer": the autoregressive likelihood models of
// models/autoregressive/, trained by reverse KL on a target (the variational free energy; the
// score-function gradient for spins, models/objectives.h) or by forward KL on --data.
#include "physgen/models/autoregressive/han.h"
#include "physgen/models/autoregressive/transformer.h"
#include "physgen/models/autoregressive/van.h"
#include "physgen/zoo/kit.h"

#include <algorithm>

namespace physgen::zoo {

namespace {

Model build_van(const ModelSpec& spec) { return make_model(spec, Van(VanOptions::from_json(spec.model))); }

Model build_han(const ModelSpec& spec) { return make_model(spec, Han(HanOptions::from_json(spec.model))); }

nlohmann::json han_defaults(const std::vector<int64_t>& shape) { return HanOptions(shape).to_json(); }

/// Lattices: the first layer sees every earlier site (first_half_kernel = max(H, W) - 1), so
/// each spin's conditional includes its periodic neighbours across the lattice edges; the
/// later layers are 3 x 5 (k = 2). Measured at L = 8 and 16, beta_c (docs/autoregressive.md):
/// with k0 = k = 2 (reach 6 < L) the variational free energy stalled at a relative error of
/// 3-4e-3.
nlohmann::json van_defaults(const std::vector<int64_t>& shape) {
  VanOptions o(shape);
  if (shape.size() == 2) o.first_half_kernel(std::max<int64_t>(1, std::max(shape[0], shape[1]) - 1));
  return o.to_json();
}

/// VAN: reverse KL with batch 256 (the score-function gradient needs a larger batch than a
/// path-wise one), Adam at 1e-3 with cosine decay, the action annealed (beta ramped linearly
/// from 0) over the first 40% of the steps, as VAN trains; forward KL uses the same.
TrainerOptions van_train_defaults(const std::vector<int64_t>&) {
  return TrainerOptions().steps(2500).batch_size(256).lr(1e-3).schedule("cosine").anneal_steps(1000);
}

/// The transformer: batch 64 (full causal attention over V sites costs O(V^2) per sequence;
/// at L = 16 a batch of 256 takes ~13 s per step on two cores) and no annealing by default:
/// on a continuous target the action scaled towards 0 is an improper density (pass
/// --anneal-steps for spins).
TrainerOptions transformer_train_defaults(const std::vector<int64_t>&) {
  return TrainerOptions().steps(2500).batch_size(64).lr(1e-3).schedule("cosine");
}

/// The head of a transformer: "auto" resolves from the system, "spin" for Ising spins and
/// "mixture" for everything else.
Model build_transformer(const ModelSpec& spec) {
  nlohmann::json j = spec.model;
  if (j.is_object() && j.value("head", std::string()) == "auto") j["head"] = spec.system == "ising" ? "spin" : "mixture";
  return make_model(spec, ArTransformer(ArTransformerOptions::from_json(j)));
}

nlohmann::json transformer_defaults(const std::vector<int64_t>& shape) {
  nlohmann::json j = ArTransformerOptions(shape).to_json();
  j["head"] = "auto";
  return j;
}

}  // namespace

void register_autoregressive(FamilyRegistry& r) {
  Family van = make_family(build_van, van_defaults, by_shape(van_train_defaults),
                           "variational autoregressive network (masked convolutions) on Ising spins: "
                           "reverse KL on --target ising (variational free energy) or forward KL on --data");
  van.shapes = {"lattice"};
  van.data = "spins";
  r.add("van", van);
  Family han = make_family(build_han, han_defaults, by_shape(van_train_defaults),
                           "hierarchical autoregressive network (frame, then block crosses, one MADE per level) on "
                           "Ising spins, L a power of 2: 6L calls per sample instead of L^2; reverse KL or --data");
  han.shapes = {"lattice"};
  han.data = "spins";
  r.add("han", han);
  Family tr = make_family(build_transformer, transformer_defaults, by_shape(transformer_train_defaults),
                          "autoregressive transformer over lattice sites (spin or Gaussian-mixture head): "
                          "reverse KL on --target or forward KL on --data");
  tr.shapes = {"lattice"};
  r.add("transformer", tr);
}

}  // namespace physgen::zoo
