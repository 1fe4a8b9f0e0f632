#include "physgen/io/tensor_checks.h"

#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {
void raise_error(Blame blame, const std::string& msg) {
  if (blame == Blame::file) throw IoError(msg);
  throw InvalidArgument(msg);
}

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i) os << ", ";
    if (sizes[i] == kAnyDim) {
      os << "*";
    } else {
      os << sizes[i];
    }
  }
  os << ")";
  return os.str();
}

int64_t first_nonfinite_index(const torch::Tensor& t) {
  if (!t.defined() || t.numel() == 0 || !t.is_floating_point()) return -1;
  auto bad = torch::logical_not(torch::isfinite(t)).reshape({-1});
  if (!bad.any().item<bool>()) return -1;
  return bad.nonzero().select(1, 0)[0].item<int64_t>();
}

void check_finite(const torch::Tensor& t, const std::string& what, Blame blame) {
  const int64_t flat = first_nonfinite_index(t);
  if (flat < 0) return;
  // Unravel the flat C-order index into a multi-index.
  std::vector<int64_t> idx(t.dim());
  int64_t rem = flat;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    idx[d] = rem % t.size(d);
    rem /= t.size(d);
  }
  const double value = t.reshape({-1})[flat].item<double>();
  std::ostringstream os;
  os << what << " contains NaN/Inf at index " << shape_string(idx) << " (value " << value << ")";
  raise_error(blame, os.str());
}

void check_shape(const torch::Tensor& t, const std::vector<int64_t>& expected,
                 const std::string& what, const std::string& description, Blame blame) {
  bool ok = t.defined() && t.dim() == static_cast<int64_t>(expected.size());
  for (size_t d = 0; ok && d < expected.size(); ++d) {
    ok = expected[d] == kAnyDim || expected[d] == t.size(static_cast<int64_t>(d));
  }
  if (ok) return;
  std::string msg = what + ": expected shape ";
  if (!description.empty()) msg += description + " = ";
  msg += shape_string(expected) + ", got " +
         (t.defined() ? shape_string(t.sizes()) : std::string("an undefined tensor"));
  raise_error(blame, msg);
}

}  // namespace physgen
