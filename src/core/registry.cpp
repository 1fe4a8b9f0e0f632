#include "physgen/core/registry.h"

#include <algorithm>

namespace physgen {

void check_choice(const std::string& what, const std::string& name,
                  const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), name) != valid.end()) return;
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : "|") + v;
  throw InvalidArgument("argument " + what + " = '" + name + "': expected one of " + list);
}

}  // namespace physgen
