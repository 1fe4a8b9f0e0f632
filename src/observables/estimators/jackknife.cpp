#include "physgen/observables/estimators/jackknife.h"

#include <algorithm>

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "series_util.h"

namespace physgen {

JackknifeEstimate jackknife(const torch::Tensor& samples, const DerivedFunction& f,
                            int64_t bin_size) {
  check_arg(samples.defined() && (samples.dim() == 1 || samples.dim() == 2), "samples",
            samples.defined() ? detail::shape_string(samples) : std::string("undefined"),
            "shape (N) or (N, k)");
  check_arg(bin_size >= 1, "bin_size", bin_size, "an integer >= 1");
  auto a = detail::finite_double_cpu(samples, "samples");
  if (a.dim() == 1) a = a.unsqueeze(1);
  const int64_t k = a.size(1);
  check_arg(k >= 1, "samples", detail::shape_string(samples), "k >= 1 observables");
  check_arg(static_cast<bool>(f) || k == 1, "samples", detail::shape_string(samples),
            "a single observable when f is the identity");
  const int64_t n = a.size(0) / bin_size;
  check_arg(n >= 2, "bin_size", bin_size,
            "at most N/2 = " + std::to_string(a.size(0) / 2) + " (at least two bins)");

  // Bin means (n, k), their mean, and the leave-one-bin-out means.
  auto bins = a.slice(0, 0, n * bin_size).view({n, bin_size, k}).mean(1);
  auto full = bins.mean(0);
  auto loo = ((full * static_cast<double>(n)).unsqueeze(0) - bins) / static_cast<double>(n - 1);
  loo = loo.contiguous();
  const double* pl = loo.data_ptr<double>();
  const double* pf = full.data_ptr<double>();

  auto eval = [&](const double* m) {
    std::vector<double> v(m, m + k);
    return f ? f(v) : v[0];
  };
  JackknifeEstimate out;
  out.n_bins = n;
  out.mean = eval(pf);
  std::vector<double> fj(n);
  double fbar = 0;
  for (int64_t j = 0; j < n; ++j) {
    fj[j] = eval(pl + j * k);
    fbar += fj[j];
  }
  fbar /= n;
  double ss = 0;
  for (double x : fj) ss += (x - fbar) * (x - fbar);
  out.error = std::sqrt(ss * (n - 1) / n);
  out.bias_corrected_mean = n * out.mean - (n - 1) * fbar;
  return out;
}

JackknifeEstimate jackknife(const std::vector<double>& samples, const DerivedFunction& f,
                            int64_t bin_size) {
  return jackknife(torch::tensor(samples, torch::kFloat64), f, bin_size);
}

int64_t default_jackknife_blocks(int64_t n, int64_t chains, int64_t target) {
  check_arg(n >= 1, "n", n, "at least one configuration");
  check_arg(target >= 1, "target", target, "at least one block");
  const int64_t c = std::max<int64_t>(1, chains);
  const int64_t blocks = c * ((target + c - 1) / c);
  return blocks > n ? std::min<int64_t>(target, n) : blocks;
}

}  // namespace physgen
