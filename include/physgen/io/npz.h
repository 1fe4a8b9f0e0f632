#pragma once
// NumPy .npz archives: several arrays in one file, as numpy.savez writes them (a ZIP archive,
// entries stored without compression, each "NAME.npy" a complete .npy file, io/npy.h).
//
// Format: PKWARE APPNOTE.TXT (ZIP 2.0): per entry a local file header, the bytes, and at the
// end the central directory and its end record; CRC-32 with the polynomial 0xEDB88320.
// physgen writes method 0 (stored) only, no ZIP64: the archive must stay below 4 GiB.
// numpy.load reads these files; read_npz reads stored archives (numpy.savez's, not
// savez_compressed's).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// CRC-32 (IEEE 802.3, as ZIP and zlib) of `size` bytes, continuing from `crc` (0 to start).
uint32_t crc32(const void* data, std::size_t size, uint32_t crc = 0);

/// Writes the named arrays to `path` as an .npz archive, atomically (temporary name + rename).
/// Names: non-empty, unique, of letters, digits, '_' and '-' (".npy" is appended).
/// InvalidArgument for a bad name, an undefined tensor or an archive of 4 GiB or more (checked
/// before writing); IoError if the file cannot be written.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& arrays);

/// Reads an .npz archive of stored (uncompressed) entries: (name without ".npy", array) in
/// archive order. IoError naming the file for anything malformed, a compressed entry or a CRC
/// mismatch.
std::vector<std::pair<std::string, torch::Tensor>> read_npz(const std::string& path);

}  // namespace physgen
