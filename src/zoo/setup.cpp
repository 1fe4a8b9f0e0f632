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
  TrainingSystem s;
  check_arg(!files.empty(), "--data", "(none)", "at least one ensemble FILE.npy");
  check_arg(files.size() == 1 || !condition.empty(), "--data", std::to_string(files.size()) + " files",
            "one file, or several with --condition label|PARAM");
  std::vector<EnsembleMeta> metas;
  std::vector<int64_t> counts;
  std::vector<torch::Tensor> xs;
  for (const auto& file : files) {
    auto [x, meta] = load_ensemble(file);
    const std::vector<int64_t> shape = event_shape_of(x);
    if (!xs.empty())
      check_arg(shape == s.event_shape && meta.system == s.name, "--data", file,
                "an ensemble of the same system and shape as " + files.front());
    s.name = meta.system;
    s.event_shape = shape;
    counts.push_back(x.size(0));
    xs.push_back(x.to(torch::kFloat32));
    metas.push_back(meta);
  }
  s.params = metas.front().params;
  s.data.x = torch::cat(xs).to(device);
  if (!condition.empty()) attach_conditions(condition, files, metas, counts, s);
  if (!data_b.empty()) {
    auto xb = load_ensemble(data_b).first;
    check_arg(event_shape_of(xb) == s.event_shape, "--data-b", data_b, "an ensemble with the event shape of --data");
    s.data.x_b = xb.to(device, torch::kFloat32);
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
  nlohmann::json config = default_config(family, shape);
  if (config_file.empty()) return config;
  const nlohmann::json user = parse_toml_file(config_file);
  check_known_keys(user, {"model", "train"}, config_file);
  if (user.contains("model")) {
    config["model"].update(user["model"], /*merge_objects=*/true);
    config["train"] = default_train_options(family, shape, config["model"]).to_json();
  }
  if (user.contains("train")) config["train"].update(user["train"], /*merge_objects=*/true);
  return config;
}

}  // namespace physgen
