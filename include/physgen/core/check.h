#pragma once
// Argument and data validation at the public boundary.
//
// physgen validates once, where a value enters the library (DESIGN.md, Style 3),
// and reports every failure with the argument's name, the value it got and what
// was expected, e.g.
//   "argument L = 1: expected an integer >= 2".
// Kernels behind the boundary stay check-free.
#include <sstream>
#include <stdexcept>
#include <string>

namespace physgen {

/// A caller passed a value outside its documented domain (maps to CLI exit code 2).
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A file could not be read or written, or its content is malformed
/// (maps to CLI exit code 3). The message names the file.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The run was stopped by SIGINT / SIGTERM after saving what it needs to resume
/// (maps to CLI exit code 130). The message says how to continue.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class T>
std::string to_display(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
inline std::string to_display(const std::string& v) { return "'" + v + "'"; }
inline std::string to_display(const char* v) { return "'" + std::string(v) + "'"; }
}  // namespace detail

/// Throws InvalidArgument("argument NAME = VALUE: expected EXPECTED") unless `ok`.
template <class T>
void check_arg(bool ok, const std::string& name, const T& value, const std::string& expected) {
  if (!ok) {
    throw InvalidArgument("argument " + name + " = " + detail::to_display(value) +
                          ": expected " + expected);
  }
}

/// Message of any exception without LibTorch's C++ backtrace (for user-facing output).
std::string error_message(const std::exception& e);

}  // namespace physgen
