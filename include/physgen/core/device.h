#pragma once
// Device selection: every command takes --device cpu|cuda|auto.
#include <string>
#include <torch/types.h>

namespace physgen {

/// Parses "cpu", "cuda" (or "cuda:N") and "auto" (CUDA when available, else CPU).
/// Throws InvalidArgument for anything else, or for "cuda" on a build or machine
/// without CUDA (the message says which).
torch::Device parse_device(const std::string& name);

/// "cpu" or "cuda:0": for logs and sidecars.
std::string device_name(const torch::Device& device);

}  // namespace physgen
