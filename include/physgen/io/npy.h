#pragma once
// NumPy .npy files: read and write tensors in the format numpy.save/numpy.load use.
//
// Format (NEP 1, "A simple file format for NumPy arrays"): the magic string
// "\x93NUMPY", a major/minor version byte pair, the header length (uint16 LE for
// version 1.0, uint32 LE for 2.0/3.0), an ASCII Python-literal dict
//   {'descr': '<f4', 'fortran_order': False, 'shape': (N, L, L), }
// padded with spaces and a final '\n' to a multiple of 64 bytes, then the raw
// element data in C order. physgen writes version 1.0 (2.0 when the header
// exceeds 65535 bytes) and reads 1.0, 2.0 and 3.0.
//
// Supported dtypes (read and write):
//   float32 '<f4', float64 '<f8', float16 '<f2', int8 '|i1', uint8 '|u1',
//   bool '|b1', int16 '<i2', int32 '<i4', int64 '<i8'.
// Big-endian files ('>f4', ...) are read and byte-swapped; files are always
// written little-endian. Fortran-ordered arrays are rejected.
//
// References: NumPy Enhancement Proposal 1 (NEP 1), numpy.lib.format.
#include <string>
#include <vector>

#include <torch/types.h>

#include "physgen/io/tensor_checks.h"

namespace physgen {

/// Writes `t` to `path` as a .npy file (atomically: temp file + rename).
/// Any device and layout: the tensor is copied to CPU and made contiguous.
/// Throws InvalidArgument for an undefined tensor or an unsupported dtype
/// (the message lists the supported ones), IoError if the file cannot be written.
void write_npy(const std::string& path, const torch::Tensor& t);

/// Reads a .npy file into a CPU tensor with the file's dtype and shape
/// (a 0-d tensor for shape ()).
/// Throws IoError("PATH: REASON") for a missing file, bad magic, unsupported
/// version, malformed header dict, unsupported dtype (named), Fortran order,
/// truncated data ("expected N bytes of data, got M") or trailing bytes.
torch::Tensor read_npy(const std::string& path);

/// The complete .npy header (magic, version, length, dict padded with spaces and '\n' to a
/// multiple of 64 bytes) of a C-order little-endian array of `dtype` and `shape`. With
/// `growth_room` the dict keeps numpy's room for the first axis to grow to 21 digits, so a
/// file whose row count changes keeps the header's length (numpy.lib.format does the same).
std::string npy_header(torch::ScalarType dtype, c10::IntArrayRef shape, bool growth_room = false);

/// What a .npy header says: element type, shape and the byte offset of the data.
struct NpyHeader {
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t data_offset = 0;
  bool big_endian = false;  ///< data stored big-endian (read_npy swaps the bytes)
};

/// Parses the header of `path` only (IoError as read_npy for a bad header; the data are
/// not checked).
NpyHeader read_npy_header(const std::string& path);

/// The numpy descr physgen writes for `dtype` ("<f4", "|i1", ...);
/// InvalidArgument listing the supported dtypes if there is none.
std::string npy_descr(torch::ScalarType dtype);

}  // namespace physgen
