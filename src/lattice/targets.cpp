#include "physgen/lattice/targets.h"

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/phi4.h"

namespace physgen {

namespace {

double number(const nlohmann::json& p, const std::string& key, const std::string& system) {
  check_arg(p.is_object() && p.contains(key) && p.at(key).is_number(), system + " parameter " + key,
            p.is_object() && p.contains(key) ? p.at(key).dump() : std::string("(missing)"), "a number");
  return p.at(key).get<double>();
}

using TargetBuilder = TargetPtr (*)(const nlohmann::json&);

const Registry<TargetBuilder>& registry() {
  static const Registry<TargetBuilder> r = [] {
    Registry<TargetBuilder> reg("system");
    reg.add("phi4", [](const nlohmann::json& p) -> TargetPtr {
      Phi4Params params{static_cast<int64_t>(number(p, "L", "phi4")), number(p, "m2", "phi4"),
                        number(p, "lambda", "phi4")};
      params.validate();
      return std::make_shared<Phi4Action>(params);
    });
    reg.add("ising", [](const nlohmann::json& p) -> TargetPtr {
      IsingParams params{static_cast<int64_t>(number(p, "L", "ising")), number(p, "beta", "ising"),
                         p.value("h", 0.0), p.value("J", 1.0)};
      params.validate();
      return std::make_shared<IsingModel>(params);
    });
    return reg;
  }();
  return r;
}

}  // namespace

TargetPtr make_target(const std::string& system, const nlohmann::json& params) {
  return registry().get(system)(params);
}

std::vector<std::string> target_names() { return registry().names(); }

}  // namespace physgen
