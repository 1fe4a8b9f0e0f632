#include "physgen/core/memory.h"

#include <sys/statvfs.h>

#include <fstream>
#include <sstream>

#include "physgen/core/check.h"

namespace physgen {

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    int64_t kib = -1;
    if (fields >> kib) return kib * 1024;
  }
  return -1;
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream s;
  s.precision(u == 0 ? 0 : 3);
  s << v << " " << units[u];
  return s.str();
}

void check_memory(int64_t bytes, const std::string& what, const std::string& argument, const std::string& value,
                  double fraction) {
  const int64_t available = available_memory_bytes();
  if (available < 0 || bytes <= 0) return;
  check_arg(static_cast<double>(bytes) <= fraction * static_cast<double>(available), argument, value,
            "a size whose " + what + " fits in memory: it needs " + format_bytes(bytes) + ", " +
                format_bytes(available) + " are available");
}

int64_t available_disk_bytes(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

void check_disk_space(int64_t bytes, const std::string& path, const std::string& what, const std::string& argument,
                      const std::string& value) {
  const int64_t available = available_disk_bytes(path);
  if (available < 0 || bytes <= 0) return;
  check_arg(bytes <= available, argument, value,
            "a size whose " + what + " fits on the disk of " + path + ": it needs " + format_bytes(bytes) + ", " +
                format_bytes(available) + " are free");
}

}  // namespace physgen
