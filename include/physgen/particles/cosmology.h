#pragma once
// A flat Lambda-CDM background for particle-mesh N-body runs: the expansion rate, the linear
// growth factors from their ODEs, and the Eisenstein-Hu no-wiggle linear power spectrum
// normalised to sigma_8.
//
// Background (radiation neglected, flat): E(a) = H(a)/H0 = sqrt(Omega_m a^-3 + 1 - Omega_m),
// Omega_m(a) = Omega_m a^-3 / E(a)^2.
//
// Growth, in y = ln a (' = d/dy), from the linearised fluid equations:
//   D1'' + (2 - 3/2 Omega_m(a)) D1' - 3/2 Omega_m(a) D1 = 0,
//   D2'' + (2 - 3/2 Omega_m(a)) D2' - 3/2 Omega_m(a) D2 = -3/2 Omega_m(a) D1^2,
// started deep in matter domination (a = 1e-3, where D1 = a and D2 = -3/7 a^2 solve them) and
// integrated with physgen's dopri5 (ode/odeint.h). D1 is normalised to D1(1) = 1 (the linear
// power spectrum below is the one at a = 1) and D2 by the same factor squared, so D2 ~ -3/7 D1^2.
// In Einstein-de Sitter (Omega_m = 1) D1 = a exactly; for Lambda-CDM D1 also equals Heath's
// integral D1 ~ E(a) int_0^a da' / (a' E(a'))^3 (tests/unit/test_nbody.cpp checks both).
// f_i = dln D_i / dln a.
//
// Linear power at a = 1: P(k) = A k^n_s T(k)^2 with the no-wiggle transfer function of
// Eisenstein & Hu (1998), eqs. 26, 28-31 (k in h/Mpc, P in (Mpc/h)^d), and A fixed by
//   3-D: sigma_8^2 = 1/(2 pi^2) int k^2 P(k) W(k R)^2 dk,   W(x) = 3 (sin x - x cos x) / x^3,
//   2-D: sigma_8^2 = 1/(2 pi)   int k   P(k) W(k R)^2 dk,   W(x) = 2 J_1(x) / x,
// with R = 8 Mpc/h (in 2-D: the rms contrast in discs of radius 8 Mpc/h, physgen's convention
// for planar runs, which have no standard normalisation).
//
// References: Peebles, "The Large-Scale Structure of the Universe" (1980) sec. 10-11;
// Heath, MNRAS 179 (1977) 351; Bouchet, Colombi, Hivon, Juszkiewicz, A&A 296 (1995) 575
// (second-order growth); Eisenstein & Hu, ApJ 496 (1998) 605, astro-ph/9709112.
#include <vector>

namespace physgen {

/// Flat Lambda-CDM parameters (defaults: Planck-2015-like values used by CAMELS).
struct Cosmology {
  double omega_m = 0.3;     ///< matter density today (0 < Omega_m <= 1)
  double omega_b = 0.049;   ///< baryon density today (transfer function only; 0 <= Omega_b < Omega_m)
  double h = 0.6711;        ///< H0 / (100 km/s/Mpc)
  double n_s = 0.9624;      ///< primordial spectral index
  double sigma8 = 0.8;      ///< rms linear contrast at a = 1 in spheres (discs in 2-D) of 8 Mpc/h
  double t_cmb = 2.7255;    ///< CMB temperature in K (transfer function only)
  /// InvalidArgument naming the parameter outside its domain.
  void validate() const;
};

/// E(a) = H(a)/H0.
double hubble_e(const Cosmology& c, double a);
/// dln E / dln a = -3/2 Omega_m(a).
double dlog_hubble_dloga(const Cosmology& c, double a);
/// Omega_m(a) = Omega_m a^-3 / E(a)^2.
double omega_m_of_a(const Cosmology& c, double a);

/// The growth factors D1, D2 and rates f1, f2 of a cosmology, solved once on a grid in ln a
/// (from 1e-3 to 2) and interpolated by cubic Hermite splines (values and derivatives from
/// the ODE); interpolation error < 1e-8 relative for D, < 1e-6 for f.
class Growth {
 public:
  explicit Growth(const Cosmology& c);
  double d1(double a) const;  ///< D1(a), D1(1) = 1
  double f1(double a) const;  ///< dln D1 / dln a
  double d2(double a) const;  ///< D2(a) (negative; ~ -3/7 D1^2)
  double f2(double a) const;  ///< dln D2 / dln a
  const Cosmology& cosmology() const { return c_; }

 private:
  double interp(int which, double a, bool derivative) const;
  Cosmology c_;
  std::vector<double> y_;                       // ln a grid
  std::vector<double> d1_, dd1_, d2_, dd2_;     // values and d/dln a
};

/// Heath's integral solution of the D1 equation, normalised to 1 at a = 1 (Lambda-CDM without
/// radiation): D1(a) = E(a) I(a) / (E(1) I(1)), I(a) = int_0^a da' / (a' E(a'))^3, by
/// Gauss-Legendre quadrature; an independent check of Growth::d1.
double growth_heath(const Cosmology& c, double a);

/// Eisenstein & Hu (1998) no-wiggle transfer function T(k), k in h/Mpc.
double transfer_eh_nowiggle(const Cosmology& c, double k);

/// The linear matter power spectrum at a = 1 in `dim` = 2 or 3 dimensions, normalised to
/// c.sigma8 (see the header comment). k in h/Mpc, P in (Mpc/h)^dim.
class LinearPower {
 public:
  LinearPower(const Cosmology& c, int dim);
  double operator()(double k) const;  ///< P(k); P(0) = 0
  /// The rms linear contrast in a top-hat (sphere / disc) of radius R Mpc/h at a = 1.
  double sigma(double radius) const;
  int dim() const { return dim_; }

 private:
  double unnormalised_sigma2(double radius) const;
  Cosmology c_;
  int dim_;
  double amplitude_ = 1.0;
};

}  // namespace physgen
