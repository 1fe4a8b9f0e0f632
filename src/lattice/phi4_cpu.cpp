// Fused CPU float64 kernels for the 2D phi^4 action, force and kick-drift trajectories.
//
// One chain is a contiguous L x L block; a chain's field and momenta stay in L1/L2 cache for a
// whole trajectory, so a trajectory costs one pass of memory traffic instead of ~15 tensor ops
// per force evaluation. Arithmetic is ordered exactly as in phi4_force_tensor (same association,
// no FMA contraction in ISO C++ mode), so the two paths agree to the last bit in practice and
// to rounding in any case.
#include <algorithm>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "phi4_cpu.h"

namespace physgen {

namespace {

// p -= coef * dS/dphi for one chain. dS/dphi = c1 x - 2 (sum of neighbours) + c3 x^3 with
// c1 = 8 + 2 m2, c3 = 4 lambda. The interior columns form a unit-stride loop that vectorizes;
// the two boundary columns wrap around.
inline void kick_chain(const double* __restrict x, double* __restrict p, int64_t L, double c1,
                       double c3, double coef) {
  for (int64_t i = 0; i < L; ++i) {
    const double* xr = x + i * L;
    const double* xu = x + (i + 1 == L ? 0 : i + 1) * L;
    const double* xd = x + (i == 0 ? L - 1 : i - 1) * L;
    double* pr = p + i * L;
    {
      const double v = xr[0];
      const double n = ((xd[0] + xu[0]) + xr[L - 1]) + xr[1];
      pr[0] -= coef * ((c1 * v - 2.0 * n) + c3 * (v * v * v));
    }
    for (int64_t j = 1; j < L - 1; ++j) {
      const double v = xr[j];
      const double n = ((xd[j] + xu[j]) + xr[j - 1]) + xr[j + 1];
      pr[j] -= coef * ((c1 * v - 2.0 * n) + c3 * (v * v * v));
    }
    {
      const int64_t j = L - 1;
      const double v = xr[j];
      const double n = ((xd[j] + xu[j]) + xr[j - 1]) + xr[0];
      pr[j] -= coef * ((c1 * v - 2.0 * n) + c3 * (v * v * v));
    }
  }
}

// x += coef * p over the V sites of one chain.
inline void drift_chain(double* __restrict x, const double* __restrict p, int64_t V, double coef) {
  for (int64_t s = 0; s < V; ++s) x[s] = x[s] + coef * p[s];
}

// S of one chain: sum over sites of (x_up - x)^2 + (x_right - x)^2 + m2 x^2 + lambda x^4.
inline double action_chain(const double* __restrict x, int64_t L, double m2, double lambda) {
  double s = 0.0;
  for (int64_t i = 0; i < L; ++i) {
    const double* xr = x + i * L;
    const double* xu = x + (i + 1 == L ? 0 : i + 1) * L;
    for (int64_t j = 0; j < L; ++j) {
      const double v = xr[j];
      const double d1 = xu[j] - v;
      const double d2 = xr[j + 1 == L ? 0 : j + 1] - v;
      const double v2 = v * v;
      s += ((d1 * d1 + d2 * d2) + m2 * v2) + lambda * (v2 * v2);
    }
  }
  return s;
}

// Chains per parallel_for chunk: enough work per task to amortise the scheduling.
int64_t grain_for(int64_t work_per_chain) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, work_per_chain));
}

}  // namespace

torch::Tensor phi4_action_cpu(const Phi4Params& params, const torch::Tensor& x_in) {
  auto x = x_in.contiguous();
  const int64_t C = x.size(0), L = params.L, V = L * L;
  auto out = torch::empty({C}, x.options());
  const double* xp = x.data_ptr<double>();
  double* op = out.data_ptr<double>();
  const double m2 = params.m2, lambda = params.lambda;
  at::parallel_for(0, C, grain_for(V), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) op[c] = action_chain(xp + c * V, L, m2, lambda);
  });
  return out;
}

torch::Tensor phi4_force_cpu(const Phi4Params& params, const torch::Tensor& x_in) {
  auto x = x_in.contiguous();
  const int64_t C = x.size(0), L = params.L, V = L * L;
  auto f = torch::zeros_like(x, at::MemoryFormat::Contiguous);
  const double* xp = x.data_ptr<double>();
  double* fp = f.data_ptr<double>();
  const double c1 = 8.0 + 2.0 * params.m2, c3 = 4.0 * params.lambda;
  // 0 - (-1) * F == F exactly.
  at::parallel_for(0, C, grain_for(V), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) kick_chain(xp + c * V, fp + c * V, L, c1, c3, -1.0);
  });
  return f;
}

bool Phi4Action::integrate_fused(torch::Tensor& x, torch::Tensor& p,
                                 const std::vector<double>& kicks,
                                 const std::vector<double>& drifts) const {
  if (!uses_fused_path(x) || !p.device().is_cpu() || p.scalar_type() != torch::kFloat64 ||
      p.requires_grad()) {
    return false;
  }
  auto xo = x.clone(at::MemoryFormat::Contiguous);
  auto po = p.clone(at::MemoryFormat::Contiguous);
  const int64_t C = xo.size(0), L = params_.L, V = L * L;
  const double c1 = 8.0 + 2.0 * params_.m2, c3 = 4.0 * params_.lambda;
  double* xp = xo.data_ptr<double>();
  double* pp = po.data_ptr<double>();
  const int64_t n_drifts = static_cast<int64_t>(drifts.size());
  at::parallel_for(0, C, grain_for(V * static_cast<int64_t>(kicks.size())),
                   [&](int64_t b, int64_t e) {
                     for (int64_t c = b; c < e; ++c) {
                       double* xc = xp + c * V;
                       double* pc = pp + c * V;
                       for (int64_t k = 0; k < n_drifts; ++k) {
                         kick_chain(xc, pc, L, c1, c3, kicks[k]);
                         drift_chain(xc, pc, V, drifts[k]);
                       }
                       kick_chain(xc, pc, L, c1, c3, kicks[n_drifts]);
                     }
                   });
  x = xo;
  p = po;
  return true;
}

}  // namespace physgen
