#include "physgen/models/zoo.h"

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/io/checkpoint.h"
#include "zoo_families.h"

namespace physgen {

nlohmann::json ModelSpec::to_json() const {
  return {{"family", family}, {"model", model}, {"system", system}, {"system_params", system_params},
          {"objective", objective}, {"condition", condition}};
}

ModelSpec ModelSpec::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("family") || !j.contains("model"))
    throw IoError(where + ": not a physgen model checkpoint (no model family/options recorded)");
  ModelSpec s;
  s.family = j.at("family").get<std::string>();
  s.model = j.at("model");
  s.system = j.value("system", std::string());
  s.system_params = j.value("system_params", nlohmann::json::object());
  s.objective = j.value("objective", std::string());
  s.condition = j.value("condition", nlohmann::json());
  return s;
}

std::string Model::default_objective(bool has_data) const {
  if (native_training) return "native";
  return has_data ? "forward-kl" : "reverse-kl";
}

namespace {

const zoo::FamilyRegistry& families() {
  static const zoo::FamilyRegistry r = [] {
    zoo::FamilyRegistry reg("model family");
    zoo::register_flow_families(reg);
    zoo::register_ode_families(reg);
    zoo::register_diffusion_families(reg);
    zoo::register_gan_families(reg);
    return reg;
  }();
  return r;
}

}  // namespace

Model build_model(const ModelSpec& spec) {
  const zoo::Family& f = families().get(spec.family);
  if (!spec.condition.is_null() && !f.conditional) {
    std::string ok;
    for (const auto& name : families().names())
      if (families().get(name).conditional) ok += (ok.empty() ? "" : ", ") + name;
    check_arg(false, "condition (--condition)", spec.condition.value("kind", spec.condition.dump()),
              "no condition for the '" + spec.family + "' family (conditional families: " +
                  (ok.empty() ? std::string("none") : ok) + ")");
  }
  return f.build(spec);
}

nlohmann::json default_model_options(const std::string& family, const std::vector<int64_t>& event_shape) {
  return families().get(family).defaults(event_shape);
}

TrainerOptions default_train_options(const std::string& family, const std::vector<int64_t>& event_shape,
                                     const nlohmann::json& model) {
  const zoo::Family& f = families().get(family);
  if (f.train_defaults) return f.train_defaults(event_shape, model.is_null() ? f.defaults(event_shape) : model);
  return TrainerOptions().steps(2500).batch_size(64);
}

std::string model_family_summary(const std::string& family) { return families().get(family).summary; }

std::vector<std::string> model_families() { return families().names(); }

Model load_model(const std::string& checkpoint, const torch::Device& device) {
  const CheckpointInfo info = read_checkpoint_info(checkpoint);
  Model m = build_model(ModelSpec::from_json(info.options, checkpoint));
  m.module->to(device);
  load_checkpoint(checkpoint, *m.module, std::vector<torch::optim::Optimizer*>{}, /*restore_rng=*/false);
  m.module->eval();
  return m;
}

}  // namespace physgen
