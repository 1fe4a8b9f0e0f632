#pragma once
// JSON <-> Python objects for the module: configs, sidecar metadata and reports cross the
// boundary as dicts, lists and numbers (nlohmann::json on the C++ side).
#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

namespace physgen::python {

/// null -> None, bool, int, float, str, list, dict (recursively).
pybind11::object to_python(const nlohmann::json& j);

/// None, bool, int, float (numpy scalars too: anything with __float__ / __index__), str,
/// list / tuple, dict with str keys -> JSON. InvalidArgument naming `what` and the type
/// for anything else.
nlohmann::json from_python(pybind11::handle h, const std::string& what);

}  // namespace physgen::python
