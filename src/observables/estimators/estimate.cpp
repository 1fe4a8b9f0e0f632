#include "physgen/observables/estimators/estimate.h"

#include <iomanip>
#include <sstream>

namespace physgen {

std::ostream& operator<<(std::ostream& os, const Estimate& e) {
  std::ostringstream s;
  s << std::setprecision(6) << e.mean << " +- " << std::setprecision(2) << e.error
    << " (tau_int = " << e.tau_int << " +- " << e.tau_int_error << ")";
  return os << s.str();
}

}  // namespace physgen
