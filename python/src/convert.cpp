#include "convert.h"

#include "physgen/core/check.h"

namespace py = pybind11;

namespace physgen::python {

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(to_python(v));
      return std::move(l);
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_python(it.value());
      return std::move(d);
    }
    default:
      return py::none();
  }
}

nlohmann::json from_python(py::handle h, const std::string& what) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return h.cast<int64_t>();
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    nlohmann::json j = nlohmann::json::object();
    for (auto item : h.cast<py::dict>()) {
      check_arg(py::isinstance<py::str>(item.first), what, py::repr(item.first).cast<std::string>(),
                "a dict with str keys");
      const std::string key = item.first.cast<std::string>();
      j[key] = from_python(item.second, what + "." + key);
    }
    return j;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    nlohmann::json j = nlohmann::json::array();
    for (auto v : h) j.push_back(from_python(v, what));
    return j;
  }
  // numpy / torch scalars: integers by __index__, reals by __float__.
  if (py::hasattr(h, "__index__")) return py::reinterpret_steal<py::object>(PyNumber_Index(h.ptr())).cast<int64_t>();
  if (py::hasattr(h, "__float__")) return py::float_(py::reinterpret_borrow<py::object>(h)).cast<double>();
  check_arg(false, what, py::repr(h).cast<std::string>(),
            "None, bool, int, float, str, list or dict (JSON-like), not " +
                py::str(py::type::of(h).attr("__name__")).cast<std::string>());
  return nullptr;
}

}  // namespace physgen::python
