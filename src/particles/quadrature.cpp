#include "physgen/particles/quadrature.h"

#include <cmath>

#include "physgen/core/check.h"

namespace physgen {

double gauss_legendre(double lo, double hi, int n, const std::function<double(double)>& f) {
  check_arg(n >= 1, "n", n, "a number of nodes >= 1");
  const double half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
  double sum = 0.0;
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double dp = 0.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = 0.0;
      for (int j = 1; j <= n; ++j) {  // recurrence j P_j = (2j - 1) x P_{j-1} - (j - 1) P_{j-2}
        const double p2 = p1;
        p1 = p0;
        p0 = ((2.0 * j - 1.0) * x * p1 - (j - 1.0) * p2) / j;
      }
      dp = n * (x * p0 - p1) / (x * x - 1.0);
      const double dx = p0 / dp;
      x -= dx;
      if (std::abs(dx) < 1e-15) break;
    }
    const double w = 2.0 / ((1.0 - x * x) * dp * dp);
    if (2 * i + 1 == n) {
      sum += w * f(mid);  // the middle node of an odd rule
    } else {
      sum += w * (f(mid - half * x) + f(mid + half * x));
    }
  }
  return half * sum;
}

}  // namespace physgen
