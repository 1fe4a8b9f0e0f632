#pragma once
// Physical targets by name: the registry behind --target and behind models that
// record the system they were trained on.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "physgen/lattice/target.h"

namespace physgen {

/// Builds the Target of `system` ("ising" | "phi4") from its parameters as stored
/// in sidecars and checkpoints (Ising: L, beta, h, J; phi^4: L, m2, lambda).
/// Unknown system -> InvalidArgument listing the valid ones.
TargetPtr make_target(const std::string& system, const nlohmann::json& params);

/// Names accepted by make_target.
std::vector<std::string> target_names();

}  // namespace physgen
