#include "physgen/observables/estimators/gamma_method.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "series_util.h"

namespace physgen {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// sum_i d(i) d(i+t) for t = 0..t_max of one replica, by zero-padded FFT.
std::vector<double> lagged_products(const torch::Tensor& d, int64_t t_max) {
  const int64_t n = d.size(0);
  int64_t n_fft = 1;
  while (n_fft < 2 * n) n_fft <<= 1;
  auto spec = torch::fft::rfft(d, n_fft);
  auto acf = torch::fft::irfft(spec * spec.conj(), n_fft).slice(0, 0, t_max + 1).contiguous();
  const double* p = acf.data_ptr<double>();
  return std::vector<double>(p, p + t_max + 1);
}

// Automatic windowing (Wolff sec. 3.3) on the uncorrected Gamma; returns W (0 if S == 0).
int64_t find_window(const std::vector<double>& gamma, double n_total, double S, bool& found) {
  const int64_t t_max = static_cast<int64_t>(gamma.size()) - 1;
  found = true;
  if (S == 0.0 || t_max == 0) {
    found = S == 0.0;
    return 0;
  }
  double tau_w = 0.5;
  for (int64_t w = 1; w <= t_max; ++w) {
    tau_w += gamma[w] / gamma[0];
    const double tau = tau_w > 0.5 ? S / std::log((2 * tau_w + 1) / (2 * tau_w - 1))
                                   : std::numeric_limits<double>::min();
    const double g = std::exp(-w / tau) - tau / std::sqrt(w * n_total);
    if (g < 0) return w;
  }
  found = false;
  return t_max;
}

GammaAnalysis analyse(const std::vector<torch::Tensor>& data, const DerivedFunction& f, double S) {
  // data[r]: contiguous float64 (T_r, k), already validated.
  const int64_t n_rep = static_cast<int64_t>(data.size());
  const int64_t k = data[0].size(1);
  GammaAnalysis out;
  out.n_replicas = n_rep;
  int64_t n_total = 0, t_min = data[0].size(0);
  for (const auto& a : data) {
    n_total += a.size(0);
    t_min = std::min(t_min, a.size(0));
  }
  out.n_total = n_total;
  const double n = static_cast<double>(n_total);

  // 1. means and standard deviations of the primaries.
  auto all = torch::cat(data, 0);
  auto mean_t = all.mean(0);
  auto sd_t = all.std(0, /*unbiased=*/false);
  out.means.assign(mean_t.data_ptr<double>(), mean_t.data_ptr<double>() + k);
  std::vector<double> sd(sd_t.data_ptr<double>(), sd_t.data_ptr<double>() + k);
  auto constant_t = (all.amax(0) == all.amin(0)).contiguous();
  for (int64_t al = 0; al < k; ++al)
    if (constant_t[al].item<bool>()) sd[al] = 0.0;  // exactly constant primary

  // 2. value and gradient.
  double value;
  if (!f) {
    value = out.means[0];
    out.gradient = {sd[0] == 0.0 ? 0.0 : 1.0};
  } else {
    value = f(out.means);
    out.gradient.assign(k, 0.0);
    std::vector<double> a = out.means;
    for (int64_t al = 0; al < k; ++al) {
      if (sd[al] == 0.0) continue;  // no fluctuations: no contribution
      const double h = std::max(1e-4 * sd[al] / std::sqrt(n), 1e-8 * std::abs(a[al]));
      a[al] = out.means[al] + h;
      const double fp = f(a);
      a[al] = out.means[al] - h;
      const double fm = f(a);
      a[al] = out.means[al];
      out.gradient[al] = (fp - fm) / (2 * h);
    }
  }
  out.estimate = Estimate{value, 0.0, 0.5, 0.0};
  if (!std::isfinite(value) || !detail::all_finite(out.gradient)) {
    out.estimate = Estimate{value, kNaN, kNaN, kNaN};
    out.window_found = false;
    return out;
  }

  // Only constant primaries contribute: no fluctuations, error 0.
  if (std::all_of(out.gradient.begin(), out.gradient.end(), [](double g) { return g == 0.0; })) {
    out.rho.assign(1, 1.0);
    out.tau_int_curve.assign(1, 0.5);
    return out;
  }

  // 3. Gamma(t) of the projected fluctuations.
  const int64_t t_max = t_min / 2;
  auto grad = torch::tensor(out.gradient, torch::kFloat64);
  std::vector<double> gamma(t_max + 1, 0.0);
  for (const auto& a : data) {
    auto d = torch::mv(a - mean_t, grad).contiguous();
    auto c = lagged_products(d, t_max);
    for (int64_t t = 0; t <= t_max; ++t) gamma[t] += c[t];
  }
  for (int64_t t = 0; t <= t_max; ++t) gamma[t] /= (n - static_cast<double>(n_rep * t));
  if (!(gamma[0] > 0.0)) {
    out.rho.assign(1, 1.0);
    out.tau_int_curve.assign(1, 0.5);
    return out;
  }

  // 4. window; 5. bias correction; 6. results.
  bool found = true;
  int64_t w = find_window(gamma, n, S, found);
  auto c_f = [&](int64_t win) {
    double c = gamma[0];
    for (int64_t t = 1; t <= win; ++t) c += 2 * gamma[t];
    return c;
  };
  double cf = c_f(w);
  if (!(cf > 0.0)) {  // pathological Gamma: fall back to the naive error
    w = 0;
    found = false;
    cf = gamma[0];
  }
  for (auto& g : gamma) g += cf / n;
  cf = c_f(w);
  out.window = w;
  out.window_found = found;
  const double tau = cf / (2 * gamma[0]);
  out.estimate.error = std::sqrt(cf / n);
  out.estimate.tau_int = tau;
  out.estimate.tau_int_error = 2 * tau * std::sqrt(std::max(w + 0.5 - tau, 0.0) / n);
  out.error_of_error = out.estimate.error * std::sqrt((w + 0.5) / n);
  out.rho.resize(t_max + 1);
  out.tau_int_curve.resize(t_max + 1);
  double acc = 0.5;
  for (int64_t t = 0; t <= t_max; ++t) {
    out.rho[t] = gamma[t] / gamma[0];
    if (t > 0) acc += out.rho[t];
    out.tau_int_curve[t] = acc;
  }
  return out;
}

std::vector<torch::Tensor> prepare(const std::vector<torch::Tensor>& replicas, bool primary) {
  check_arg(!replicas.empty(), "replicas", "an empty list", "at least one replica");
  std::vector<torch::Tensor> data;
  data.reserve(replicas.size());
  int64_t k = -1;
  for (size_t r = 0; r < replicas.size(); ++r) {
    const std::string name = "replicas[" + std::to_string(r) + "]";
    auto a = detail::finite_double_cpu(replicas[r], name);
    check_arg(a.dim() == 1 || a.dim() == 2, name, detail::shape_string(a),
              "shape (T) or (T, k)");
    if (a.dim() == 1) a = a.unsqueeze(1);
    check_arg(a.size(0) >= 1, name, detail::shape_string(a), "at least one measurement");
    check_arg(a.size(1) >= 1, name, detail::shape_string(a), "k >= 1 observables");
    if (k < 0) k = a.size(1);
    check_arg(a.size(1) == k, name, detail::shape_string(a),
              "the same number of observables k = " + std::to_string(k) + " as replicas[0]");
    data.push_back(a);
  }
  if (primary) {
    check_arg(k == 1, "replicas", "k = " + std::to_string(k),
              "a single observable (k = 1) when no derived function is given");
  }
  return data;
}

void check_s(double S) {
  check_arg(std::isfinite(S) && S >= 0.0, "S", S, "a finite value >= 0 (0: no autocorrelation)");
}

}  // namespace

GammaAnalysis gamma_analysis(const std::vector<torch::Tensor>& replicas, const DerivedFunction& f,
                             double S) {
  check_s(S);
  return analyse(prepare(replicas, !f), f, S);
}

Estimate gamma_method(const std::vector<std::vector<double>>& replicas, double S) {
  std::vector<torch::Tensor> t;
  t.reserve(replicas.size());
  for (const auto& r : replicas)
    t.push_back(torch::tensor(r, torch::kFloat64));  // empty vectors are rejected by prepare
  return gamma_analysis(t, nullptr, S).estimate;
}

Estimate gamma_method(const std::vector<double>& series, double S) {
  return gamma_method(std::vector<std::vector<double>>{series}, S);
}

Estimate gamma_method(const torch::Tensor& series, double S) {
  check_arg(series.defined() && (series.dim() == 1 || series.dim() == 2), "series",
            series.defined() ? detail::shape_string(series) : std::string("undefined"),
            "shape (T) or (R, T)");
  if (series.dim() == 1) return gamma_analysis({series}, nullptr, S).estimate;
  return gamma_analysis(series.unbind(0), nullptr, S).estimate;
}

Estimate gamma_method_derived(const std::vector<torch::Tensor>& replicas, const DerivedFunction& f,
                              double S) {
  check_arg(static_cast<bool>(f), "f", "an empty function", "a callable f(means)");
  return gamma_analysis(replicas, f, S).estimate;
}

Estimate gamma_method_derived(const torch::Tensor& series, const DerivedFunction& f, double S) {
  check_arg(series.defined() && (series.dim() == 2 || series.dim() == 3), "series",
            series.defined() ? detail::shape_string(series) : std::string("undefined"),
            "shape (T, k) or (R, T, k)");
  if (series.dim() == 2) return gamma_method_derived(std::vector<torch::Tensor>{series}, f, S);
  return gamma_method_derived(series.unbind(0), f, S);
}

}  // namespace physgen
