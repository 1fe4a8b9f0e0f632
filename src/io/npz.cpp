#include "physgen/io/npz.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/npy.h"

namespace physgen {

uint32_t crc32(const void* data, std::size_t size, uint32_t crc) {
  static const auto table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

namespace {
void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t get32(const std::string& s, std::size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}
uint16_t get16(const std::string& s, std::size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(s[at]) | (static_cast<unsigned char>(s[at + 1]) << 8));
}
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
}  // namespace

void write_npz(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& arrays) {
  struct Entry {
    std::string name, head;
    torch::Tensor data;
    uint32_t crc = 0, size = 0, offset = 0;
  };
  std::vector<Entry> entries;
  uint64_t total = 22;
  for (const auto& [name, t] : arrays) {
    bool ok = !name.empty();
    for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    check_arg(ok, "array name", name, "a non-empty name of letters, digits, '_' and '-'");
    for (const auto& e : entries) check_arg(e.name != name + ".npy", "array name", name, "unique names");
    check_arg(t.defined(), "array " + name, std::string("undefined"), "a defined tensor");
    Entry e;
    e.name = name + ".npy";
    e.data = t.to(torch::kCPU).contiguous();
    e.head = npy_header(e.data.scalar_type(), e.data.sizes());
    const uint64_t size = e.head.size() + static_cast<uint64_t>(e.data.numel()) * e.data.element_size();
    total += size + 2 * (46 + e.name.size());
    check_arg(total < 0xFFFFFFFFull, "npz size", total, "an archive below 4 GiB (no ZIP64)");
    e.size = static_cast<uint32_t>(size);
    e.crc = crc32(e.head.data(), e.head.size());
    e.crc = crc32(e.data.data_ptr(), size - e.head.size(), e.crc);
    entries.push_back(std::move(e));
  }
  write_file_atomic(path, [&](std::ostream& os) {
    uint32_t offset = 0;
    for (Entry& e : entries) {
      std::string h;
      put32(h, 0x04034b50);
      put16(h, 20);        // version needed
      put16(h, 0);         // flags
      put16(h, 0);         // method: stored
      put16(h, 0);         // time
      put16(h, kDosDate);  // date
      put32(h, e.crc);
      put32(h, e.size);
      put32(h, e.size);
      put16(h, static_cast<uint16_t>(e.name.size()));
      put16(h, 0);  // extra
      h += e.name;
      e.offset = offset;
      os.write(h.data(), static_cast<std::streamsize>(h.size()));
      os.write(e.head.data(), static_cast<std::streamsize>(e.head.size()));
      os.write(static_cast<const char*>(e.data.data_ptr()), static_cast<std::streamsize>(e.size - e.head.size()));
      offset += static_cast<uint32_t>(h.size()) + e.size;
    }
    std::string cd;
    for (const Entry& e : entries) {
      put32(cd, 0x02014b50);
      put16(cd, 20);  // made by
      put16(cd, 20);  // needed
      put16(cd, 0);
      put16(cd, 0);
      put16(cd, 0);
      put16(cd, kDosDate);
      put32(cd, e.crc);
      put32(cd, e.size);
      put32(cd, e.size);
      put16(cd, static_cast<uint16_t>(e.name.size()));
      put16(cd, 0);  // extra
      put16(cd, 0);  // comment
      put16(cd, 0);  // disk
      put16(cd, 0);  // internal attributes
      put32(cd, 0);  // external attributes
      put32(cd, e.offset);
      cd += e.name;
    }
    std::string end;
    put32(end, 0x06054b50);
    put16(end, 0);
    put16(end, 0);
    put16(end, static_cast<uint16_t>(entries.size()));
    put16(end, static_cast<uint16_t>(entries.size()));
    put32(end, static_cast<uint32_t>(cd.size()));
    put32(end, offset);
    put16(end, 0);
    os.write(cd.data(), static_cast<std::streamsize>(cd.size()));
    os.write(end.data(), static_cast<std::streamsize>(end.size()));
  });
}

std::vector<std::pair<std::string, torch::Tensor>> read_npz(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  auto fail = [&](const std::string& why) { return IoError(path + ": " + why); };
  std::vector<std::pair<std::string, torch::Tensor>> out;
  std::size_t at = 0;
  while (at + 4 <= bytes.size() && get32(bytes, at) == 0x04034b50) {
    if (at + 30 > bytes.size()) throw fail("truncated local header");
    const uint16_t flags = get16(bytes, at + 6), method = get16(bytes, at + 8);
    const uint32_t crc = get32(bytes, at + 14), csize = get32(bytes, at + 18);
    const uint16_t nlen = get16(bytes, at + 26), xlen = get16(bytes, at + 28);
    if (method != 0) throw fail("compressed entry (method " + std::to_string(method) + "): only stored archives are read");
    if (flags & 0x8) throw fail("entry with a data descriptor is not supported");
    const std::size_t start = at + 30 + nlen + xlen;
    if (start + csize > bytes.size()) throw fail("truncated entry");
    std::string name = bytes.substr(at + 30, nlen);
    if (crc32(bytes.data() + start, csize) != crc) throw fail("CRC mismatch in " + name);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    // io/npy.h reads files only: parse the embedded .npy from a scratch copy in the temp dir.
    const std::string tmp = (std::filesystem::temp_directory_path() /
                             ("physgen-npz-" + std::to_string(::getpid()) + "-" + std::to_string(out.size()) + ".npy"))
                                .string();
    write_file_atomic(tmp, bytes.data() + start, csize);
    try {
      out.emplace_back(name, read_npy(tmp));
    } catch (...) {
      std::remove(tmp.c_str());
      throw;
    }
    std::remove(tmp.c_str());
    at = start + csize;
  }
  if (out.empty()) throw fail("not an .npz archive (no stored entries)");
  return out;
}

}  // namespace physgen
