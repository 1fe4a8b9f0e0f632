#include "physgen/observables/estimators/reweighting.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "series_util.h"

namespace physgen {
namespace {

// Weights exp(lw - max lw) as float64 CPU (N), after validation.
torch::Tensor stable_weights(const torch::Tensor& log_weights) {
  check_arg(log_weights.defined() && log_weights.dim() == 1 && log_weights.numel() >= 1,
            "log_weights",
            log_weights.defined() ? detail::shape_string(log_weights) : std::string("undefined"),
            "a 1-D tensor (N), N >= 1");
  auto lw = log_weights.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  check_arg(!torch::isnan(lw).any().item<bool>() && !torch::isposinf(lw).any().item<bool>(),
            "log_weights", "a tensor with NaN/+inf entries", "finite values or -inf");
  const double m = lw.max().item<double>();
  check_arg(std::isfinite(m), "log_weights", "all -inf", "at least one finite log-weight");
  return torch::exp(lw - m);
}

}  // namespace

double ess(const torch::Tensor& log_weights) {
  auto w = stable_weights(log_weights);
  const double s = w.sum().item<double>();
  const double s2 = (w * w).sum().item<double>();
  return s * s / (static_cast<double>(w.numel()) * s2);
}

double ess(const std::vector<double>& log_weights) {
  return ess(torch::tensor(log_weights, torch::kFloat64));
}

double batch_ess(const torch::Tensor& log_weights, int64_t block) {
  check_arg(block >= 1, "block", block, "an integer >= 1");
  check_arg(log_weights.defined() && log_weights.dim() == 1 && log_weights.numel() >= block, "log_weights",
            log_weights.defined() ? detail::shape_string(log_weights) : std::string("undefined"),
            "a 1-d tensor with at least block = " + std::to_string(block) + " entries");
  const int64_t k = log_weights.numel() / block;
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) sum += ess(log_weights.narrow(0, i * block, block));
  return sum / static_cast<double>(k);
}

Estimate reweighted_mean(const torch::Tensor& values, const torch::Tensor& log_weights) {
  auto w = stable_weights(log_weights);
  check_arg(values.defined() && values.dim() == 1 && values.numel() == w.numel(), "values",
            values.defined() ? detail::shape_string(values) : std::string("undefined"),
            "shape (" + std::to_string(w.numel()) + ") like log_weights");
  auto v = detail::finite_double_cpu(values, "values");
  const double s = w.sum().item<double>();
  const double mean = (w * v).sum().item<double>() / s;
  const double var = (w * w * (v - mean) * (v - mean)).sum().item<double>() / (s * s);
  return Estimate{mean, std::sqrt(var), 0.5, 0.0};
}

double log_mean_exp(const torch::Tensor& log_weights) {
  check_arg(log_weights.defined() && log_weights.dim() == 1 && log_weights.numel() >= 1, "log_weights",
            log_weights.defined() ? detail::shape_string(log_weights) : std::string("undefined"),
            "a non-empty vector (N)");
  auto lw = log_weights.detach().to(torch::kCPU, torch::kFloat64);
  return torch::logsumexp(lw, 0).item<double>() - std::log(static_cast<double>(lw.numel()));
}

FreeEnergyEstimate free_energy_per_site(const torch::Tensor& log_weights, double beta, int64_t volume) {
  check_arg(std::isfinite(beta) && beta > 0, "beta", beta, "a finite number > 0");
  check_arg(volume >= 1, "volume", volume, "an integer >= 1");
  check_arg(log_weights.defined() && log_weights.dim() == 1 && log_weights.numel() >= 2, "log_weights",
            log_weights.defined() ? detail::shape_string(log_weights) : std::string("undefined"),
            "a vector of N >= 2 log-weights");
  const auto lw = log_weights.detach().to(torch::kCPU, torch::kFloat64);
  check_arg(torch::isfinite(lw).all().item<bool>(), "log_weights", "non-finite entries", "finite log-weights");
  const double n = static_cast<double>(lw.numel()), scale = 1.0 / (beta * static_cast<double>(volume));
  FreeEnergyEstimate f;
  f.variational.mean = -lw.mean().item<double>() * scale;
  f.variational.error = lw.std().item<double>() / std::sqrt(n) * scale;
  const double lme = log_mean_exp(lw);
  const auto w = torch::exp(lw - lme);  // w / mean w
  f.importance.mean = -lme * scale;
  f.importance.error = w.std().item<double>() / std::sqrt(n) * scale;
  return f;
}

}  // namespace physgen
