// .npy read/write: round trips, exact header bytes, malformed files, numpy interop.
#include <gtest/gtest.h>

#include <cstring>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/io/npy.h"
#include "support/io_test_util.h"

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

// A .npy file from its parts: version `major`.0, header dict text (padded here
// to a multiple of 64 bytes with a final newline) and raw data.
std::string npy_bytes(int major, std::string dict, const std::string& data) {
  const size_t prefix = major == 1 ? 10 : 12;
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const size_t len = dict.size();
  for (size_t b = 0; b < (major == 1 ? 2u : 4u); ++b) out += static_cast<char>((len >> (8 * b)) & 0xff);
  return out + dict + data;
}

std::string f32_bytes(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.begin(), s.size());
  return s;
}

torch::Tensor sample_tensor(torch::ScalarType dtype, at::IntArrayRef shape) {
  const int64_t n = c10::multiply_integers(shape);
  auto base = torch::arange(n, torch::kFloat64);
  torch::Tensor t;
  if (dtype == torch::kBool) {
    t = (base.remainder(3) == 0);
  } else if (dtype == torch::kInt8) {
    t = (base.remainder(256) - 128).to(dtype);
  } else if (dtype == torch::kUInt8) {
    t = base.remainder(256).to(dtype);
  } else if (isFloatingType(dtype)) {
    t = ((base - 7.25) * 0.37).to(dtype);
  } else {
    t = ((base - 3) * 1000003).to(dtype);
  }
  return t.reshape(shape);
}

const std::vector<torch::ScalarType> kDtypes = {torch::kFloat32, torch::kFloat64, torch::kFloat16,
                                                torch::kInt8,    torch::kUInt8,   torch::kBool,
                                                torch::kInt16,   torch::kInt32,   torch::kInt64};

TEST(Npy, RoundTripEveryDtypeAndShape) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{}, {7}, {3, 4, 5}, {0, 3}, {2, 1, 3, 2}};
  for (auto dtype : kDtypes) {
    for (const auto& shape : shapes) {
      const auto t = sample_tensor(dtype, shape);
      const auto path = dir.file("rt.npy");
      write_npy(path, t);
      const auto back = read_npy(path);
      EXPECT_EQ(back.scalar_type(), dtype);
      EXPECT_EQ(back.sizes(), t.sizes()) << c10::toString(dtype);
      EXPECT_TRUE(torch::equal(back, t)) << c10::toString(dtype) << " " << t.sizes();
    }
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"rt.npy"});
}

TEST(Npy, ExactHeaderBytes) {
  TempDir dir;
  const auto path = dir.file("h.npy");
  write_npy(path, torch::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}}));
  const auto bytes = test::slurp(path);
  const std::string expected_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  ASSERT_EQ(bytes.size(), 128u + 24u);  // 10 + 60 dict + padding -> 128, then 6 floats
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8), 118);
  EXPECT_EQ(bytes.substr(10, expected_dict.size()), expected_dict);
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_EQ(bytes.substr(128), f32_bytes({1, 2, 3, 4, 5, 6}));

  write_npy(path, torch::zeros({5}, torch::kInt8));
  EXPECT_NE(test::slurp(path).find("{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }"),
            std::string::npos);
  write_npy(path, torch::tensor(2.5));
  EXPECT_NE(test::slurp(path).find("'shape': (), }"), std::string::npos);
}

TEST(Npy, NonContiguousAndOtherDeviceLayoutsAreWrittenInCOrder) {
  TempDir dir;
  const auto t = torch::arange(12, torch::kFloat64).reshape({3, 4}).t();  // (4, 3), strided
  write_npy(dir.file("t.npy"), t);
  EXPECT_TRUE(torch::equal(read_npy(dir.file("t.npy")), t.contiguous()));
}

TEST(Npy, UnsupportedDtypeForWritingListsSupported) {
  TempDir dir;
  auto msg = message_of<InvalidArgument>(
      [&] { write_npy(dir.file("c.npy"), torch::zeros({2}, torch::kComplexFloat)); });
  expect_contains(msg, {"ComplexFloat", "float32 '<f4'", "float64 '<f8'", "int8 '|i1'"});
  msg = message_of<InvalidArgument>([&] { write_npy(dir.file("c.npy"), torch::zeros({2}, torch::kBFloat16)); });
  expect_contains(msg, {"BFloat16"});
  message_of<InvalidArgument>([&] { write_npy(dir.file("c.npy"), torch::Tensor()); });
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Npy, MissingFile) {
  TempDir dir;
  const auto path = dir.file("absent.npy");
  expect_contains(message_of<IoError>([&] { read_npy(path); }), {path, "no such file"});
}

struct Malformed {
  const char* name;
  std::string bytes;
  std::vector<std::string> expect;
};

TEST(Npy, MalformedFilesAreRejectedWithTheReason) {
  const std::string dict23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string six = f32_bytes({1, 2, 3, 4, 5, 6});
  std::string v4 = npy_bytes(1, dict23, six);
  v4[6] = 4;
  const std::vector<Malformed> cases = {
      {"empty.npy", "", {"bad magic"}},
      {"magic.npy", "PK\x03\x04 not numpy at all", {"not a .npy file", "bad magic", "PK\\x03\\x04"}},
      {"short.npy", std::string("\x93NUMPY\x01", 7), {"truncated .npy header"}},
      {"version.npy", v4, {"unsupported .npy version 4.0", "1.0, 2.0, 3.0"}},
      {"hdrlen.npy", npy_bytes(1, dict23, six).substr(0, 40), {"truncated .npy header", "header length 118"}},
      {"dict.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) ", six),
       {"malformed .npy header dict", "unexpected end of header"}},
      {"garbled.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': Flase, 'shape': (2, 3), }", six),
       {"malformed .npy header dict", "unexpected 'Flase"}},
      {"nokey.npy", npy_bytes(1, "{'descr': '<f4', 'shape': (2, 3), }", six),
       {"malformed .npy header", "missing key 'fortran_order'"}},
      {"extrakey.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", six),
       {"exactly the keys"}},
      {"negshape.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", six),
       {"'shape'", "negative"}},
      {"complex.npy", npy_bytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", six),
       {"unsupported dtype '<c8'", "float32 '<f4'"}},
      {"unicode.npy", npy_bytes(1, "{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", six),
       {"unsupported dtype '<U5'"}},
      {"struct.npy",
       npy_bytes(1, "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (3,), }", six),
       {"unsupported dtype [[\"x\",\"<f4\"],[\"y\",\"<f4\"]]", "structured"}},
      {"fortran.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", six),
       {"Fortran order not supported"}},
      {"trunc.npy", npy_bytes(1, dict23, six.substr(0, 20)),
       {"truncated data: expected 24 bytes", "got 20"}},
      {"trailing.npy", npy_bytes(1, dict23, six + "abc"), {"trailing garbage: 3 bytes"}},
      {"badbool.npy", npy_bytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x02\x00", 3)),
       {"bool array holds byte 2"}},
  };
  TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir.file(c.name);
    test::spit(path, c.bytes);
    const auto msg = message_of<IoError>([&] { read_npy(path); });
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << "message does not start with the file name: " << msg;
    for (const auto& e : c.expect) expect_contains(msg, {e});
  }
}

TEST(Npy, ReadsVersion2BigEndianAndPython2Headers) {
  TempDir dir;
  // Version 2.0 header, double quotes, no trailing comma.
  test::spit(dir.file("v2.npy"),
             npy_bytes(2, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}", f32_bytes({1, -2, 3.5})));
  EXPECT_TRUE(torch::equal(read_npy(dir.file("v2.npy")), torch::tensor({1.f, -2.f, 3.5f})));
  // Big-endian float64: bytes of 1.5 = 0x3FF8000000000000 most significant first.
  test::spit(dir.file("be.npy"), npy_bytes(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                                           std::string("\x3f\xf8\0\0\0\0\0\0", 8)));
  EXPECT_EQ(read_npy(dir.file("be.npy")).item<double>(), 1.5);
  // Python 2 long integers in the shape; '<i1' instead of '|i1'.
  test::spit(dir.file("py2.npy"), npy_bytes(1, "{'descr': '<i1', 'fortran_order': False, 'shape': (2L, 1L), }",
                                            std::string("\x05\xfb", 2)));
  const auto t = read_npy(dir.file("py2.npy"));
  EXPECT_EQ(t.scalar_type(), torch::kInt8);
  EXPECT_TRUE(torch::equal(t, torch::tensor({{5}, {-5}}, torch::kInt8)));
}

TEST(Npy, CheckFiniteNamesTheIndexAndPicksTheExceptionType) {
  auto x = torch::zeros({2, 3, 4});
  EXPECT_EQ(first_nonfinite_index(x), -1);
  check_finite(x, "x");
  x.index_put_({1, 2, 0}, std::numeric_limits<float>::quiet_NaN());
  x.index_put_({1, 2, 3}, std::numeric_limits<float>::infinity());
  EXPECT_EQ(first_nonfinite_index(x), 1 * 12 + 2 * 4 + 0);
  expect_contains(message_of<IoError>([&] { check_finite(x, "data/phi4.npy", Blame::file); }),
                  {"data/phi4.npy contains NaN/Inf at index (1, 2, 0)", "nan"});
  expect_contains(message_of<InvalidArgument>([&] { check_finite(x, "samples"); }),
                  {"samples contains NaN/Inf at index (1, 2, 0)"});
  EXPECT_EQ(first_nonfinite_index(torch::ones({3}, torch::kInt64)), -1);
}

TEST(Npy, CheckShapeMessage) {
  const auto x = torch::zeros({10, 4, 4});
  check_shape(x, {kAnyDim, 4, 4}, "x");
  EXPECT_EQ(message_of<IoError>([&] { check_shape(x, {kAnyDim, 8, 8}, "ens.npy", "(N, L, L)", Blame::file); }),
            "ens.npy: expected shape (N, L, L) = (*, 8, 8), got (10, 4, 4)");
  EXPECT_EQ(message_of<InvalidArgument>([&] { check_shape(x, {kAnyDim, 2}, "points"); }),
            "points: expected shape (*, 2), got (10, 4, 4)");
}

// ---- numpy interoperability (Debian's python3-numpy) ----------------------

TEST(NpyNumpy, ReadsFilesWrittenByNumpy) {
  if (!test::numpy_available()) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  TempDir dir;
  const std::string d = dir.path();
  const std::string code =
      "import numpy as np\n"
      "d = '" + d + "'\n"
      "a = (np.arange(24, dtype=np.float64) * 0.37 - 2.5).reshape(2, 3, 4)\n"
      "np.save(d + '/f4.npy', a.astype('<f4'))\n"
      "np.save(d + '/f8.npy', a)\n"
      "np.save(d + '/f8be.npy', a.astype('>f8'))\n"
      "np.save(d + '/i1.npy', (np.arange(24) % 3 - 1).astype(np.int8).reshape(2, 3, 4))\n"
      "np.save(d + '/u1.npy', np.arange(24, dtype=np.uint8))\n"
      "np.save(d + '/b1.npy', np.arange(24) % 3 == 0)\n"
      "np.save(d + '/i8.npy', np.arange(24, dtype=np.int64) * 1000003 - 5)\n"
      "np.save(d + '/scalar.npy', np.float32(3.25))\n"
      "np.save(d + '/empty.npy', np.zeros((0, 5), np.float32))\n"
      "np.save(d + '/fortran.npy', np.asfortranarray(a))\n"
      "with open(d + '/v2.npy', 'wb') as f: np.lib.format.write_array(f, a, version=(2, 0))\n"
      "with open(d + '/v3.npy', 'wb') as f: np.lib.format.write_array(f, a, version=(3, 0))\n";
  ASSERT_EQ(test::run_python(code), 0);
  const auto a = (torch::arange(24, torch::kFloat64) * 0.37 - 2.5).reshape({2, 3, 4});
  EXPECT_TRUE(torch::equal(read_npy(d + "/f4.npy"), a.to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(read_npy(d + "/f8.npy"), a));
  EXPECT_TRUE(torch::equal(read_npy(d + "/f8be.npy"), a));
  EXPECT_TRUE(torch::equal(read_npy(d + "/v2.npy"), a));
  EXPECT_TRUE(torch::equal(read_npy(d + "/v3.npy"), a));
  EXPECT_TRUE(torch::equal(read_npy(d + "/i1.npy"),
                           (torch::arange(24).remainder(3) - 1).to(torch::kInt8).reshape({2, 3, 4})));
  EXPECT_TRUE(torch::equal(read_npy(d + "/u1.npy"), torch::arange(24).to(torch::kUInt8)));
  EXPECT_TRUE(torch::equal(read_npy(d + "/b1.npy"), torch::arange(24).remainder(3) == 0));
  EXPECT_TRUE(torch::equal(read_npy(d + "/i8.npy"), torch::arange(24) * 1000003 - 5));
  const auto s = read_npy(d + "/scalar.npy");
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item<float>(), 3.25f);
  EXPECT_EQ(read_npy(d + "/empty.npy").sizes(), (std::vector<int64_t>{0, 5}));
  expect_contains(message_of<IoError>([&] { read_npy(d + "/fortran.npy"); }),
                  {d + "/fortran.npy", "Fortran order not supported"});
}

TEST(NpyNumpy, NumpyReadsFilesWeWrite) {
  if (!test::numpy_available()) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  TempDir dir;
  const std::string d = dir.path();
  const auto a = (torch::arange(24, torch::kFloat64) * 0.37 - 2.5).reshape({2, 3, 4});
  write_npy(d + "/f4.npy", a.to(torch::kFloat32));
  write_npy(d + "/f8.npy", a);
  write_npy(d + "/i1.npy", (torch::arange(24).remainder(3) - 1).to(torch::kInt8).reshape({2, 3, 4}));
  write_npy(d + "/b1.npy", torch::arange(5) > 2);
  write_npy(d + "/i8.npy", torch::arange(7) * -3);
  write_npy(d + "/scalar.npy", torch::tensor(2.5, torch::kFloat64));
  write_npy(d + "/empty.npy", torch::zeros({0, 3}, torch::kFloat16));
  const std::string code =
      "import numpy as np, sys\n"
      "d = '" + d + "'\n"
      "a = (np.arange(24, dtype=np.float64) * 0.37 - 2.5).reshape(2, 3, 4)\n"
      "def check(name, expected):\n"
      "    x = np.load(d + '/' + name)\n"
      "    assert x.dtype == expected.dtype, (name, x.dtype)\n"
      "    assert x.shape == expected.shape, (name, x.shape)\n"
      "    assert (x == expected).all(), name\n"
      "check('f4.npy', a.astype(np.float32))\n"
      "check('f8.npy', a)\n"
      "check('i1.npy', (np.arange(24) % 3 - 1).astype(np.int8).reshape(2, 3, 4))\n"
      "check('b1.npy', np.arange(5) > 2)\n"
      "check('i8.npy', np.arange(7, dtype=np.int64) * -3)\n"
      "check('scalar.npy', np.array(2.5))\n"
      "check('empty.npy', np.zeros((0, 3), np.float16))\n";
  EXPECT_EQ(test::run_python(code), 0);
}

}  // namespace
}  // namespace physgen
