#include "physgen/core/device.h"

#include <torch/cuda.h>

#include "physgen/core/check.h"

namespace physgen {

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    check_arg(torch::cuda::is_available(), "--device", name,
              "cpu or auto: CUDA is not available (this LibTorch has no CUDA support or no GPU is visible)");
    return name == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(name);
  }
  check_arg(false, "--device", name, "one of cpu|cuda|auto");
  return torch::kCPU;
}

std::string device_name(const torch::Device& device) { return device.str(); }

}  // namespace physgen
