#include "physgen/io/hdf5.h"
#include "physgen/io/npy.h"

#include <hdf5.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/tensor_checks.h"

namespace physgen {
namespace {

// Helpers of this file are prefixed h5_ / H5 (unity builds: names must be unique in the library).

constexpr const char* kH5Dataset = "fields";
constexpr const char* kH5MetaAttr = "physgen_meta";
constexpr const char* kH5Supported = "float32, float64, float16, int8, uint8, bool, int16, int32, int64";
constexpr int64_t kH5ChunkTarget = int64_t{1} << 20;  // ~1 MiB per chunk
constexpr int64_t kH5BlockTarget = int64_t{64} << 20;  // rows written per H5Dwrite: <= ~64 MiB
constexpr unsigned kH5DeflateLevel = 4;

// Serialises physgen's HDF5 calls (a library built without thread safety is not reentrant)
// and, while held, silences HDF5's automatic error printing; errors are reported as
// exceptions instead. The previous handler comes back when the session ends.
std::recursive_mutex& h5_mutex() {
  static std::recursive_mutex m;
  return m;
}

class H5Session {
 public:
  H5Session() : lock_(h5_mutex()) {
    H5Eget_auto2(H5E_DEFAULT, &old_func_, &old_data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~H5Session() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, old_func_, old_data_);
  }
  H5Session(const H5Session&) = delete;
  H5Session& operator=(const H5Session&) = delete;

 private:
  std::lock_guard<std::recursive_mutex> lock_;
  H5E_auto2_t old_func_ = nullptr;
  void* old_data_ = nullptr;
};

// The messages of HDF5's error stack (outermost and innermost), then cleared. The plugin
// search (H5PL*: "can't open directory .../plugins") is left out: it only follows a missing
// filter, which the entry above it names.
herr_t h5_walk_error(unsigned, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (err == nullptr || err->desc == nullptr || *err->desc == '\0') return 0;
  if (err->func_name != nullptr && std::strncmp(err->func_name, "H5PL", 4) == 0) return 0;
  std::string d = err->desc;
  std::replace(d.begin(), d.end(), '\n', ' ');
  out->push_back(d);
  return 0;
}

std::string h5_error_stack() {
  std::vector<std::string> descs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk_error, &descs);
  H5Eclear2(H5E_DEFAULT);
  if (descs.empty()) return "unknown HDF5 error";
  std::string s = descs.front();
  if (descs.size() > 1 && descs.back() != descs.front()) s += ": " + descs.back();
  return s;
}

// Where errors are reported: "cannot write PATH" or "PATH".
struct H5Ctx {
  std::string prefix;
  [[noreturn]] void fail(const std::string& msg) const { throw IoError(prefix + ": " + msg); }
  // Throws with HDF5's message when an HDF5 call returned a negative value.
  template <class T>
  T ok(T v, const std::string& what) const {
    if (v < 0) fail(what + " failed (HDF5: " + h5_error_stack() + ")");
    return v;
  }
};

// An HDF5 identifier closed with its close function on every path.
class H5Owned {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Owned() = default;
  H5Owned(hid_t id, Closer close) : id_(id), close_(close) {}
  H5Owned(H5Owned&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Owned& operator=(H5Owned&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  H5Owned(const H5Owned&) = delete;
  H5Owned& operator=(const H5Owned&) = delete;
  ~H5Owned() { reset(); }
  hid_t get() const { return id_; }
  // Closes now and reports a failure (a file's close flushes: errors matter on writing).
  void close(const H5Ctx& ctx, const std::string& what) {
    const hid_t id = id_;
    id_ = -1;
    if (id >= 0) ctx.ok(close_(id), what);
  }

 private:
  void reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = -1;
  }
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

H5Owned h5_type(const H5Ctx& ctx, hid_t id, const char* what) { return {ctx.ok(id, what), H5Tclose}; }
H5Owned h5_space(const H5Ctx& ctx, hid_t id, const char* what) { return {ctx.ok(id, what), H5Sclose}; }
H5Owned h5_plist(const H5Ctx& ctx, hid_t id, const char* what) { return {ctx.ok(id, what), H5Pclose}; }

// ---- element types --------------------------------------------------------------------------

// IEEE binary16, as h5py defines it (HDF5 1.10 has no predefined half type).
H5Owned h5_half_type(const H5Ctx& ctx) {
  H5Owned t = h5_type(ctx, H5Tcopy(H5T_IEEE_F32LE), "H5Tcopy");
  ctx.ok(H5Tset_fields(t.get(), 15, 10, 5, 0, 10), "H5Tset_fields (float16)");
  ctx.ok(H5Tset_size(t.get(), 2), "H5Tset_size (float16)");
  ctx.ok(H5Tset_ebias(t.get(), 15), "H5Tset_ebias (float16)");
  return t;
}

// numpy bool as h5py stores it: an int8 enum {FALSE = 0, TRUE = 1}.
H5Owned h5_bool_type(const H5Ctx& ctx) {
  H5Owned t = h5_type(ctx, H5Tenum_create(H5T_NATIVE_INT8), "H5Tenum_create");
  const int8_t f = 0, tr = 1;
  ctx.ok(H5Tenum_insert(t.get(), "FALSE", &f), "H5Tenum_insert");
  ctx.ok(H5Tenum_insert(t.get(), "TRUE", &tr), "H5Tenum_insert");
  return t;
}

bool h5_supported_dtype(torch::ScalarType d) {
  switch (d) {
    case torch::kFloat32: case torch::kFloat64: case torch::kFloat16: case torch::kInt8: case torch::kUInt8:
    case torch::kBool: case torch::kInt16: case torch::kInt32: case torch::kInt64:
      return true;
    default:
      return false;
  }
}

// The stored (little-endian) type and the in-memory type of `d`.
H5Owned h5_element_type(const H5Ctx& ctx, torch::ScalarType d, bool file) {
  auto copy = [&](hid_t t) { return h5_type(ctx, H5Tcopy(t), "H5Tcopy"); };
  switch (d) {
    case torch::kFloat32: return copy(file ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT);
    case torch::kFloat64: return copy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
    case torch::kFloat16: return h5_half_type(ctx);
    case torch::kInt8: return copy(file ? H5T_STD_I8LE : H5T_NATIVE_INT8);
    case torch::kUInt8: return copy(file ? H5T_STD_U8LE : H5T_NATIVE_UINT8);
    case torch::kBool: return h5_bool_type(ctx);
    case torch::kInt16: return copy(file ? H5T_STD_I16LE : H5T_NATIVE_INT16);
    case torch::kInt32: return copy(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
    case torch::kInt64: return copy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
    default: break;
  }
  ctx.fail(std::string("unsupported dtype ") + c10::toString(d) + " (supported: " + kH5Supported + ")");
}

// Whether an enum type is h5py's bool: two members FALSE = 0 and TRUE = 1 of a 1-byte base.
bool h5_is_bool_enum(hid_t t) {
  if (H5Tget_class(t) != H5T_ENUM || H5Tget_size(t) != 1 || H5Tget_nmembers(t) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(t, i);
    if (name == nullptr) return false;
    const std::string n = name;
    H5free_memory(name);
    int8_t v = -1;
    if (H5Tget_member_value(t, i, &v) < 0) return false;
    if (!((n == "FALSE" && v == 0) || (n == "TRUE" && v == 1))) return false;
  }
  return true;
}

std::string h5_describe_type(hid_t t) {
  const size_t size = H5Tget_size(t);
  switch (H5Tget_class(t)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
    case H5T_FLOAT: return "float" + std::to_string(8 * size);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum (not h5py's bool)";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    case H5T_REFERENCE: return "reference";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    default: return "unknown type";
  }
}

// The torch dtype of a stored /fields type; fails naming the type if there is none.
torch::ScalarType h5_dtype_of(const H5Ctx& ctx, hid_t t) {
  const size_t size = H5Tget_size(t);
  const H5T_class_t cls = H5Tget_class(t);
  if (cls == H5T_FLOAT) {
    if (size == 2) return torch::kFloat16;
    if (size == 4) return torch::kFloat32;
    if (size == 8) return torch::kFloat64;
  } else if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(t) != H5T_SGN_NONE;
    if (size == 1) return is_signed ? torch::kInt8 : torch::kUInt8;
    if (is_signed && size == 2) return torch::kInt16;
    if (is_signed && size == 4) return torch::kInt32;
    if (is_signed && size == 8) return torch::kInt64;
  } else if (cls == H5T_ENUM && h5_is_bool_enum(t)) {
    return torch::kBool;
  }
  ctx.fail("/fields has unsupported dtype " + h5_describe_type(t) + " (supported: " + kH5Supported + ")");
}

// ---- files ----------------------------------------------------------------------------------

H5Owned h5_fapl(const H5Ctx& ctx) {
  H5Owned fapl = h5_plist(ctx, H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
  // Dense attribute storage (no 64 KiB object-header limit on the metadata); readable by
  // every HDF5 >= 1.8 (h5py included).
  ctx.ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), "H5Pset_libver_bounds");
#if H5_VERSION_GE(1, 10, 7)
  // physgen never writes a file in place (writes go to a temporary name), so no locks are
  // needed; file systems without flock (NFS) would otherwise refuse to open.
  ctx.ok(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking");
#endif
  return fapl;
}

// Opens `path` for reading after the checks that give the clearest messages.
H5Owned h5_open_read(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw IoError("cannot read " + path + ": " + (err == ENOENT ? "no such file" : std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) throw IoError("cannot read " + path + ": not a regular file");
  const H5Ctx ctx{path};
  const htri_t is_h5 = H5Fis_hdf5(path.c_str());
  if (is_h5 == 0) {
    ctx.fail("not an HDF5 file (no HDF5 signature; physgen reads .h5/.hdf5 files as HDF5 and other "
             "ensembles as .npy)");
  }
  ctx.ok(is_h5, "checking the HDF5 signature");
  H5Owned fapl = h5_fapl(ctx);
  return {ctx.ok(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), "opening the file"), H5Fclose};
}

herr_t h5_collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

H5Owned h5_open_fields(const H5Ctx& ctx, hid_t file) {
  const htri_t exists = H5Lexists(file, kH5Dataset, H5P_DEFAULT);
  if (exists <= 0) {
    H5Eclear2(H5E_DEFAULT);
    std::vector<std::string> names;
    H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, nullptr, h5_collect_link, &names);
    H5Eclear2(H5E_DEFAULT);
    std::string found;
    for (const auto& n : names) found += (found.empty() ? "" : ", ") + ("'/" + n + "'");
    ctx.fail(std::string("no dataset '/") + kH5Dataset + "' (physgen ensembles keep the samples in /" + kH5Dataset +
             "; the file has " + (found.empty() ? std::string("no objects") : found) + ")");
  }
  H5Owned obj(ctx.ok(H5Oopen(file, kH5Dataset, H5P_DEFAULT), "opening /fields"), H5Oclose);
  if (H5Iget_type(obj.get()) != H5I_DATASET) ctx.fail(std::string("'/") + kH5Dataset + "' is not a dataset");
  return {ctx.ok(H5Dopen2(file, kH5Dataset, H5P_DEFAULT), "opening /fields"), H5Dclose};
}

std::vector<int64_t> h5_shape_of(const H5Ctx& ctx, hid_t space) {
  const H5S_class_t cls = H5Sget_simple_extent_type(space);
  if (cls == H5S_SCALAR) return {};
  if (cls != H5S_SIMPLE) ctx.fail("/fields has an empty (null) dataspace");
  const int rank = ctx.ok(H5Sget_simple_extent_ndims(space), "H5Sget_simple_extent_ndims");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  ctx.ok(H5Sget_simple_extent_dims(space, dims.data(), nullptr), "H5Sget_simple_extent_dims");
  std::vector<int64_t> shape;
  for (hsize_t d : dims) {
    if (d > static_cast<hsize_t>(std::numeric_limits<int64_t>::max() / 16)) ctx.fail("/fields is too large");
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

// ---- attributes -------------------------------------------------------------------------------

void h5_write_attr(const H5Ctx& ctx, hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type,
                   const void* data, hsize_t n, bool scalar) {
  H5Owned space = scalar ? h5_space(ctx, H5Screate(H5S_SCALAR), "H5Screate")
                         : h5_space(ctx, H5Screate_simple(1, &n, nullptr), "H5Screate_simple");
  H5Owned attr(ctx.ok(H5Acreate2(obj, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                      "creating attribute '" + name + "'"),
               H5Aclose);
  ctx.ok(H5Awrite(attr.get(), mem_type, data), "writing attribute '" + name + "'");
}

H5Owned h5_vlen_string_type(const H5Ctx& ctx) {
  H5Owned t = h5_type(ctx, H5Tcopy(H5T_C_S1), "H5Tcopy");
  ctx.ok(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  ctx.ok(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

void h5_write_strings(const H5Ctx& ctx, hid_t obj, const std::string& name, const std::vector<std::string>& s,
                      bool scalar) {
  H5Owned t = h5_vlen_string_type(ctx);
  std::vector<const char*> p;
  for (const auto& x : s) p.push_back(x.c_str());
  h5_write_attr(ctx, obj, name, t.get(), t.get(), p.data(), p.size(), scalar);
}

// One metadata value as attribute(s): objects are flattened to "name.key", values with no
// native HDF5 form become JSON strings.
void h5_write_value(const H5Ctx& ctx, hid_t obj, const std::string& name, const nlohmann::json& v,
                    std::set<std::string>& written) {
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, x] : v.items()) h5_write_value(ctx, obj, name + "." + k, x, written);
    return;
  }
  if (!written.insert(name).second) return;  // a dotted key that collides: physgen_meta keeps it
  const auto fits_i64 = [](const nlohmann::json& x) {
    return x.is_number_integer() &&
           !(x.is_number_unsigned() && x.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX));
  };
  if (v.is_string()) {
    h5_write_strings(ctx, obj, name, {v.get<std::string>()}, true);
  } else if (v.is_boolean()) {
    H5Owned t = h5_bool_type(ctx);
    const int8_t b = v.get<bool>() ? 1 : 0;
    h5_write_attr(ctx, obj, name, t.get(), t.get(), &b, 1, true);
  } else if (v.is_number_unsigned() && !fits_i64(v)) {
    const uint64_t u = v.get<uint64_t>();
    h5_write_attr(ctx, obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &u, 1, true);
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    h5_write_attr(ctx, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &i, 1, true);
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    h5_write_attr(ctx, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &d, 1, true);
  } else if (v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), fits_i64)) {
    std::vector<int64_t> a;
    for (const auto& x : v) a.push_back(x.get<int64_t>());
    h5_write_attr(ctx, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, a.data(), a.size(), false);
  } else if (v.is_array() && !v.empty() &&
             std::all_of(v.begin(), v.end(), [](const nlohmann::json& x) { return x.is_number(); })) {
    std::vector<double> a;
    for (const auto& x : v) a.push_back(x.get<double>());
    h5_write_attr(ctx, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, a.data(), a.size(), false);
  } else if (v.is_array() && !v.empty() &&
             std::all_of(v.begin(), v.end(), [](const nlohmann::json& x) { return x.is_string(); })) {
    std::vector<std::string> a;
    for (const auto& x : v) a.push_back(x.get<std::string>());
    h5_write_strings(ctx, obj, name, a, false);
  } else {
    h5_write_strings(ctx, obj, name, {v.dump()}, true);
  }
}

void h5_write_meta(const H5Ctx& ctx, hid_t obj, const nlohmann::json& meta) {
  std::set<std::string> written{kH5MetaAttr};
  h5_write_strings(ctx, obj, kH5MetaAttr, {meta.dump()}, true);
  for (const auto& [key, v] : meta.items()) {
    if (key == kH5MetaAttr) continue;
    if (key == "extra") {
      if (written.insert(key).second) h5_write_strings(ctx, obj, key, {v.dump()}, true);
    } else {
      h5_write_value(ctx, obj, key, v, written);
    }
  }
}

herr_t h5_collect_attr(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::vector<std::string> h5_attr_names(const H5Ctx& ctx, hid_t obj) {
  std::vector<std::string> names;
  ctx.ok(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, h5_collect_attr, &names),
         "listing the attributes of /fields");
  return names;
}

// An attribute as JSON: scalars for scalar dataspaces, arrays for 1-D ones. An attribute
// the metadata cannot hold (another type, more dimensions) fails, or with `unsupported` set
// returns null and says why there.
nlohmann::json h5_read_attr(const H5Ctx& ctx, hid_t obj, const std::string& name,
                            std::string* unsupported = nullptr) {
  const std::string what = "attribute '" + name + "' of /fields";
  auto refuse = [&](const std::string& why) -> nlohmann::json {
    if (unsupported == nullptr) ctx.fail(what + " " + why);
    *unsupported = what + " " + why;
    return nullptr;
  };
  H5Owned attr(ctx.ok(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening " + what), H5Aclose);
  H5Owned type = h5_type(ctx, H5Aget_type(attr.get()), "H5Aget_type");
  H5Owned space = h5_space(ctx, H5Aget_space(attr.get()), "H5Aget_space");
  const H5S_class_t scls = H5Sget_simple_extent_type(space.get());
  if (scls == H5S_NULL) return nullptr;
  size_t n = 1;
  if (scls == H5S_SIMPLE) {
    if (H5Sget_simple_extent_ndims(space.get()) != 1) return refuse("has more than one dimension (unsupported)");
    hsize_t dim = 0;
    ctx.ok(H5Sget_simple_extent_dims(space.get(), &dim, nullptr), "H5Sget_simple_extent_dims");
    n = static_cast<size_t>(dim);
  } else if (scls != H5S_SCALAR) {
    return refuse("has an unsupported dataspace");
  }
  nlohmann::json a = nlohmann::json::array();
  const hid_t t = type.get();
  const H5T_class_t cls = H5Tget_class(t);
  if (cls == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE && H5Tget_size(t) == 8) {
    std::vector<uint64_t> v(n);
    if (n > 0) ctx.ok(H5Aread(attr.get(), H5T_NATIVE_UINT64, v.data()), "reading " + what);
    for (uint64_t x : v) a.push_back(x);
  } else if (cls == H5T_INTEGER) {
    std::vector<int64_t> v(n);
    if (n > 0) ctx.ok(H5Aread(attr.get(), H5T_NATIVE_INT64, v.data()), "reading " + what);
    for (int64_t x : v) a.push_back(x);
  } else if (cls == H5T_FLOAT) {
    std::vector<double> v(n);
    if (n > 0) ctx.ok(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, v.data()), "reading " + what);
    for (double x : v) a.push_back(x);
  } else if (cls == H5T_ENUM && h5_is_bool_enum(t)) {
    H5Owned bt = h5_bool_type(ctx);
    std::vector<int8_t> v(n);
    if (n > 0) ctx.ok(H5Aread(attr.get(), bt.get(), v.data()), "reading " + what);
    for (int8_t x : v) a.push_back(x != 0);
  } else if (cls == H5T_STRING) {
    H5Owned mem = h5_type(ctx, H5Tcopy(t), "H5Tcopy");
    const htri_t vlen = ctx.ok(H5Tis_variable_str(t), "H5Tis_variable_str");
    if (vlen > 0) {
      std::vector<char*> v(n, nullptr);
      if (n > 0) ctx.ok(H5Aread(attr.get(), mem.get(), v.data()), "reading " + what);
      for (char* p : v) {
        a.push_back(p == nullptr ? std::string() : std::string(p));
        if (p != nullptr) H5free_memory(p);
      }
    } else {
      const size_t size = H5Tget_size(t);
      std::vector<char> v(n * size + 1, '\0');
      if (n > 0) ctx.ok(H5Aread(attr.get(), mem.get(), v.data()), "reading " + what);
      const bool space_pad = H5Tget_strpad(t) == H5T_STR_SPACEPAD;
      for (size_t i = 0; i < n; ++i) {
        std::string s(v.data() + i * size, size);
        const auto nul = s.find('\0');
        if (nul != std::string::npos) s.resize(nul);
        if (space_pad) s.erase(s.find_last_not_of(' ') + 1);
        a.push_back(s);
      }
    }
  } else {
    return refuse("has an unsupported type " + h5_describe_type(t) +
                  " (supported: integers, floats, strings, h5py's bool)");
  }
  if (scls == H5S_SCALAR) return a.at(0);
  return a;
}

// The metadata: physgen_meta when present, else rebuilt from the individual attributes.
nlohmann::json h5_read_meta(const H5Ctx& ctx, hid_t ds) {
  const auto names = h5_attr_names(ctx, ds);
  if (std::find(names.begin(), names.end(), kH5MetaAttr) != names.end()) {
    const nlohmann::json text = h5_read_attr(ctx, ds, kH5MetaAttr);
    if (!text.is_string()) ctx.fail(std::string("attribute '") + kH5MetaAttr + "' of /fields is not a string");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text.get<std::string>());
    } catch (const nlohmann::json::parse_error& e) {
      ctx.fail(std::string("attribute '") + kH5MetaAttr + "' of /fields: invalid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) {
      ctx.fail(std::string("attribute '") + kH5MetaAttr + "' of /fields: expected a JSON object, got " + j.type_name());
    }
    return j;
  }
  // Attributes of other tools that the metadata cannot hold are skipped, unless they stand
  // for one of the metadata's own keys.
  static const std::set<std::string> known{"system", "params", "generator", "algorithm", "seed",
                                           "chains", "samples_per_chain", "layout", "extra"};
  nlohmann::json j = nlohmann::json::object();
  for (const auto& name : names) {
    std::string unsupported;
    nlohmann::json v = h5_read_attr(ctx, ds, name, &unsupported);
    if (!unsupported.empty()) {
      if (known.count(name.substr(0, name.find('.'))) > 0) ctx.fail(unsupported);
      continue;
    }
    nlohmann::json* node = &j;
    std::string path;
    size_t start = 0;
    for (;;) {
      const size_t dot = name.find('.', start);
      const std::string key = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      path += (path.empty() ? "" : ".") + key;
      if (dot == std::string::npos) {
        if (node->contains(key)) ctx.fail("attributes '" + path + "' and '" + path + ".*' of /fields conflict");
        (*node)[key] = std::move(v);
        break;
      }
      if (node->contains(key) && !(*node)[key].is_object()) {
        ctx.fail("attributes '" + path + "' and '" + name + "' of /fields conflict");
      }
      node = &(*node)[key];
      start = dot + 1;
    }
  }
  for (const char* key : {"params", "extra"}) {
    if (j.contains(key) && j[key].is_string()) {
      auto parsed = nlohmann::json::parse(j[key].get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) j[key] = std::move(parsed);
    }
  }
  return j;
}

// ---- writing ----------------------------------------------------------------------------------

// Whole rows of ~1 MiB per chunk; rows larger than 1 GiB are split over their leading
// dimensions too (HDF5 chunks must stay below 4 GiB).
std::vector<hsize_t> h5_chunk_dims(const std::vector<int64_t>& shape, int64_t elsize) {
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  int64_t row_bytes = elsize;
  for (size_t d = 1; d < shape.size(); ++d) row_bytes *= shape[d];
  chunk[0] = static_cast<hsize_t>(std::clamp<int64_t>(kH5ChunkTarget / std::max<int64_t>(1, row_bytes), 1, shape[0]));
  auto bytes = [&] {
    int64_t b = elsize;
    for (hsize_t c : chunk) b *= static_cast<int64_t>(c);
    return b;
  };
  for (size_t d = 1; d < chunk.size() && bytes() > (int64_t{1} << 30); ++d) {
    int64_t rest = elsize;
    for (size_t e = d + 1; e < chunk.size(); ++e) rest *= static_cast<int64_t>(chunk[e]);
    chunk[d] = static_cast<hsize_t>(std::clamp<int64_t>(kH5ChunkTarget / std::max<int64_t>(1, rest), 1, shape[d]));
  }
  return chunk;
}

bool h5_deflate_available() {
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) return false;
  unsigned config = 0;
  if (H5Zget_filter_info(H5Z_FILTER_DEFLATE, &config) < 0) return false;
  return (config & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0;
}

std::string h5_parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Removes the temporary file unless released (after the rename).
struct H5TempFile {
  std::string path;
  bool armed = true;
  ~H5TempFile() {
    if (armed) ::unlink(path.c_str());
  }
};

void h5_write_dataset(const H5Ctx& ctx, const std::string& tmp, torch::ScalarType dtype,
                      const std::vector<int64_t>& shape, const nlohmann::json& meta,
                      const std::function<torch::Tensor(int64_t, int64_t)>& rows) {
  H5Owned fapl = h5_fapl(ctx);
  H5Owned file(ctx.ok(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "creating the file"),
               H5Fclose);
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  H5Owned space = h5_space(ctx, H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                           "H5Screate_simple");
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  const auto elsize = static_cast<int64_t>(c10::elementSize(dtype));
  H5Owned dcpl = h5_plist(ctx, H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
  ctx.ok(H5Pset_obj_track_times(dcpl.get(), false), "H5Pset_obj_track_times");
  std::vector<hsize_t> chunk;
  if (numel > 0) {  // chunks need every dimension >= 1; empty datasets stay contiguous
    chunk = h5_chunk_dims(shape, elsize);
    ctx.ok(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk");
    ctx.ok(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
    if (h5_deflate_available()) {
      ctx.ok(H5Pset_shuffle(dcpl.get()), "H5Pset_shuffle");
      ctx.ok(H5Pset_deflate(dcpl.get(), kH5DeflateLevel), "H5Pset_deflate");
    }
  }
  H5Owned ftype = h5_element_type(ctx, dtype, true), mtype = h5_element_type(ctx, dtype, false);
  H5Owned ds(ctx.ok(H5Dcreate2(file.get(), kH5Dataset, ftype.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                    "creating /fields"),
             H5Dclose);
  h5_write_meta(ctx, ds.get(), meta);

  if (numel > 0) {
    const int64_t row_bytes = elsize * (numel / shape[0]);
    const auto chunk_rows = static_cast<int64_t>(chunk[0]);
    const int64_t block =
        chunk_rows * std::max<int64_t>(1, kH5BlockTarget / std::max<int64_t>(1, row_bytes * chunk_rows));
    std::vector<int64_t> row_shape(shape.begin() + 1, shape.end());
    for (int64_t first = 0; first < shape[0]; first += block) {
      const int64_t k = std::min(block, shape[0] - first);
      torch::Tensor t = rows(first, k);
      check_arg(t.defined(), "rows(" + std::to_string(first) + ", " + std::to_string(k) + ")", std::string("undefined"),
                "a tensor");
      std::vector<int64_t> want{k};
      want.insert(want.end(), row_shape.begin(), row_shape.end());
      check_arg(t.sizes().vec() == want, "rows(" + std::to_string(first) + ", " + std::to_string(k) + ")",
                shape_string(t.sizes()), "shape " + shape_string(want));
      t = t.to(torch::kCPU, dtype).contiguous();
      std::vector<hsize_t> start(dims.size(), 0), count(dims);
      start[0] = static_cast<hsize_t>(first);
      count[0] = static_cast<hsize_t>(k);
      H5Owned mspace = h5_space(ctx, H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                                "H5Screate_simple");
      H5Owned fspace = h5_space(ctx, H5Scopy(space.get()), "H5Scopy");
      ctx.ok(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
             "H5Sselect_hyperslab");
      ctx.ok(H5Dwrite(ds.get(), mtype.get(), mspace.get(), fspace.get(), H5P_DEFAULT, t.data_ptr()),
             "writing rows " + std::to_string(first) + ".." + std::to_string(first + k - 1));
    }
  }
  ds.close(ctx, "closing /fields");
  file.close(ctx, "closing the file");
}

void h5_write_atomic(const std::string& path, torch::ScalarType dtype, const std::vector<int64_t>& shape,
                     const nlohmann::json& meta, const std::function<torch::Tensor(int64_t, int64_t)>& rows) {
  check_arg(!path.empty(), "path", path, "a non-empty file name");
  check_arg(h5_supported_dtype(dtype), "dtype", std::string(c10::toString(dtype)),
            std::string("one of ") + kH5Supported);
  check_arg(!shape.empty(), "shape", shape_string(shape), "at least one dimension (N, ...)");
  for (int64_t s : shape) check_arg(s >= 0, "shape", shape_string(shape), "sizes >= 0");
  check_arg(meta.is_object(), "meta", meta.dump(), "a JSON object");
  const H5Ctx ctx{"cannot write " + path};
  const std::string dir = h5_parent_dir(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) ctx.fail("directory '" + dir + "' does not exist");
  if (!S_ISDIR(st.st_mode)) ctx.fail("'" + dir + "' is not a directory");

  H5Session session;
  H5TempFile tmp{path + ".tmp." + std::to_string(::getpid())};
  try {
    h5_write_dataset(ctx, tmp.path, dtype, shape, meta, rows);
  } catch (const InvalidArgument&) {
    throw;
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    ctx.fail(error_message(e));
  }
  const int fd = ::open(tmp.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ctx.fail(std::string("reopening the temporary file failed: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) ctx.fail(std::string("fsync failed: ") + std::strerror(err));
  rename_file(tmp.path, path);
  tmp.armed = false;
}

}  // namespace

bool is_hdf5_path(const std::string& path) {
  auto ends_with = [&](const std::string& ext) {
    if (path.size() <= ext.size()) return false;
    for (size_t i = 0; i < ext.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(path[path.size() - ext.size() + i])) != ext[i]) return false;
    }
    return true;
  };
  return ends_with(".h5") || ends_with(".hdf5");
}

void write_h5_ensemble(const std::string& path, const torch::Tensor& x, const nlohmann::json& meta) {
  check_arg(x.defined(), "tensor", std::string("undefined"), "a defined tensor");
  check_arg(x.dim() >= 1, "tensor", shape_string(x.sizes()), "at least one dimension (N, ...)");
  check_arg(h5_supported_dtype(x.scalar_type()), "tensor dtype", std::string(c10::toString(x.scalar_type())),
            std::string("one of ") + kH5Supported);
  const torch::Tensor cpu = x.to(torch::kCPU).contiguous();
  h5_write_atomic(path, cpu.scalar_type(), cpu.sizes().vec(), meta,
                  [&](int64_t first, int64_t count) { return cpu.narrow(0, first, count); });
}

void write_h5_ensemble_rows(const std::string& path, torch::ScalarType dtype, const std::vector<int64_t>& shape,
                            const nlohmann::json& meta,
                            const std::function<torch::Tensor(int64_t first, int64_t count)>& rows) {
  check_arg(static_cast<bool>(rows), "rows", std::string("empty"), "a function giving the rows");
  h5_write_atomic(path, dtype, shape, meta, rows);
}

H5FieldsInfo read_h5_info(const std::string& path) {
  H5Session session;
  const H5Ctx ctx{path};
  H5Owned file = h5_open_read(path);
  H5Owned ds = h5_open_fields(ctx, file.get());
  H5Owned type = h5_type(ctx, H5Dget_type(ds.get()), "H5Dget_type");
  H5Owned space = h5_space(ctx, H5Dget_space(ds.get()), "H5Dget_space");
  H5FieldsInfo info;
  info.dtype = h5_dtype_of(ctx, type.get());
  info.shape = h5_shape_of(ctx, space.get());
  H5Owned dcpl = h5_plist(ctx, H5Dget_create_plist(ds.get()), "H5Dget_create_plist");
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(std::max<size_t>(1, info.shape.size()));
    const int rank = ctx.ok(H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "H5Pget_chunk");
    for (int d = 0; d < rank; ++d) info.chunk.push_back(static_cast<int64_t>(chunk[static_cast<size_t>(d)]));
  }
  const int nfilters = ctx.ok(H5Pget_nfilters(dcpl.get()), "H5Pget_nfilters");
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, config = 0, cd[8] = {0};
    size_t ncd = 8;
    char name[64] = {0};
    const H5Z_filter_t id =
        H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &ncd, cd, sizeof name, name, &config);
    ctx.ok(id, "H5Pget_filter2");
    if (id == H5Z_FILTER_DEFLATE) {
      info.filters.push_back("deflate");
      info.deflate_level = ncd > 0 ? static_cast<int>(cd[0]) : -1;
    } else if (id == H5Z_FILTER_SHUFFLE) {
      info.filters.push_back("shuffle");
    } else {
      info.filters.push_back(name[0] != '\0' ? std::string(name) : "filter " + std::to_string(id));
    }
  }
  return info;
}

nlohmann::json read_h5_meta(const std::string& path) {
  H5Session session;
  const H5Ctx ctx{path};
  H5Owned file = h5_open_read(path);
  H5Owned ds = h5_open_fields(ctx, file.get());
  return h5_read_meta(ctx, ds.get());
}

std::pair<torch::Tensor, nlohmann::json> read_h5_ensemble(const std::string& path) {
  H5Session session;
  const H5Ctx ctx{path};
  H5Owned file = h5_open_read(path);
  H5Owned ds = h5_open_fields(ctx, file.get());
  H5Owned type = h5_type(ctx, H5Dget_type(ds.get()), "H5Dget_type");
  H5Owned space = h5_space(ctx, H5Dget_space(ds.get()), "H5Dget_space");
  const torch::ScalarType dtype = h5_dtype_of(ctx, type.get());
  const std::vector<int64_t> shape = h5_shape_of(ctx, space.get());
  nlohmann::json meta = h5_read_meta(ctx, ds.get());

  int64_t numel = 1;
  for (int64_t s : shape) {
    if (s != 0 && numel > std::numeric_limits<int64_t>::max() / 16 / s) ctx.fail("/fields " + shape_string(shape) + " is too large");
    numel *= s;
  }
  const int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(dtype));
  check_memory(bytes, "data (" + shape_string(shape) + " " + c10::toString(dtype) + ")", "file", path);
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  if (numel > 0) {
    H5Owned mtype = h5_element_type(ctx, dtype, false);
    ctx.ok(H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()), "reading /fields");
  }
  if (dtype == torch::kBool && numel > 0) {
    const auto* p = static_cast<const unsigned char*>(t.data_ptr());
    for (int64_t i = 0; i < numel; ++i) {
      if (p[i] > 1) ctx.fail("bool dataset /fields holds byte " + std::to_string(p[i]) + " at flat index " + std::to_string(i));
    }
  }
  return {std::move(t), std::move(meta)};
}

torch::Tensor read_array(const std::string& path) {
  return is_hdf5_path(path) ? read_h5_ensemble(path).first : read_npy(path);
}

}  // namespace physgen
