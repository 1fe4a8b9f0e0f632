#pragma once
// Binning (blocking) analysis of the error of a mean of correlated data.
//
// The series a(1..T) is cut into n_B = floor(T/B) consecutive bins of size B (the
// last T mod B measurements are dropped) with bin means b_j; then
//   error_B^2 = sum_j (b_j - bbar)^2 / (n_B (n_B - 1)).
// error_B grows with B and plateaus at the true error once B >> tau_int; the
// plateau value gives tau_int ~ (1/2) (error_B / error_1)^2.
//
// References: H. Flyvbjerg and H. G. Petersen, "Error estimates on averages of
// correlated data", J. Chem. Phys. 91 (1989) 461.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace physgen {

/// Error of the mean from bins of size bin_size (>= 1; at least 2 bins needed).
double binned_error(const std::vector<double>& series, int64_t bin_size);

/// Same for a 1-D tensor (T).
double binned_error(const torch::Tensor& series, int64_t bin_size);

/// One point of a binning curve.
struct BinningPoint {
  int64_t bin_size = 1;
  int64_t n_bins = 0;
  double error = 0;           ///< error_B of the mean
  double error_of_error = 0;  ///< error_B / sqrt(2 (n_B - 1)) (gaussian bins)
  double tau_int = 0.5;       ///< (1/2) (error_B / error_1)^2 (0.5 if error_1 = 0)
};

/// error_B for B = 1, 2, 4, ... while n_B >= min_bins (>= 2, default 32).
std::vector<BinningPoint> binning_curve(const std::vector<double>& series, int64_t min_bins = 32);

/// Same for a 1-D tensor (T).
std::vector<BinningPoint> binning_curve(const torch::Tensor& series, int64_t min_bins = 32);

}  // namespace physgen
