#include "physgen/io/npy_rows.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/io/npy.h"
#include "physgen/io/tensor_checks.h"

namespace physgen {

namespace {
[[noreturn]] void npy_rows_fail(const std::string& path, const std::string& what) {
  throw IoError("cannot write " + path + ": " + what + " (" + std::strerror(errno) + ")");
}
uint64_t row_bytes_of(torch::ScalarType dtype, const std::vector<int64_t>& shape) {
  uint64_t n = static_cast<uint64_t>(c10::elementSize(dtype));
  for (size_t d = 1; d < shape.size(); ++d) n *= static_cast<uint64_t>(shape[d]);
  return n;
}
}  // namespace

NpyRowFile NpyRowFile::create(const std::string& path, torch::ScalarType dtype, std::vector<int64_t> shape,
                              const std::string& argument, const std::string& value) {
  check_arg(!shape.empty() && shape[0] >= 0, "shape", shape_string(shape), "(rows >= 0, ...)");
  NpyRowFile f;
  f.path_ = path;
  f.dtype_ = dtype;
  f.shape_ = std::move(shape);
  f.row_bytes_ = row_bytes_of(dtype, f.shape_);
  const std::string head = npy_header(dtype, f.shape_, /*growth_room=*/true);
  f.data_offset_ = head.size();
  check_disk_space(static_cast<int64_t>(f.data_offset_ + f.row_bytes_ * static_cast<uint64_t>(f.rows())), path,
                   "ensemble file", argument, value.empty() ? std::to_string(f.rows()) : value);
  f.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f.fd_ < 0) npy_rows_fail(path, "open");
  f.write_header();
  if (::ftruncate(f.fd_, static_cast<off_t>(f.data_offset_ + f.row_bytes_ * static_cast<uint64_t>(f.rows()))) != 0)
    npy_rows_fail(path, "set the file size");
  return f;
}

NpyRowFile NpyRowFile::open(const std::string& path, torch::ScalarType dtype, const std::vector<int64_t>& row_shape) {
  const NpyHeader h = read_npy_header(path);
  if (h.big_endian) throw IoError(path + ": big-endian data cannot be written in place");
  std::vector<int64_t> got_row(h.shape.begin() + (h.shape.empty() ? 0 : 1), h.shape.end());
  if (h.shape.empty() || h.dtype != dtype || got_row != row_shape) {
    std::vector<int64_t> want{-1};
    want.insert(want.end(), row_shape.begin(), row_shape.end());
    throw IoError(path + ": holds " + std::string(c10::toString(h.dtype)) + " " + shape_string(h.shape) +
                  ", expected " + c10::toString(dtype) + " rows of " + shape_string(row_shape));
  }
  NpyRowFile f;
  f.path_ = path;
  f.dtype_ = dtype;
  f.shape_ = h.shape;
  f.row_bytes_ = row_bytes_of(dtype, f.shape_);
  f.data_offset_ = h.data_offset;
  if (npy_header(dtype, f.shape_, true).size() != f.data_offset_)
    throw IoError(path + ": header was not written by physgen's row writer (no room to change the row count)");
  f.fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (f.fd_ < 0) throw IoError("cannot open " + path + ": " + std::strerror(errno));
  const off_t size = ::lseek(f.fd_, 0, SEEK_END);
  const auto expected = static_cast<off_t>(f.data_offset_ + f.row_bytes_ * static_cast<uint64_t>(f.rows()));
  if (size != expected) {
    ::close(f.fd_);
    f.fd_ = -1;
    throw IoError(path + ": " + std::to_string(size) + " bytes, its header says " + std::to_string(expected));
  }
  return f;
}

NpyRowFile::NpyRowFile(NpyRowFile&& o) noexcept { *this = std::move(o); }

NpyRowFile& NpyRowFile::operator=(NpyRowFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    dtype_ = o.dtype_;
    shape_ = std::move(o.shape_);
    data_offset_ = o.data_offset_;
    row_bytes_ = o.row_bytes_;
  }
  return *this;
}

NpyRowFile::~NpyRowFile() {
  if (fd_ >= 0) ::close(fd_);
}

void NpyRowFile::write_at(uint64_t offset, const void* data, size_t n) const {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) npy_rows_fail(path_, "write");
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

void NpyRowFile::read_at(uint64_t offset, void* data, size_t n) const {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw IoError("cannot read " + path_ + ": short read");
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

void NpyRowFile::write_header() {
  const std::string head = npy_header(dtype_, shape_, true);
  if (head.size() != data_offset_) throw IoError(path_ + ": the header length would change");
  write_at(0, head.data(), head.size());
}

void NpyRowFile::write_rows(int64_t first, const torch::Tensor& rows) {
  check_arg(fd_ >= 0, "file", path_, "an open row file");
  check_arg(rows.defined() && rows.dim() == static_cast<int64_t>(shape_.size()), "rows", (rows.defined() ? shape_string(rows.sizes()) : std::string("undefined")),
            "rows of shape (k, " + shape_string(std::vector<int64_t>(shape_.begin() + 1, shape_.end())) + ")");
  for (size_t d = 1; d < shape_.size(); ++d)
    check_arg(rows.size(static_cast<int64_t>(d)) == shape_[d], "rows", (rows.defined() ? shape_string(rows.sizes()) : std::string("undefined")),
              "rows of shape (k, " + shape_string(std::vector<int64_t>(shape_.begin() + 1, shape_.end())) + ")");
  const int64_t k = rows.size(0);
  check_arg(first >= 0 && first + k <= this->rows(), "first row", first,
            "rows inside the file's " + std::to_string(this->rows()));
  const auto cpu = rows.to(torch::kCPU, dtype_).contiguous();
  write_at(data_offset_ + row_bytes_ * static_cast<uint64_t>(first), cpu.data_ptr(),
           static_cast<size_t>(row_bytes_ * static_cast<uint64_t>(k)));
}

torch::Tensor NpyRowFile::read_rows(int64_t first, int64_t k) const {
  check_arg(fd_ >= 0, "file", path_, "an open row file");
  check_arg(first >= 0 && k >= 0 && first + k <= rows(), "rows", std::to_string(first) + ".." + std::to_string(first + k),
            "rows inside the file's " + std::to_string(rows()));
  std::vector<int64_t> shape = shape_;
  shape[0] = k;
  auto out = torch::empty(shape, torch::TensorOptions().dtype(dtype_));
  read_at(data_offset_ + row_bytes_ * static_cast<uint64_t>(first), out.data_ptr(),
          static_cast<size_t>(row_bytes_ * static_cast<uint64_t>(k)));
  return out;
}

void NpyRowFile::resize(int64_t new_rows) {
  check_arg(fd_ >= 0, "file", path_, "an open row file");
  check_arg(new_rows >= 0, "rows", new_rows, "an integer >= 0");
  if (new_rows > rows()) {
    check_disk_space(static_cast<int64_t>(row_bytes_ * static_cast<uint64_t>(new_rows - rows())), path_,
                     "ensemble file", "rows", std::to_string(new_rows));
  }
  shape_[0] = new_rows;
  write_header();
  if (::ftruncate(fd_, static_cast<off_t>(data_offset_ + row_bytes_ * static_cast<uint64_t>(new_rows))) != 0)
    npy_rows_fail(path_, "set the file size");
}

void NpyRowFile::sync() {
  check_arg(fd_ >= 0, "file", path_, "an open row file");
  if (::fdatasync(fd_) != 0) npy_rows_fail(path_, "sync");
}

void NpyRowFile::close() {
  if (fd_ < 0) return;
  sync();
  ::close(fd_);
  fd_ = -1;
}

}  // namespace physgen
