#pragma once
// Conditioning of diffusion-type models on a class label or on continuous physical
// parameters (a coupling, a temperature), with classifier-free guidance.
//
// A condition enters the network as a feature vector of condition_feature_dim() entries:
//   "class"       [one_hot(label, classes) * keep, keep]       (classes + 1 features)
//   "continuous"  [c * keep, keep]                             (dim + 1 features)
// where keep = 0 marks the null (unconditional) input. Training drops the condition with
// probability `dropout` (keep ~ Bernoulli(1 - dropout)), so one network learns both eps(x, c)
// and eps(x, null). Sampling with guidance weight w combines
//   eps_w = (1 + w) eps(x, c) - w eps(x, null)       (w = 0: plain conditional sampling),
// the same for scores and denoisers.
//
// Shapes: class labels (n) int64 in [0, classes); continuous conditions (n, dim) or (n) for
// dim = 1; features (n, condition_feature_dim()).
//
// References: Ho & Salimans, "Classifier-free diffusion guidance", arXiv:2207.12598.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/types.h>

#include "physgen/core/options.h"

namespace physgen {

struct ConditionOptions {
  ConditionOptions() = default;
  /// "none" | "class" | "continuous" [none].
  TORCH_ARG(std::string, kind) = "none";
  /// Class: number of labels (>= 1) [0].
  TORCH_ARG(int64_t, classes) = 0;
  /// Continuous: number of parameters (>= 1) [0].
  TORCH_ARG(int64_t, dim) = 0;
  /// Probability of dropping the condition in training, in [0, 1) [0.1].
  TORCH_ARG(double, dropout) = 0.1;

 public:
  /// Throws InvalidArgument naming the offending option.
  void validate() const;
  /// Features the network sees: 0 (none), classes + 1 or dim + 1.
  int64_t feature_dim() const;
  nlohmann::json to_json() const;
  static ConditionOptions from_json(const nlohmann::json& j);
  /// The JSON fields (core/options.h): to_json, from_json and the known keys derive from it.
  template <class V>
  void fields(V&& v) {
    v("kind", kind());
    v("classes", classes());
    v("dim", dim());
    v("dropout", dropout());
  }
};

/// Names accepted by ConditionOptions::kind: "class", "continuous", "none".
std::vector<std::string> condition_kinds();

/// Network features of conditions `cond` for n samples; `keep` (n) in {0, 1} (undefined: all
/// kept). cond undefined gives the null condition for all n. Returns an undefined tensor for
/// kind "none". `like` supplies dtype and device.
torch::Tensor condition_features(const ConditionOptions& options, const torch::Tensor& cond,
                                 int64_t n, const torch::Tensor& like,
                                 const torch::Tensor& keep = torch::Tensor());

/// Training features: the condition dropped with probability options.dropout (default generator).
torch::Tensor condition_features_with_dropout(const ConditionOptions& options,
                                              const torch::Tensor& cond, int64_t n,
                                              const torch::Tensor& like);

/// Guided combination (1 + w) conditional - w unconditional.
torch::Tensor guided(const torch::Tensor& conditional, const torch::Tensor& unconditional,
                     double w);

/// One-hot conditions (N, num_classes) (float32, or `dtype`) from integer labels (N) in
/// [0, num_classes); InvalidArgument naming "labels" for a label outside.
torch::Tensor one_hot_condition(const torch::Tensor& labels, int64_t num_classes,
                                torch::Dtype dtype = torch::kFloat32);

/// Packs data x (N, *event) and conditions (N) or (N, k) into one float tensor (N, d + k) so
/// the shared Trainer can draw joint minibatches; unpack_condition inverts it.
torch::Tensor pack_condition(const torch::Tensor& x, const torch::Tensor& cond);
/// Splits a packed batch (n, d + k) into x (n, *event_shape) and the condition: class labels
/// as int64 (n), continuous conditions as (n, k).
std::pair<torch::Tensor, torch::Tensor> unpack_condition(const torch::Tensor& packed,
                                                         const std::vector<int64_t>& event_shape,
                                                         const ConditionOptions& options);

}  // namespace physgen
