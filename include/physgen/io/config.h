#pragma once
// TOML configuration files, handled as JSON inside physgen.
//
// Options structs convert to and from nlohmann::json; these helpers move that
// JSON in and out of TOML, the format of physgen's config files:
//   TOML table -> JSON object, array -> array, string -> string,
//   integer -> integer (int64), float -> number, boolean -> boolean,
//   date / time / date-time -> ISO-8601 string.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "physgen/core/options.h"

namespace physgen {

/// True if physgen was built with TOML support (libtomlplusplus-dev); when not,
/// the TOML functions below throw IoError saying so.
bool toml_supported();

/// Parses the TOML file `path` into JSON. Throws IoError for a missing or
/// unreadable file, and "PATH:LINE:COLUMN: DESCRIPTION" for a syntax error.
nlohmann::json parse_toml_file(const std::string& path);

/// Parses TOML `text`; `source_name` stands for the file in error messages
/// ("SOURCE:LINE:COLUMN: DESCRIPTION", IoError).
nlohmann::json parse_toml_string(const std::string& text, const std::string& source_name = "<toml>");

/// TOML text for a JSON object (e.g. an options struct's defaults), keys in
/// sorted order, nested objects as [tables]. Null values are omitted (TOML has
/// no null). InvalidArgument if `j` is not an object or holds an unsigned
/// integer above 2^63 - 1.
std::string json_to_toml(const nlohmann::json& j);

/// Writes json_to_toml(j) to `path` atomically.
void write_toml_file(const std::string& path, const nlohmann::json& j);

/// check_known_keys (unknown TOML / JSON keys with "did you mean") is in core/options.h.

}  // namespace physgen
