#pragma once
// Shape and finiteness checks for tensors that enter physgen from files or callers.
//
// The same check reports a bad argument (InvalidArgument, CLI exit code 2) or a
// malformed file (IoError, CLI exit code 3), depending on who is to blame.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// Who supplied a bad tensor: a caller (InvalidArgument) or a file (IoError).
enum class Blame { argument, file };

/// Throws the error of `blame`: InvalidArgument (argument) or IoError (file), with `msg`.
[[noreturn]] void raise_error(Blame blame, const std::string& msg);

/// Wildcard for check_shape(): any size is accepted in this dimension.
constexpr int64_t kAnyDim = -1;

/// "(10, 8, 8)" for sizes {10, 8, 8}; "()" for a 0-d tensor; wildcards print as "*".
std::string shape_string(at::IntArrayRef sizes);

/// Flat C-order index of the first NaN or +-Inf element, or -1 if every element
/// is finite (always -1 for integer and bool dtypes, and for empty tensors).
int64_t first_nonfinite_index(const torch::Tensor& t);

/// Throws unless every element of `t` is finite:
///   "WHAT contains NaN/Inf at index (i, j, k) (value nan)".
/// `what` names the tensor or the file ("ensemble.npy"); `blame` picks the
/// exception type (Blame::argument -> InvalidArgument, Blame::file -> IoError).
void check_finite(const torch::Tensor& t, const std::string& what,
                  Blame blame = Blame::argument);

/// Throws unless `t` has exactly `expected.size()` dimensions with the given
/// sizes (kAnyDim matches any size):
///   "WHAT: expected shape (N, L, L) = (*, 8, 8), got (10, 4, 4)".
/// `description` names the dimensions, e.g. "(N, L, L)" (optional); `blame` as in check_finite.
void check_shape(const torch::Tensor& t, const std::vector<int64_t>& expected,
                 const std::string& what, const std::string& description = "",
                 Blame blame = Blame::argument);

}  // namespace physgen
