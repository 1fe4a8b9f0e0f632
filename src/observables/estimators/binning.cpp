#include "physgen/observables/estimators/binning.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "series_util.h"

namespace physgen {
namespace {

// Kernel: error of the mean from n_b = size/bin bins (n_b >= 2), two-pass variance.
double bin_error(const double* a, int64_t size, int64_t bin) {
  const int64_t n_b = size / bin;
  std::vector<double> b(n_b, 0.0);
  for (int64_t j = 0; j < n_b; ++j) {
    double s = 0;
    for (int64_t i = 0; i < bin; ++i) s += a[j * bin + i];
    b[j] = s / bin;
  }
  double mean = 0;
  for (double x : b) mean += x;
  mean /= n_b;
  double ss = 0;
  for (double x : b) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / (static_cast<double>(n_b) * (n_b - 1)));
}

std::vector<double> to_vector(const torch::Tensor& series) {
  check_arg(series.defined() && series.dim() == 1, "series",
            series.defined() ? detail::shape_string(series) : std::string("undefined"),
            "a 1-D tensor (T)");
  auto s = detail::finite_double_cpu(series, "series");
  return std::vector<double>(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
}

}  // namespace

double binned_error(const std::vector<double>& series, int64_t bin_size) {
  check_arg(bin_size >= 1, "bin_size", bin_size, "an integer >= 1");
  const int64_t t = static_cast<int64_t>(series.size());
  check_arg(t / bin_size >= 2, "bin_size", bin_size,
            "at most T/2 = " + std::to_string(t / 2) + " (at least two bins)");
  check_arg(detail::all_finite(series), "series", "a series with NaN/inf entries",
            "finite values");
  return bin_error(series.data(), t, bin_size);
}

double binned_error(const torch::Tensor& series, int64_t bin_size) {
  return binned_error(to_vector(series), bin_size);
}

std::vector<BinningPoint> binning_curve(const std::vector<double>& series, int64_t min_bins) {
  check_arg(min_bins >= 2, "min_bins", min_bins, "an integer >= 2");
  const int64_t t = static_cast<int64_t>(series.size());
  check_arg(t >= min_bins, "series", "length " + std::to_string(t),
            "at least min_bins = " + std::to_string(min_bins) + " measurements");
  check_arg(detail::all_finite(series), "series", "a series with NaN/inf entries",
            "finite values");
  std::vector<BinningPoint> curve;
  double e1 = 0;
  for (int64_t b = 1; t / b >= min_bins; b *= 2) {
    BinningPoint p;
    p.bin_size = b;
    p.n_bins = t / b;
    p.error = bin_error(series.data(), t, b);
    if (b == 1) e1 = p.error;
    p.error_of_error = p.error / std::sqrt(2.0 * (p.n_bins - 1));
    p.tau_int = e1 > 0 ? 0.5 * (p.error / e1) * (p.error / e1) : 0.5;
    curve.push_back(p);
  }
  return curve;
}

std::vector<BinningPoint> binning_curve(const torch::Tensor& series, int64_t min_bins) {
  return binning_curve(to_vector(series), min_bins);
}

}  // namespace physgen
