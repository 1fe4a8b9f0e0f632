#pragma once
// Memory (and disk) checks before large allocations: a command that would need more memory than the
// machine has available stops with a clear error naming the argument that sets the size,
// instead of being killed by the kernel's out-of-memory killer with nothing written.
#include <cstdint>
#include <string>

namespace physgen {

/// MemAvailable of /proc/meminfo in bytes (an estimate of the memory that can be allocated
/// without swapping); -1 where it cannot be read.
int64_t available_memory_bytes();

/// "1.5 GiB", "320 MiB", "12 KiB" for a byte count.
std::string format_bytes(int64_t bytes);

/// Throws InvalidArgument "argument ARGUMENT = VALUE: expected a size whose WHAT fits in
/// memory: it needs N GiB, M GiB are available" when `bytes` exceeds `fraction` of the
/// available memory; does nothing where the available memory is unknown.
void check_memory(int64_t bytes, const std::string& what, const std::string& argument, const std::string& value,
                  double fraction = 0.8);

/// Free space (for an unprivileged user) of the file system holding `path`'s directory, in
/// bytes; -1 where it cannot be read.
int64_t available_disk_bytes(const std::string& path);

/// Throws InvalidArgument "argument ARGUMENT = VALUE: expected a size whose WHAT fits on the
/// disk of PATH: it needs N GiB, M GiB are free" when `bytes` exceeds the free space; does
/// nothing where it cannot be read.
void check_disk_space(int64_t bytes, const std::string& path, const std::string& what, const std::string& argument,
                      const std::string& value);

}  // namespace physgen
