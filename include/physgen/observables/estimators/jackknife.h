#pragma once
// Jackknife error and bias correction of a function of means.
//
// Samples a_alpha(i), i = 1..N, are grouped into n = floor(N/B) consecutive bins of
// size B (remainder dropped; B > 1 absorbs autocorrelations shorter than B) with
// bin means b_alpha(j). With the leave-one-out means abar_(j) = (n abar - b(j))/(n - 1)
// and f_j = f(abar_(j)), fbar = (1/n) sum_j f_j:
//   mean                = f(abar)
//   bias_corrected_mean = n f(abar) - (n - 1) fbar        (removes the O(1/N) bias)
//   error^2             = (n - 1)/n sum_j (f_j - fbar)^2
// For f = identity and B = 1 the error is exactly the naive s/sqrt(N).
//
// References: B. Efron, "The jackknife, the bootstrap and other resampling plans"
// (SIAM, 1982); M. H. Quenouille, Biometrika 43 (1956) 353.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "physgen/observables/estimators/gamma_method.h"  // DerivedFunction

namespace physgen {

/// Result of a jackknife analysis.
struct JackknifeEstimate {
  double mean = 0;                 ///< f(abar)
  double bias_corrected_mean = 0;  ///< n f(abar) - (n - 1) fbar
  double error = 0;                ///< jackknife error of f(abar)
  int64_t n_bins = 0;              ///< n
};

/// Jackknife of f over samples (N) (k = 1) or (N, k), bins of size bin_size
/// (default 1; at least 2 bins). f = nullptr means the identity (k must be 1).
JackknifeEstimate jackknife(const torch::Tensor& samples, const DerivedFunction& f = nullptr,
                            int64_t bin_size = 1);

/// Same for a scalar series.
JackknifeEstimate jackknife(const std::vector<double>& samples, const DerivedFunction& f = nullptr,
                            int64_t bin_size = 1);

/// The default number of delete-one-block jackknife blocks for n configurations recorded by
/// `chains` chains (chain-major): the smallest multiple of the chain count that is >= `target`
/// (20; the scattering statistics ask for 50), so no block straddles two chains' correlated
/// stretches; where that exceeds n, min(target, n).
/// Returns at least 1 for n >= 1. InvalidArgument for n < 1 or target < 1.
int64_t default_jackknife_blocks(int64_t n, int64_t chains, int64_t target = 20);

}  // namespace physgen
