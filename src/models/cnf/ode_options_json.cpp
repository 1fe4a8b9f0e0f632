#include "physgen/models/cnf/ode_options_json.h"

#include "physgen/core/check.h"

namespace physgen {

OdeOptions make_ode_options(const std::string& method, int64_t steps, double rtol, double atol) {
  const OdeMethodInfo& info = ode_methods().get(method);
  check_arg(steps >= 0, "steps", steps, "an integer >= 0");
  check_arg(rtol >= 0 && atol >= 0, "rtol/atol", std::to_string(rtol) + "/" + std::to_string(atol),
            "values >= 0");
  OdeOptions o(method);
  if (info.adaptive) {
    if (rtol > 0) o.rtol(rtol);
    if (atol > 0) o.atol(atol);
  } else {
    o.n_steps(steps > 0 ? steps : 20);
  }
  return o;
}

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
  j["solver"] = s.solver.method();
  j["steps"] = s.solver.n_steps();
  j["rtol"] = s.solver.rtol();
  j["atol"] = s.solver.atol();
  j["max_steps"] = s.solver.max_steps();
  j["trace"] = s.trace;
  j["probe"] = s.probe;
}

void check_keys(const nlohmann::json& j, const nlohmann::json& defaults, const std::string& what) {
  check_arg(j.is_object(), what, j.dump(), "a JSON object");
  for (const auto& kv : j.items()) {
    if (defaults.contains(kv.key())) continue;
    std::string valid;
    for (const auto& d : defaults.items()) valid += (valid.empty() ? "" : "|") + d.key();
    check_arg(false, what, kv.key(), "a known key, one of " + valid);
  }
  check_arg(j.contains("event_shape"), what, j.dump(), "the key 'event_shape'");
}

SharedOptions get_shared(const nlohmann::json& j, const nlohmann::json& defaults) {
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
  s.solver = make_ode_options(get("solver").get<std::string>(), get("steps").get<int64_t>(),
                              get("rtol").get<double>(), get("atol").get<double>());
  s.solver.max_steps(get("max_steps").get<int64_t>());
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

CNFOptions cnf_options_from_json(const nlohmann::json& j) {
  const auto defaults = cnf_options_to_json(CNFOptions({1}));
  check_keys(j, defaults, "cnf option");
  try {
    auto get = [&](const char* k) { return j.contains(k) ? j.at(k) : defaults.at(k); };
    SharedOptions s = get_shared(j, defaults);
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

FlowMatchingOptions flow_matching_options_from_json(const nlohmann::json& j) {
  const auto defaults = flow_matching_options_to_json(FlowMatchingOptions({1}));
  check_keys(j, defaults, "flow-matching option");
  try {
    auto get = [&](const char* k) { return j.contains(k) ? j.at(k) : defaults.at(k); };
    SharedOptions s = get_shared(j, defaults);
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
