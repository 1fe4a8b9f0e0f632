#pragma once
// The training curve shared by the physical learners (physical/network.h, physical/hopfield.h):
// the task error and, for classification, the accuracy, on the training and held-out examples,
// against training step.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// err = sum |d - y|^2 / sum |y|^2: the squared error of outputs d against targets y relative to
/// the targets' own size (1 for d = 0).
double relative_error(const torch::Tensor& d, const torch::Tensor& y);
/// Fraction of rows whose largest output is at the row's label.
double argmax_accuracy(const torch::Tensor& d, const torch::Tensor& labels);

/// Error (and accuracy) against step; the held-out and accuracy series are empty when the task
/// has no held-out examples or no labels.
struct LearningCurve {
  std::vector<int64_t> steps;
  std::vector<double> errors, test_errors, accuracies, test_accuracies;

  /// Appends one point from the outputs on the training examples (d, targets y, labels) and on
  /// the held-out ones (d_test, y_test, labels_test); undefined or empty labels / held-out
  /// outputs leave their series alone.
  void record(int64_t step, const torch::Tensor& d, const torch::Tensor& y, const torch::Tensor& labels,
              const torch::Tensor& d_test, const torch::Tensor& y_test, const torch::Tensor& labels_test);
  /// First logged step with error <= start / factor, or -1 if never.
  int64_t steps_to_reduce(double factor) const;
};

}  // namespace physgen
