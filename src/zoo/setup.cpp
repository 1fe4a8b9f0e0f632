#include "physgen/zoo/setup.h"

#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/shape.h"
#include "physgen/io/config.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/targets.h"

namespace physgen {

namespace {

/// Conditions of the samples of several files (see setup.h): fills s.data.condition and
/// s.condition.
void attach_conditions(const std::string& condition, const std::vector<std::string>& files,
                       const std::vector<EnsembleMeta>& metas, const std::vector<int64_t>& counts,
                       TrainingSystem& s) {
  const int64_t n = s.data.x.size(0);
  if (condition == "label") {
    std::vector<torch::Tensor> parts;
    s.condition.kind = "class";
    s.condition.classes = static_cast<int64_t>(counts.size());
    for (size_t k = 0; k < counts.size(); ++k) {
      parts.push_back(torch::full({counts[k]}, static_cast<int64_t>(k), torch::kInt64));
      s.condition.labels.push_back({{"file", files[k]}, {"params", metas[k].params}});
    }
    s.data.condition = torch::cat(parts).to(s.data.x.device());
    return;
  }
  std::vector<std::string> names;
  std::stringstream ss(condition);
  for (std::string name; std::getline(ss, name, ',');) names.push_back(name);
  check_arg(!names.empty(), "--condition", condition, "'label' or sidecar parameter names NAME[,NAME]");
  torch::Tensor c = torch::empty({n, static_cast<int64_t>(names.size())}, torch::kFloat32);
  int64_t row = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    for (size_t j = 0; j < names.size(); ++j) {
      const nlohmann::json& p = metas[k].params;
      check_arg(p.contains(names[j]) && p[names[j]].is_number(), "--condition", names[j],
                "'label' or a numeric parameter in the sidecar of every --data file; " + files[k] +
                    " has params " + p.dump());
      c.narrow(0, row, counts[k]).select(1, static_cast<int64_t>(j)).fill_(p[names[j]].get<double>());
    }
    row += counts[k];
  }
  s.data.condition = c.to(s.data.x.device());
  s.condition.kind = "continuous";
  s.condition.dim = static_cast<int64_t>(names.size());
  s.condition.names = names;
}

}  // namespace

TrainingSystem target_system(const std::string& name, const nlohmann::json& params) {
  TrainingSystem s;
  s.name = name;
  s.params = params;
  s.target = make_target(name, params);
  s.event_shape = s.target->event_shape();
  return s;
}

TrainingSystem data_system(const std::vector<std::string>& files, const std::string& condition,
                           const std::string& data_b, const torch::Device& device) {
  check_arg(!files.empty(), "--data", "(none)", "at least one ensemble FILE.npy");
  std::vector<std::pair<torch::Tensor, EnsembleMeta>> ensembles;
  for (const auto& file : files) ensembles.push_back(load_ensemble(file));
  std::pair<torch::Tensor, EnsembleMeta> b;
  if (!data_b.empty()) b = load_ensemble(data_b);
  return data_system(ensembles, files, condition, b.first, data_b, device);
}

TrainingSystem data_system(const std::vector<std::pair<torch::Tensor, EnsembleMeta>>& ensembles,
                           const std::vector<std::string>& names, const std::string& condition,
                           const torch::Tensor& data_b, const std::string& data_b_name,
                           const torch::Device& device) {
  TrainingSystem s;
  check_arg(!ensembles.empty(), "--data", "(none)", "at least one ensemble");
  check_arg(names.size() == ensembles.size(), "names", std::to_string(names.size()) + " names",
            "one name per ensemble (" + std::to_string(ensembles.size()) + ")");
  check_arg(ensembles.size() == 1 || !condition.empty(), "--data", std::to_string(ensembles.size()) + " files",
            "one file, or several with --condition label|PARAM");
  std::vector<EnsembleMeta> metas;
  std::vector<int64_t> counts;
  std::vector<torch::Tensor> xs;
  for (size_t i = 0; i < ensembles.size(); ++i) {
    const auto& [x, meta] = ensembles[i];
    validate_ensemble(x, meta, names[i], Blame::argument);
    const std::vector<int64_t> shape = event_shape_of(x);
    if (!xs.empty())
      check_arg(shape == s.event_shape && meta.system == s.name, "--data", names[i],
                "an ensemble of the same system and shape as " + names.front());
    s.name = meta.system;
    s.event_shape = shape;
    counts.push_back(x.size(0));
    xs.push_back(x.to(torch::kFloat32));
    metas.push_back(meta);
  }
  s.params = metas.front().params;
  s.data.x = torch::cat(xs).to(device);
  if (!condition.empty()) attach_conditions(condition, names, metas, counts, s);
  if (data_b.defined()) {
    check_arg(event_shape_of(data_b) == s.event_shape, "--data-b", data_b_name,
              "an ensemble with the event shape of --data");
    s.data.x_b = data_b.to(device, torch::kFloat32);
  }
  // A target (exact action) only for an unconditional model of one ensemble.
  if ((s.name == "phi4" || s.name == "ising") && condition.empty()) s.target = make_target(s.name, s.params);
  return s;
}

nlohmann::json default_config(const std::string& family, const std::vector<int64_t>& shape) {
  return {{"model", default_model_options(family, shape)},
          {"train", default_train_options(family, shape).to_json()}};
}

nlohmann::json merged_config(const std::string& family, const std::vector<int64_t>& shape,
                             const std::string& config_file) {
  if (config_file.empty()) return default_config(family, shape);
  return merged_config(family, shape, parse_toml_file(config_file), config_file);
}

nlohmann::json merged_config(const std::string& family, const std::vector<int64_t>& shape,
                             const nlohmann::json& user, const std::string& where) {
  nlohmann::json config = default_config(family, shape);
  if (user.is_null()) return config;
  check_arg(user.is_object(), "config", user.dump(), "a table with [model] and/or [train] tables");
  check_known_keys(user, {"model", "train"}, where);
  if (user.contains("model")) {
    config["model"].update(user["model"], /*merge_objects=*/true);
    config["train"] = default_train_options(family, shape, config["model"]).to_json();
  }
  if (user.contains("train")) config["train"].update(user["train"], /*merge_objects=*/true);
  return config;
}

}  // namespace physgen
