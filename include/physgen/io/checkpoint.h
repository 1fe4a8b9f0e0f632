#pragma once
// Training checkpoints: everything needed to resume a run bit-for-bit.
//
// A checkpoint is one file (a LibTorch serialize archive, i.e. a zip written
// by torch::serialize::OutputArchive) holding
//   model        the module's parameters and buffers (Module::save layout)
//   optimizer    the optimizer's state (Optimizer::save), when one was given
//   rng_cpu      the default CPU generator's state (and rng_cuda_<i> per CUDA device)
//   step         the step counter
//   meta_json    free-form JSON metadata; by convention meta["options"] holds
//                the options the model was built with (round-trips to TOML)
//   physgen_version, created, physgen_format ("physgen-checkpoint", version 1)
// It is written atomically (temp file + fsync + rename), so an interrupted
// save never destroys the previous checkpoint.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace physgen {

/// What load_checkpoint / read_checkpoint_info found besides the tensors.
struct CheckpointInfo {
  int64_t step = 0;             ///< the step counter given to save_checkpoint
  nlohmann::json meta;          ///< the free-form metadata given to save_checkpoint
  nlohmann::json options;       ///< meta["options"] if present, else null
  std::string physgen_version;  ///< version of the physgen that wrote it
  std::string created;          ///< ISO-8601 UTC time of writing
  bool has_optimizer = false;   ///< the file holds optimizer state
  bool rng_restored = false;    ///< load_checkpoint restored the generator state(s)
};

/// Saves `model` (parameters and buffers), the state of `opt` (may be null),
/// the default CPU (and CUDA) generator states, `step` and `meta` (a JSON
/// object or null) to `path`, atomically. IoError if the file cannot be written;
/// InvalidArgument if `step` < 0 or `meta` is neither an object nor null.
void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* opt, const nlohmann::json& meta, int64_t step);

/// Restores `model`'s parameters and buffers (copied in place, so optimizers and
/// other references stay valid; tensors are mapped to the device of the model's
/// first parameter), `opt`'s state (if `opt` is not null) and, if `restore_rng`,
/// the generator states, so the resumed run draws the same random numbers.
/// Throws IoError naming the file: missing, truncated or corrupt file, not a
/// physgen checkpoint, a parameter missing or of another shape than in `model`,
/// unexpected entries, no optimizer state although `opt` was given, or an
/// optimizer state that does not fit `opt`. On error `model` and `opt` are unchanged.
CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* opt, bool restore_rng = true);

/// Reads only the step, metadata and versions of a checkpoint (IoError as above).
/// Several optimisers (e.g. a GAN's generator and discriminator), stored in order.
void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const std::vector<const torch::optim::Optimizer*>& optimizers, const nlohmann::json& meta,
                     int64_t step);
/// Restores several optimisers saved by the overload above (all or none).
CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model,
                               const std::vector<torch::optim::Optimizer*>& optimizers, bool restore_rng = true);

CheckpointInfo read_checkpoint_info(const std::string& path);

}  // namespace physgen
