#include "physgen/io/npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/io/atomic_file.h"

namespace physgen {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "physgen's .npy code assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;

struct NpyType {
  char kind;  // numpy kind character: 'f', 'i', 'u', 'b'
  int size;   // bytes per element
  torch::ScalarType dtype;
  const char* name;
};

const NpyType kTypes[] = {
    {'f', 4, torch::kFloat32, "float32"}, {'f', 8, torch::kFloat64, "float64"},
    {'f', 2, torch::kFloat16, "float16"}, {'i', 1, torch::kInt8, "int8"},
    {'u', 1, torch::kUInt8, "uint8"},     {'b', 1, torch::kBool, "bool"},
    {'i', 2, torch::kInt16, "int16"},     {'i', 4, torch::kInt32, "int32"},
    {'i', 8, torch::kInt64, "int64"},
};

std::string descr_of(const NpyType& t) {
  return std::string(1, t.size == 1 ? '|' : '<') + t.kind + std::to_string(t.size);
}

std::string supported_list() {
  std::string s;
  for (const auto& t : kTypes) {
    if (!s.empty()) s += ", ";
    s += std::string(t.name) + " '" + descr_of(t) + "'";
  }
  return s;
}

// ---- reading -------------------------------------------------------------

[[noreturn]] void bad(const std::string& path, const std::string& reason) {
  throw IoError(path + ": " + reason);
}

std::string printable(const std::string& s, size_t max_len = 200) {
  std::string out;
  for (unsigned char c : s.substr(0, max_len)) {
    if (std::isprint(c)) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max_len) out += "...";
  return out;
}

// A parser for the Python literal subset .npy headers use: dicts, tuples,
// lists, strings, integers (with an optional Python-2 'L'), True/False/None.
// Values become JSON (tuples and lists become arrays).
class LiteralParser {
 public:
  explicit LiteralParser(const std::string& s) : s_(s) {}

  nlohmann::json parse_top() {
    nlohmann::json v = value();
    skip_ws();
    if (pos_ != s_.size()) error("unexpected '" + s_.substr(pos_, 10) + "' after the dict");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    throw std::runtime_error(what + " at offset " + std::to_string(pos_));
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char peek() {
    skip_ws();
    if (pos_ >= s_.size()) error("unexpected end of header");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  nlohmann::json value() {
    const char c = peek();
    if (c == '{') return dict();
    if (c == '(') return sequence(')');
    if (c == '[') return sequence(']');
    if (c == '\'' || c == '"') return string();
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return integer();
    for (const char* word : {"True", "False", "None"}) {
      const size_t n = std::strlen(word);
      if (s_.compare(pos_, n, word) == 0) {
        pos_ += n;
        if (word[0] == 'N') return nullptr;
        return word[0] == 'T';
      }
    }
    error("unexpected '" + s_.substr(pos_, 10) + "'");
  }
  nlohmann::json dict() {
    expect('{');
    nlohmann::json d = nlohmann::json::object();
    while (peek() != '}') {
      if (peek() != '\'' && peek() != '"') error("expected a string key");
      const std::string key = string();
      expect(':');
      if (d.contains(key)) error("duplicate key '" + key + "'");
      d[key] = value();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        error("expected ',' or '}'");
      }
    }
    ++pos_;
    return d;
  }
  nlohmann::json sequence(char close) {
    ++pos_;
    nlohmann::json a = nlohmann::json::array();
    while (peek() != close) {
      a.push_back(value());
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != close) {
        error(std::string("expected ',' or '") + close + "'");
      }
    }
    ++pos_;
    return a;
  }
  std::string string() {
    const char q = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) error("unterminated string");
    ++pos_;
    return out;
  }
  nlohmann::json integer() {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    const std::string digits = s_.substr(start, pos_ - start);
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;  // Python 2 long
    if (digits == "-" || digits.empty()) error("expected an integer");
    errno = 0;
    const long long v = std::strtoll(digits.c_str(), nullptr, 10);
    if (errno == ERANGE) error("integer out of range");
    return static_cast<int64_t>(v);
  }

  const std::string& s_;
  size_t pos_ = 0;
};

struct Header {
  const NpyType* type;
  bool swap;  // big-endian data
  std::vector<int64_t> shape;
  uint64_t data_offset;
};

const NpyType& parse_descr(const std::string& path, const nlohmann::json& descr, bool& swap) {
  if (!descr.is_string()) {
    bad(path, "unsupported dtype " + descr.dump() +
                  " (structured arrays are not supported; supported: " + supported_list() + ")");
  }
  const std::string d = descr.get<std::string>();
  size_t i = 0;
  char order = '=';
  if (!d.empty() && std::strchr("<>|=", d[0])) order = d[i++];
  if (i + 2 <= d.size()) {
    const char kind = d[i];
    const std::string size_str = d.substr(i + 1);
    const bool digits = !size_str.empty() &&
        std::all_of(size_str.begin(), size_str.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    const int size = digits && size_str.size() < 4 ? std::stoi(size_str) : -1;
    for (const auto& t : kTypes) {
      if (t.kind == kind && t.size == size && !(order == '|' && size > 1)) {
        swap = order == '>' && size > 1;
        return t;
      }
    }
  }
  bad(path, "unsupported dtype '" + d + "' (supported: " + supported_list() + ")");
}

Header parse_header(const std::string& path, std::ifstream& in, uint64_t file_size) {
  char pre[12];
  const uint64_t need_min = kMagicLen + 4;
  in.read(pre, static_cast<std::streamsize>(std::min<uint64_t>(file_size, need_min)));
  if (file_size < kMagicLen || std::memcmp(pre, kMagic, kMagicLen) != 0) {
    const std::string got(pre, static_cast<size_t>(std::min<uint64_t>(file_size, kMagicLen)));
    bad(path, "not a .npy file (bad magic: expected \\x93NUMPY, got '" + printable(got) + "')");
  }
  if (file_size < need_min) bad(path, "truncated .npy header (file has only " + std::to_string(file_size) + " bytes)");
  const int major = static_cast<unsigned char>(pre[6]), minor = static_cast<unsigned char>(pre[7]);
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    bad(path, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                  " (supported: 1.0, 2.0, 3.0)");
  }
  uint64_t prefix = kMagicLen + 2;
  uint64_t header_len = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(pre[8]) | (static_cast<unsigned char>(pre[9]) << 8);
    prefix += 2;
  } else {
    if (file_size < kMagicLen + 6) bad(path, "truncated .npy header");
    in.read(pre + 10, 2);
    for (int b = 3; b >= 0; --b) header_len = (header_len << 8) | static_cast<unsigned char>(pre[8 + b]);
    prefix += 4;
  }
  if (prefix + header_len > file_size) {
    bad(path, "truncated .npy header (header length " + std::to_string(header_len) + " but only " +
                  std::to_string(file_size - prefix) + " bytes follow)");
  }
  std::string text(header_len, '\0');
  in.read(&text[0], static_cast<std::streamsize>(header_len));
  if (!in) bad(path, "read error in the .npy header");

  nlohmann::json dict;
  try {
    dict = LiteralParser(text).parse_top();
  } catch (const std::runtime_error& e) {
    bad(path, std::string("malformed .npy header dict (") + e.what() + "): '" + printable(text) + "'");
  }
  if (!dict.is_object()) bad(path, "malformed .npy header: not a dict: '" + printable(text) + "'");
  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (!dict.contains(key)) bad(path, std::string("malformed .npy header: missing key '") + key + "'");
  }
  if (dict.size() != 3) {
    bad(path, "malformed .npy header: expected exactly the keys 'descr', 'fortran_order', 'shape', got " +
                  dict.dump());
  }
  Header h{};
  h.type = &parse_descr(path, dict["descr"], h.swap);
  if (!dict["fortran_order"].is_boolean()) bad(path, "malformed .npy header: 'fortran_order' is not True/False");
  if (dict["fortran_order"].get<bool>()) bad(path, "Fortran order not supported (re-save with numpy.ascontiguousarray)");
  const auto& shape = dict["shape"];
  if (!shape.is_array()) bad(path, "malformed .npy header: 'shape' is not a tuple");
  for (const auto& s : shape) {
    if (!s.is_number_integer() || s.get<int64_t>() < 0) {
      bad(path, "malformed .npy header: 'shape' " + shape.dump() + " has a non-integer or negative entry");
    }
    h.shape.push_back(s.get<int64_t>());
  }
  h.data_offset = prefix + header_len;
  return h;
}

}  // namespace

std::string npy_descr(torch::ScalarType dtype) {
  for (const auto& t : kTypes) {
    if (t.dtype == dtype) return descr_of(t);
  }
  check_arg(false, "tensor dtype", std::string(c10::toString(dtype)), "one of " + supported_list());
  return {};
}

torch::Tensor read_npy(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw IoError("cannot read " + path + ": " + (err == ENOENT ? "no such file" : std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) throw IoError("cannot read " + path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path + ": " + std::strerror(errno));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  const Header h = parse_header(path, in, file_size);

  // Expected data size, with overflow checks on the product of the shape.
  uint64_t numel = 1;
  for (int64_t s : h.shape) {
    if (s != 0 && numel > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(s) / 8) {
      bad(path, "shape " + shape_string(h.shape) + " is too large");
    }
    numel *= static_cast<uint64_t>(s);
  }
  const uint64_t expected = numel * static_cast<uint64_t>(h.type->size);
  const uint64_t got = file_size - h.data_offset;
  if (got < expected) {
    bad(path, "truncated data: expected " + std::to_string(expected) + " bytes (shape " +
                  shape_string(h.shape) + " of " + h.type->name + "), got " + std::to_string(got));
  }
  if (got > expected) {
    bad(path, "trailing garbage: " + std::to_string(got - expected) + " bytes after the " +
                  std::to_string(expected) + " bytes of data");
  }
  check_memory(static_cast<int64_t>(expected), "data (" + shape_string(h.shape) + " " + h.type->name + ")", "file",
               path);
  auto t = torch::empty(h.shape, torch::TensorOptions().dtype(h.type->dtype));
  if (expected > 0) {
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(expected));
    if (static_cast<uint64_t>(in.gcount()) != expected) {
      bad(path, "read error: expected " + std::to_string(expected) + " bytes of data, got " +
                    std::to_string(in.gcount()));
    }
  }
  if (h.swap) {
    auto* p = static_cast<unsigned char*>(t.data_ptr());
    const int n = h.type->size;
    for (uint64_t i = 0; i < numel; ++i, p += n) std::reverse(p, p + n);
  }
  if (h.type->dtype == torch::kBool && numel > 0) {
    const auto* p = static_cast<const unsigned char*>(t.data_ptr());
    for (uint64_t i = 0; i < numel; ++i) {
      if (p[i] > 1) bad(path, "bool array holds byte " + std::to_string(p[i]) + " at flat index " + std::to_string(i));
    }
  }
  return t;
}

std::string npy_header(torch::ScalarType dtype, c10::IntArrayRef shape_in, bool growth_room) {
  const std::string descr = npy_descr(dtype);
  std::string shape = "(";
  for (size_t d = 0; d < shape_in.size(); ++d) {
    shape += std::to_string(shape_in[d]);
    shape += (shape_in.size() == 1) ? "," : (d + 1 < shape_in.size() ? ", " : "");
  }
  shape += ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  if (growth_room && !shape_in.empty()) {
    // numpy's rule (numpy.lib.format, GROWTH_AXIS_MAX_DIGITS = 21): room for the first axis to
    // grow to 21 digits, so the header length does not depend on the row count.
    const size_t digits = std::to_string(shape_in[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }

  // Version 1.0 has a 10-byte prefix and a uint16 length; 2.0 a 12-byte prefix and uint32.
  int major = 1;
  size_t prefix = kMagicLen + 4;
  size_t total = (prefix + dict.size() + 1 + kAlign - 1) / kAlign * kAlign;
  if (total - prefix > 65535) {
    major = 2;
    prefix = kMagicLen + 6;
    total = (prefix + dict.size() + 1 + kAlign - 1) / kAlign * kAlign;
  }
  const size_t header_len = total - prefix;
  dict.append(header_len - dict.size() - 1, ' ');
  dict += '\n';

  std::string head(kMagic, kMagicLen);
  head += static_cast<char>(major);
  head += static_cast<char>(0);
  for (size_t b = 0; b < (major == 1 ? 2u : 4u); ++b) head += static_cast<char>((header_len >> (8 * b)) & 0xff);
  head += dict;
  return head;
}

NpyHeader read_npy_header(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw IoError("cannot read " + path + ": " + (err == ENOENT ? "no such file" : std::strerror(err)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path + ": " + std::strerror(errno));
  const Header h = parse_header(path, in, static_cast<uint64_t>(st.st_size));
  return NpyHeader{h.type->dtype, h.shape, h.data_offset, h.swap};
}

void write_npy(const std::string& path, const torch::Tensor& t) {
  check_arg(t.defined(), "tensor", std::string("undefined"), "a defined tensor");
  const auto cpu = t.to(torch::kCPU).contiguous();
  const std::string head = npy_header(cpu.scalar_type(), cpu.sizes());
  const auto nbytes = static_cast<std::streamsize>(cpu.numel() * cpu.element_size());
  write_file_atomic(path, [&](std::ostream& os) {
    os.write(head.data(), static_cast<std::streamsize>(head.size()));
    if (nbytes > 0) os.write(static_cast<const char*>(cpu.data_ptr()), nbytes);
  });
}

}  // namespace physgen
