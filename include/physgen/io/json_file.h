#pragma once
// Reading a JSON file written by physgen (reports, per-run rows): the counterpart of
// write_file_atomic (io/atomic_file.h) for JSON.
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "physgen/core/check.h"

namespace physgen {

/// The JSON value in `path`. IoError naming the file if it cannot be opened or parsed.
inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read " + path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(path + ": not valid JSON (" + e.what() + ")");
  }
}

}  // namespace physgen
