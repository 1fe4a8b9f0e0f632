#include "physgen/zoo/zoo.h"

#include <cmath>

#include <c10/util/StringUtil.h>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/io/checkpoint.h"
#include "physgen/zoo/kit.h"

namespace physgen {

// ----------------------------------------------------------------------------- Condition

nlohmann::json Condition::to_json() const {
  if (kind == "class") return {{"kind", "class"}, {"classes", classes}, {"labels", labels}};
  if (kind == "continuous") return {{"kind", "continuous"}, {"dim", dim}, {"names", names}};
  return nullptr;
}

Condition Condition::from_json(const nlohmann::json& j) {
  Condition c;
  if (j.is_null()) return c;
  const std::string expected =
      "null, {\"kind\": \"class\", \"classes\": K} or {\"kind\": \"continuous\", \"dim\": k}";
  check_arg(j.is_object() && j.contains("kind") && j.at("kind").is_string(), "condition", j.dump(), expected);
  c.kind = j.at("kind").get<std::string>();
  check_choice("condition.kind", c.kind, {"class", "continuous", "none"});
  if (c.kind == "class") {
    check_arg(j.contains("classes") && j.at("classes").is_number_integer() && j.at("classes").get<int64_t>() >= 1,
              "condition.classes", j.value("classes", nlohmann::json()).dump(), "an integer >= 1");
    c.classes = j.at("classes").get<int64_t>();
    c.labels = j.value("labels", nlohmann::json::array());
  } else if (c.kind == "continuous") {
    check_arg(j.contains("dim") && j.at("dim").is_number_integer() && j.at("dim").get<int64_t>() >= 1,
              "condition.dim", j.value("dim", nlohmann::json()).dump(), "an integer >= 1");
    c.dim = j.at("dim").get<int64_t>();
    if (j.contains("names")) c.names = j.at("names").get<std::vector<std::string>>();
  }
  return c;
}

ConditionOptions Condition::options(ConditionOptions base) const {
  if (kind == "class") return base.kind("class").classes(classes).dim(0);
  if (kind == "continuous") return base.kind("continuous").dim(dim).classes(0);
  return base.kind("none").classes(0).dim(0);
}

torch::Tensor Condition::features(const torch::Tensor& cond) const {
  if (none()) return torch::Tensor();
  check_arg(cond.defined(), "condition", "(none)", "the conditions of the data for a '" + kind + "' condition");
  if (kind == "class") return one_hot_condition(cond, classes);
  return cond.to(torch::kFloat32).reshape({cond.size(0), -1});
}

torch::Tensor Condition::sampling_values(const std::vector<double>& values, int64_t n,
                                         const std::string& family) const {
  const std::string shown = values.empty() ? "(none)" : c10::str(c10::ArrayRef<double>(values));
  if (none()) {
    check_arg(values.empty(), "--condition", shown, "none: this '" + family + "' model is unconditional");
    return torch::Tensor();
  }
  if (values.empty()) return torch::Tensor();
  if (kind == "class") {
    const double label = values.front();
    check_arg(values.size() == 1 && label == std::floor(label) && label >= 0 && label < static_cast<double>(classes),
              "--condition", shown,
              "one class label in [0, " + std::to_string(classes) + ") (labels: " + labels.dump() + ")");
    return torch::full({n}, static_cast<int64_t>(label), torch::kInt64);
  }
  check_arg(static_cast<int64_t>(values.size()) == dim, "--condition", shown,
            std::to_string(dim) + " parameter value(s) of " + nlohmann::json(names).dump());
  return torch::tensor(values, torch::kFloat32).reshape({1, dim}).expand({n, dim}).contiguous();
}

// ----------------------------------------------------------------------------- ModelSpec

nlohmann::json ModelSpec::to_json() const {
  return {{"family", family}, {"model", model}, {"system", system}, {"system_params", system_params},
          {"objective", objective}, {"condition", condition.to_json()}};
}

ModelSpec ModelSpec::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("family") || !j.contains("model") || !j.at("family").is_string())
    throw IoError(where + ": not a physgen model checkpoint (no model family/options recorded)");
  ModelSpec s;
  s.family = j.at("family").get<std::string>();
  s.model = j.at("model");
  s.system = j.value("system", std::string());
  s.system_params = j.value("system_params", nlohmann::json::object());
  s.objective = j.value("objective", std::string());
  s.condition = Condition::from_json(j.value("condition", nlohmann::json()));
  return s;
}

// --------------------------------------------------------------------------------- Model

std::string Model::default_objective(bool has_data) const {
  if (native_training) return "native";
  return has_data ? "forward-kl" : "reverse-kl";
}

torch::Tensor Model::sample(int64_t n, const SamplerSettings& settings, nlohmann::json& report) const {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  if (sample_with) return sample_with(n, settings, report);
  check_arg(settings.condition.empty(), "--condition", "(values)",
            "none: this '" + spec.family + "' model is unconditional");
  torch::NoGradGuard ng;
  return generative->sample(n);
}

// ------------------------------------------------------------------------------ registry

namespace {

const zoo::FamilyRegistry& families() {
  static const zoo::FamilyRegistry r = [] {
    zoo::FamilyRegistry reg("model family");
    zoo::register_all_families(reg);
    return reg;
  }();
  return r;
}

}  // namespace

const Family& model_family(const std::string& family) { return families().get(family); }

Model build_model(const ModelSpec& spec) {
  const Family& f = families().get(spec.family);
  if (!spec.condition.none() && !f.conditional) {
    std::string ok;
    for (const auto& name : families().names())
      if (families().get(name).conditional) ok += (ok.empty() ? "" : ", ") + name;
    check_arg(false, "condition (--condition)", spec.condition.kind,
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
  const Family& f = families().get(family);
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
