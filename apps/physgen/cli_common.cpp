#include "cli_common.h"

#include <iostream>

#include "physgen/core/device.h"
#include "physgen/core/runtime.h"

namespace physgen::cli {

void add_common_options(CLI::App* sub, CommonOptions& opts) {
  sub->add_option("--device", opts.device, "cpu|cuda|auto (auto: CUDA when available)")
      ->capture_default_str();
  sub->add_option("--threads", opts.threads, "CPU threads for LibTorch and OpenBLAS (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

torch::Device apply_common_options(const CommonOptions& opts) {
  configure_runtime(opts.threads);
  return parse_device(opts.device);
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

}  // namespace physgen::cli
