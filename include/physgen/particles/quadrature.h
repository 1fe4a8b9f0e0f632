#pragma once
// Gauss-Legendre quadrature on [lo, hi] for smooth integrands (background integrals of the
// N-body code: growth, kick and drift factors, sigma_8).
//
//   int_lo^hi f(x) dx ~ (hi - lo)/2 sum_i w_i f((hi - lo)/2 x_i + (hi + lo)/2),
// x_i the zeros of the Legendre polynomial P_n, w_i = 2 / ((1 - x_i^2) P_n'(x_i)^2); exact for
// polynomials of degree <= 2n - 1. Nodes by Newton's iteration on P_n from the Chebyshev-like
// guess cos(pi (i + 3/4) / (n + 1/2)) (Numerical Recipes, 3rd ed., sec. 4.6).
#include <functional>

namespace physgen {

/// int_lo^hi f with the n-point Gauss-Legendre rule (n >= 1).
double gauss_legendre(double lo, double hi, int n, const std::function<double(double)>& f);

}  // namespace physgen
