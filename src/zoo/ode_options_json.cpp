#include "physgen/zoo/ode_options_json.h"

#include "physgen/core/check.h"
#include "physgen/core/options.h"

namespace physgen {

namespace {

/// The network and solver keys both families share.
struct SharedOptions {
  TimeMLPOptions mlp{1};
  c10::optional<TimeConvFieldOptions> conv;
  OdeOptions solver;
  std::string trace = "exact", probe = "rademacher";
};

void put_shared(nlohmann::json& j, const std::vector<int64_t>& event_shape, const SharedOptions& s) {
  j["event_shape"] = event_shape;
  j["field"] = s.conv ? "conv" : "mlp";
  j["hidden"] = s.conv ? s.conv->hidden() : s.mlp.hidden();
  j["activation"] = s.conv ? s.conv->activation() : s.mlp.activation();
  j["kernel_size"] = s.conv ? s.conv->kernel_size() : int64_t{3};
  j["time_conditioning"] = s.mlp.time_conditioning();
  j["zero_init_output"] = s.conv ? s.conv->zero_init_output() : s.mlp.zero_init_output();
  j["solver"] = options_to_json(s.solver);
  j["trace"] = s.trace;
  j["probe"] = s.probe;
}

/// Keys of checkpoints written before the [model.solver] table (physgen 0.1.0 wrote the solver
/// flat: solver = "rk4", steps, rtol, atol, max_steps); read, never written.
const std::vector<std::string> kLegacySolverKeys = {"steps", "rtol", "atol", "max_steps"};

/// j with a flat (legacy) solver rewritten as the [solver] table.
nlohmann::json upgrade_legacy_solver(nlohmann::json j) {
  if (!j.is_object() || !j.contains("solver") || !j.at("solver").is_string()) return j;
  const OdeOptions defaults;
  nlohmann::json t = {{"method", j.at("solver")},
                      {"n_steps", j.value("steps", int64_t{0})},
                      {"rtol", j.value("rtol", 0.0)},
                      {"atol", j.value("atol", 0.0)},
                      {"max_steps", j.value("max_steps", defaults.max_steps())}};
  for (const auto& k : kLegacySolverKeys) j.erase(k);
  j["solver"] = t;
  return j;
}

void check_keys(const nlohmann::json& j, const nlohmann::json& defaults, const std::string& what) {
  check_arg(j.is_object(), what, j.dump(), "a JSON object");
  std::vector<std::string> known;
  for (const auto& d : defaults.items()) known.push_back(d.key());
  check_known_keys(j, known, "[" + what + "]");
  check_arg(j.contains("event_shape"), what, j.dump(), "the key 'event_shape'");
}

/// The [solver] table over the defaults, normalised by make_ode_options (0 steps of a
/// fixed-step method -> 20, tolerances 0 -> the defaults).
OdeOptions solver_from_json(const nlohmann::json& table, const OdeOptions& defaults, const std::string& what) {
  OdeOptions o = defaults;
  options_from_json(o, table, what + ".solver");
  return make_ode_options(o.method(), o.n_steps(), o.rtol(), o.atol()).max_steps(o.max_steps());
}

SharedOptions get_shared(const nlohmann::json& j, const nlohmann::json& defaults, const std::string& what) {
  auto get = [&](const char* k) { return j.contains(k) ? j.at(k) : defaults.at(k); };
  SharedOptions s;
  const auto field = get("field").get<std::string>();
  check_choice("field", field, {"conv", "mlp"});
  const auto hidden = get("hidden").get<std::vector<int64_t>>();
  const auto activation = get("activation").get<std::string>();
  const bool zero = get("zero_init_output").get<bool>();
  s.mlp = TimeMLPOptions(1)
              .hidden(hidden)
              .activation(activation)
              .time_conditioning(get("time_conditioning").get<std::string>())
              .zero_init_output(zero);
  if (field == "conv")
    s.conv = TimeConvFieldOptions(1, 1)
                 .hidden(hidden)
                 .activation(activation)
                 .kernel_size(get("kernel_size").get<int64_t>())
                 .zero_init_output(zero);
  s.solver = solver_from_json(get("solver"), OdeOptions(), what);
  s.trace = get("trace").get<std::string>();
  s.probe = get("probe").get<std::string>();
  return s;
}

}  // namespace

nlohmann::json cnf_options_to_json(const CNFOptions& o) {
  nlohmann::json j;
  put_shared(j, o.event_shape(), SharedOptions{o.field(), o.conv_field(), o.solver(), o.trace(), o.probe()});
  j["eval_trace"] = o.eval_trace();
  j["kinetic_weight"] = o.kinetic_weight();
  j["jacobian_weight"] = o.jacobian_weight();
  j["adjoint"] = o.adjoint();
  return j;
}

CNFOptions cnf_options_from_json(const nlohmann::json& json) {
  const nlohmann::json j = upgrade_legacy_solver(json);
  const auto defaults = cnf_options_to_json(CNFOptions({1}));
  check_keys(j, defaults, "cnf");
  try {
    auto get = [&](const char* k) { return j.contains(k) ? j.at(k) : defaults.at(k); };
    SharedOptions s = get_shared(j, defaults, "cnf");
    return CNFOptions(j.at("event_shape").get<std::vector<int64_t>>())
        .field(s.mlp)
        .conv_field(s.conv)
        .solver(s.solver)
        .trace(s.trace)
        .probe(s.probe)
        .eval_trace(get("eval_trace").get<std::string>())
        .kinetic_weight(get("kinetic_weight").get<double>())
        .jacobian_weight(get("jacobian_weight").get<double>())
        .adjoint(get("adjoint").get<bool>());
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("argument cnf options: ") + e.what());
  }
}

nlohmann::json flow_matching_options_to_json(const FlowMatchingOptions& o) {
  nlohmann::json j;
  put_shared(j, o.event_shape(), SharedOptions{o.field(), o.conv_field(), o.solver(), o.trace(), o.probe()});
  j["path"] = o.path();
  j["sigma_min"] = o.sigma_min();
  j["beta_min"] = o.beta_min();
  j["beta_max"] = o.beta_max();
  j["time_epsilon"] = o.time_epsilon();
  j["coupling"] = o.coupling();
  j["z2_augment"] = o.z2_augment();
  return j;
}

FlowMatchingOptions flow_matching_options_from_json(const nlohmann::json& json) {
  const nlohmann::json j = upgrade_legacy_solver(json);
  const auto defaults = flow_matching_options_to_json(FlowMatchingOptions({1}));
  check_keys(j, defaults, "flow-matching");
  try {
    auto get = [&](const char* k) { return j.contains(k) ? j.at(k) : defaults.at(k); };
    SharedOptions s = get_shared(j, defaults, "flow-matching");
    return FlowMatchingOptions(j.at("event_shape").get<std::vector<int64_t>>())
        .field(s.mlp)
        .conv_field(s.conv)
        .solver(s.solver)
        .trace(s.trace)
        .probe(s.probe)
        .path(get("path").get<std::string>())
        .sigma_min(get("sigma_min").get<double>())
        .beta_min(get("beta_min").get<double>())
        .beta_max(get("beta_max").get<double>())
        .time_epsilon(get("time_epsilon").get<double>())
        .coupling(get("coupling").get<std::string>())
        .z2_augment(get("z2_augment").get<bool>());
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("argument flow-matching options: ") + e.what());
  }
}

}  // namespace physgen
