#include "physgen/io/config.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"

#if __has_include(<toml++/toml.h>)
#include <toml++/toml.h>
#define PHYSGEN_HAVE_TOML 1
#else
#define PHYSGEN_HAVE_TOML 0
#endif

namespace physgen {
namespace {

#if PHYSGEN_HAVE_TOML
template <class T>
std::string streamed(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

nlohmann::json to_json_node(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, v] : *t) o[std::string(k.str())] = to_json_node(v);
    return o;
  }
  if (const auto* a = n.as_array()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& v : *a) arr.push_back(to_json_node(v));
    return arr;
  }
  if (const auto* s = n.as_string()) return s->get();
  if (const auto* i = n.as_integer()) return i->get();
  if (const auto* f = n.as_floating_point()) return f->get();
  if (const auto* b = n.as_boolean()) return b->get();
  if (const auto* d = n.as_date()) return streamed(d->get());
  if (const auto* t = n.as_time()) return streamed(t->get());
  if (const auto* dt = n.as_date_time()) return streamed(dt->get());
  return nullptr;
}

std::string key_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// JSON value -> TOML node inserted by `put`; nulls are skipped.
template <class Put>
void from_json_value(const nlohmann::json& v, const std::string& where, Put&& put);

toml::table to_table(const nlohmann::json& o, const std::string& where) {
  toml::table t;
  for (const auto& [k, v] : o.items()) {
    from_json_value(v, key_path(where, k), [&](auto&& node) {
      t.insert_or_assign(k, std::forward<decltype(node)>(node));
    });
  }
  return t;
}

toml::array to_array(const nlohmann::json& a, const std::string& where) {
  toml::array arr;
  size_t i = 0;
  for (const auto& v : a) {
    from_json_value(v, where + "[" + std::to_string(i++) + "]",
                    [&](auto&& node) { arr.push_back(std::forward<decltype(node)>(node)); });
  }
  return arr;
}

template <class Put>
void from_json_value(const nlohmann::json& v, const std::string& where, Put&& put) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return;
    case nlohmann::json::value_t::object:
      put(to_table(v, where));
      return;
    case nlohmann::json::value_t::array:
      put(to_array(v, where));
      return;
    case nlohmann::json::value_t::string:
      put(v.get<std::string>());
      return;
    case nlohmann::json::value_t::boolean:
      put(v.get<bool>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      check_arg(v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
                where, v.get<uint64_t>(), "an integer below 2^63 (TOML integers are 64-bit signed)");
      put(static_cast<int64_t>(v.get<uint64_t>()));
      return;
    case nlohmann::json::value_t::number_integer:
      put(v.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_float:
      put(v.get<double>());
      return;
    default:
      check_arg(false, where, v.dump(), "a JSON value representable in TOML");
  }
}

toml::table parse_or_throw(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
       << e.description();
    throw IoError(os.str());
  }
}
#else
[[noreturn]] void no_toml() {
  throw IoError("physgen was built without TOML support (install libtomlplusplus-dev and rebuild)");
}
#endif

}  // namespace

bool toml_supported() { return PHYSGEN_HAVE_TOML != 0; }

nlohmann::json parse_toml_string(const std::string& text, const std::string& source_name) {
#if PHYSGEN_HAVE_TOML
  return to_json_node(parse_or_throw(text, source_name));
#else
  no_toml();
#endif
}

nlohmann::json parse_toml_file(const std::string& path) {
  return parse_toml_string(read_file_bytes(path), path);
}

std::string json_to_toml(const nlohmann::json& j) {
  check_arg(j.is_object(), "json", j.dump(), "a JSON object (a TOML document is a table)");
#if PHYSGEN_HAVE_TOML
  std::ostringstream os;
  os << to_table(j, "");
  std::string s = os.str();
  if (!s.empty() && s.back() != '\n') s += '\n';
  return s;
#else
  no_toml();
#endif
}

void write_toml_file(const std::string& path, const nlohmann::json& j) {
  write_file_atomic(path, json_to_toml(j));
}


}  // namespace physgen
