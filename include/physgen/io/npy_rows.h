#pragma once
// A .npy file written row by row: for ensembles too large to hold in memory.
//
// The file is a valid .npy (NEP 1) of its final shape (R, *row_shape) from the moment it
// is created: the header comes first (with numpy's growth room, so the row count can change
// without moving the data), the data region is sized at once (sparse where the file system
// allows) and rows are written at their final positions with pwrite. Rows not yet written
// read as zeros. A writer that is killed leaves every row it wrote (and sync()ed) in place;
// simulations use this to stream ensembles to disk and resume (mcmc/simulate.h).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

class NpyRowFile {
 public:
  /// Creates (or truncates) `path` for an array of `dtype` and `shape` (shape[0] = rows).
  /// InvalidArgument if the data would not fit on the disk (the message names `argument`
  /// and `value`, the command-line setting that fixes the size); IoError if it cannot be created.
  static NpyRowFile create(const std::string& path, torch::ScalarType dtype, std::vector<int64_t> shape,
                           const std::string& argument = "rows", const std::string& value = "");
  /// Opens a file made by create(); IoError naming the file unless its dtype and row shape
  /// are `dtype` and `row_shape` and its size matches its header.
  static NpyRowFile open(const std::string& path, torch::ScalarType dtype, const std::vector<int64_t>& row_shape);

  NpyRowFile(NpyRowFile&& other) noexcept;
  NpyRowFile& operator=(NpyRowFile&& other) noexcept;
  NpyRowFile(const NpyRowFile&) = delete;
  NpyRowFile& operator=(const NpyRowFile&) = delete;
  ~NpyRowFile();

  int64_t rows() const { return shape_.empty() ? 0 : shape_[0]; }
  const std::vector<int64_t>& shape() const { return shape_; }
  const std::string& path() const { return path_; }

  /// Writes `rows` ((k, *row_shape), any device; converted to the file's dtype) at rows
  /// first .. first + k - 1. InvalidArgument on a shape mismatch or a range outside the file.
  void write_rows(int64_t first, const torch::Tensor& rows);
  /// Reads rows first .. first + k - 1 as a CPU tensor (k, *row_shape).
  torch::Tensor read_rows(int64_t first, int64_t k) const;
  /// Changes the row count (rewrites the header, truncates or extends the data; rows beyond
  /// the old end read as zeros). Checks the disk space for growth.
  void resize(int64_t rows);
  /// Flushes written rows to the disk (fdatasync).
  void sync();
  /// sync() and closes; later calls are errors. The destructor closes without syncing.
  void close();

 private:
  NpyRowFile() = default;
  void write_at(uint64_t offset, const void* data, size_t n) const;
  void read_at(uint64_t offset, void* data, size_t n) const;
  void write_header();
  std::string path_;
  int fd_ = -1;
  torch::ScalarType dtype_ = torch::kFloat32;
  std::vector<int64_t> shape_;
  uint64_t data_offset_ = 0;
  uint64_t row_bytes_ = 0;
};

}  // namespace physgen
