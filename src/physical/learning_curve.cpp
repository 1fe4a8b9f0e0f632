#include "physgen/physical/learning_curve.h"

#include <torch/torch.h>

namespace physgen {

double relative_error(const torch::Tensor& d, const torch::Tensor& y) {
  return ((d - y).pow(2).sum() / y.pow(2).sum()).item<double>();
}

double argmax_accuracy(const torch::Tensor& d, const torch::Tensor& labels) {
  return (d.argmax(1) == labels).to(torch::kFloat64).mean().item<double>();
}

void LearningCurve::record(int64_t step, const torch::Tensor& d, const torch::Tensor& y, const torch::Tensor& labels,
                           const torch::Tensor& d_test, const torch::Tensor& y_test,
                           const torch::Tensor& labels_test) {
  const bool labelled = labels.defined() && labels.numel() > 0;
  const bool held_out = d_test.defined() && d_test.numel() > 0;
  steps.push_back(step);
  errors.push_back(relative_error(d, y));
  if (held_out) test_errors.push_back(relative_error(d_test, y_test));
  if (labelled) accuracies.push_back(argmax_accuracy(d, labels));
  if (labelled && held_out) test_accuracies.push_back(argmax_accuracy(d_test, labels_test));
}

int64_t LearningCurve::steps_to_reduce(double factor) const {
  for (size_t i = 0; i < errors.size(); ++i)
    if (errors[i] <= errors.front() / factor) return steps[i];
  return -1;
}

}  // namespace physgen
