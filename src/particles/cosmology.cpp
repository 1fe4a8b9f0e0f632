#include "physgen/particles/cosmology.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/ode/odeint.h"
#include "physgen/particles/quadrature.h"

namespace physgen {

void Cosmology::validate() const {
  check_arg(omega_m > 0 && omega_m <= 1, "omega_m", omega_m, "a number in (0, 1] (flat Lambda-CDM)");
  check_arg(omega_b >= 0 && omega_b < omega_m, "omega_b", omega_b, "a number in [0, omega_m)");
  check_arg(h > 0 && h < 2, "h", h, "a number in (0, 2)");
  check_arg(n_s > 0 && n_s < 2, "n_s", n_s, "a number in (0, 2)");
  check_arg(sigma8 > 0 && sigma8 < 10, "sigma8", sigma8, "a number in (0, 10)");
  check_arg(t_cmb > 0, "t_cmb", t_cmb, "a positive temperature in K");
}

double hubble_e(const Cosmology& c, double a) {
  return std::sqrt(c.omega_m / (a * a * a) + (1.0 - c.omega_m));
}

double omega_m_of_a(const Cosmology& c, double a) {
  const double e = hubble_e(c, a);
  return c.omega_m / (a * a * a) / (e * e);
}

double dlog_hubble_dloga(const Cosmology& c, double a) { return -1.5 * omega_m_of_a(c, a); }

namespace {
constexpr double kLogAMin = -6.907755278982137;  // ln 1e-3
constexpr double kLogAMax = 0.6931471805599453;  // ln 2
constexpr int kGrid = 512;
}  // namespace

Growth::Growth(const Cosmology& c) : c_(c) {
  c.validate();
  y_.resize(kGrid);
  for (int i = 0; i < kGrid; ++i) y_[i] = kLogAMin + (kLogAMax - kLogAMin) * i / (kGrid - 1);
  y_.back() = kLogAMax;  // t_eval must end exactly at t1
  const Cosmology cc = c;
  OdeFunction rhs = [cc](double y, const torch::Tensor& s) {
    const double a = std::exp(y);
    const double om = omega_m_of_a(cc, a);
    auto acc = s.accessor<double, 1>();
    const double d1 = acc[0], v1 = acc[1], d2 = acc[2], v2 = acc[3];
    const double drag = 2.0 - 1.5 * om;
    return torch::tensor({v1, -drag * v1 + 1.5 * om * d1, v2, -drag * v2 + 1.5 * om * (d2 - d1 * d1)},
                         torch::kFloat64);
  };
  // Deep in matter domination D1 = a, D2 = -3/7 a^2 (exact for Omega_m(a) = 1; the residual
  // Lambda term at a = 1e-3 is Omega_L/Omega_m * 1e-9, far below the tolerances).
  const double a0 = std::exp(kLogAMin);
  const torch::Tensor s0 = torch::tensor({a0, a0, -3.0 / 7.0 * a0 * a0, -6.0 / 7.0 * a0 * a0}, torch::kFloat64);
  OdeOptions o("dopri5");
  o.rtol(1e-11).atol(1e-16).max_steps(100000);
  std::vector<double> te(y_.begin() + 1, y_.end());
  o.t_eval(te);
  const OdeResult r = odeint(rhs, s0, kLogAMin, kLogAMax, o);
  if (!r.ok()) throw std::runtime_error("growth ODE failed: " + r.summary());
  d1_.assign(kGrid, 0.0);
  dd1_ = d2_ = dd2_ = d1_;
  auto put = [&](int i, const torch::Tensor& s) {
    auto acc = s.accessor<double, 1>();
    d1_[i] = acc[0];
    dd1_[i] = acc[1];
    d2_[i] = acc[2];
    dd2_[i] = acc[3];
  };
  put(0, s0);
  for (size_t i = 0; i < r.states.size(); ++i) put(static_cast<int>(i) + 1, r.states[i][0]);
  // Normalise to D1(1) = 1 (D2 by the square, keeping D2 / D1^2 unchanged).
  const double n1 = interp(0, 1.0, false);  // D1(1) from the unnormalised spline
  for (int i = 0; i < kGrid; ++i) {
    d1_[i] /= n1;
    dd1_[i] /= n1;
    d2_[i] /= n1 * n1;
    dd2_[i] /= n1 * n1;
  }
}

double Growth::interp(int which, double a, bool derivative) const {
  check_arg(a >= std::exp(kLogAMin) && a <= std::exp(kLogAMax), "a", a, "a scale factor in [1e-3, 2]");
  const std::vector<double>& v = which == 0 ? d1_ : d2_;
  const std::vector<double>& dv = which == 0 ? dd1_ : dd2_;
  const double y = std::log(a);
  const double hstep = (kLogAMax - kLogAMin) / (kGrid - 1);
  int i = static_cast<int>((y - kLogAMin) / hstep);
  if (i >= kGrid - 1) i = kGrid - 2;
  if (i < 0) i = 0;
  const double t = (y - y_[i]) / hstep;
  const double p0 = v[i], p1 = v[i + 1], m0 = dv[i] * hstep, m1 = dv[i + 1] * hstep;
  if (!derivative) {
    const double t2 = t * t, t3 = t2 * t;
    return (2 * t3 - 3 * t2 + 1) * p0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * p1 + (t3 - t2) * m1;
  }
  const double t2 = t * t;
  return ((6 * t2 - 6 * t) * p0 + (3 * t2 - 4 * t + 1) * m0 + (-6 * t2 + 6 * t) * p1 + (3 * t2 - 2 * t) * m1) / hstep;
}

double Growth::d1(double a) const { return interp(0, a, false); }
double Growth::f1(double a) const { return interp(0, a, true) / interp(0, a, false); }
double Growth::d2(double a) const { return interp(1, a, false); }
double Growth::f2(double a) const { return interp(1, a, true) / interp(1, a, false); }

double growth_heath(const Cosmology& c, double a) {
  c.validate();
  // I(a) = int_0^a da' / (a' E)^3; with a' = a u^2 the integrand 2 a u / (a u^2 E)^3 ~ u^4 near 0.
  auto integral = [&](double aa) {
    return gauss_legendre(0.0, 1.0, 64, [&](double u) {
      const double ap = aa * u * u;
      if (ap <= 0) return 0.0;
      const double x = ap * hubble_e(c, ap);
      return 2.0 * aa * u / (x * x * x);
    });
  };
  return hubble_e(c, a) * integral(a) / (hubble_e(c, 1.0) * integral(1.0));
}

double transfer_eh_nowiggle(const Cosmology& c, double k) {
  if (k <= 0) return 1.0;
  const double h = c.h, omh2 = c.omega_m * h * h, obh2 = c.omega_b * h * h;
  const double fb = c.omega_b / c.omega_m;
  const double theta = c.t_cmb / 2.7;
  // EH98 eq. 26: approximate sound horizon in Mpc.
  const double s = 44.5 * std::log(9.83 / omh2) / std::sqrt(1.0 + 10.0 * std::pow(obh2, 0.75));
  // eq. 31
  const double alpha = 1.0 - 0.328 * std::log(431.0 * omh2) * fb + 0.38 * std::log(22.3 * omh2) * fb * fb;
  const double kmpc = k * h;  // 1/Mpc
  // eq. 30
  const double gamma = c.omega_m * h * (alpha + (1.0 - alpha) / (1.0 + std::pow(0.43 * kmpc * s, 4)));
  // eq. 28 (k in h/Mpc)
  const double q = k * theta * theta / gamma;
  // eq. 29
  const double l0 = std::log(2.0 * std::exp(1.0) + 1.8 * q);
  const double c0 = 14.2 + 731.0 / (1.0 + 62.5 * q);
  return l0 / (l0 + c0 * q * q);
}

LinearPower::LinearPower(const Cosmology& c, int dim) : c_(c), dim_(dim) {
  c.validate();
  check_arg(dim == 2 || dim == 3, "dim", dim, "2 or 3");
  amplitude_ = c.sigma8 * c.sigma8 / unnormalised_sigma2(8.0);
}

double LinearPower::operator()(double k) const {
  if (k <= 0) return 0.0;
  const double t = transfer_eh_nowiggle(c_, k);
  return amplitude_ * std::pow(k, c_.n_s) * t * t;
}

double LinearPower::unnormalised_sigma2(double radius) const {
  // Integrate in ln k over [1e-5, 1e3] h/Mpc: the window kills k R >> 1, k^(n_s+3) kills k -> 0.
  const double lo = std::log(1e-5), hi = std::log(1e3);
  return gauss_legendre(lo, hi, 2048, [&](double lk) {
    const double k = std::exp(lk);
    const double x = k * radius;
    const double t = transfer_eh_nowiggle(c_, k);
    const double p = std::pow(k, c_.n_s) * t * t;
    if (dim_ == 3) {
      const double w = x < 1e-3 ? 1.0 - x * x / 10.0 : 3.0 * (std::sin(x) - x * std::cos(x)) / (x * x * x);
      return k * k * k * p * w * w / (2.0 * M_PI * M_PI);
    }
    const double w = x < 1e-3 ? 1.0 - x * x / 8.0 : 2.0 * std::cyl_bessel_j(1.0, x) / x;
    return k * k * p * w * w / (2.0 * M_PI);
  });
}

double LinearPower::sigma(double radius) const {
  check_arg(radius > 0, "radius", radius, "a positive radius in Mpc/h");
  return std::sqrt(amplitude_ * unnormalised_sigma2(radius));
}

}  // namespace physgen
