#include "physgen/models/zoo.h"

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/io/checkpoint.h"
#include "physgen/models/flows/factory.h"

namespace physgen {

nlohmann::json ModelSpec::to_json() const {
  return {{"family", family}, {"model", model}, {"system", system}, {"system_params", system_params},
          {"objective", objective}};
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
  return s;
}

namespace {

struct Family {
  std::function<Model(const ModelSpec&)> build;
  std::function<nlohmann::json(const std::vector<int64_t>&)> defaults;
};

Model build_flow(const ModelSpec& spec) {
  Flow flow = make_flow(flow_options_from_json(spec.model));
  Model m;
  m.spec = spec;
  m.module = flow.ptr();
  m.generative = flow.ptr();
  m.likelihood = flow.ptr();
  return m;
}

nlohmann::json flow_defaults(const std::vector<int64_t>& shape) {
  // Lattices: the scale of the published phi^4 tutorial (arXiv:2101.08176):
  // 16 affine couplings, checkerboard masks, periodic conv nets with 8 channels.
  if (shape.size() == 2)
    return flow_options_to_json(
        FlowOptions("affine", shape).n_layers(16).hidden({8, 8}).kernel_size(3).activation("leaky_relu"));
  return flow_options_to_json(FlowOptions("affine", shape).n_layers(8).hidden({64, 64}));
}

const Registry<Family>& families() {
  static const Registry<Family> r = [] {
    Registry<Family> reg("model family");
    reg.add("flow", Family{build_flow, flow_defaults});
    return reg;
  }();
  return r;
}

}  // namespace

Model build_model(const ModelSpec& spec) { return families().get(spec.family).build(spec); }

nlohmann::json default_model_options(const std::string& family, const std::vector<int64_t>& event_shape) {
  return families().get(family).defaults(event_shape);
}

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
