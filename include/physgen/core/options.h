#pragma once
// One options <-> JSON mechanism for every options struct: the struct lists its fields once,
// in a member template
//
//   struct VaeOptions {
//     TORCH_ARG(int64_t, latent_dim) = 4;
//     TORCH_ARG(std::vector<int64_t>, hidden) = {128, 128};
//     ...
//     template <class V> void fields(V&& v) {
//       v("latent_dim", latent_dim());
//       v("hidden", hidden());
//       v.table("ddim", [&](auto&& t) { t("steps", ddim().steps()); });  // a nested JSON table
//     }
//   };
//
// and options_to_json / options_from_json / option_keys derive the rest from that list: the
// JSON object (a nested options struct with its own fields() becomes a nested table), the
// update from JSON (missing keys keep their values; unknown keys are rejected with the
// "did you mean" error of check_known_keys; a value of the wrong type is rejected naming
// WHERE.KEY, its value and the expected type), and the known keys. The TORCH_ARG accessor
// `name()` returns a reference, so the same list serves reading and writing.
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "physgen/core/check.h"

namespace physgen {

/// Throws InvalidArgument if the object `j` has a key outside `known`:
///   "unknown key 'lrr' in WHERE (did you mean 'lr'?); valid keys: batch, lr, steps".
/// `where` names the section, e.g. "[train] of run.toml". InvalidArgument if `j`
/// is neither an object nor null (null: nothing to check).
void check_known_keys(const nlohmann::json& j, const std::vector<std::string>& known,
                      const std::string& where);

namespace options_detail {

/// Detects `template <class V> void fields(V&&)` by calling it with a key collector.
struct KeyCollector;
template <class T, class = void>
struct is_options : std::false_type {};
template <class T>
struct is_options<T, std::void_t<decltype(std::declval<T&>().fields(std::declval<KeyCollector&>()))>>
    : std::true_type {};

/// Collects the top-level keys of a field list.
struct KeyCollector {
  std::vector<std::string> keys;
  template <class T>
  void operator()(const char* key, T&) {
    keys.emplace_back(key);
  }
  template <class F>
  void table(const char* key, F&&) {
    keys.emplace_back(key);
  }
};

struct Writer;
struct Reader;

template <class T>
nlohmann::json to_json_value(T& value);
template <class T>
void from_json_value(const nlohmann::json& j, T& value, const std::string& where);

/// Writes a field list into a JSON object.
struct Writer {
  nlohmann::json& out;
  template <class T>
  void operator()(const char* key, T& value) {
    out[key] = to_json_value(value);
  }
  template <class F>
  void table(const char* key, F&& f) {
    nlohmann::json t = nlohmann::json::object();
    Writer w{t};
    f(w);
    out[key] = std::move(t);
  }
};

/// Reads a field list from a JSON object (present keys only; unknown keys rejected).
struct Reader {
  const nlohmann::json& in;
  std::string where;
  template <class T>
  void operator()(const char* key, T& value) {
    if (in.contains(key)) from_json_value(in.at(key), value, where + "." + key);
  }
  template <class F>
  void table(const char* key, F&& f) {
    if (!in.contains(key)) return;
    const nlohmann::json& t = in.at(key);
    KeyCollector keys;
    f(keys);
    check_known_keys(t, keys.keys, "[" + where + "." + key + "]");
    Reader r{t, where + "." + key};
    f(r);
  }
};

template <class T>
nlohmann::json to_json_value(T& value) {
  if constexpr (is_options<T>::value) {
    nlohmann::json j = nlohmann::json::object();
    Writer w{j};
    value.fields(w);
    return j;
  } else {
    return nlohmann::json(value);
  }
}

/// "a number", "a string", ... for the type error.
std::string json_type_name(const nlohmann::json& example);

template <class T>
void from_json_value(const nlohmann::json& j, T& value, const std::string& where) {
  if constexpr (is_options<T>::value) {
    KeyCollector keys;
    value.fields(keys);
    check_known_keys(j, keys.keys, "[" + where + "]");
    if (j.is_null()) return;
    Reader r{j, where};
    value.fields(r);
  } else {
    try {
      value = j.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw InvalidArgument("argument " + where + " = " + j.dump() + ": expected " +
                            json_type_name(nlohmann::json(value)) + " (like its default " +
                            nlohmann::json(value).dump() + ")");
    }
  }
}

}  // namespace options_detail

/// The JSON object of an options struct's field list.
template <class O>
nlohmann::json options_to_json(const O& options) {
  return options_detail::to_json_value(const_cast<O&>(options));
}

/// Updates `options` from the JSON object `j` (null: unchanged): keys present set their
/// fields, missing keys keep them; InvalidArgument naming `where` for an unknown key or a
/// value of the wrong type. Does not validate the values (call the struct's validate()).
template <class O>
void options_from_json(O& options, const nlohmann::json& j, const std::string& where) {
  options_detail::from_json_value(j, options, where);
}

/// The top-level keys of an options struct's field list, in declaration order.
template <class O>
std::vector<std::string> option_keys(const O& options) {
  options_detail::KeyCollector keys;
  const_cast<O&>(options).fields(keys);
  return keys.keys;
}

}  // namespace physgen
