#pragma once
// Setting up a training run, as `physgen train` does it, for any library user: the physical
// system (from a target action or from ensembles with their conditions) and the [model] /
// [train] configuration (a family's defaults merged with a TOML file).
//
// Conditions of several ensembles (TrainingSystem::condition, ModelSpec::condition):
//   "label"            file k gets class label k (K = number of files); labels record each
//                      file and its sidecar parameters
//   "NAME[,NAME...]"   the sidecar parameters NAME of each file, as k continuous values
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/io/sidecar.h"
#include "physgen/lattice/target.h"
#include "physgen/zoo/zoo.h"

namespace physgen {

/// The physical system a model learns, and what it trains on.
struct TrainingSystem {
  std::string name;                ///< "phi4", "ising", "toy", ...
  nlohmann::json params;           ///< the system's parameters
  std::vector<int64_t> event_shape;
  TargetPtr target;                ///< the exact action where known (reverse KL, --mcmc, ESS)
  TrainingData data;               ///< undefined tensors for reverse KL
  Condition condition;             ///< none unless `condition` was given
};

/// A system given by its action: make_target(name, params); no data.
TrainingSystem target_system(const std::string& name, const nlohmann::json& params);

/// A system given by ensembles: `files` (one, or several of one system and shape with a
/// `condition`), their samples concatenated as float32 on `device`, conditions attached;
/// `data_b` (optional) the second ensemble of unpaired translation. The target is set for an
/// unconditional phi4 or ising ensemble. InvalidArgument naming --data, --data-b or
/// --condition for files that do not fit together or a parameter missing from a sidecar.
TrainingSystem data_system(const std::vector<std::string>& files, const std::string& condition,
                           const std::string& data_b, const torch::Device& device);

/// Same from ensembles in memory (the Python module's Ensemble objects): each is validated
/// (validate_ensemble, InvalidArgument naming it by `names`), `names` label them in messages
/// and conditions; `data_b` (undefined: none) is the second ensemble of unpaired translation.
TrainingSystem data_system(const std::vector<std::pair<torch::Tensor, EnsembleMeta>>& ensembles,
                           const std::vector<std::string>& names, const std::string& condition,
                           const torch::Tensor& data_b, const std::string& data_b_name,
                           const torch::Device& device);

/// {"model": default_model_options, "train": default_train_options} of a family and shape.
nlohmann::json default_config(const std::string& family, const std::vector<int64_t>& event_shape);

/// default_config merged with the TOML file `config_file` ("" = none): a deep merge (a
/// [model.network.unet] table changes only the keys it names); the [train] defaults follow the
/// merged model (e.g. an exponential-family EBM trains at a higher lr), then the file's
/// [train]. A top-level key other than model and train is rejected naming the file.
nlohmann::json merged_config(const std::string& family, const std::vector<int64_t>& event_shape,
                             const std::string& config_file);

/// Same with the user's tables as JSON (`user`: null or {"model": ..., "train": ...}; the
/// Python module's config dict); `where` names them in messages.
nlohmann::json merged_config(const std::string& family, const std::vector<int64_t>& event_shape,
                             const nlohmann::json& user, const std::string& where);

}  // namespace physgen
