#include "physgen/zoo/ode_options_json.h"

#include "physgen/core/check.h"
#include "physgen/core/options.h"

namespace physgen {

namespace {

/// The flat [model] table of cnf and flow-matching, as one field list (core/options.h). The
/// library structs nest the network (TimeMLPOptions or TimeConvFieldOptions); the table keeps
/// the flat keys checkpoints have always used, so this view converts between the two.
struct OdeModelTable {
  std::vector<int64_t> event_shape;
  std::string field = "mlp";
  std::vector<int64_t> hidden;
  std::string activation;
  int64_t kernel_size = 3;
  std::string time_conditioning;
  bool zero_init_output = false;
  OdeOptions solver;
  std::string trace, probe;
  // CNF only
  std::string eval_trace;
  double kinetic_weight = 0, jacobian_weight = 0;
  bool adjoint = false;
  // flow matching only
  std::string path, coupling;
  double sigma_min = 0, beta_min = 0, beta_max = 0, time_epsilon = 0;
  bool z2_augment = false;
  bool is_cnf = true;

  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape);
    v("field", field);
    v("hidden", hidden);
    v("activation", activation);
    v("kernel_size", kernel_size);
    v("time_conditioning", time_conditioning);
    v("zero_init_output", zero_init_output);
    v("solver", solver);
    v("trace", trace);
    v("probe", probe);
    if (is_cnf) {
      v("eval_trace", eval_trace);
      v("kinetic_weight", kinetic_weight);
      v("jacobian_weight", jacobian_weight);
      v("adjoint", adjoint);
    } else {
      v("path", path);
      v("sigma_min", sigma_min);
      v("beta_min", beta_min);
      v("beta_max", beta_max);
      v("time_epsilon", time_epsilon);
      v("coupling", coupling);
      v("z2_augment", z2_augment);
    }
  }

  /// The network, solver and trace options both families share, from the library struct.
  template <class O>
  void put_shared(const O& o) {
    event_shape = o.event_shape();
    const auto& conv = o.conv_field();
    const auto& mlp = o.field();
    field = conv ? "conv" : "mlp";
    hidden = conv ? conv->hidden() : mlp.hidden();
    activation = conv ? conv->activation() : mlp.activation();
    kernel_size = conv ? conv->kernel_size() : int64_t{3};
    time_conditioning = mlp.time_conditioning();
    zero_init_output = conv ? conv->zero_init_output() : mlp.zero_init_output();
    solver = o.solver();
    trace = o.trace();
    probe = o.probe();
  }

  /// The shared options into the library struct; the solver normalised by make_ode_options
  /// (0 steps of a fixed-step method -> 20, tolerances 0 -> the defaults).
  template <class O>
  O get_shared(O o) const {
    check_choice("field", field, {"conv", "mlp"});
    o.field(TimeMLPOptions(1)
                .hidden(hidden)
                .activation(activation)
                .time_conditioning(time_conditioning)
                .zero_init_output(zero_init_output));
    if (field == "conv") {
      o.conv_field(TimeConvFieldOptions(1, 1)
                       .hidden(hidden)
                       .activation(activation)
                       .kernel_size(kernel_size)
                       .zero_init_output(zero_init_output));
    } else {
      o.conv_field(c10::nullopt);
    }
    o.solver(make_ode_options(solver.method(), solver.n_steps(), solver.rtol(), solver.atol())
                 .max_steps(solver.max_steps()));
    o.trace(trace);
    o.probe(probe);
    return o;
  }
};

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

/// The table `json` (legacy solver upgraded) over `defaults`; event_shape is required.
OdeModelTable read_table(const nlohmann::json& json, OdeModelTable defaults, const std::string& what) {
  const nlohmann::json j = upgrade_legacy_solver(json);
  check_arg(j.is_object(), what, j.dump(), "a JSON object");
  check_arg(j.contains("event_shape"), what, j.dump(), "the key 'event_shape'");
  options_from_json(defaults, j, what);
  return defaults;
}

}  // namespace

nlohmann::json cnf_options_to_json(const CNFOptions& o) {
  OdeModelTable t;
  t.put_shared(o);
  t.eval_trace = o.eval_trace();
  t.kinetic_weight = o.kinetic_weight();
  t.jacobian_weight = o.jacobian_weight();
  t.adjoint = o.adjoint();
  return options_to_json(t);
}

CNFOptions cnf_options_from_json(const nlohmann::json& j) {
  OdeModelTable d;
  d.put_shared(CNFOptions({1}));
  const CNFOptions defaults({1});
  d.eval_trace = defaults.eval_trace();
  d.kinetic_weight = defaults.kinetic_weight();
  d.jacobian_weight = defaults.jacobian_weight();
  d.adjoint = defaults.adjoint();
  const OdeModelTable t = read_table(j, d, "cnf");
  return t.get_shared(CNFOptions(t.event_shape))
      .eval_trace(t.eval_trace)
      .kinetic_weight(t.kinetic_weight)
      .jacobian_weight(t.jacobian_weight)
      .adjoint(t.adjoint);
}

namespace {
OdeModelTable fm_table(const FlowMatchingOptions& o) {
  OdeModelTable t;
  t.is_cnf = false;
  t.put_shared(o);
  t.path = o.path();
  t.sigma_min = o.sigma_min();
  t.beta_min = o.beta_min();
  t.beta_max = o.beta_max();
  t.time_epsilon = o.time_epsilon();
  t.coupling = o.coupling();
  t.z2_augment = o.z2_augment();
  return t;
}
}  // namespace

nlohmann::json flow_matching_options_to_json(const FlowMatchingOptions& o) { return options_to_json(fm_table(o)); }

FlowMatchingOptions flow_matching_options_from_json(const nlohmann::json& j) {
  const OdeModelTable t = read_table(j, fm_table(FlowMatchingOptions({1})), "flow-matching");
  return t.get_shared(FlowMatchingOptions(t.event_shape))
      .path(t.path)
      .sigma_min(t.sigma_min)
      .beta_min(t.beta_min)
      .beta_max(t.beta_max)
      .time_epsilon(t.time_epsilon)
      .coupling(t.coupling)
      .z2_augment(t.z2_augment);
}

}  // namespace physgen
