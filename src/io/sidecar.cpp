#include "physgen/io/sidecar.h"

#include "physgen/core/memory.h"

#include <ctime>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/version.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/hdf5.h"
#include "physgen/io/npy.h"

namespace physgen {
namespace {

const nlohmann::json& required(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw IoError(where + ": missing required key '" + key + "'");
  return j.at(key);
}

[[noreturn]] void wrong_type(const std::string& where, const char* key, const char* expected,
                             const nlohmann::json& got) {
  throw IoError(where + ": key '" + key + "' must be " + expected + ", got " + got.dump());
}

std::string get_string(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = required(j, key, where);
  if (!v.is_string()) wrong_type(where, key, "a string", v);
  return v.get<std::string>();
}

int64_t get_int(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto& v = required(j, key, where);
  if (!v.is_number_integer()) wrong_type(where, key, "an integer", v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    wrong_type(where, key, "an integer below 2^63", v);
  }
  return v.get<int64_t>();
}

bool is_lattice_system(const std::string& system) { return system == "ising" || system == "phi4"; }

// params[key] as a positive integer, or -1 if absent.
int64_t param_size(const EnsembleMeta& meta, const char* key, bool needed, const std::string& where,
                   Blame blame) {
  if (!meta.params.is_object() || !meta.params.contains(key)) {
    if (needed) raise_error(blame, where + ": params of system '" + meta.system + "' lack '" + key + "'");
    return -1;
  }
  const auto& v = meta.params.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < 1) {
    raise_error(blame, where + ": params." + key + " must be a positive integer, got " + v.dump());
  }
  return v.get<int64_t>();
}

}  // namespace

std::string sidecar_path(const std::string& npy_path) { return npy_path + ".json"; }

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json read_sidecar(const std::string& npy_path) {
  const std::string path = sidecar_path(npy_path);
  if (!file_exists(path)) {
    throw IoError("missing sidecar " + path +
                  " (every physgen ensemble has one; it records the system, parameters and "
                  "generator of " + npy_path + ". Regenerate the ensemble with physgen, or write the "
                  "sidecar by hand with at least: system, params, generator, algorithm, seed, chains, "
                  "samples_per_chain)");
  }
  const std::string text = read_file_bytes(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(path + ": invalid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw IoError(path + ": invalid sidecar: expected a JSON object, got " + j.type_name());
  return j;
}

nlohmann::json stamped_meta(nlohmann::json meta) {
  check_arg(meta.is_object(), "meta", meta.dump(), "a JSON object");
  if (!meta.contains("physgen_version")) meta["physgen_version"] = version();
  if (!meta.contains("created")) meta["created"] = utc_timestamp();
  return meta;
}

void write_sidecar(const std::string& npy_path, nlohmann::json meta) {
  write_file_atomic(sidecar_path(npy_path), stamped_meta(std::move(meta)).dump(2) + "\n");
}

void to_json(nlohmann::json& j, const EnsembleMeta& m) {
  j = nlohmann::json{{"system", m.system},
                     {"params", m.params},
                     {"generator", m.generator},
                     {"algorithm", m.algorithm},
                     {"seed", m.seed},
                     {"chains", m.chains},
                     {"samples_per_chain", m.samples_per_chain},
                     {"layout", m.layout},
                     {"extra", m.extra.is_null() ? nlohmann::json::object() : m.extra}};
}

EnsembleMeta ensemble_meta_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw IoError(where + ": expected a JSON object, got " + j.type_name());
  EnsembleMeta m;
  m.system = get_string(j, "system", where);
  m.params = required(j, "params", where);
  if (!m.params.is_object()) wrong_type(where, "params", "an object", m.params);
  m.generator = get_string(j, "generator", where);
  m.algorithm = get_string(j, "algorithm", where);
  const auto& seed = required(j, "seed", where);
  if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<int64_t>() >= 0)) {
    wrong_type(where, "seed", "a non-negative integer", seed);
  }
  m.seed = seed.get<uint64_t>();
  m.chains = get_int(j, "chains", where);
  m.samples_per_chain = get_int(j, "samples_per_chain", where);
  if (j.contains("layout")) m.layout = get_string(j, "layout", where);
  if (j.contains("extra")) m.extra = j.at("extra");
  return m;
}

void from_json(const nlohmann::json& j, EnsembleMeta& m) { m = ensemble_meta_from_json(j, "ensemble metadata"); }

void validate_ensemble(const torch::Tensor& x, const EnsembleMeta& meta, const std::string& where,
                       Blame blame) {
  if (!x.defined() || x.dim() < 1) {
    raise_error(blame, where + ": expected samples of shape (N, ...), got " +
                     (x.defined() ? shape_string(x.sizes()) : std::string("an undefined tensor")));
  }
  if (meta.layout != "chain-major" && meta.layout != "sample-major") {
    raise_error(blame, where + ": layout '" + meta.layout + "' is not one of 'chain-major', 'sample-major'");
  }
  if (meta.chains < 1 || meta.samples_per_chain < 1) {
    raise_error(blame, where + ": chains = " + std::to_string(meta.chains) + " and samples_per_chain = " +
                     std::to_string(meta.samples_per_chain) + " must both be >= 1");
  }
  const int64_t n = x.size(0);
  if (n / meta.chains != meta.samples_per_chain || n % meta.chains != 0) {
    raise_error(blame, where + ": " + std::to_string(n) + " samples, but chains * samples_per_chain = " +
                     std::to_string(meta.chains) + " * " + std::to_string(meta.samples_per_chain) + " = " +
                     std::to_string(meta.chains * meta.samples_per_chain));
  }
  const bool floating = x.is_floating_point();
  if (is_lattice_system(meta.system)) {
    const int64_t L = param_size(meta, "L", true, where, blame);
    check_shape(x, {kAnyDim, L, L}, where, "(N, L, L) with L = params.L", blame);
    if (meta.system == "phi4" && !floating) {
      raise_error(blame, where + ": phi4 fields must be floating point, got " + c10::toString(x.scalar_type()));
    }
    if (meta.system == "ising") {
      if (!floating && x.scalar_type() != torch::kInt8) {
        raise_error(blame, where + ": ising spins must be int8 or floating point, got " +
                         c10::toString(x.scalar_type()));
      }
      auto off = (x.abs() != 1).reshape({-1});
      if (off.numel() > 0 && off.any().item<bool>()) {
        const int64_t i = off.nonzero().select(1, 0)[0].item<int64_t>();
        raise_error(blame, where + ": ising spins must be +-1, found " +
                         std::to_string(x.reshape({-1})[i].item<double>()) + " at flat index " +
                         std::to_string(i));
      }
    }
  } else {
    if (x.dim() == 2) {
      const int64_t d = param_size(meta, "d", false, where, blame);
      if (d > 0) check_shape(x, {kAnyDim, d}, where, "(N, d) with d = params.d", blame);
    } else if (x.dim() == 3) {
      const int64_t L = param_size(meta, "L", false, where, blame);
      if (L > 0) check_shape(x, {kAnyDim, L, L}, where, "(N, L, L) with L = params.L", blame);
    }
  }
  if (floating) check_finite(x, where, blame);
}

void save_ensemble(const std::string& path, const torch::Tensor& x, const EnsembleMeta& meta) {
  validate_ensemble(x, meta, "ensemble for " + path, Blame::argument);
  if (is_hdf5_path(path)) {
    write_h5_ensemble(path, x, stamped_meta(meta));
    return;
  }
  write_npy(path, x);
  write_sidecar(path, meta);
}

std::pair<torch::Tensor, EnsembleMeta> load_ensemble(const std::string& path) {
  const bool h5 = is_hdf5_path(path);
  {
    // The commands that load an ensemble work on float64 copies of it: check both fit.
    torch::ScalarType dtype;
    std::vector<int64_t> shape;
    if (h5) {
      const H5FieldsInfo info = read_h5_info(path);
      dtype = info.dtype;
      shape = info.shape;
    } else {
      const NpyHeader h = read_npy_header(path);
      dtype = h.dtype;
      shape = h.shape;
    }
    int64_t numel = 1;
    for (int64_t s : shape) numel = s > 0 && numel > (int64_t{1} << 60) / s ? (int64_t{1} << 60) : numel * s;
    check_memory(numel * (static_cast<int64_t>(c10::elementSize(dtype)) + 8),
                 "ensemble " + shape_string(shape) + " with a float64 working copy", "file", path);
  }
  torch::Tensor x;
  EnsembleMeta meta;
  if (h5) {
    auto [data, j] = read_h5_ensemble(path);
    x = std::move(data);
    meta = ensemble_meta_from_json(j, path);
  } else {
    x = read_npy(path);
    meta = ensemble_meta_from_json(read_sidecar(path), sidecar_path(path));
  }
  validate_ensemble(x, meta, path, Blame::file);
  return {std::move(x), std::move(meta)};
}

}  // namespace physgen
