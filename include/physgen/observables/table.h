#pragma once
// A table of measured observables with errors: the result of measure_lattice,
// written as JSON (reports, --json) or as aligned text.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "physgen/observables/estimators/estimate.h"

namespace physgen {

/// An observable as a function of a distance (G(r), C(t), m_eff(t)).
struct ArrayEstimate {
  std::vector<int64_t> distance;  ///< r or t of each entry
  std::vector<Estimate> values;   ///< one estimate per distance
};

/// Ordered name -> Estimate (scalars) and name -> ArrayEstimate (correlators).
struct ObservableTable {
  std::string system;           ///< "ising", "phi4", ...
  int64_t L = 0;                ///< linear lattice size
  int64_t n_configurations = 0; ///< N
  int64_t chains = 0;           ///< independent chains (replicas)
  std::vector<std::pair<std::string, Estimate>> observables;
  std::vector<std::pair<std::string, ArrayEstimate>> correlators;

  /// Sets a scalar (replacing one of the same name, else appending).
  void set(const std::string& name, const Estimate& e);
  /// Sets an array (replacing one of the same name, else appending).
  void set_array(const std::string& name, const ArrayEstimate& a);
  bool contains(const std::string& name) const;
  bool contains_array(const std::string& name) const;
  /// The scalar `name`; throws InvalidArgument listing the valid names.
  const Estimate& at(const std::string& name) const;
  /// The array `name`; throws InvalidArgument listing the valid names.
  const ArrayEstimate& array(const std::string& name) const;
};

/// JSON form:
///   {"system": .., "L": .., "n_configurations": .., "chains": ..,
///    "observables": {NAME: {"mean", "error", "tau_int", "tau_int_error"}},
///    "correlator": {NAME: {"distance": [..], "mean": [..], "error": [..], "tau_int": [..]}}}
/// NaN values (e.g. an undefined m_eff) are written as null.
nlohmann::json to_json(const ObservableTable& table);

/// Inverse of to_json (null -> NaN); throws IoError naming the missing key.
ObservableTable observable_table_from_json(const nlohmann::json& j);

/// "mean +- error" with the error rounded to 2 significant digits and the mean to
/// the same decimal place, e.g. "0.12346 +- 0.00021".
std::string format_value_error(double mean, double error);

/// Aligned text table: one line per scalar (name, mean +- error, tau_int +- error),
/// then each correlator as distance, mean +- error, tau_int.
std::string format_table(const ObservableTable& table);

}  // namespace physgen
