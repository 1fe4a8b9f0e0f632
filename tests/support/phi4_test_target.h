#pragma once
// TEST-ONLY phi^4 Target for the flow tests (the library's lattice/phi4.h replaces it at
// merge time). Convention of DESIGN.md:
//   S = sum_x [ sum_mu (phi_{x+mu} - phi_x)^2 + m2 phi_x^2 + lambda phi_x^4 ],  periodic L x L.
// Also the exact free-field (lambda = 0, m2 > 0) quantities: S = phi^T M phi with
// eigenvalues lambda_k = m2 + sum_mu 4 sin^2(k_mu / 2), k = 2 pi n / L, so
//   log Z = (V/2) log(pi) - (1/2) sum_k log(lambda_k),
//   G(r)  = <phi_x phi_{x+r}> = (1 / 2V) sum_k cos(k.r) / lambda_k.
#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "physgen/lattice/target.h"

namespace physgen_test {

class Phi4TestTarget : public physgen::Target {
 public:
  Phi4TestTarget(int64_t L, double m2, double lambda) : L_(L), m2_(m2), lambda_(lambda) {}
  torch::Tensor action(const torch::Tensor& x) const override {
    auto kinetic = (x.roll(1, 1) - x).square() + (x.roll(1, 2) - x).square();
    auto x2 = x.square();
    auto density = kinetic + m2_ * x2;
    if (lambda_ != 0) density = density + lambda_ * x2.square();
    return density.sum({1, 2});
  }
  std::vector<int64_t> event_shape() const override { return {L_, L_}; }
  std::string name() const override { return "phi4"; }
  nlohmann::json params() const override { return {{"L", L_}, {"m2", m2_}, {"lambda", lambda_}}; }

  /// Free field only: log Z exactly.
  double free_log_z() const {
    double s = 0;
    for (int64_t a = 0; a < L_; ++a)
      for (int64_t b = 0; b < L_; ++b) s += std::log(eigenvalue(a, b));
    const double V = static_cast<double>(L_ * L_);
    return 0.5 * V * std::log(M_PI) - 0.5 * s;
  }
  /// Free field only: G(r0, r1) exactly.
  double free_propagator(int64_t r0, int64_t r1) const {
    double s = 0;
    for (int64_t a = 0; a < L_; ++a)
      for (int64_t b = 0; b < L_; ++b) {
        const double k0 = 2 * M_PI * a / L_, k1 = 2 * M_PI * b / L_;
        s += std::cos(k0 * r0 + k1 * r1) / eigenvalue(a, b);
      }
    return s / (2.0 * L_ * L_);
  }
  double eigenvalue(int64_t a, int64_t b) const {
    const double k0 = 2 * M_PI * a / L_, k1 = 2 * M_PI * b / L_;
    return m2_ + 4 * std::pow(std::sin(k0 / 2), 2) + 4 * std::pow(std::sin(k1 / 2), 2);
  }

 private:
  int64_t L_;
  double m2_, lambda_;
};

}  // namespace physgen_test
