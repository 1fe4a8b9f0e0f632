#include "physgen/observables/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "physgen/core/check.h"

namespace physgen {
namespace {

template <class T>
std::string names_of(const std::vector<std::pair<std::string, T>>& entries) {
  std::string s;
  for (const auto& kv : entries) s += (s.empty() ? "" : "|") + kv.first;
  return s.empty() ? "(none)" : s;
}

template <class T>
const T* find(const std::vector<std::pair<std::string, T>>& entries, const std::string& name) {
  for (const auto& kv : entries)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

template <class T>
void put(std::vector<std::pair<std::string, T>>& entries, const std::string& name, const T& v) {
  for (auto& kv : entries) {
    if (kv.first == name) {
      kv.second = v;
      return;
    }
  }
  entries.emplace_back(name, v);
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

double number_of(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

const nlohmann::json& key(const nlohmann::json& j, const std::string& k, const std::string& where) {
  if (!j.is_object() || !j.contains(k)) throw IoError("observable table: missing key '" + where + k + "'");
  return j.at(k);
}

std::string fmt(const char* f, double v, int p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, p, v);
  return buf;
}

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string tau_text(const Estimate& e) {
  if (!std::isfinite(e.tau_int)) return "nan";
  return fmt("%.*f", e.tau_int, 2) + " +- " + fmt("%.*f", e.tau_int_error, 2);
}

}  // namespace

void ObservableTable::set(const std::string& name, const Estimate& e) { put(observables, name, e); }

void ObservableTable::set_array(const std::string& name, const ArrayEstimate& a) {
  put(correlators, name, a);
}

bool ObservableTable::contains(const std::string& name) const {
  return find(observables, name) != nullptr;
}

bool ObservableTable::contains_array(const std::string& name) const {
  return find(correlators, name) != nullptr;
}

const Estimate& ObservableTable::at(const std::string& name) const {
  const Estimate* e = find(observables, name);
  if (!e) throw InvalidArgument("argument observable = '" + name + "': expected one of " + names_of(observables));
  return *e;
}

const ArrayEstimate& ObservableTable::array(const std::string& name) const {
  const ArrayEstimate* a = find(correlators, name);
  if (!a) throw InvalidArgument("argument correlator = '" + name + "': expected one of " + names_of(correlators));
  return *a;
}

nlohmann::json to_json(const ObservableTable& table) {
  nlohmann::json j;
  j["system"] = table.system;
  j["L"] = table.L;
  j["n_configurations"] = table.n_configurations;
  j["chains"] = table.chains;
  auto& obs = j["observables"] = nlohmann::json::object();
  for (const auto& [name, e] : table.observables) {
    obs[name] = {{"mean", number(e.mean)},
                 {"error", number(e.error)},
                 {"tau_int", number(e.tau_int)},
                 {"tau_int_error", number(e.tau_int_error)}};
  }
  auto& cor = j["correlator"] = nlohmann::json::object();
  for (const auto& [name, a] : table.correlators) {
    nlohmann::json mean = nlohmann::json::array(), err = nlohmann::json::array(),
                   tau = nlohmann::json::array();
    for (const auto& e : a.values) {
      mean.push_back(number(e.mean));
      err.push_back(number(e.error));
      tau.push_back(number(e.tau_int));
    }
    cor[name] = {{"distance", a.distance}, {"mean", mean}, {"error", err}, {"tau_int", tau}};
  }
  return j;
}

ObservableTable observable_table_from_json(const nlohmann::json& j) {
  ObservableTable t;
  try {
    t.system = key(j, "system", "").get<std::string>();
    t.L = key(j, "L", "").get<int64_t>();
    t.n_configurations = key(j, "n_configurations", "").get<int64_t>();
    t.chains = key(j, "chains", "").get<int64_t>();
    for (const auto& [name, o] : key(j, "observables", "").items()) {
      const std::string w = "observables." + name + ".";
      Estimate e;
      e.mean = number_of(key(o, "mean", w));
      e.error = number_of(key(o, "error", w));
      e.tau_int = number_of(key(o, "tau_int", w));
      e.tau_int_error = o.contains("tau_int_error") ? number_of(o.at("tau_int_error")) : 0.0;
      t.set(name, e);
    }
    for (const auto& [name, c] : key(j, "correlator", "").items()) {
      const std::string w = "correlator." + name + ".";
      ArrayEstimate a;
      a.distance = key(c, "distance", w).get<std::vector<int64_t>>();
      const auto& mean = key(c, "mean", w);
      const auto& err = key(c, "error", w);
      const auto& tau = key(c, "tau_int", w);
      if (mean.size() != a.distance.size() || err.size() != a.distance.size() ||
          tau.size() != a.distance.size()) {
        throw IoError("observable table: arrays of '" + w + "' differ in length");
      }
      for (size_t i = 0; i < a.distance.size(); ++i) {
        a.values.push_back(Estimate{number_of(mean[i]), number_of(err[i]), number_of(tau[i]), 0.0});
      }
      t.set_array(name, a);
    }
  } catch (const nlohmann::json::exception& ex) {
    throw IoError(std::string("observable table: malformed JSON: ") + ex.what());
  }
  return t;
}

std::string format_value_error(double mean, double error) {
  if (!std::isfinite(mean)) return "nan";
  if (!(std::isfinite(error) && error > 0)) {
    return fmt("%.*g", mean, 6) + " +- " + (std::isfinite(error) ? "0" : "nan");
  }
  // Decimal place of the error's second significant digit.
  int decimals = 1 - static_cast<int>(std::floor(std::log10(error)));
  if (decimals > 12 || std::abs(mean) >= 1e9) {
    return fmt("%.*e", mean, 5) + " +- " + fmt("%.*e", error, 1);
  }
  if (decimals < 0) decimals = 0;
  return fmt("%.*f", mean, decimals) + " +- " + fmt("%.*f", error, decimals);
}

std::string format_table(const ObservableTable& table) {
  std::ostringstream os;
  os << table.system << "  L = " << table.L << "  N = " << table.n_configurations << " ("
     << table.chains << (table.chains == 1 ? " chain" : " chains") << ")\n";
  size_t wn = 10, wv = 13;
  for (const auto& [name, e] : table.observables) {
    wn = std::max(wn, name.size());
    wv = std::max(wv, format_value_error(e.mean, e.error).size());
  }
  os << pad("observable", wn) << "  " << pad("mean +- error", wv) << "  tau_int\n";
  for (const auto& [name, e] : table.observables) {
    os << pad(name, wn) << "  " << pad(format_value_error(e.mean, e.error), wv) << "  "
       << tau_text(e) << "\n";
  }
  for (const auto& [name, a] : table.correlators) {
    size_t w = 13;
    for (const auto& e : a.values) w = std::max(w, format_value_error(e.mean, e.error).size());
    const char* label = (!name.empty() && name[0] == 'G') ? "   r" : "   t";
    os << "\n" << name << "\n" << pad(label, 6) << "  " << pad("mean +- error", w) << "  tau_int\n";
    for (size_t i = 0; i < a.values.size(); ++i) {
      std::string d = std::to_string(a.distance[i]);
      os << std::string(d.size() < 4 ? 4 - d.size() : 0, ' ') << d << "    "
         << pad(format_value_error(a.values[i].mean, a.values[i].error), w) << "  "
         << (std::isfinite(a.values[i].tau_int) ? fmt("%.*f", a.values[i].tau_int, 2) : "nan")
         << "\n";
    }
  }
  return os.str();
}

}  // namespace physgen
