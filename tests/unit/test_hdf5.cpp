// HDF5 ensembles (io/hdf5.h): round trips of every dtype and of the metadata, the layout
// (chunked in whole rows, shuffle + deflate, native attributes), strict errors naming the
// file, atomic writes, the extension dispatch of save_ensemble / load_ensemble and streamed
// simulations to .h5 (with resume). Malformed and foreign files are built with the HDF5 C API
// here (and with h5py where /usr/bin/python3 has it), so the reader is checked against files
// physgen did not write.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <memory>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/hdf5.h"
#include "physgen/io/npy.h"
#include "physgen/io/npy_rows.h"
#include "physgen/io/sidecar.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/simulate.h"
#include "support/io_test_util.h"
#include "support/killed_chain.h"

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

// ---- a little raw HDF5 (the test's own, independent of src/io/hdf5.cpp) ----------------------

struct H5tId {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5tId() {
    if (id >= 0) close(id);
  }
};

// A file with one dataset `name` of `type` and `shape`, filled from `data` (may be null).
void h5t_make_file(const std::string& path, const char* name, hid_t type, std::vector<hsize_t> shape,
                   const void* data, const std::function<void(hid_t)>& attrs = {}) {
  H5tId file{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
  ASSERT_GE(file.id, 0);
  H5tId space{H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose};
  H5tId ds{H5Dcreate2(file.id, name, type, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  ASSERT_GE(ds.id, 0);
  if (data != nullptr) {
    ASSERT_GE(H5Dwrite(ds.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
  if (attrs) attrs(ds.id);
}

void h5t_attr_string(hid_t obj, const char* name, const std::string& value) {
  H5tId t{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(t.id, H5T_VARIABLE);
  H5Tset_cset(t.id, H5T_CSET_UTF8);
  H5tId s{H5Screate(H5S_SCALAR), H5Sclose};
  H5tId a{H5Acreate2(obj, name, t.id, s.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  const char* p = value.c_str();
  ASSERT_GE(H5Awrite(a.id, t.id, &p), 0);
}

template <class T>
void h5t_attr_number(hid_t obj, const char* name, hid_t type, T value) {
  H5tId s{H5Screate(H5S_SCALAR), H5Sclose};
  H5tId a{H5Acreate2(obj, name, type, s.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  ASSERT_GE(H5Awrite(a.id, type, &value), 0);
}

// The kind of attribute `name` of /fields: "vlen-utf8", "int64", "uint64", "float64", "enum1".
std::string h5t_attr_kind(const std::string& path, const char* name) {
  H5tId file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  H5tId ds{H5Dopen2(file.id, "fields", H5P_DEFAULT), H5Dclose};
  if (H5Aexists(ds.id, name) <= 0) return "absent";
  H5tId a{H5Aopen(ds.id, name, H5P_DEFAULT), H5Aclose};
  H5tId t{H5Aget_type(a.id), H5Tclose};
  const size_t size = H5Tget_size(t.id);
  switch (H5Tget_class(t.id)) {
    case H5T_STRING:
      return std::string(H5Tis_variable_str(t.id) > 0 ? "vlen" : "fixed") +
             (H5Tget_cset(t.id) == H5T_CSET_UTF8 ? "-utf8" : "-ascii");
    case H5T_INTEGER:
      return (H5Tget_sign(t.id) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
    case H5T_FLOAT: return "float" + std::to_string(8 * size);
    case H5T_ENUM: return "enum" + std::to_string(size);
    default: return "other";
  }
}

EnsembleMeta ising_meta(int64_t L, int64_t chains, int64_t spc) {
  EnsembleMeta m;
  m.system = "ising";
  m.params = {{"L", L}, {"beta", 0.44}, {"J", 1.0}, {"h", 0.0}};
  m.generator = "test";
  m.algorithm = "wolff";
  m.seed = 18446744073709551557ULL;  // above 2^63: stored as uint64
  m.chains = chains;
  m.samples_per_chain = spc;
  m.extra = {{"therm", 100}, {"note", nullptr}, {"list", {1, "a"}}};
  return m;
}

torch::Tensor spins(int64_t n, int64_t L) {
  torch::manual_seed(3);
  return (torch::randint(0, 2, {n, L, L}) * 2 - 1).to(torch::kInt8);
}

// ---- round trips ------------------------------------------------------------------------------

TEST(Hdf5, ExtensionDecidesTheFormat) {
  for (const char* p : {"a.h5", "dir/a.hdf5", "A.H5", "x.HDF5"}) EXPECT_TRUE(is_hdf5_path(p)) << p;
  for (const char* p : {"a.npy", "h5", ".h5x", "a.h5.json", "a.h5.partial", "a_h5", "a.hdf"})
    EXPECT_FALSE(is_hdf5_path(p)) << p;
}

TEST(Hdf5, EveryDtypeRoundTripsWithItsMetadata) {
  TempDir dir;
  const nlohmann::json meta = {{"system", "toy"},
                               {"params", {{"d", 4}, {"nested", {{"x", 1.5}, {"flag", true}}}}},
                               {"seed", 18446744073709551615ULL},
                               {"negative", -7},
                               {"flag", false},
                               {"ints", {1, 2, 3}},
                               {"floats", {0.5, 2}},
                               {"strings", {"a", "b"}},
                               {"empty", nlohmann::json::object()},
                               {"none", nullptr},
                               {"unicode", "\xce\xb2 = 0.44"},
                               {"extra", {{"k", {1, 2}}}}};
  const auto base = torch::arange(-10, 14, torch::kFloat64).reshape({6, 4}) * 0.75;
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kFloat16, torch::kInt8, torch::kUInt8, torch::kBool,
                     torch::kInt16, torch::kInt32, torch::kInt64}) {
    SCOPED_TRACE(c10::toString(dtype));
    auto x = dtype == torch::kBool ? base > 0 : (dtype == torch::kUInt8 ? base.abs() : base).to(dtype);
    const std::string path = dir.file(std::string("e_") + c10::toString(dtype) + ".h5");
    write_h5_ensemble(path, x, meta);
    auto [y, back] = read_h5_ensemble(path);
    EXPECT_EQ(y.scalar_type(), dtype);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_TRUE(torch::equal(y, x));
    EXPECT_EQ(back, meta);  // exact, through physgen_meta
    EXPECT_EQ(read_h5_meta(path), meta);
    EXPECT_EQ(read_h5_info(path).dtype, dtype);
  }
  // Other ranks: (N,) and (N, L, L), and a non-contiguous tensor.
  const auto v = torch::arange(5, torch::kInt64);
  write_h5_ensemble(dir.file("v.h5"), v, meta);
  EXPECT_TRUE(torch::equal(read_h5_ensemble(dir.file("v.h5")).first, v));
  const auto t = torch::randn({3, 5, 5}).transpose(1, 2);
  write_h5_ensemble(dir.file("t.h5"), t, meta);
  EXPECT_TRUE(torch::equal(read_h5_ensemble(dir.file("t.h5")).first, t));
}

TEST(Hdf5, MetadataIsStoredAsNativeAttributes) {
  TempDir dir;
  const std::string path = dir.file("e.h5");
  save_ensemble(path, spins(12, 6), ising_meta(6, 3, 4));
  EXPECT_EQ(h5t_attr_kind(path, "system"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "generator"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "layout"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "params.L"), "int64");
  EXPECT_EQ(h5t_attr_kind(path, "params.beta"), "float64");
  EXPECT_EQ(h5t_attr_kind(path, "chains"), "int64");
  EXPECT_EQ(h5t_attr_kind(path, "samples_per_chain"), "int64");
  EXPECT_EQ(h5t_attr_kind(path, "seed"), "uint64");  // 18446744073709551557 > 2^63
  EXPECT_EQ(h5t_attr_kind(path, "extra"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "physgen_meta"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "physgen_version"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "created"), "vlen-utf8");
  EXPECT_EQ(h5t_attr_kind(path, "params"), "absent");  // flattened
  const auto j = read_h5_meta(path);
  EXPECT_TRUE(j.contains("physgen_version"));
  EXPECT_TRUE(j.contains("created"));
}

TEST(Hdf5, ChunkedInWholeRowsAndCompressed) {
  TempDir dir;
  const std::string path = dir.file("ising.h5");
  const int64_t n = 3000, L = 32;  // rows of 1 KiB: 1024 rows per ~1 MiB chunk
  const auto x = spins(n, L);
  save_ensemble(path, x, ising_meta(L, 3, 1000));
  const auto info = read_h5_info(path);
  EXPECT_EQ(info.shape, (std::vector<int64_t>{n, L, L}));
  EXPECT_EQ(info.chunk, (std::vector<int64_t>{1024, L, L}));
  EXPECT_EQ(info.filters, (std::vector<std::string>{"shuffle", "deflate"}));
  EXPECT_EQ(info.deflate_level, 4);
  // The same from the dataset creation property list, read here with the C API.
  {
    H5tId file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
    H5tId ds{H5Dopen2(file.id, "fields", H5P_DEFAULT), H5Dclose};
    H5tId dcpl{H5Dget_create_plist(ds.id), H5Pclose};
    EXPECT_EQ(H5Pget_layout(dcpl.id), H5D_CHUNKED);
    hsize_t chunk[3] = {0, 0, 0};
    EXPECT_EQ(H5Pget_chunk(dcpl.id, 3, chunk), 3);
    EXPECT_EQ(chunk[0], 1024u);
    EXPECT_EQ(chunk[1], 32u);
    ASSERT_EQ(H5Pget_nfilters(dcpl.id), 2);
    unsigned flags = 0, cd[4] = {0}, config = 0;
    size_t ncd = 4;
    EXPECT_EQ(H5Pget_filter2(dcpl.id, 0, &flags, &ncd, cd, 0, nullptr, &config), H5Z_FILTER_SHUFFLE);
    ncd = 4;
    EXPECT_EQ(H5Pget_filter2(dcpl.id, 1, &flags, &ncd, cd, 0, nullptr, &config), H5Z_FILTER_DEFLATE);
    EXPECT_EQ(cd[0], 4u);
    H5tId type{H5Dget_type(ds.id), H5Tclose};
    EXPECT_TRUE(H5Tequal(type.id, H5T_STD_I8LE) > 0);
  }
  // Random +-1 spins hold one bit per byte: compression must show.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_LT(st.st_size, n * L * L / 4) << "the data were not compressed";
  EXPECT_TRUE(torch::equal(load_ensemble(path).first, x));
}

TEST(Hdf5, SaveAndLoadEnsembleDispatchOnTheExtension) {
  TempDir dir;
  const auto x = spins(12, 6);
  const auto m = ising_meta(6, 3, 4);
  save_ensemble(dir.file("e.h5"), x, m);
  save_ensemble(dir.file("e.npy"), x, m);
  save_ensemble(dir.file("f.hdf5"), x.to(torch::kFloat32), m);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"e.h5", "e.npy", "e.npy.json", "f.hdf5"}));
  auto [y, meta] = load_ensemble(dir.file("e.h5"));
  EXPECT_TRUE(torch::equal(y, x));
  EXPECT_EQ(nlohmann::json(meta), nlohmann::json(m));
  EXPECT_EQ(load_ensemble(dir.file("f.hdf5")).first.scalar_type(), torch::kFloat32);
  // validate_ensemble applies when saving: nothing written for invalid data.
  auto bad = x.clone();
  bad[0][0][0] = 3;
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(dir.file("bad.h5"), bad, m); }),
                  {"bad.h5", "+-1"});
  EXPECT_FALSE(file_exists(dir.file("bad.h5")));
}

// ---- files not written by physgen ---------------------------------------------------------------

TEST(Hdf5, ReadsFilesWithoutPhysgenMetaFromTheirAttributes) {
  TempDir dir;
  const std::string path = dir.file("foreign.h5");
  const auto x = spins(4, 3);
  h5t_make_file(path, "fields", H5T_NATIVE_INT8, {4, 3, 3}, x.data_ptr(), [](hid_t ds) {
    h5t_attr_string(ds, "system", "ising");
    h5t_attr_number<int64_t>(ds, "params.L", H5T_NATIVE_INT64, 3);
    h5t_attr_number<double>(ds, "params.beta", H5T_NATIVE_DOUBLE, 0.4);
    h5t_attr_string(ds, "generator", "hand");
    h5t_attr_string(ds, "algorithm", "none");
    h5t_attr_number<uint64_t>(ds, "seed", H5T_NATIVE_UINT64, 9);
    h5t_attr_number<int32_t>(ds, "chains", H5T_NATIVE_INT32, 2);
    h5t_attr_number<int64_t>(ds, "samples_per_chain", H5T_NATIVE_INT64, 2);
    h5t_attr_string(ds, "extra", "{\"a\": [1, 2]}");
    // Another tool's attribute of a type the metadata cannot hold: skipped.
    hsize_t dims[2] = {2, 2};
    H5tId s{H5Screate_simple(2, dims, nullptr), H5Sclose};
    H5tId a{H5Acreate2(ds, "matrix", H5T_NATIVE_INT64, s.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    const int64_t v[4] = {1, 2, 3, 4};
    H5Awrite(a.id, H5T_NATIVE_INT64, v);
  });
  auto [y, meta] = load_ensemble(path);
  EXPECT_TRUE(torch::equal(y, x));
  EXPECT_EQ(meta.system, "ising");
  EXPECT_EQ(meta.params, (nlohmann::json{{"L", 3}, {"beta", 0.4}}));
  EXPECT_EQ(meta.seed, 9u);
  EXPECT_EQ(meta.chains, 2);
  EXPECT_EQ(meta.layout, "chain-major");
  EXPECT_EQ(meta.extra, (nlohmann::json{{"a", {1, 2}}}));
  EXPECT_FALSE(read_h5_meta(path).contains("matrix"));
}

TEST(Hdf5, H5pyReadsWhatPhysgenWritesAndViceVersa) {
  if (test::run_python("import h5py, numpy") != 0) GTEST_SKIP() << "/usr/bin/python3 with h5py not available";
  TempDir dir;
  const std::string d = dir.path();
  const auto base = torch::arange(-10, 14, torch::kFloat64).reshape({6, 4}) * 0.75;
  const nlohmann::json meta = {{"system", "toy"}, {"params", {{"d", 4}}}, {"seed", 5}, {"flag", true}};
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kFloat16, torch::kInt8, torch::kUInt8, torch::kBool,
                     torch::kInt16, torch::kInt32, torch::kInt64}) {
    auto x = dtype == torch::kBool ? base > 0 : (dtype == torch::kUInt8 ? base.abs() : base).to(dtype);
    write_h5_ensemble(d + "/" + c10::toString(dtype) + ".h5", x, meta);
    write_npy(d + "/" + c10::toString(dtype) + ".npy", x);
  }
  const std::string code =
      "import h5py, numpy as np, json\n"
      "d = '" + d + "'\n"
      "names = {'Float': 'float32', 'Double': 'float64', 'Half': 'float16', 'Char': 'int8', 'Byte': 'uint8',\n"
      "         'Bool': 'bool', 'Short': 'int16', 'Int': 'int32', 'Long': 'int64'}\n"
      "for t, np_name in names.items():\n"
      "    with h5py.File(d + '/' + t + '.h5', 'r') as f:\n"
      "        x = f['fields'][...]\n"
      "        a = f['fields'].attrs\n"
      "        assert x.dtype == np.dtype(np_name), (t, x.dtype)\n"
      "        assert np.array_equal(x, np.load(d + '/' + t + '.npy')), t\n"
      "        assert a['system'] == 'toy' and isinstance(a['system'], str), a['system']\n"
      "        assert a['params.d'] == 4 and a['params.d'].dtype == np.int64\n"
      "        assert a['flag'] == True and a['flag'].dtype == np.bool_, a['flag']\n"
      "        assert json.loads(a['physgen_meta'])['params'] == {'d': 4}\n"
      "import numpy as np\n"
      "with h5py.File(d + '/h5py.h5', 'w') as f:\n"
      "    x = np.where(np.arange(2 * 9).reshape(2, 3, 3) % 3 == 0, 1, -1).astype(np.int8)\n"
      "    ds = f.create_dataset('fields', data=x, chunks=(1, 3, 3), compression='gzip')\n"
      "    ds.attrs['system'] = 'ising'\n"
      "    ds.attrs['params.L'] = 3\n"
      "    ds.attrs['params.beta'] = 0.25\n"
      "    ds.attrs['generator'] = 'h5py'\n"
      "    ds.attrs['algorithm'] = 'none'\n"
      "    ds.attrs['seed'] = np.uint64(2**64 - 1)\n"
      "    ds.attrs['chains'] = 1\n"
      "    ds.attrs['samples_per_chain'] = 2\n"
      "    ds.attrs['layout'] = np.bytes_(b'sample-major')\n"  // a fixed-length string
      "    ds.attrs['extra'] = json.dumps({'ok': True})\n"
      "    ds.attrs['flags'] = np.array([True, False])\n";
  ASSERT_EQ(test::run_python(code), 0);
  auto [y, m] = load_ensemble(d + "/h5py.h5");
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 3}));
  EXPECT_EQ(y.scalar_type(), torch::kInt8);
  EXPECT_EQ(m.params, (nlohmann::json{{"L", 3}, {"beta", 0.25}}));
  EXPECT_EQ(m.seed, 18446744073709551615ULL);
  EXPECT_EQ(m.layout, "sample-major");
  EXPECT_EQ(m.extra, (nlohmann::json{{"ok", true}}));
  EXPECT_EQ(read_h5_meta(d + "/h5py.h5")["flags"], (nlohmann::json{true, false}));
}

// ---- strict errors, each naming the file ---------------------------------------------------------

TEST(Hdf5, MalformedFilesAreIoErrorsNamingTheFile) {
  TempDir dir;
  const std::string missing = dir.file("missing.h5");
  EXPECT_EQ(message_of<IoError>([&] { load_ensemble(missing); }), "cannot read " + missing + ": no such file");
  EXPECT_EQ(message_of<IoError>([&] { read_h5_ensemble(missing); }), "cannot read " + missing + ": no such file");

  const std::string text = dir.file("text.h5");
  test::spit(text, "this is not HDF5\n");
  expect_contains(message_of<IoError>([&] { load_ensemble(text); }), {text + ": not an HDF5 file"});
  const std::string empty = dir.file("empty.h5");
  test::spit(empty, "");
  expect_contains(message_of<IoError>([&] { load_ensemble(empty); }), {empty + ": not an HDF5 file"});
  const std::string npy = dir.file("npy.h5");  // an .npy under an .h5 name
  write_npy(npy, spins(2, 3));
  expect_contains(message_of<IoError>([&] { load_ensemble(npy); }), {npy + ": not an HDF5 file"});
  EXPECT_EQ(message_of<IoError>([&] { read_h5_ensemble(dir.path()); }),
            "cannot read " + dir.path() + ": not a regular file");

  const std::string other = dir.file("other.h5");
  const int8_t one[4] = {1, 1, 1, 1};
  h5t_make_file(other, "samples", H5T_NATIVE_INT8, {4}, one);
  expect_contains(message_of<IoError>([&] { load_ensemble(other); }),
                  {other + ": no dataset '/fields'", "'/samples'"});

  const std::string u16 = dir.file("u16.h5");
  const uint16_t w[2] = {1, 2};
  h5t_make_file(u16, "fields", H5T_NATIVE_UINT16, {2}, w);
  expect_contains(message_of<IoError>([&] { read_h5_ensemble(u16); }),
                  {u16 + ": /fields has unsupported dtype uint16", "supported: float32"});

  // Missing metadata keys name the key: from the individual attributes and from physgen_meta.
  const std::string nokey = dir.file("nokey.h5");
  const auto x = spins(4, 3);
  h5t_make_file(nokey, "fields", H5T_NATIVE_INT8, {4, 3, 3}, x.data_ptr(), [](hid_t ds) {
    h5t_attr_string(ds, "system", "ising");
    h5t_attr_number<int64_t>(ds, "params.L", H5T_NATIVE_INT64, 3);
    h5t_attr_string(ds, "generator", "hand");
    h5t_attr_string(ds, "algorithm", "none");
    h5t_attr_number<int64_t>(ds, "chains", H5T_NATIVE_INT64, 2);
    h5t_attr_number<int64_t>(ds, "samples_per_chain", H5T_NATIVE_INT64, 2);
  });
  EXPECT_EQ(message_of<IoError>([&] { load_ensemble(nokey); }), nokey + ": missing required key 'seed'");
  for (const char* key : {"system", "params", "generator", "algorithm", "seed", "chains", "samples_per_chain"}) {
    nlohmann::json j = ising_meta(3, 2, 2);
    j.erase(key);
    const std::string p = dir.file(std::string("no_") + key + ".h5");
    write_h5_ensemble(p, x, j);
    EXPECT_EQ(message_of<IoError>([&] { load_ensemble(p); }), p + ": missing required key '" + key + "'");
  }
  // No metadata at all.
  const std::string bare = dir.file("bare.h5");
  h5t_make_file(bare, "fields", H5T_NATIVE_INT8, {4, 3, 3}, x.data_ptr());
  EXPECT_EQ(message_of<IoError>([&] { load_ensemble(bare); }), bare + ": missing required key 'system'");

  // The data must fit the metadata.
  const std::string shape = dir.file("shape.h5");
  write_h5_ensemble(shape, x, ising_meta(5, 2, 2));
  expect_contains(message_of<IoError>([&] { load_ensemble(shape); }),
                  {shape + ": expected shape (N, L, L) with L = params.L = (*, 5, 5), got (4, 3, 3)"});
  const std::string count = dir.file("count.h5");
  write_h5_ensemble(count, x, ising_meta(3, 3, 2));
  expect_contains(message_of<IoError>([&] { load_ensemble(count); }), {count + ": 4 samples", "3 * 2"});

  // A damaged physgen_meta.
  const std::string json = dir.file("json.h5");
  h5t_make_file(json, "fields", H5T_NATIVE_INT8, {4, 3, 3}, x.data_ptr(),
                [](hid_t ds) { h5t_attr_string(ds, "physgen_meta", "{\"system\": "); });
  expect_contains(message_of<IoError>([&] { load_ensemble(json); }),
                  {json + ": attribute 'physgen_meta' of /fields: invalid JSON"});
  // A metadata attribute of a type the metadata cannot hold (a 2-D array).
  const std::string arr = dir.file("arr.h5");
  h5t_make_file(arr, "fields", H5T_NATIVE_INT8, {4, 3, 3}, x.data_ptr(), [](hid_t ds) {
    hsize_t dims[2] = {2, 2};
    H5tId s{H5Screate_simple(2, dims, nullptr), H5Sclose};
    H5tId a{H5Acreate2(ds, "params.grid", H5T_NATIVE_INT64, s.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    const int64_t v[4] = {1, 2, 3, 4};
    H5Awrite(a.id, H5T_NATIVE_INT64, v);
  });
  expect_contains(message_of<IoError>([&] { load_ensemble(arr); }),
                  {arr + ": attribute 'params.grid' of /fields has more than one dimension"});
  // h5py's bool enum reads as bool; a bool dataset holding other bytes is refused.
  const std::string bools = dir.file("bools.h5"), bytes2 = dir.file("bytes2.h5");
  {
    H5tId bt{H5Tenum_create(H5T_NATIVE_INT8), H5Tclose};
    int8_t v = 0;
    H5Tenum_insert(bt.id, "FALSE", &v);
    v = 1;
    H5Tenum_insert(bt.id, "TRUE", &v);
    const int8_t raw[3] = {0, 1, 1}, raw2[3] = {0, 2, 1};
    h5t_make_file(bools, "fields", bt.id, {3}, raw);
    h5t_make_file(bytes2, "fields", bt.id, {3}, raw2);
  }
  EXPECT_TRUE(torch::equal(read_h5_ensemble(bools).first, torch::tensor({false, true, true})));
  expect_contains(message_of<IoError>([&] { read_h5_ensemble(bytes2); }), {bytes2 + ": "});

  // Truncated files (every prefix of a valid one, in steps) are IoErrors, never crashes.
  const std::string good = dir.file("good.h5");
  save_ensemble(good, spins(300, 8), ising_meta(8, 3, 100));
  const std::string bytes = test::slurp(good);
  const std::string cut = dir.file("cut.h5");
  for (size_t n = 0; n < bytes.size(); n += std::max<size_t>(1, bytes.size() / 97)) {
    test::spit(cut, bytes.substr(0, n));
    try {
      load_ensemble(cut);
      ADD_FAILURE() << "a file cut to " << n << " of " << bytes.size() << " bytes was read";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }
}

TEST(Hdf5, WritesAreAtomic) {
  TempDir dir;
  const std::string path = dir.file("e.h5");
  const nlohmann::json meta = {{"system", "toy"}};
  write_h5_ensemble(path, torch::ones({4, 2}), meta);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"e.h5"});  // no temporary file left
  const std::string before = test::slurp(path);

  // Rows are asked for in whole chunks, in blocks of <= 64 MiB, in order.
  const std::vector<int64_t> small{3, 2};
  std::vector<std::pair<int64_t, int64_t>> asked;
  write_h5_ensemble_rows(dir.file("small.h5"), torch::kFloat32, small, meta, [&](int64_t first, int64_t count) {
    asked.emplace_back(first, count);
    return torch::zeros({count, 2});
  });
  EXPECT_EQ(asked, (std::vector<std::pair<int64_t, int64_t>>{{0, 3}}));
  ASSERT_EQ(std::remove(dir.file("small.h5").c_str()), 0);

  // Several blocks land at their rows.
  const std::string blocks = dir.file("blocks.h5");
  const std::vector<int64_t> rows_shape{600, 32768};
  write_h5_ensemble_rows(blocks, torch::kFloat32, rows_shape, meta, [](int64_t first, int64_t count) {
    return torch::arange(first, first + count, torch::kFloat32).unsqueeze(1).expand({count, 32768});
  });
  const auto got = read_h5_ensemble(blocks).first;
  EXPECT_TRUE(torch::equal(got.select(1, 32767), torch::arange(600, torch::kFloat32)));
  EXPECT_TRUE(torch::equal(got.select(1, 0), torch::arange(600, torch::kFloat32)));
  ASSERT_EQ(std::remove(blocks.c_str()), 0);

  // A writer that fails after its first block (128 KiB rows: 8 per chunk, 512 per block): the
  // old file stays, no temporary file is left.
  const std::vector<int64_t> big{600, 32768};
  asked.clear();
  expect_contains(message_of<IoError>([&] {
                    write_h5_ensemble_rows(path, torch::kFloat32, big, meta, [&](int64_t first, int64_t count) {
                      asked.emplace_back(first, count);
                      if (first > 0) throw std::runtime_error("boom at row " + std::to_string(first));
                      return torch::zeros({count, 32768});
                    });
                  }),
                  {"cannot write " + path, "boom at row 512"});
  EXPECT_EQ(asked, (std::vector<std::pair<int64_t, int64_t>>{{0, 512}, {512, 88}}));
  EXPECT_EQ(test::slurp(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"e.h5"});

  // physgen's own errors from the writer pass unchanged; wrong row shapes are refused.
  EXPECT_THROW(write_h5_ensemble_rows(path, torch::kFloat32, small, meta,
                                      [](int64_t, int64_t) -> torch::Tensor { throw IoError("mine"); }),
               IoError);
  expect_contains(message_of<InvalidArgument>([&] {
                    write_h5_ensemble_rows(path, torch::kFloat32, small, meta,
                                           [](int64_t, int64_t count) { return torch::zeros({count, 3}); });
                  }),
                  {"shape (3, 2)"});
  EXPECT_EQ(test::slurp(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"e.h5"});

  // Arguments.
  message_of<InvalidArgument>([&] { write_h5_ensemble(path, torch::ones({2}, torch::kComplexFloat), meta); });
  message_of<InvalidArgument>([&] { write_h5_ensemble(path, torch::tensor(1.0), meta); });
  message_of<InvalidArgument>([&] { write_h5_ensemble(path, torch::ones({2}), nlohmann::json::array()); });
  expect_contains(message_of<IoError>([&] { write_h5_ensemble(dir.file("no/such/dir/e.h5"), torch::ones({2}), meta); }),
                  {"cannot write " + dir.file("no/such/dir/e.h5"), "does not exist"});
  EXPECT_EQ(test::slurp(path), before);
}

// ---- streamed simulations to .h5 ------------------------------------------------------------------

using test::Killed;
using test::KilledAfter;

StreamResult h5_stream_ising(const std::string& path, int64_t samples, bool resume, int64_t kill_after = -1) {
  IsingSampler chain(IsingParams{8, 0.4}, "metropolis", 3, 5);
  RecordOptions r;
  r.therm = 7;
  r.samples = samples;
  r.every = 2;
  r.progress = false;
  StreamOptions s;
  s.path = path;
  s.dtype = torch::kInt8;
  s.resume = resume;
  s.snapshot_seconds = 0.0;
  s.run = {{"seed", 5}, {"algo", "metropolis"}};
  auto meta = [samples](const MarkovChain& c) {
    EnsembleMeta m;
    m.system = "ising";
    m.params = {{"L", 8}, {"beta", 0.4}, {"J", 1.0}, {"h", 0.0}};
    m.generator = "test";
    m.algorithm = "metropolis";
    m.seed = 5;
    m.chains = c.chains();
    m.samples_per_chain = samples;
    return m;
  };
  if (kill_after < 0) return record_chain_to_file(chain, r, s, meta);
  KilledAfter killed(chain, kill_after);
  return record_chain_to_file(killed, r, s, meta);
}

nlohmann::json without_created(nlohmann::json j) {
  j.erase("created");
  return j;
}

TEST(Hdf5Stream, SimulationStreamsToH5AndResumesToTheSameData) {
  TempDir dir;
  const std::string npy = dir.file("ref.npy"), ref = dir.file("ref.h5"), run = dir.file("run.h5");
  h5_stream_ising(npy, 40, false);
  const auto res = h5_stream_ising(ref, 40, false);
  EXPECT_EQ(res.shape, (std::vector<int64_t>{120, 8, 8}));
  EXPECT_FALSE(file_exists(partial_path(ref)));
  EXPECT_FALSE(file_exists(resume_path(ref)));
  EXPECT_FALSE(file_exists(ref + ".json"));  // no sidecar for .h5
  const auto [x, meta] = load_ensemble(ref);
  EXPECT_EQ(x.scalar_type(), torch::kInt8);
  EXPECT_TRUE(torch::equal(x, read_npy(npy)));  // the same samples as the .npy run
  EXPECT_EQ(nlohmann::json(meta), nlohmann::json(load_ensemble(npy).second));
  EXPECT_EQ(without_created(read_h5_meta(ref)), without_created(read_sidecar(npy)));
  EXPECT_EQ(read_h5_info(ref).filters, (std::vector<std::string>{"shuffle", "deflate"}));

  // Killed during the recording: the .npy-format partial and the resume file stay, no .h5.
  EXPECT_THROW(h5_stream_ising(run, 40, false, 7 + 2 * 13 + 1), Killed);
  ASSERT_TRUE(file_exists(partial_path(run)));
  ASSERT_TRUE(file_exists(resume_path(run)));
  EXPECT_FALSE(file_exists(run));
  EXPECT_TRUE(torch::equal(read_npy(partial_path(run)).view({3, 40, 8, 8}).narrow(1, 0, 13),
                           x.view({3, 40, 8, 8}).narrow(1, 0, 13)));
  EXPECT_THROW(h5_stream_ising(run, 40, false), InvalidArgument);  // would overwrite it
  EXPECT_THROW(h5_stream_ising(run, 40, true, 2 * 10 + 1), Killed);
  EXPECT_EQ(h5_stream_ising(run, 40, true).resumed_at, 23);
  EXPECT_TRUE(torch::equal(read_h5_ensemble(run).first, x));
  EXPECT_EQ(without_created(read_h5_meta(run)), without_created(read_h5_meta(ref)));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ref.h5", "ref.npy", "ref.npy.json", "run.h5"}));

  // Negative control: the data of another seed differ (the comparison above has power).
  IsingSampler other(IsingParams{8, 0.4}, "metropolis", 3, 6);
  RecordOptions r;
  r.therm = 7;
  r.samples = 40;
  r.every = 2;
  r.progress = false;
  EXPECT_FALSE(torch::equal(record_chain(other, r), x));
}

TEST(Hdf5Stream, AFailedConversionIsFinishedByResumeWithoutRunningTheChain) {
  TempDir dir;
  const std::string ref = dir.file("ref.h5"), run = dir.file("run.h5");
  h5_stream_ising(ref, 20, false);
  // A directory in the way of the final rename: the run completes, the conversion fails.
  ASSERT_EQ(::mkdir(run.c_str(), 0755), 0);
  expect_contains(message_of<IoError>([&] { h5_stream_ising(run, 20, false); }), {"cannot write " + run});
  ASSERT_TRUE(file_exists(partial_path(run)));
  ASSERT_TRUE(file_exists(resume_path(run)));
  ASSERT_EQ(::rmdir(run.c_str()), 0);
  // The resume needs no update at all (the chain "dies" at its first one).
  EXPECT_EQ(h5_stream_ising(run, 20, true, /*kill_after=*/0).resumed_at, 20);
  EXPECT_TRUE(torch::equal(read_h5_ensemble(run).first, read_h5_ensemble(ref).first));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ref.h5", "run.h5"}));
}

}  // namespace
}  // namespace physgen
