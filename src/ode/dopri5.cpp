// Adaptive Dormand-Prince 5(4) with first-same-as-last and local extrapolation.
//
// Step control (HNW I, II.4): err = max over components of the RMS of
//   h sum_j e_j k_j / (atol + rtol max(|y|, |y_new|)),
// accept when err <= 1, next |h| = |h| min(fac_max, max(0.2, 0.9 err^(-1/5))),
// fac_max = 10 (1 right after a rejection). A non-finite stage or state counts as a
// rejection with |h| / 4. The step is stretched by up to 1 % to land on the next stop.
#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/ode/state.h"
#include "solvers.h"

namespace physgen {
namespace detail {

namespace {

// Dormand-Prince tableau (HNW I, Table II.5.2).
constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
constexpr double a21 = 1.0 / 5;
constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561,
                 a54 = -212.0 / 729;
constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247,
                 a64 = 49.0 / 176, a65 = -5103.0 / 18656;
// 5th-order weights (= the last stage row, hence FSAL).
constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192,
                 b5 = -2187.0 / 6784, b6 = 11.0 / 84;
// Error weights: 5th-order minus embedded 4th-order weights.
constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920,
                 e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40;

constexpr double kSafety = 0.9, kMinFactor = 0.2, kMaxFactor = 10.0;

// max over components of RMS(v / (atol + rtol max(|y_a|, |y_b|))); NaN when v, y_a
// or y_b holds a non-finite value.
double scaled_norm(const OdeState& v, const OdeState& ya, const OdeState& yb, double rtol,
                   double atol) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  parts.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    torch::Tensor scale = torch::maximum(ya[i].abs(), yb[i].abs()).mul(rtol).add(atol);
    torch::Tensor rms = v[i].div(scale).square().mean().sqrt();
    // 0 * max|y| is NaN exactly when y holds Inf or NaN.
    parts.push_back((rms + yb[i].abs().amax() * 0.0 + ya[i].abs().amax() * 0.0)
                        .to(torch::kFloat64));
  }
  torch::Tensor all = torch::stack(parts);
  // amax ignores nothing: a NaN anywhere makes the maximum NaN.
  return all.amax().item<double>();
}

// Hairer's starting step size (HNW I, II.4, "automatic step size control").
double initial_step(const OdeSystem& f, double t0, const OdeState& y0, const OdeState& f0,
                    double direction, double span, const OdeOptions& o) {
  torch::NoGradGuard no_grad;
  const double d0 = scaled_norm(y0, y0, y0, o.rtol(), o.atol());
  const double d1 = scaled_norm(f0, y0, y0, o.rtol(), o.atol());
  double h0 = (d0 < 1e-5 || d1 < 1e-5 || !std::isfinite(d0 / d1)) ? 1e-6 : 0.01 * d0 / d1;
  h0 = std::min({h0, o.max_step(), span});
  OdeState y1 = state_combine(y0, {direction * h0}, {&f0});
  OdeState f1 = f(t0 + direction * h0, y1);
  OdeState df(f1.size());
  for (size_t i = 0; i < f1.size(); ++i) df[i] = f1[i] - f0[i];
  const double d2 = scaled_norm(df, y0, y0, o.rtol(), o.atol()) / h0;
  const double dmax = std::max(d1, d2);
  double h1 = dmax <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / dmax, 1.0 / 5.0);
  if (!std::isfinite(h1)) h1 = h0;
  return std::min({100.0 * h0, h1, o.max_step(), span});
}

}  // namespace

void integrate_dopri5(const OdeSystem& f, const OdeState& y0, double t0, double t1,
                      const OdeOptions& o, const OdeStops& stops, OdeResult& result) {
  const double direction = t1 > t0 ? 1.0 : -1.0;
  const double span = std::abs(t1 - t0);
  const double eps = std::numeric_limits<double>::epsilon();
  OdeState y = y0;
  double t = t0;
  result.state = y;
  result.t = t;

  OdeState k1 = f(t, y);
  if (!all_finite(k1)) {
    result.status = OdeStatus::NonFinite;
    return;
  }
  double h = o.first_step() > 0 ? std::min({o.first_step(), o.max_step(), span})
                                : initial_step(f, t, y, k1, direction, span, o);
  double fac_max = kMaxFactor;
  bool last_rejection_nonfinite = false;

  size_t next = 0;
  while (next < stops.times.size()) {
    const double target = stops.times[next];
    if (t == target) {
      if (stops.record[next]) {
        result.times.push_back(t);
        result.states.push_back(y);
      }
      ++next;
      continue;
    }
    if (result.accepted_steps + result.rejected_steps >= o.max_steps()) {
      result.status = OdeStatus::MaxStepsReached;
      break;
    }
    const double remaining = std::abs(target - t);
    double habs = std::min(h, o.max_step());
    const bool lands = remaining <= 1.01 * habs;
    if (lands) habs = remaining;
    if (!lands && habs < 16.0 * eps * std::max(std::abs(t), span)) {
      result.status =
          last_rejection_nonfinite ? OdeStatus::NonFinite : OdeStatus::StepSizeUnderflow;
      break;
    }
    const double hs = direction * habs;

    OdeState k2 = f(t + c2 * hs, state_combine(y, {hs * a21}, {&k1}));
    OdeState k3 = f(t + c3 * hs, state_combine(y, {hs * a31, hs * a32}, {&k1, &k2}));
    OdeState k4 =
        f(t + c4 * hs, state_combine(y, {hs * a41, hs * a42, hs * a43}, {&k1, &k2, &k3}));
    OdeState k5 = f(t + c5 * hs, state_combine(y, {hs * a51, hs * a52, hs * a53, hs * a54},
                                               {&k1, &k2, &k3, &k4}));
    OdeState k6 = f(t + hs, state_combine(y, {hs * a61, hs * a62, hs * a63, hs * a64, hs * a65},
                                          {&k1, &k2, &k3, &k4, &k5}));
    OdeState y_new = state_combine(y, {hs * b1, hs * b3, hs * b4, hs * b5, hs * b6},
                                   {&k1, &k3, &k4, &k5, &k6});
    const double t_new = lands ? target : t + hs;
    OdeState k7 = f(t_new, y_new);

    double err;
    {
      torch::NoGradGuard no_grad;
      OdeState first(k1.size());
      for (size_t i = 0; i < k1.size(); ++i) first[i] = k1[i] * (hs * e1);
      OdeState e = state_combine(first, {hs * e3, hs * e4, hs * e5, hs * e6, hs * e7},
                                 {&k3, &k4, &k5, &k6, &k7});
      // Including k7 in the error also catches a non-finite f(t_new, y_new).
      err = scaled_norm(e, y, y_new, o.rtol(), o.atol());
    }

    if (!std::isfinite(err)) {
      ++result.rejected_steps;
      last_rejection_nonfinite = true;
      h = 0.25 * habs;
      fac_max = 1.0;
      continue;
    }
    if (err <= 1.0) {
      ++result.accepted_steps;
      t = t_new;
      y = std::move(y_new);
      k1 = std::move(k7);
      const double factor =
          err == 0.0 ? fac_max : std::min(fac_max, std::max(kMinFactor, kSafety * std::pow(err, -0.2)));
      h = habs * factor;
      fac_max = kMaxFactor;
      last_rejection_nonfinite = false;
    } else {
      ++result.rejected_steps;
      h = habs * std::max(kMinFactor, kSafety * std::pow(err, -0.2));
      fac_max = 1.0;
      last_rejection_nonfinite = false;
    }
  }
  result.state = y;
  result.t = t;
}

}  // namespace detail
}  // namespace physgen
