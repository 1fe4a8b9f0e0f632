#pragma once
// Wolff's Gamma method: errors of Monte Carlo averages with autocorrelations,
// for primary observables and for derived quantities f(<a_1>, ..., <a_k>).
//
// Data: R replicas (independent Markov chains of the same ensemble), replica r
// holding T_r consecutive measurements a_alpha^r(i) of k primary observables;
// N = sum_r T_r. The method
//  1. takes the means abar_alpha over all N measurements and F = f(abar);
//  2. projects the fluctuations onto the gradient of f (central differences with
//     step h_alpha = 1e-4 sd_alpha / sqrt(N), at least 1e-8 |abar_alpha|):
//        d^r(i) = sum_alpha df/da_alpha (a_alpha^r(i) - abar_alpha);
//  3. estimates Gamma(t) = 1/(N - R t) sum_r sum_{i=1}^{T_r - t} d^r(i) d^r(i+t)
//     (by FFT) for t = 0..t_max, t_max = floor(min_r T_r / 2);
//  4. automatic windowing: W is the first W >= 1 with
//        g(W) = exp(-W/tau(W)) - tau(W)/sqrt(W N) < 0,
//        tau(W) = S / ln((2 tau_W + 1)/(2 tau_W - 1)),  tau_W = 1/2 + sum_{t=1}^W rho(t)
//     (tau(W) -> 0 when tau_W <= 1/2); S = 0 assumes no autocorrelation (W = 0);
//  5. removes the O(1/N) bias of Gamma: Gamma(t) += C_F/N, C_F = Gamma(0) + 2 sum_{t=1}^W Gamma(t);
//  6. error^2 = C_F/N, tau_int = C_F/(2 Gamma(0)),
//     tau_int_error = 2 tau_int sqrt((W + 1/2 - tau_int)/N)   (Wolff eq. 42),
//     error_of_error = error sqrt((W + 1/2)/N).
// The reported mean is f(abar) (no replica bias cancellation: that bias is O(1/N),
// far below the error). A series without fluctuations gives error 0, tau_int 0.5.
// If f or its gradient at abar is not finite, error and tau_int are NaN.
// Status, not crash: if the windowing condition never holds up to t_max, W = t_max
// and GammaAnalysis::window_found is false (the series is too short for its tau).
//
// References: U. Wolff, "Monte Carlo errors with less errors", Comput. Phys. Commun.
// 156 (2004) 143, hep-lat/0306017; A. Sokal, "Monte Carlo methods in statistical
// mechanics" (Cargese lectures, 1996) for tau_int.
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "physgen/observables/estimators/estimate.h"

namespace physgen {

/// A derived quantity f(a_1, ..., a_k) of the means of k primary observables.
using DerivedFunction = std::function<double(const std::vector<double>&)>;

/// Default ratio S = tau/tau_int guess of the automatic windowing (Wolff: 1 <= S <= 2).
constexpr double kGammaDefaultS = 1.5;

/// Everything the Gamma method computed for one quantity (for plots and diagnostics).
struct GammaAnalysis {
  Estimate estimate;
  int64_t window = 0;          ///< summation window W
  bool window_found = true;    ///< false: criterion not met up to t_max, W = t_max used
  int64_t n_total = 0;         ///< N = sum_r T_r
  int64_t n_replicas = 0;      ///< R
  double error_of_error = 0;   ///< error * sqrt((W + 1/2)/N)
  std::vector<double> means;     ///< abar_alpha, alpha = 1..k
  std::vector<double> gradient;  ///< df/da_alpha at abar ({1} for a primary observable)
  std::vector<double> rho;            ///< bias-corrected rho(t) = Gamma(t)/Gamma(0), t = 0..t_max
  std::vector<double> tau_int_curve;  ///< tau_int(W') = 1/2 + sum_{t=1}^{W'} rho(t), W' = 0..t_max
};

/// Full Gamma-method analysis of f over replicas; replicas[r] is (T_r, k) or, for
/// k = 1, (T_r); any dtype/device (computed in float64 on the CPU). f = nullptr
/// analyses the primary observable itself (k must be 1). S >= 0 (default 1.5).
GammaAnalysis gamma_analysis(const std::vector<torch::Tensor>& replicas,
                             const DerivedFunction& f = nullptr, double S = kGammaDefaultS);

/// Mean, error and tau_int of a primary observable; replicas[r][i] = a^r(i).
Estimate gamma_method(const std::vector<std::vector<double>>& replicas,
                      double S = kGammaDefaultS);

/// Same for a single chain.
Estimate gamma_method(const std::vector<double>& series, double S = kGammaDefaultS);

/// Same for a tensor: (T) one chain, or (R, T) R replicas of equal length.
Estimate gamma_method(const torch::Tensor& series, double S = kGammaDefaultS);

/// Derived quantity f(<a_1>, ..., <a_k>); replicas[r] is (T_r, k).
Estimate gamma_method_derived(const std::vector<torch::Tensor>& replicas, const DerivedFunction& f,
                              double S = kGammaDefaultS);

/// Derived quantity from a tensor: (T, k) one chain, or (R, T, k) R replicas.
Estimate gamma_method_derived(const torch::Tensor& series, const DerivedFunction& f,
                              double S = kGammaDefaultS);

}  // namespace physgen
