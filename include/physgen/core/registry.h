#pragma once
// One registry per runtime choice (model, solver, sampler, dataset, algorithm).
//
// A Registry<F> maps a name to a value (usually a factory function). Looking up
// an unknown name throws InvalidArgument listing every valid name, so every
// "unknown --algo" style error in physgen says what would have been accepted.
#include <map>
#include <string>
#include <vector>

#include "physgen/core/check.h"

namespace physgen {

template <class Value>
class Registry {
 public:
  /// `what` names the choice in error messages, e.g. "algorithm" or "--name".
  explicit Registry(std::string what) : what_(std::move(what)) {}

  Registry& add(const std::string& name, Value value) {
    entries_[name] = std::move(value);
    return *this;
  }

  bool contains(const std::string& name) const { return entries_.count(name) > 0; }

  /// The value registered under `name`; throws InvalidArgument listing the valid names.
  const Value& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      throw InvalidArgument("argument " + what_ + " = '" + name + "': expected one of " +
                            joined_names());
    }
    return it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }

  /// "a|b|c", for help texts and error messages.
  std::string joined_names(const std::string& sep = "|") const {
    std::string s;
    for (const auto& kv : entries_) s += (s.empty() ? "" : sep) + kv.first;
    return s;
  }

 private:
  std::string what_;
  std::map<std::string, Value> entries_;
};

/// Checks `name` is one of `valid`; throws InvalidArgument("argument WHAT = 'name': expected one of a|b").
void check_choice(const std::string& what, const std::string& name,
                  const std::vector<std::string>& valid);

}  // namespace physgen
