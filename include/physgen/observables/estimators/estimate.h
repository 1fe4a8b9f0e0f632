#pragma once
// A Monte Carlo estimate: mean, error of the mean, integrated autocorrelation time.
#include <ostream>

namespace physgen {

/// Mean of an observable with its statistical error and integrated autocorrelation time.
///
///   error^2     = 2 tau_int * Gamma(0) / N              (Gamma(0) = variance of one measurement)
///   tau_int     = Gamma(0)/2 + sum_{t>=1} Gamma(t), in units of Gamma(0)
///               = 1/2 + sum_{t>=1} rho(t)                (0.5 for uncorrelated data)
///   tau_int_error: statistical error of tau_int (0 where it is not estimated).
///
/// Estimators that do not look at autocorrelations (reweighted means of independent
/// draws, jackknife of independent bins) report tau_int = 0.5, tau_int_error = 0.
/// References: U. Wolff, Comput. Phys. Commun. 156 (2004) 143, hep-lat/0306017.
struct Estimate {
  double mean = 0.0;
  double error = 0.0;
  double tau_int = 0.5;
  double tau_int_error = 0.0;
};

/// Writes "mean +- error (tau_int = t +- dt)".
std::ostream& operator<<(std::ostream& os, const Estimate& e);

/// The difference of two independent estimates in combined standard errors,
///   z = (a.mean - b.mean) / sqrt(a.error^2 + b.error^2)
/// (NaN when both errors are 0). |z| > 2 happens by chance in ~5% of comparisons of the same
/// quantity; physgen's reports flag it.
double combined_z(const Estimate& a, const Estimate& b);

/// The same against an exact value: z = (a.mean - exact) / a.error.
double z_to_exact(const Estimate& a, double exact);

}  // namespace physgen
