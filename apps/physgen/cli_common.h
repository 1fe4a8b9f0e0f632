#pragma once
// Shared pieces of the physgen CLI: common flags, runtime set-up, output helpers.
// The CLI holds no physics or ML logic: each subcommand parses flags into the
// library's options structs and calls the library.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/observables/scattering.h"

namespace physgen::cli {

/// Flags every subcommand takes: --device, --threads.
struct CommonOptions {
  std::string device = "auto";
  int threads = 0;  // 0 = all cores
};

/// Adds --device cpu|cuda|auto and --threads N to `sub`.
void add_common_options(CLI::App* sub, CommonOptions& opts);

/// Applies --threads (malloc thresholds, LibTorch and OpenBLAS threads) and
/// resolves --device.
torch::Device apply_common_options(const CommonOptions& opts);

/// Prints a JSON document to stdout (pretty, one object).
void print_json(const nlohmann::json& j);

/// Adds --J, --orientations, --blocks to `sub`, and --scattering (setting *enable) when
/// `enable` is given (cmd_measure.cpp).
void add_scattering_options(CLI::App* sub, ScatteringOptions& options, bool* enable = nullptr);

/// Subcommand registration: each adds itself to the app with its callback.
void register_simulate(CLI::App& app);
void register_measure(CLI::App& app);
void register_compare_ensembles(CLI::App& app);
void register_memorization(CLI::App& app);
void register_generalization(CLI::App& app);
void register_compare(CLI::App& app);
void register_demo(CLI::App& app);
void register_train(CLI::App& app);
void register_sample(CLI::App& app);
void register_inpaint(CLI::App& app);
void register_translate(CLI::App& app);
void register_interpolate(CLI::App& app);
void register_fit_couplings(CLI::App& app);
void register_anneal(CLI::App& app);
void register_problem(CLI::App& app);
void register_boltzmann_fit(CLI::App& app);
void register_learn_physical(CLI::App& app);
/// Adds `nbody` under simulate and `pm-correction` under train (call after both exist).
void register_nbody(CLI::App& app);

}  // namespace physgen::cli
