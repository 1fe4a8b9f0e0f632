#include "physgen/observables/estimators/estimate.h"

#include <cmath>
#include <limits>

#include <iomanip>
#include <sstream>

namespace physgen {

std::ostream& operator<<(std::ostream& os, const Estimate& e) {
  std::ostringstream s;
  s << std::setprecision(6) << e.mean << " +- " << std::setprecision(2) << e.error
    << " (tau_int = " << e.tau_int << " +- " << e.tau_int_error << ")";
  return os << s.str();
}

double combined_z(const Estimate& a, const Estimate& b) {
  const double e = std::hypot(a.error, b.error);
  return e > 0 ? (a.mean - b.mean) / e : std::numeric_limits<double>::quiet_NaN();
}

double z_to_exact(const Estimate& a, double exact) {
  return a.error > 0 ? (a.mean - exact) / a.error : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace physgen
