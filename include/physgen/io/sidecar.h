#pragma once
// JSON sidecars and ensembles: FILE.npy holds the samples, FILE.npy.json what they are
// (or one FILE.h5 holds both).
//
// Every ensemble physgen writes is either a pair
//   FILE.npy       samples, (N, L, L) for lattice systems or (N, d) for point clouds
//   FILE.npy.json  metadata: system, parameters, generator, algorithm, seed,
//                  chains, samples per chain, layout, physgen version, creation time
// or, for a path ending in .h5 / .hdf5 (is_hdf5_path), one HDF5 file: the samples in the
// dataset /fields and the same metadata as its attributes (io/hdf5.h; no sidecar file is
// written or read). save_ensemble / load_ensemble pick the format by the extension, so every
// command that reads or writes ensembles takes both. An ensemble can thus be measured,
// compared or trained on without remembering how it was made. Layout "chain-major": row
// c * S + t is sample t of chain c (S = samples_per_chain); "sample-major": row t * C + c.
#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/io/tensor_checks.h"

namespace physgen {

/// The sidecar path of an ensemble file: `npy_path + ".json"`.
std::string sidecar_path(const std::string& npy_path);

/// Reads FILE.npy.json beside `npy_path`. Throws IoError
///   "missing sidecar FILE.npy.json (every physgen ensemble has one; ...)" if absent,
///   "FILE.npy.json: invalid JSON (...)" if it does not parse or is not an object.
nlohmann::json read_sidecar(const std::string& npy_path);

/// Writes `meta` (a JSON object) to FILE.npy.json atomically, adding
/// "physgen_version" (physgen::version()) and "created" (ISO-8601 UTC,
/// e.g. "2026-01-31T12:00:00Z") when absent. InvalidArgument if `meta` is not an object.
void write_sidecar(const std::string& npy_path, nlohmann::json meta);

/// The current time as ISO-8601 UTC with seconds, "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_timestamp();

/// `meta` with "physgen_version" and "created" added when absent: the metadata physgen stores
/// (write_sidecar, and the attributes of an .h5 ensemble).
nlohmann::json stamped_meta(nlohmann::json meta);

/// What an ensemble is. JSON keys equal the field names; required on reading:
/// system, params, generator, algorithm, seed, chains, samples_per_chain
/// (layout defaults to "chain-major", extra to {}).
struct EnsembleMeta {
  std::string system;            ///< "ising", "phi4", "toy", ...
  nlohmann::json params = nlohmann::json::object();  ///< physical parameters (lattice systems: "L" required)
  std::string generator;         ///< what produced it, e.g. "physgen simulate ising"
  std::string algorithm;         ///< e.g. "wolff", "hmc", "exact"
  uint64_t seed = 0;             ///< the seed passed to seed_all / the chains
  int64_t chains = 1;            ///< number of independent chains C (>= 1)
  int64_t samples_per_chain = 0; ///< samples recorded per chain S (>= 1); N = C * S
  std::string layout = "chain-major";                ///< "chain-major" or "sample-major"
  nlohmann::json extra = nlohmann::json::object();   ///< free-form (thermalisation, thinning, ...)
};

/// EnsembleMeta -> JSON object (nlohmann ADL hook).
void to_json(nlohmann::json& j, const EnsembleMeta& m);
/// JSON -> EnsembleMeta (nlohmann ADL hook); IoError as in ensemble_meta_from_json(j, "ensemble metadata").
void from_json(const nlohmann::json& j, EnsembleMeta& m);
/// JSON -> EnsembleMeta; IoError "WHERE: missing required key 'seed'" or
/// "WHERE: key 'chains' must be an integer, got \"x\"" (WHERE is usually the sidecar's path).
/// Unknown keys (physgen_version, created, ...) are ignored.
EnsembleMeta ensemble_meta_from_json(const nlohmann::json& j, const std::string& where);

/// Checks that `x` is a valid ensemble for `meta`:
///   * N = x.size(0) == chains * samples_per_chain, chains >= 1, samples_per_chain >= 1,
///     layout "chain-major" or "sample-major";
///   * lattice systems ("ising", "phi4"): shape (N, L, L) with L = params["L"];
///     ising: int8 or floating dtype with every value +-1; phi4: floating dtype;
///   * other systems: at least 1 dimension; shape (N, d) is checked against
///     params["d"] when present, (N, L, L) against params["L"] when present;
///   * floating dtypes: every value finite.
/// `where` names the data in messages; `blame` picks InvalidArgument or IoError.
void validate_ensemble(const torch::Tensor& x, const EnsembleMeta& meta, const std::string& where,
                       Blame blame);

/// Validates (InvalidArgument on failure) and writes `x` to `path` (.npy) and
/// its sidecar `path + ".json"` (both atomically; the npy first, so a sidecar
/// always describes a complete npy). A `path` ending in .h5 / .hdf5 is written as one HDF5
/// file instead (write_h5_ensemble: the samples and stamped_meta(meta) as attributes,
/// atomically; no sidecar).
void save_ensemble(const std::string& path, const torch::Tensor& x, const EnsembleMeta& meta);

/// Reads `path` and its sidecar (for .h5 / .hdf5: the file's /fields and its attributes,
/// read_h5_ensemble) and validates them against each other (IoError naming the file on any
/// problem, e.g. "FILE.h5: missing required key 'seed'"). The memory for the data and a
/// float64 working copy is checked first. Returns the CPU tensor and its metadata.
std::pair<torch::Tensor, EnsembleMeta> load_ensemble(const std::string& path);

}  // namespace physgen
