#pragma once
// HDF5 ensembles: FILE.h5 (or FILE.hdf5) holds the samples and what they are, in one file.
//
// Layout (readable by h5py, h5dump, HDFView, ...):
//   /fields   one dataset of shape (N, ...) in the tensor's dtype (float32, float64, float16,
//             int8, uint8, bool as h5py's enum {FALSE, TRUE}, int16, int32, int64; stored
//             little-endian), chunked in whole rows (~1 MiB per chunk) and, where the library
//             has deflate, compressed with shuffle + deflate level 4.
//   attributes of /fields: every top-level key of the metadata JSON as its own attribute
//     strings   -> variable-length UTF-8 strings (h5py reads str)
//     integers  -> int64 (uint64 above 2^63 - 1), floats -> float64, bools -> h5py's bool enum
//     arrays of numbers -> 1-D int64 / float64 attributes
//     objects   -> flattened: params = {"L": 8, "beta": 0.44} gives "params.L", "params.beta"
//     "extra", and any other value with no native form (null, mixed arrays, empty objects)
//               -> a JSON string
//   plus "physgen_meta": the complete metadata as one JSON string (what physgen reads back, so
//   a round trip is exact). Files without it (written by h5py, say) are read from the
//   individual attributes: dotted names are nested again and string attributes "extra" and
//   "params" are parsed as JSON.
//
// Every function silences HDF5's automatic error printing while it runs and turns HDF5 errors
// into IoError messages that name the file. The HDF5 library is an implementation detail:
// hdf5.h is not included here.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

/// True for a path ending in ".h5" or ".hdf5" (any case): the ensemble functions of
/// io/sidecar.h store such files as HDF5 instead of .npy + sidecar.
bool is_hdf5_path(const std::string& path);

/// What the /fields dataset of an HDF5 ensemble is, read from its header and its dataset
/// creation property list (no data read).
struct H5FieldsInfo {
  torch::ScalarType dtype = torch::kFloat32;
  std::vector<int64_t> shape;
  std::vector<int64_t> chunk;        ///< chunk dimensions; empty if not chunked
  std::vector<std::string> filters;  ///< filter pipeline in order, e.g. {"shuffle", "deflate"}
  int deflate_level = -1;            ///< deflate level, -1 without deflate
};

/// Reads the header of `path`'s /fields. IoError as read_h5_ensemble.
H5FieldsInfo read_h5_info(const std::string& path);

/// Writes `x` ((N, ...), any device and layout; N >= 1 dimensions) and `meta` (a JSON object)
/// to `path` in the layout above, atomically (a temporary file `path.tmp.<pid>` beside it,
/// fsync'ed and renamed over `path`: a failed write leaves an existing `path` untouched).
/// InvalidArgument for an undefined or 0-d tensor, an unsupported dtype or a `meta` that is
/// not an object; IoError("cannot write PATH: REASON") if the file cannot be written.
void write_h5_ensemble(const std::string& path, const torch::Tensor& x, const nlohmann::json& meta);

/// The streaming form of write_h5_ensemble(), for ensembles larger than memory: the dataset
/// has `dtype` and `shape` and its rows are asked for in blocks, `rows(first, count)`
/// returning rows first .. first + count - 1 as a (count, *shape[1:]) tensor (converted to
/// `dtype`). Blocks are whole chunks of at most ~64 MiB, asked for in order. An exception
/// of `rows` removes the temporary file and propagates (physgen's own types unchanged).
void write_h5_ensemble_rows(const std::string& path, torch::ScalarType dtype, const std::vector<int64_t>& shape,
                            const nlohmann::json& meta,
                            const std::function<torch::Tensor(int64_t first, int64_t count)>& rows);

/// The metadata of `path`: attribute "physgen_meta" parsed when present, otherwise rebuilt
/// from the individual attributes of /fields (see above). IoError as read_h5_ensemble.
nlohmann::json read_h5_meta(const std::string& path);

/// Reads `path`: /fields as a CPU tensor of its dtype and shape, and its metadata
/// (read_h5_meta). Throws IoError naming the file: "cannot read PATH: no such file",
/// "PATH: not an HDF5 file", "PATH: no dataset '/fields' ...", an unsupported dtype (named,
/// with the supported ones), an attribute of unsupported type (named), invalid JSON in
/// physgen_meta, a bool dataset holding other bytes, any HDF5 error while reading (with
/// HDF5's message). The data size is checked against the available memory first
/// (core/memory.h) and InvalidArgument names the file if it does not fit.
std::pair<torch::Tensor, nlohmann::json> read_h5_ensemble(const std::string& path);

/// A bare array file by its extension: read_npy for .npy, the /fields dataset of
/// read_h5_ensemble for .h5 / .hdf5 (metadata not required). For arrays that are not
/// ensembles (inpainting masks, observed fields). IoError as those functions.
torch::Tensor read_array(const std::string& path);

}  // namespace physgen
