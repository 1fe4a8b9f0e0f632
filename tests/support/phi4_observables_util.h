#pragma once
// TEST-ONLY: e = <S>/V, chi = V <m^2> and U4 = 1 - <m^4> / (3 <m^2>^2) of phi^4 configurations
// with jackknife errors over bins, and the pull of two estimates in combined standard errors;
// shared by the flow-MCMC-versus-HMC checks (statistical and long).
#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "physgen/lattice/target.h"
#include "physgen/observables/estimators/jackknife.h"

namespace physgen_test {

struct Phi4Observables {
  physgen::JackknifeEstimate e, chi, u4;
};

/// Configurations (N, L, L) in order (a chain, or independent samples), bins of `bin` rows.
inline Phi4Observables measure_phi4(const torch::Tensor& x, const physgen::Target& action, int64_t bin) {
  torch::NoGradGuard ng;
  const auto phi = x.to(torch::kFloat64);
  const double V = static_cast<double>(phi.size(1) * phi.size(2));
  const auto m = phi.mean({1, 2});
  const auto cols = torch::stack({action.action(phi).to(torch::kFloat64) / V, m.square(), m.square().square()}, 1);
  Phi4Observables o;
  o.e = physgen::jackknife(cols, [](const std::vector<double>& a) { return a[0]; }, bin);
  o.chi = physgen::jackknife(cols, [V](const std::vector<double>& a) { return V * a[1]; }, bin);
  o.u4 = physgen::jackknife(cols, [](const std::vector<double>& a) { return 1.0 - a[2] / (3.0 * a[1] * a[1]); }, bin);
  return o;
}

/// (a - b) / sqrt(da^2 + db^2).
inline double pull(const physgen::JackknifeEstimate& a, const physgen::JackknifeEstimate& b) {
  return (a.mean - b.mean) / std::hypot(a.error, b.error);
}

struct Phi4Row {
  const char* name;
  physgen::JackknifeEstimate Phi4Observables::*field;
};
inline const Phi4Row kPhi4Rows[] = {{"e", &Phi4Observables::e}, {"chi", &Phi4Observables::chi}, {"U4", &Phi4Observables::u4}};

}  // namespace physgen_test
