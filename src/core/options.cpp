#include "physgen/core/options.h"

#include <algorithm>
#include <limits>

namespace physgen {

namespace {

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
// for "did you mean" suggestions.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The known key closest to `key`: within edit distance max(1, |key| / 3), or
// extending / extended by it (at least 3 characters shared); "" if none.
std::string suggestion(const std::string& key, const std::vector<std::string>& known) {
  std::string best;
  size_t best_score = std::numeric_limits<size_t>::max();
  for (const auto& k : known) {
    size_t score = edit_distance(key, k);
    const bool prefix = std::min(key.size(), k.size()) >= 3 &&
                        (k.rfind(key, 0) == 0 || key.rfind(k, 0) == 0);
    if (score > std::max<size_t>(1, key.size() / 3) && !prefix) continue;
    if (prefix) score = std::min(score, size_t{1});
    if (score < best_score) {
      best_score = score;
      best = k;
    }
  }
  return best;
}

}  // namespace

void check_known_keys(const nlohmann::json& j, const std::vector<std::string>& known,
                      const std::string& where) {
  if (j.is_null()) return;
  check_arg(j.is_object(), where, j.dump(), "a table of key = value pairs");
  std::vector<std::string> sorted = known;
  std::sort(sorted.begin(), sorted.end());
  std::string valid;
  for (const auto& k : sorted) valid += (valid.empty() ? "" : ", ") + k;
  std::string unknown;
  size_t n_unknown = 0;
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    ++n_unknown;
    std::string entry = "'" + key + "'";
    const std::string best = suggestion(key, sorted);
    if (!best.empty()) entry += " (did you mean '" + best + "'?)";
    unknown += (unknown.empty() ? "" : ", ") + entry;
  }
  if (n_unknown == 0) return;
  throw InvalidArgument(std::string(n_unknown == 1 ? "unknown key " : "unknown keys ") + unknown + " in " +
                        where + "; valid keys: " + (valid.empty() ? "(none)" : valid));
}

namespace options_detail {

std::string json_type_name(const nlohmann::json& example) {
  switch (example.type()) {
    case nlohmann::json::value_t::boolean: return "true or false";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "a table";
    default: return "a value of the default's type";
  }
}

}  // namespace options_detail

}  // namespace physgen
